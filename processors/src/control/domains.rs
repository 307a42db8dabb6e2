//! The domains as partition 0 publishes them (`Domain` records on `fleet.domains.v1`): the
//! declaration in force (versioned), its path, master of record and since when, split brain,
//! upstream sync and authority status, with a revision per published change. Pure.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sxfleet_schemas::{AuthorityClaim, Domain, DomainDef, DomainLevel, EpochMillis};

use super::status::{authority_status, StatusInputs};
use super::sync::{becomes_overdue, upstream_sync, SyncReports};
use crate::authority::{AuthorityState, Stamp};
use crate::drift::{decide, Offer, Verdict};

/// What the partition keeps about domains besides the authority state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DomainBook {
    /// The declaration in force per domain, with its event time.
    pub defs: BTreeMap<String, (DomainDef, EpochMillis)>,
    /// Per domain: the controller of the master of record and when it became master.
    pub master_since: BTreeMap<String, (String, EpochMillis)>,
    /// The last record published per domain.
    pub published: BTreeMap<String, Domain>,
}

impl DomainBook {
    /// Offers a declaration made at `at_ms` (last-write-wins with versioning, see
    /// [`crate::drift::decide`]). Returns the verdict and the version that was in force.
    pub fn offer(&mut self, def: &DomainDef, at_ms: EpochMillis) -> (Verdict, Option<i64>) {
        let offered = canonical(def);
        let held = self.defs.get(&def.domain_id);
        let held_version = held.map(|(d, _)| d.version.unwrap_or(0));
        let held_content = held.map(|(d, at)| (canonical(d), *at));
        let verdict = decide(
            held_content.as_ref().map(|(content, at)| Offer {
                at_ms: *at,
                content,
            }),
            Offer {
                at_ms,
                content: &offered,
            },
            def.version
                .unwrap_or(0)
                .cmp(&held_version.unwrap_or(i64::MIN)),
        );
        if matches!(verdict, Verdict::Accepted(_)) {
            self.defs
                .insert(def.domain_id.clone(), (def.clone(), at_ms));
        }
        (verdict, held_version)
    }

    /// Notes that `current` is master of record of `domain_id` after `previous`: a new
    /// controller becomes master at its claim's event time.
    pub fn on_master(&mut self, domain_id: &str, previous: Option<&Stamp>, current: &Stamp) {
        let same = previous.is_some_and(|p| p.controller_id == current.controller_id)
            && self.master_since.contains_key(domain_id);
        if !same {
            let since = (current.controller_id.clone(), current.at_ms);
            self.master_since.insert(domain_id.to_owned(), since);
        }
    }

    /// Recomputes every domain (declared, claimed or reported on) at `now_ms` and returns the
    /// records of those whose published fields changed, each with its revision moved by one.
    pub fn refresh(
        &mut self,
        authority: &AuthorityState,
        syncs: &SyncReports,
        now_ms: EpochMillis,
    ) -> Vec<Domain> {
        let mut changed = Vec::new();
        for domain_id in self.known(authority, syncs) {
            let view = self.view(&domain_id, authority, syncs, now_ms);
            let held = self.published.get(&domain_id);
            if held.is_some_and(|held| !differs(held, &view)) {
                continue;
            }
            let record = Domain {
                revision: held.map_or(0, |h| h.revision) + 1,
                ..view
            };
            self.published.insert(domain_id, record.clone());
            changed.push(record);
        }
        changed
    }

    /// The next instant after `now_ms` at which a domain's upstream sync becomes overdue.
    pub fn next_overdue(
        &self,
        authority: &AuthorityState,
        syncs: &SyncReports,
        now_ms: EpochMillis,
    ) -> Option<EpochMillis> {
        self.known(authority, syncs)
            .iter()
            .filter_map(|domain_id| {
                let master = authority
                    .master(domain_id)
                    .map(|m| m.controller_id.as_str());
                let report = syncs.upstream(domain_id, master)?;
                becomes_overdue(report, self.declared_frequency(domain_id), now_ms)
            })
            .min()
    }

    fn known(&self, authority: &AuthorityState, syncs: &SyncReports) -> BTreeSet<String> {
        let declared = self.defs.keys().map(String::as_str);
        let claimed = authority.claims.keys().map(String::as_str);
        declared
            .chain(claimed)
            .chain(syncs.domains())
            .map(str::to_owned)
            .collect()
    }

    fn declared_frequency(&self, domain_id: &str) -> Option<i64> {
        let (def, _) = self.defs.get(domain_id)?;
        def.sync.as_ref()?.frequency_ms
    }

    /// The record of `domain_id` at `now_ms` (revision 0).
    fn view(
        &self,
        domain_id: &str,
        authority: &AuthorityState,
        syncs: &SyncReports,
        now_ms: EpochMillis,
    ) -> Domain {
        let def = self.defs.get(domain_id).map(|(def, _)| def);
        let master = authority.master(domain_id);
        let split_brain = authority.contested(domain_id);
        let master_id = master.map(|m| m.controller_id.as_str());
        let upstream = syncs
            .upstream(domain_id, master_id)
            .map(|report| upstream_sync(report, self.declared_frequency(domain_id), now_ms));
        let parent_id = def.and_then(|d| d.parent_id.clone());
        let status = authority_status(StatusInputs {
            master_level: master.map(|m| m.level),
            split_brain,
            has_parent: parent_id.is_some(),
            upstream_overdue: upstream.as_ref().is_some_and(|u| u.overdue),
        });
        let sync = def.and_then(|d| d.sync.clone());
        Domain {
            domain_id: domain_id.to_owned(),
            name: None,
            parent_id,
            level: def.map_or(DomainLevel::Unknown, |d| d.level),
            autonomy: def.and_then(|d| d.autonomy.clone()),
            authority: master.map(|m| AuthorityClaim {
                controller_id: m.controller_id.clone(),
                level: m.level,
                epoch: m.epoch,
            }),
            updated_ms: now_ms,
            version: def.and_then(|d| d.version).unwrap_or(0),
            path: authority.path(domain_id),
            can_operate_isolated: sync
                .as_ref()
                .and_then(|s| s.can_operate_isolated)
                .unwrap_or(false),
            sync,
            master_since_ms: master.and(self.master_since.get(domain_id).map(|(_, at)| *at)),
            split_brain,
            contenders: if split_brain {
                authority.contenders(domain_id)
            } else {
                Vec::new()
            },
            upstream_sync: upstream,
            authority_status: status.symbol().to_owned(),
            authority_reason: status.reason().map(str::to_owned),
            revision: 0,
        }
    }
}

/// Whether two records differ in a published field: revision, `updated_ms` and the upstream
/// sync debt (which grows with time alone) aside.
fn differs(a: &Domain, b: &Domain) -> bool {
    let quiet = |d: &Domain| {
        let mut d = d.clone();
        d.revision = 0;
        d.updated_ms = 0;
        if let Some(up) = d.upstream_sync.as_mut() {
            up.sync_debt_s = 0;
        }
        d
    };
    quiet(a) != quiet(b)
}

/// A declaration's content in one canonical text, for content comparison.
fn canonical(def: &DomainDef) -> String {
    serde_json::to_string(def).unwrap_or_default()
}

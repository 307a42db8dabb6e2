//! The authority projection (seed 000, multi-master control plane): who is master of record
//! for each domain, which desired-state write wins for each target, and who may write at all.
//!
//! Pure and deterministic: time arrives with each call (`at_ms`, the event time). Rules, all
//! documented in `docs/projections.md` (section "Authority"):
//! - **Master of record** of a domain: the claim with the highest `(epoch, at_ms, controller_id)`.
//! - **Split brain**: two different controllers claim one domain at the same epoch. Recorded
//!   (a [`SplitBrain`] output for the attention queue); while the master's epoch is contested,
//!   that domain's master cannot authorise writes. A claim at a higher epoch resolves it.
//! - **Authority check** of an assignment: see [`AuthorityState::check`].
//! - **Last write wins** per target by `(epoch, at_ms, controller_id, bundle_id)`; every decision
//!   is an [`AuthorityAudit`] record.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sxfleet_schemas::{
    Assign, AssignTarget, AuthorityClaimEvent, AuthorityLevel, DomainDef, EpochMillis,
};

pub use records::{
    AuditRule, AuthorityAudit, AuthorityOutput, RejectReason, Rejected, SplitBrain, Stamp, Subject,
};

mod records;

/// Claims kept per domain: the highest epochs only. Arrival order cannot change the outcome for
/// claims within this window (see the property test).
pub const MAX_EPOCHS_PER_DOMAIN: usize = 64;

/// Rank of a level: GLOBAL 3 > REGION 2 > LOCAL 1 > AUTONOMOUS 0.
pub fn rank(level: AuthorityLevel) -> u8 {
    match level {
        AuthorityLevel::Global => 3,
        AuthorityLevel::Region => 2,
        AuthorityLevel::Local => 1,
        AuthorityLevel::Autonomous => 0,
    }
}

/// Authority state over all domains.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorityState {
    /// Parent of each declared domain.
    pub parents: BTreeMap<String, Option<String>>,
    /// Claims: domain -> epoch -> controller -> its latest claim at that epoch.
    pub claims: BTreeMap<String, BTreeMap<i64, BTreeMap<String, Stamp>>>,
    /// Winning write per domain target.
    pub domain_writes: BTreeMap<String, Stamp>,
    /// Winning write per node target.
    pub node_writes: BTreeMap<String, Stamp>,
}

impl AuthorityState {
    /// Records a domain declaration (its parent link is used by the authority check).
    pub fn on_domain(&mut self, domain: &DomainDef) {
        self.parents
            .insert(domain.domain_id.clone(), domain.parent_id.clone());
    }

    /// The master of record of `domain_id`: its claim with the highest LWW key.
    pub fn master(&self, domain_id: &str) -> Option<&Stamp> {
        let (_, top) = self.claims.get(domain_id)?.last_key_value()?;
        top.values().max_by(|a, b| a.lww_cmp(b))
    }

    /// Whether the master's epoch of `domain_id` has claims from more than one controller.
    pub fn contested(&self, domain_id: &str) -> bool {
        self.claims
            .get(domain_id)
            .and_then(BTreeMap::last_key_value)
            .is_some_and(|(_, top)| top.len() > 1)
    }

    /// The controllers claiming the master's epoch of `domain_id`, sorted (more than one in a
    /// split brain).
    pub fn contenders(&self, domain_id: &str) -> Vec<String> {
        self.claims
            .get(domain_id)
            .and_then(BTreeMap::last_key_value)
            .map_or_else(Vec::new, |(_, top)| top.keys().cloned().collect())
    }

    /// The nearest master on the chain from `domain_id` up: who governs the domain right now.
    pub fn effective_master(&self, domain_id: &str) -> Option<(String, &Stamp)> {
        self.chain(domain_id)
            .into_iter()
            .find_map(|d| self.master(&d).map(|m| (d, m)))
    }

    /// Applies a master-of-record claim made at `at_ms`.
    pub fn on_claim(
        &mut self,
        claim: &AuthorityClaimEvent,
        at_ms: EpochMillis,
    ) -> Vec<AuthorityOutput> {
        let domain_id = claim.domain_id.clone();
        let stamp = Stamp {
            epoch: claim.epoch,
            at_ms,
            controller_id: claim.controller_id.clone(),
            level: claim.level,
            bundle_id: None,
        };
        let previous = self.master(&domain_id).cloned();
        let was_contested = self.contested(&domain_id);
        let epochs = self.claims.entry(domain_id.clone()).or_default();
        let at_epoch = epochs.entry(claim.epoch).or_default();
        let newcomer = !at_epoch.contains_key(&claim.controller_id);
        let held = at_epoch
            .entry(claim.controller_id.clone())
            .or_insert_with(|| stamp.clone());
        if stamp.lww_cmp(held) == Ordering::Greater {
            *held = stamp.clone();
        }
        let mut out = Vec::new();
        if newcomer && at_epoch.len() > 1 {
            out.push(AuthorityOutput::SplitBrain(SplitBrain {
                domain_id: domain_id.clone(),
                epoch: claim.epoch,
                controllers: at_epoch.keys().cloned().collect(),
                at_ms,
            }));
        }
        while epochs.len() > MAX_EPOCHS_PER_DOMAIN {
            epochs.pop_first();
        }
        let Some(current) = self.master(&domain_id).cloned() else {
            return out;
        };
        if previous.as_ref() == Some(&current) {
            let rule = AuditRule::between(&current, Some(&stamp));
            out.push(audit(
                at_ms,
                &domain_id,
                Subject::MasterOfRecord,
                current,
                Some(stamp),
                rule,
            ));
            return out;
        }
        let rule = AuditRule::between(&current, previous.as_ref());
        out.push(audit(
            at_ms,
            &domain_id,
            Subject::MasterOfRecord,
            current.clone(),
            previous.clone(),
            rule,
        ));
        if let Some(old) = previous
            .as_ref()
            .filter(|p| was_contested && p.epoch < current.epoch)
        {
            out.push(AuthorityOutput::SplitBrainResolved {
                domain_id: domain_id.clone(),
                epoch: old.epoch,
                by: current.clone(),
                at_ms,
            });
        }
        out.push(AuthorityOutput::MasterChanged {
            domain_id,
            previous,
            current,
        });
        out
    }

    /// Applies an assignment made at `at_ms`. `node_domain` is the domain of the target node
    /// (ignored for a domain target, whose domain is the target itself).
    pub fn on_assign(
        &mut self,
        assign: &Assign,
        at_ms: EpochMillis,
        node_domain: Option<&str>,
    ) -> Vec<AuthorityOutput> {
        let write = Stamp {
            epoch: assign.authority.epoch,
            at_ms,
            controller_id: assign.authority.controller_id.clone(),
            level: assign.authority.level,
            bundle_id: Some(assign.bundle_id.clone()),
        };
        let target = Subject::Assignment {
            target_kind: assign.target_kind,
            target_id: assign.target_id.clone(),
        };
        let domain_id = match assign.target_kind {
            AssignTarget::Domain => Some(assign.target_id.as_str()),
            AssignTarget::Node => node_domain,
        };
        let checked = match domain_id {
            Some(d) => self.check(d, &write).map(|_| d.to_owned()),
            None => Err(RejectReason::UnknownTargetDomain),
        };
        let domain_id = match checked {
            Ok(d) => d,
            Err(reason) => {
                return vec![AuthorityOutput::Rejected(Rejected {
                    at_ms,
                    domain_id: domain_id.map(str::to_owned),
                    target,
                    write,
                    reason,
                })];
            }
        };
        let writes = match assign.target_kind {
            AssignTarget::Domain => &mut self.domain_writes,
            AssignTarget::Node => &mut self.node_writes,
        };
        let current = writes.get(&assign.target_id).cloned();
        if let Some(held) = current
            .as_ref()
            .filter(|c| write.lww_cmp(c) != Ordering::Greater)
        {
            let rule = AuditRule::between(held, Some(&write));
            return vec![AuthorityOutput::Audit(AuthorityAudit {
                at_ms,
                domain_id,
                target,
                winner: held.clone(),
                loser: Some(write),
                rule,
            })];
        }
        writes.insert(assign.target_id.clone(), write.clone());
        let rule = AuditRule::between(&write, current.as_ref());
        vec![
            audit(at_ms, &domain_id, target, write.clone(), current, rule),
            AuthorityOutput::Accepted {
                target_kind: assign.target_kind,
                target_id: assign.target_id.clone(),
                write,
            },
        ]
    }

    /// The authority check. Walking from `domain_id` up its parents, the first domain whose
    /// master of record is the writing controller authorises the write, provided that:
    /// the write's epoch and level equal that master claim's; that master's epoch is not
    /// contested (a contender at a contested epoch is rejected with `SplitBrain`); and, when it is an ancestor, no domain below it on the path is held at
    /// AUTONOMOUS level and its level outranks every master below it on the path.
    /// Returns the authorising domain.
    ///
    /// # Errors
    /// The [`RejectReason`] of the first rule broken, or `NoAuthority` when the controller is
    /// master of no domain on the chain.
    pub fn check(&self, domain_id: &str, write: &Stamp) -> Result<String, RejectReason> {
        let chain = self.chain(domain_id);
        for (i, d) in chain.iter().enumerate() {
            let Some(m) = self.master(d) else { continue };
            if m.controller_id != write.controller_id {
                if self.contested(d) && self.claimed_at(d, m.epoch, &write.controller_id) {
                    return Err(RejectReason::SplitBrain {
                        domain_id: d.clone(),
                        epoch: m.epoch,
                    });
                }
                continue;
            }
            if m.epoch != write.epoch {
                let (claimed, held) = (write.epoch, m.epoch);
                return Err(RejectReason::EpochMismatch {
                    domain_id: d.clone(),
                    claimed,
                    held,
                });
            }
            if m.level != write.level {
                let (claimed, held) = (write.level, m.level);
                return Err(RejectReason::LevelMismatch {
                    domain_id: d.clone(),
                    claimed,
                    held,
                });
            }
            if self.contested(d) {
                return Err(RejectReason::SplitBrain {
                    domain_id: d.clone(),
                    epoch: m.epoch,
                });
            }
            for below in &chain[..i] {
                let Some(lower) = self.master(below) else {
                    continue;
                };
                if lower.level == AuthorityLevel::Autonomous {
                    return Err(RejectReason::AutonomousBoundary {
                        domain_id: below.clone(),
                    });
                }
                if rank(m.level) <= rank(lower.level) {
                    let level = lower.level;
                    return Err(RejectReason::Outranked {
                        domain_id: below.clone(),
                        level,
                    });
                }
            }
            return Ok(d.clone());
        }
        Err(RejectReason::NoAuthority)
    }

    fn claimed_at(&self, domain_id: &str, epoch: i64, controller_id: &str) -> bool {
        self.claims
            .get(domain_id)
            .and_then(|epochs| epochs.get(&epoch))
            .is_some_and(|at_epoch| at_epoch.contains_key(controller_id))
    }

    /// The path of `domain_id` from its root down to itself (`[domain_id]` for a domain not
    /// declared). A cycle in the parent links ends the walk at the first repeated domain.
    pub fn path(&self, domain_id: &str) -> Vec<String> {
        let mut path = self.chain(domain_id);
        path.reverse();
        path
    }

    /// `domain_id` and its ancestors, nearest first; a cycle in the parent links ends it.
    fn chain(&self, domain_id: &str) -> Vec<String> {
        let mut seen = BTreeSet::new();
        let mut chain = Vec::new();
        let mut current = Some(domain_id.to_owned());
        while let Some(d) = current {
            if !seen.insert(d.clone()) {
                break;
            }
            current = self.parents.get(&d).cloned().flatten();
            chain.push(d);
        }
        chain
    }
}

fn audit(
    at_ms: EpochMillis,
    domain_id: &str,
    target: Subject,
    winner: Stamp,
    loser: Option<Stamp>,
    rule: AuditRule,
) -> AuthorityOutput {
    AuthorityOutput::Audit(AuthorityAudit {
        at_ms,
        domain_id: domain_id.to_owned(),
        target,
        winner,
        loser,
        rule,
    })
}

#[cfg(test)]
mod tests;

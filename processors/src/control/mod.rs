//! The control plane as one partition of the fleet processor sees it: domains, bundles,
//! authority claims and assignments, in the order the partition's log holds them.
//!
//! Every control record is copied to every partition of the events topic (see the normalizer),
//! so each partition keeps a full [`ControlState`] next to its nodes and a replay of the
//! partition reproduces it. Decisions about domains and bundles, domain records and bundle
//! versions are published by partition 0 only; decisions about a node's assignment by the
//! partition that holds the node. A node assignment that arrives before its node is held until
//! the node registers in this partition. Pure: time is the control records' event time and
//! the instants of the `#control` timer ([`ControlState::next_deadline`]).
//!
//! Layout: `audit` (authority audit records), `commands` (what the command machine reads:
//! authority check, audit record, rollout issuer, domain time offset), `versions` (bundle and domain version
//! decisions), `sync` (federation sync reports), `status` (the authority-status rule),
//! `domains` (the published domain records).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sxfleet_schemas::{
    Alert, Assign, AssignTarget, AuthorityClaim, AuthorityDecision, BundleVersion, ControlEvent,
    ControlPayload, Domain, EpochMillis,
};

use crate::attention::{self, AttentionState, Subject as AlertSubject};
use crate::authority::{AuthorityOutput, AuthorityState};
use crate::drift::{DesiredResolver, Verdict};
use sxfleet_schemas::CommandRequest;

use self::audit::decision;
pub use self::domains::DomainBook;
pub use self::sync::SyncReports;
use self::versions::{BundleHistory, Versioned};
pub use status::{
    authority_status, overdue, overdue_at, sync_debt_s, AuthorityStatus, DegradedReason,
    StatusInputs,
};

pub use self::commands::command_decision;

mod audit;
pub mod commands;
mod domains;
mod status;
mod sync;
mod versions;

/// Control state of one partition.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ControlState {
    /// Master-of-record claims and winning writes.
    pub authority: AuthorityState,
    /// Domains, bundles and the assignments in force.
    pub desired: DesiredResolver,
    /// Node assignments waiting for their node to register in this partition.
    pub pending: BTreeMap<String, Vec<(Assign, EpochMillis)>>,
    /// Split-brain alert state per domain.
    pub split_brains: BTreeMap<String, AttentionState>,
    /// Domain declarations in force, masters' start times, the records published.
    #[serde(default)]
    pub domains: DomainBook,
    /// Federation sync reports.
    #[serde(default)]
    pub syncs: SyncReports,
    /// Per bundle id: revision and status per version.
    #[serde(default)]
    pub bundle_versions: BTreeMap<String, BundleHistory>,
    /// The partition's control time: the latest control record or `#control` timer instant.
    #[serde(default)]
    pub now_ms: Option<EpochMillis>,
    /// This partition publishes domain-level outputs (partition 0), as its last control record
    /// said; the `#control` timer, which is not told its partition, publishes by it.
    #[serde(default)]
    pub publishes: bool,
}

/// Which nodes of the partition a control change may concern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Affected {
    /// None: nothing that feeds drift or authority changed.
    Nothing,
    /// Possibly any node (a domain, bundle or domain assignment changed).
    AllNodes,
    /// One node (its own assignment).
    Node(String),
}

/// What one control record did.
#[derive(Debug, Clone, PartialEq)]
pub struct ControlOutcome {
    /// Authority decisions to publish (already filtered to this partition's share).
    pub decisions: Vec<AuthorityDecision>,
    /// Split-brain alerts to publish (likewise).
    pub alerts: Vec<Alert>,
    /// Domain records to publish on `fleet.domains.v1` (partition 0 only).
    pub domains: Vec<Domain>,
    /// Bundle version records to publish on `fleet.bundles.v1` (partition 0 only).
    pub bundles: Vec<BundleVersion>,
    /// Nodes whose drift and attention must be recomputed.
    pub affected: Affected,
    /// The control state changed (write it to the changelog).
    pub changed: bool,
}

impl ControlOutcome {
    fn new(affected: Affected) -> Self {
        ControlOutcome {
            decisions: Vec::new(),
            alerts: Vec::new(),
            domains: Vec::new(),
            bundles: Vec::new(),
            affected,
            changed: true,
        }
    }
}

/// Where a node-target assignment's node stands in this partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeHome {
    /// The node lives here, in this domain (`""` when it has none).
    Here(String),
    /// The node does not live in this partition (yet).
    Elsewhere,
}

impl ControlState {
    /// The authority check of a command against `domain_id` ([`commands::check`]).
    ///
    /// # Errors
    /// The reject reason's code.
    pub fn check_command(&self, request: &CommandRequest, domain_id: &str) -> Result<(), String> {
        commands::check(&self.authority, request, domain_id)
    }

    /// The controller a rollout to `node_id` is issued under ([`commands::assignment_winner`]).
    pub fn assignment_winner(&self, node_id: &str, domain_id: &str) -> Option<AuthorityClaim> {
        commands::assignment_winner(&self.authority, &self.desired, node_id, domain_id)
    }

    /// `domain_id`'s local time offset ([`commands::utc_offset_minutes`]).
    pub fn utc_offset_minutes(&self, domain_id: &str) -> i32 {
        commands::utc_offset_minutes(&self.authority, &self.domains, domain_id)
    }

    /// Applies a control record. `publishes_domains` is true on the partition that publishes
    /// domain decisions (partition 0); `home` says where the target of a node assignment lives.
    pub fn apply(
        &mut self,
        event: &ControlEvent,
        publishes_domains: bool,
        home: impl FnOnce(&str) -> NodeHome,
    ) -> ControlOutcome {
        let at_ms = event.event_time_ms;
        self.publishes = publishes_domains;
        self.now_ms = Some(self.now_ms.map_or(at_ms, |now| now.max(at_ms)));
        let mut outcome = ControlOutcome::new(Affected::AllNodes);
        let outputs = match &event.payload {
            ControlPayload::Domain(domain) => {
                let (verdict, held) = self.domains.offer(domain, at_ms);
                let what = Versioned::Domain(&domain.domain_id);
                let offered = domain.version.unwrap_or(0).to_string();
                let held = held.map(|v| v.to_string());
                let audit = versions::audit(what, &offered, held.as_deref(), verdict, at_ms);
                outcome.decisions.extend(publishes_domains.then_some(audit));
                if matches!(verdict, Verdict::Accepted(_)) {
                    self.authority.on_domain(domain);
                    self.desired.upsert_domain(domain);
                } else {
                    outcome.affected = Affected::Nothing;
                }
                Vec::new()
            }
            ControlPayload::PolicyBundle(bundle) => {
                let history = &mut self.bundle_versions;
                let (audit, records) =
                    versions::on_bundle(history, &mut self.desired, bundle, at_ms);
                if audit.decision != "ACCEPTED" {
                    outcome.affected = Affected::Nothing;
                }
                if publishes_domains {
                    outcome.decisions.push(audit);
                    outcome.bundles = records;
                }
                Vec::new()
            }
            ControlPayload::Sync(report) => {
                // Node twins do not depend on sync reports; the domain records do.
                outcome.affected = Affected::Nothing;
                self.syncs.record(report);
                Vec::new()
            }
            ControlPayload::Authority(claim) => self.authority.on_claim(claim, at_ms),
            // Commands are the node's command book's, not the control state's.
            ControlPayload::Command(_) => {
                outcome.affected = Affected::Nothing;
                return outcome;
            }
            ControlPayload::Assign(assign) if assign.target_kind == AssignTarget::Node => {
                let target = assign.target_id.clone();
                let NodeHome::Here(domain) = home(&target) else {
                    self.pending
                        .entry(target)
                        .or_default()
                        .push((assign.clone(), at_ms));
                    outcome.affected = Affected::Nothing;
                    return outcome;
                };
                let domain = (!domain.is_empty()).then_some(domain.as_str());
                let outputs = self.authority.on_assign(assign, at_ms, domain);
                outcome.affected = Affected::Node(target);
                self.absorb(outputs, true, &mut outcome);
                return outcome;
            }
            ControlPayload::Assign(assign) => self.authority.on_assign(assign, at_ms, None),
        };
        self.absorb(outputs, publishes_domains, &mut outcome);
        self.refresh_domains(self.now_ms.unwrap_or(at_ms), &mut outcome);
        outcome
    }

    /// When the `#control` timer falls due: the next instant a domain's upstream sync becomes
    /// overdue.
    pub fn next_deadline(&self) -> Option<EpochMillis> {
        let now = self.now_ms?;
        self.domains.next_overdue(&self.authority, &self.syncs, now)
    }

    /// Fires the `#control` timer at event time `now_ms`: every domain that became overdue by
    /// then is republished, dated by the instant it became overdue.
    pub fn on_timer(&mut self, now_ms: EpochMillis) -> ControlOutcome {
        let mut outcome = ControlOutcome::new(Affected::Nothing);
        outcome.changed = false;
        while let Some(due) = self.next_deadline().filter(|due| *due <= now_ms) {
            self.now_ms = Some(due);
            self.refresh_domains(due, &mut outcome);
            outcome.changed = true;
        }
        outcome
    }

    /// Recomputes the domain records at `now_ms`; changed ones go out when this partition
    /// publishes.
    fn refresh_domains(&mut self, now_ms: EpochMillis, outcome: &mut ControlOutcome) {
        let records = self.domains.refresh(&self.authority, &self.syncs, now_ms);
        if self.publishes {
            outcome.domains.extend(records);
        }
    }

    /// Applies the assignments held for `node_id`, now that it lives here in `domain_id`.
    /// Returns `None` when none were held.
    pub fn release_pending(&mut self, node_id: &str, domain_id: &str) -> Option<ControlOutcome> {
        let held = self.pending.remove(node_id)?;
        let mut outcome = ControlOutcome::new(Affected::Node(node_id.to_owned()));
        let domain = (!domain_id.is_empty()).then_some(domain_id);
        for (assign, at_ms) in held {
            let outputs = self.authority.on_assign(&assign, at_ms, domain);
            self.absorb(outputs, true, &mut outcome);
        }
        Some(outcome)
    }

    /// Turns authority outputs into decisions and alerts (kept when `publish`) and applies
    /// accepted writes to the desired-state resolver.
    fn absorb(&mut self, outputs: Vec<AuthorityOutput>, publish: bool, out: &mut ControlOutcome) {
        // An accepted write names no domain; it is the one of the audit record before it.
        let mut domain_id = String::new();
        for output in outputs {
            if let AuthorityOutput::MasterChanged {
                domain_id,
                previous,
                current,
            } = &output
            {
                self.domains
                    .on_master(domain_id, previous.as_ref(), current);
            }
            if let AuthorityOutput::Accepted {
                target_kind,
                target_id,
                write,
            } = &output
            {
                let bundle = write.bundle_id.as_deref().unwrap_or_default();
                match target_kind {
                    AssignTarget::Domain => {
                        self.desired.assign_domain(target_id, bundle, write.at_ms);
                    }
                    AssignTarget::Node => self.desired.assign_node(target_id, bundle, write.at_ms),
                }
            }
            if let Some(alert) = self.split_brain_alert(&output) {
                if publish {
                    out.alerts.push(alert);
                }
            }
            if publish {
                let mut decision = decision(&output);
                if decision.domain_id.is_empty() {
                    decision.domain_id.clone_from(&domain_id);
                } else {
                    domain_id.clone_from(&decision.domain_id);
                }
                out.decisions.push(decision);
            }
        }
    }

    fn split_brain_alert(&mut self, output: &AuthorityOutput) -> Option<Alert> {
        let (domain_id, at_ms, raise, detail) = match output {
            AuthorityOutput::SplitBrain(split) => (
                &split.domain_id,
                split.at_ms,
                true,
                format!(
                    "controllers {} claim domain {} at epoch {}",
                    split.controllers.join(", "),
                    split.domain_id,
                    split.epoch
                ),
            ),
            AuthorityOutput::SplitBrainResolved {
                domain_id,
                epoch,
                by,
                at_ms,
            } => (
                domain_id,
                *at_ms,
                false,
                format!(
                    "epoch {epoch} superseded by {} at epoch {}",
                    by.controller_id, by.epoch
                ),
            ),
            _ => return None,
        };
        let state = self.split_brains.entry(domain_id.clone()).or_default();
        let action = match (raise, state.open) {
            (true, false) => {
                state.open = true;
                state.raised += 1;
                "RAISE"
            }
            (false, true) => {
                state.open = false;
                "RESOLVE"
            }
            _ => return None,
        };
        let subject = AlertSubject {
            kind: "SPLIT_BRAIN",
            subject_kind: "DOMAIN",
            id: domain_id,
            domain_id,
        };
        Some(attention::alert(state, subject, action, at_ms, detail))
    }
}

#[cfg(test)]
mod federation_tests;
#[cfg(test)]
pub(crate) mod tests;

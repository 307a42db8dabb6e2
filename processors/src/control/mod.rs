//! The control plane as one partition of the fleet processor sees it: domains, bundles,
//! authority claims and assignments, in the order the partition's log holds them.
//!
//! Every control record is copied to every partition of the events topic (see the normalizer),
//! so each partition keeps a full [`ControlState`] next to its nodes and a replay of the
//! partition reproduces it. Decisions about domains are published by partition 0 only; decisions
//! about a node's assignment by the partition that holds the node. A node assignment that
//! arrives before its node is held until the node registers in this partition. Pure.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sxfleet_schemas::{
    Alert, Assign, AssignTarget, AuthorityDecision, AvroEnum, ControlEvent, ControlPayload,
    EpochMillis,
};

use crate::attention::{self, AttentionState, Subject as AlertSubject};
use crate::authority::{AuthorityOutput, AuthorityState, Stamp, Subject};
use crate::drift::DesiredResolver;

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
    /// Nodes whose drift and attention must be recomputed.
    pub affected: Affected,
    /// The control state changed (write it to the changelog).
    pub changed: bool,
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
    /// Applies a control record. `publishes_domains` is true on the partition that publishes
    /// domain decisions (partition 0); `home` says where the target of a node assignment lives.
    pub fn apply(
        &mut self,
        event: &ControlEvent,
        publishes_domains: bool,
        home: impl FnOnce(&str) -> NodeHome,
    ) -> ControlOutcome {
        let at_ms = event.event_time_ms;
        let mut outcome = ControlOutcome {
            decisions: Vec::new(),
            alerts: Vec::new(),
            affected: Affected::AllNodes,
            changed: true,
        };
        let outputs = match &event.payload {
            ControlPayload::Domain(domain) => {
                self.authority.on_domain(domain);
                self.desired.upsert_domain(domain);
                Vec::new()
            }
            ControlPayload::PolicyBundle(bundle) => {
                self.desired.upsert_bundle(bundle);
                Vec::new()
            }
            ControlPayload::Authority(claim) => self.authority.on_claim(claim, at_ms),
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
            // issue 12: handled by the processors branch
            ControlPayload::Sync(_) => Vec::new(),
        };
        self.absorb(outputs, publishes_domains, &mut outcome);
        outcome
    }

    /// Applies the assignments held for `node_id`, now that it lives here in `domain_id`.
    /// Returns `None` when none were held.
    pub fn release_pending(&mut self, node_id: &str, domain_id: &str) -> Option<ControlOutcome> {
        let held = self.pending.remove(node_id)?;
        let mut outcome = ControlOutcome {
            decisions: Vec::new(),
            alerts: Vec::new(),
            affected: Affected::Node(node_id.to_owned()),
            changed: true,
        };
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

/// The audit record of one authority output.
fn decision(output: &AuthorityOutput) -> AuthorityDecision {
    let mut d = AuthorityDecision {
        at_ms: 0,
        domain_id: String::new(),
        decision: String::new(),
        subject: "MASTER_OF_RECORD".to_owned(),
        target_kind: None,
        target_id: None,
        controller_id: String::new(),
        epoch: 0,
        level: String::new(),
        bundle_id: None,
        loser_controller_id: None,
        loser_epoch: None,
        loser_at_ms: None,
        rule: None,
        reason: None,
        controllers: Vec::new(),
        detail: String::new(),
    };
    let winner = |d: &mut AuthorityDecision, stamp: &Stamp| {
        d.controller_id = stamp.controller_id.clone();
        d.epoch = stamp.epoch;
        d.level = stamp.level.symbol().to_owned();
        d.bundle_id = stamp.bundle_id.clone();
    };
    let loser = |d: &mut AuthorityDecision, stamp: Option<&Stamp>| {
        d.loser_controller_id = stamp.map(|s| s.controller_id.clone());
        d.loser_epoch = stamp.map(|s| s.epoch);
        d.loser_at_ms = stamp.map(|s| s.at_ms);
    };
    match output {
        AuthorityOutput::Audit(audit) => {
            d.decision = "AUDIT".to_owned();
            d.at_ms = audit.at_ms;
            d.domain_id = audit.domain_id.clone();
            subject(&mut d, &audit.target);
            winner(&mut d, &audit.winner);
            loser(&mut d, audit.loser.as_ref());
            d.rule = Some(upper(&audit.rule));
            d.detail = format!(
                "{}@{} wins over {} ({})",
                audit.winner.controller_id,
                audit.winner.epoch,
                audit
                    .loser
                    .as_ref()
                    .map_or("nothing".to_owned(), |l| format!(
                        "{}@{}",
                        l.controller_id, l.epoch
                    )),
                upper(&audit.rule)
            );
        }
        AuthorityOutput::MasterChanged {
            domain_id,
            previous,
            current,
        } => {
            d.decision = "MASTER_CHANGED".to_owned();
            d.at_ms = current.at_ms;
            d.domain_id = domain_id.clone();
            winner(&mut d, current);
            loser(&mut d, previous.as_ref());
            d.detail = format!(
                "{} is master of record of {domain_id}",
                current.controller_id
            );
        }
        AuthorityOutput::SplitBrain(split) => {
            d.decision = "SPLIT_BRAIN".to_owned();
            d.at_ms = split.at_ms;
            d.domain_id = split.domain_id.clone();
            d.epoch = split.epoch;
            d.controllers = split.controllers.clone();
            d.detail = format!(
                "{} controllers claim epoch {}",
                split.controllers.len(),
                split.epoch
            );
        }
        AuthorityOutput::SplitBrainResolved {
            domain_id,
            epoch,
            by,
            at_ms,
        } => {
            d.decision = "SPLIT_BRAIN_RESOLVED".to_owned();
            d.at_ms = *at_ms;
            d.domain_id = domain_id.clone();
            winner(&mut d, by);
            d.detail = format!("contested epoch {epoch} superseded");
        }
        AuthorityOutput::Accepted {
            target_kind,
            target_id,
            write,
        } => {
            d.decision = "ACCEPTED".to_owned();
            d.at_ms = write.at_ms;
            d.subject = "ASSIGNMENT".to_owned();
            d.target_kind = Some(target_kind.symbol().to_owned());
            d.target_id = Some(target_id.clone());
            winner(&mut d, write);
            d.detail = format!(
                "{target_id} now desires {}",
                d.bundle_id.clone().unwrap_or_default()
            );
        }
        AuthorityOutput::Rejected(rejected) => {
            d.decision = "REJECTED".to_owned();
            d.at_ms = rejected.at_ms;
            d.domain_id = rejected.domain_id.clone().unwrap_or_default();
            subject(&mut d, &rejected.target);
            winner(&mut d, &rejected.write);
            let reason = serde_json::to_value(&rejected.reason).unwrap_or_default();
            d.reason = reason["code"].as_str().map(str::to_uppercase);
            d.detail = reason.to_string();
        }
    }
    d
}

fn subject(d: &mut AuthorityDecision, target: &Subject) {
    match target {
        Subject::MasterOfRecord => d.subject = "MASTER_OF_RECORD".to_owned(),
        Subject::Assignment {
            target_kind,
            target_id,
        } => {
            d.subject = "ASSIGNMENT".to_owned();
            d.target_kind = Some(target_kind.symbol().to_owned());
            d.target_id = Some(target_id.clone());
        }
    }
}

/// A snake_case serde spelling in upper case (`controller_id` -> `CONTROLLER_ID`).
fn upper<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_uppercase))
        .unwrap_or_default()
}

#[cfg(test)]
pub(crate) mod tests;

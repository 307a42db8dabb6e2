//! The audit records (`AuthorityDecision`, on `fleet.authority.v1`) of the control plane's
//! decisions: one per authority output (claims, assignments, split brains).

use serde::Serialize;
use sxfleet_schemas::{AuthorityDecision, AvroEnum};

use crate::authority::{AuthorityOutput, Stamp, Subject};

/// The audit record of one authority output.
pub fn decision(output: &AuthorityOutput) -> AuthorityDecision {
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

//! Records of the authority projection: LWW stamps, audit records, split brains, rejections
//! and the outputs of [`super::AuthorityState`].

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};
use sxfleet_schemas::{AssignTarget, AuthorityLevel, EpochMillis};

/// A claim or a write, positioned in last-write-wins order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    /// Authority epoch.
    pub epoch: i64,
    /// Event time.
    pub at_ms: EpochMillis,
    /// Controller.
    pub controller_id: String,
    /// Level the controller acts at.
    pub level: AuthorityLevel,
    /// Bundle written; `None` for a claim.
    pub bundle_id: Option<String>,
}

impl Stamp {
    /// Last-write-wins order: epoch, then event time, then controller id, then bundle id.
    pub fn lww_cmp(&self, other: &Stamp) -> Ordering {
        (self.epoch, self.at_ms, &self.controller_id, &self.bundle_id).cmp(&(
            other.epoch,
            other.at_ms,
            &other.controller_id,
            &other.bundle_id,
        ))
    }
}

/// Which key component decided a last-write-wins comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditRule {
    /// Nothing to compare with: the first claim or write.
    First,
    /// The higher epoch won.
    Epoch,
    /// Same epoch; the later event time won.
    Timestamp,
    /// Same epoch and time; the greater controller id won (deterministic tie-break).
    ControllerId,
    /// Same epoch, time and controller; the greater bundle id won.
    BundleId,
    /// The same claim or write again: no change.
    Duplicate,
}

impl AuditRule {
    pub(super) fn between(winner: &Stamp, loser: Option<&Stamp>) -> Self {
        let Some(l) = loser else {
            return AuditRule::First;
        };
        if winner.epoch != l.epoch {
            AuditRule::Epoch
        } else if winner.at_ms != l.at_ms {
            AuditRule::Timestamp
        } else if winner.controller_id != l.controller_id {
            AuditRule::ControllerId
        } else if winner.bundle_id != l.bundle_id {
            AuditRule::BundleId
        } else {
            AuditRule::Duplicate
        }
    }
}

/// What an audit record or a rejection is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Subject {
    /// Master of record of the domain.
    MasterOfRecord,
    /// The desired state of a domain or node.
    Assignment {
        /// Domain or node.
        target_kind: AssignTarget,
        /// Domain id or node id.
        target_id: String,
    },
}

/// One last-write-wins decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorityAudit {
    /// Event time of the claim or write that caused the decision.
    pub at_ms: EpochMillis,
    /// Domain concerned (the target's domain for an assignment).
    pub domain_id: String,
    /// What was decided.
    pub target: Subject,
    /// The claim or write in force after the decision.
    pub winner: Stamp,
    /// The one that lost; `None` for a first claim or write.
    pub loser: Option<Stamp>,
    /// Which key component decided.
    pub rule: AuditRule,
}

/// Two or more controllers claim one domain at the same epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitBrain {
    /// Domain.
    pub domain_id: String,
    /// Contested epoch.
    pub epoch: i64,
    /// Every controller that claimed the domain at that epoch, sorted.
    pub controllers: Vec<String>,
    /// Event time of the claim that revealed (or widened) the split.
    pub at_ms: EpochMillis,
}

/// Why an assignment was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "code")]
pub enum RejectReason {
    /// A node assignment whose node has no known domain.
    UnknownTargetDomain,
    /// The controller is master of no domain on the target's chain (domain and ancestors).
    NoAuthority,
    /// The controller is master of `domain_id`, but at another epoch.
    EpochMismatch {
        /// Domain where the controller is master.
        domain_id: String,
        /// Epoch of the assignment.
        claimed: i64,
        /// Epoch of the master-of-record claim.
        held: i64,
    },
    /// The controller is master of `domain_id`, but at another level.
    LevelMismatch {
        /// Domain where the controller is master.
        domain_id: String,
        /// Level of the assignment.
        claimed: AuthorityLevel,
        /// Level of the master-of-record claim.
        held: AuthorityLevel,
    },
    /// The authorising domain's master epoch is contested (split brain).
    SplitBrain {
        /// Contested domain.
        domain_id: String,
        /// Contested epoch.
        epoch: i64,
    },
    /// An ancestor's master does not outrank the master of a domain below it on the path.
    Outranked {
        /// Domain whose master is at least as high.
        domain_id: String,
        /// Its master's level.
        level: AuthorityLevel,
    },
    /// A domain on the path is held at AUTONOMOUS level: no upstream controller writes into it.
    AutonomousBoundary {
        /// The autonomous domain.
        domain_id: String,
    },
}

/// An assignment that failed the authority check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejected {
    /// Event time of the assignment.
    pub at_ms: EpochMillis,
    /// The target's domain, when known.
    pub domain_id: Option<String>,
    /// The assignment's target.
    pub target: Subject,
    /// The write as stamped.
    pub write: Stamp,
    /// Why.
    pub reason: RejectReason,
}

/// What a claim or an assignment produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum AuthorityOutput {
    /// Every last-write-wins decision.
    Audit(AuthorityAudit),
    /// The master of record of a domain changed.
    MasterChanged {
        /// Domain.
        domain_id: String,
        /// Previous master.
        previous: Option<Stamp>,
        /// New master.
        current: Stamp,
    },
    /// A split brain was revealed or widened.
    SplitBrain(SplitBrain),
    /// A contested epoch was superseded by a higher-epoch master.
    SplitBrainResolved {
        /// Domain.
        domain_id: String,
        /// The epoch that was contested.
        epoch: i64,
        /// The master that superseded it.
        by: Stamp,
        /// Event time of that claim.
        at_ms: EpochMillis,
    },
    /// The write is now the desired state of its target (apply it to the desired resolver).
    Accepted {
        /// Domain or node.
        target_kind: AssignTarget,
        /// Domain id or node id.
        target_id: String,
        /// The winning write.
        write: Stamp,
    },
    /// The write failed the authority check.
    Rejected(Rejected),
}

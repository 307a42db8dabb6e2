//! Records of the fleet processor's analytic outputs: [`DriftReport`] on `fleet.drift.v1`,
//! [`Alert`] on `fleet.alerts.v1`, [`AuthorityDecision`] on `fleet.authority.v1`.
//!
//! Enumerated values are strings (documented in each `.avsc`), like the states of
//! [`crate::StateTransition`], so a new value needs no schema change.

use serde::{Deserialize, Serialize};

use super::EpochMillis;
use crate::catalog;
use crate::codec::plain_canonical;

/// One desired config key out of spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigFieldDiff {
    /// Config key.
    pub field: String,
    /// Desired value.
    pub desired: String,
    /// Reported value; `None` when missing.
    pub actual: Option<String>,
}

/// One drift evaluation of one node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    /// Node evaluated (also the message key).
    pub node_id: String,
    /// Node's domain; empty when not registered.
    pub domain_id: String,
    /// Event time of the evaluation.
    pub evaluated_ms: EpochMillis,
    /// `IN_SPEC`, `DRIFTED`, `UNKNOWN` or `UNASSIGNED`.
    pub status: String,
    /// Bundle compared against.
    pub bundle_id: Option<String>,
    /// `node` or `domain:<id>`.
    pub desired_source: Option<String>,
    /// Desired version, when the version is out of spec.
    pub version_desired: Option<String>,
    /// Reported version, when the version is out of spec.
    pub version_actual: Option<String>,
    /// `LOW`, `MEDIUM`, `HIGH` or `CRITICAL`.
    pub version_severity: Option<String>,
    /// What the gap means.
    pub version_impact: Option<String>,
    /// Out-of-spec config keys, in key order.
    pub config_fields: Vec<ConfigFieldDiff>,
    /// Config keys in the bundle.
    pub config_desired_keys: i32,
    /// Desired policy version.
    pub policy_version: Option<String>,
    /// Applied policy version.
    pub policy_actual_version: Option<String>,
    /// Share of the bundle's config keys in spec.
    pub compliance_score: Option<f64>,
    /// Out-of-spec keys that are policy rules.
    pub policy_violations: i32,
    /// Weighted drift score 0..100.
    pub score: f64,
    /// Out-of-spec objects.
    pub objects_out_of_spec: i32,
    /// Event time of the snapshot compared against.
    pub last_sync_ms: Option<EpochMillis>,
    /// Evaluation time minus snapshot time (ms).
    pub stale_by_ms: Option<i64>,
    /// Since when the node is continuously out of spec.
    pub first_out_of_spec_ms: Option<EpochMillis>,
    /// Evaluation time minus `first_out_of_spec_ms` (ms).
    pub drift_age_ms: Option<i64>,
    /// Per-node sequence number of drift reports.
    pub seq: i64,
}

plain_canonical!(DriftReport => catalog::DRIFT_REPORT);

/// An attention-queue alert raised or resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// `<kind>:<subject_id>:<n>`; a RAISE and its RESOLVE share it.
    pub alert_id: String,
    /// `ATTENTION` or `SPLIT_BRAIN`.
    pub kind: String,
    /// `RAISE` or `RESOLVE`.
    pub action: String,
    /// `NODE` or `DOMAIN`.
    pub subject_kind: String,
    /// Node id or domain id (also the message key).
    pub subject_id: String,
    /// Domain of the subject; empty when unknown.
    pub domain_id: String,
    /// Event time of the raise or resolve.
    pub at_ms: EpochMillis,
    /// Attention score at that time.
    pub score: f64,
    /// Contributing factors.
    pub reasons: Vec<String>,
    /// Human-readable summary.
    pub detail: String,
}

plain_canonical!(Alert => catalog::ALERT);

/// One decision of the authority projection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorityDecision {
    /// Event time of the claim or write decided on.
    pub at_ms: EpochMillis,
    /// Domain concerned; empty when unknown.
    pub domain_id: String,
    /// `AUDIT`, `MASTER_CHANGED`, `SPLIT_BRAIN`, `SPLIT_BRAIN_RESOLVED`, `ACCEPTED`, `REJECTED`.
    pub decision: String,
    /// `MASTER_OF_RECORD` or `ASSIGNMENT`.
    pub subject: String,
    /// `DOMAIN` or `NODE`, for an assignment.
    pub target_kind: Option<String>,
    /// Domain or node id, for an assignment.
    pub target_id: Option<String>,
    /// Winning (or rejected) controller.
    pub controller_id: String,
    /// Its epoch.
    pub epoch: i64,
    /// Its level.
    pub level: String,
    /// Bundle written, for an assignment.
    pub bundle_id: Option<String>,
    /// Controller whose claim or write lost.
    pub loser_controller_id: Option<String>,
    /// Its epoch.
    pub loser_epoch: Option<i64>,
    /// Its event time.
    pub loser_at_ms: Option<EpochMillis>,
    /// Which LWW key decided.
    pub rule: Option<String>,
    /// Rejection reason code.
    pub reason: Option<String>,
    /// For `SPLIT_BRAIN`: every controller claiming the epoch.
    pub controllers: Vec<String>,
    /// Human-readable summary.
    pub detail: String,
}

plain_canonical!(AuthorityDecision => catalog::AUTHORITY_DECISION);

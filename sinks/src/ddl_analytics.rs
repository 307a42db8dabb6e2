//! DDL of the fleet processor's analytic outputs: `drift_evaluations`, `alerts`,
//! `authority_audit` and the drift/trust/attention columns of `node_state`. The rollup views
//! over them are in [`super::rollups`].
//!
//! Every table that is fed from a topic carries the Kafka coordinates of its rows and is a
//! ReplacingMergeTree keyed so that a record read twice collapses to one row under `FINAL`.

use super::{delta_codec, enum8, low_cardinality_string, qualified, replacing, table, Enum8Values};
use crate::caps::ServerCaps;
use crate::migrate::Step;

/// `drift_evaluations.status` and `node_state.drift_status`.
pub const DRIFT_STATUS: Enum8Values = &[
    ("UNASSIGNED", 0),
    ("IN_SPEC", 1),
    ("DRIFTED", 2),
    ("UNKNOWN", 3),
];

/// `node_state.trust_state`.
pub const TRUST_STATE: Enum8Values = &[("UNVERIFIED", 0), ("TRUSTED", 1), ("VIOLATED", 2)];

/// `alerts.kind`.
pub const ALERT_KIND: Enum8Values = &[("ATTENTION", 1), ("SPLIT_BRAIN", 2)];

/// `alerts.action`.
pub const ALERT_ACTION: Enum8Values = &[("RAISE", 1), ("RESOLVE", 2)];

/// `alerts.subject_kind`.
pub const SUBJECT_KIND: Enum8Values = &[("NODE", 1), ("DOMAIN", 2)];

/// `authority_audit.decision`.
pub const DECISION: Enum8Values = &[
    ("AUDIT", 1),
    ("MASTER_CHANGED", 2),
    ("SPLIT_BRAIN", 3),
    ("SPLIT_BRAIN_RESOLVED", 4),
    ("ACCEPTED", 5),
    ("REJECTED", 6),
];

/// `drift_evaluations`: one row per drift report, the per-field config differences as
/// parallel arrays (`config_actual` is `''` where `config_missing` is 1). One row per
/// `(node_id, seq)` under `FINAL`.
pub fn drift_evaluations(database: &str, caps: &ServerCaps) -> String {
    let lc = low_cardinality_string(caps);
    format!(
        "CREATE TABLE IF NOT EXISTS {table}
(
    node_id String,
    domain_id {lc},
    evaluated DateTime('UTC'),
    evaluated_ms Int64{codec},
    status {status},
    bundle_id {lc},
    desired_source {lc},
    version_desired {lc},
    version_actual {lc},
    version_severity {lc},
    version_impact {lc},
    config_fields Array(String),
    config_desired Array(String),
    config_actual Array(String),
    config_missing Array(UInt8),
    config_desired_keys Int32,
    policy_version {lc},
    policy_actual_version {lc},
    compliance_score Nullable(Float64),
    policy_violations Int32,
    score Float64,
    objects_out_of_spec Int32,
    last_sync_ms Int64,
    stale_by_ms Nullable(Int64),
    first_out_of_spec_ms Int64,
    drift_age_ms Nullable(Int64),
    seq UInt64,
    topic {lc},
    partition Int32,
    offset Int64
)
ENGINE = {engine}
PARTITION BY toYYYYMM(evaluated)
ORDER BY {key}",
        table = qualified(database, table::DRIFT_EVALUATIONS),
        engine = replacing::DRIFT_EVALUATIONS.engine(),
        key = replacing::DRIFT_EVALUATIONS.sorting_key(),
        status = enum8(DRIFT_STATUS),
        codec = delta_codec(caps),
    )
}

/// `alerts`: attention-queue and split-brain alerts, one row per raise and per resolve
/// (`(alert_id, action)` under `FINAL`).
pub fn alerts(database: &str, caps: &ServerCaps) -> String {
    let lc = low_cardinality_string(caps);
    format!(
        "CREATE TABLE IF NOT EXISTS {table}
(
    alert_id String,
    kind {kind},
    action {action},
    subject_kind {subject},
    subject_id String,
    domain_id {lc},
    at DateTime('UTC'),
    at_ms Int64{codec},
    score Float64,
    reasons Array(String),
    detail String,
    topic {lc},
    partition Int32,
    offset Int64
)
ENGINE = {engine}
PARTITION BY toYYYYMM(at)
ORDER BY {key}",
        table = qualified(database, table::ALERTS),
        engine = replacing::ALERTS.engine(),
        key = replacing::ALERTS.sorting_key(),
        kind = enum8(ALERT_KIND),
        action = enum8(ALERT_ACTION),
        subject = enum8(SUBJECT_KIND),
        codec = delta_codec(caps),
    )
}

/// `authority_audit`: every authority decision (LWW audits, master changes, split brains,
/// accepted and rejected assignments). Decisions have no natural key, so a row is identified by
/// its Kafka coordinates: `(domain_id, partition, offset)` under `FINAL`.
pub fn authority_audit(database: &str, caps: &ServerCaps) -> String {
    let lc = low_cardinality_string(caps);
    format!(
        "CREATE TABLE IF NOT EXISTS {table}
(
    at DateTime('UTC'),
    at_ms Int64{codec},
    domain_id String,
    decision {decision},
    subject {lc},
    target_kind {lc},
    target_id String,
    controller_id {lc},
    epoch Int64,
    level {lc},
    bundle_id {lc},
    loser_controller_id {lc},
    loser_epoch Nullable(Int64),
    loser_at_ms Int64,
    rule {lc},
    reason {lc},
    controllers Array(String),
    detail String,
    topic {lc},
    partition Int32,
    offset Int64
)
ENGINE = {engine}
PARTITION BY toYYYYMM(at)
ORDER BY {key}",
        table = qualified(database, table::AUTHORITY_AUDIT),
        engine = replacing::AUTHORITY_AUDIT.engine(),
        key = replacing::AUTHORITY_AUDIT.sorting_key(),
        decision = enum8(DECISION),
        codec = delta_codec(caps),
    )
}

/// The `node_state` columns of Node v2 (drift verdict, trust, attention) and of the replay in
/// flight (session, start, chunks and events received, announced backlog). Each has a default,
/// so sinks built before them keep inserting (they name their columns).
pub fn node_state_v2_columns(caps: &ServerCaps) -> Vec<Step> {
    let lc = low_cardinality_string(caps);
    let column = |column, definition: String| Step::AddColumn {
        table: table::NODE_STATE,
        column,
        definition,
    };
    vec![
        column(
            "drift_status",
            format!("{} DEFAULT 'UNASSIGNED'", enum8(DRIFT_STATUS)),
        ),
        column(
            "drift_stale_by_ms",
            "Nullable(Int64) DEFAULT NULL".to_owned(),
        ),
        column("drift_age_ms", "Nullable(Int64) DEFAULT NULL".to_owned()),
        column(
            "trust_state",
            format!("{} DEFAULT 'UNVERIFIED'", enum8(TRUST_STATE)),
        ),
        column("trust_violations", "UInt64 DEFAULT 0".to_owned()),
        column("last_violation", format!("{lc} DEFAULT ''")),
        column("last_violation_ms", "Int64 DEFAULT 0".to_owned()),
        column("attention_score", "Float64 DEFAULT 0".to_owned()),
        column("alert_open", "UInt8 DEFAULT 0".to_owned()),
        column("attention_reasons", "Array(String) DEFAULT []".to_owned()),
        column("replay_session", format!("{lc} DEFAULT ''")),
        column("replay_started_ms", "Int64 DEFAULT 0".to_owned()),
        column("replay_chunks", "Int64 DEFAULT 0".to_owned()),
        column("replay_events", "Int64 DEFAULT 0".to_owned()),
        column(
            "replay_backlog_total",
            "Nullable(Int64) DEFAULT NULL".to_owned(),
        ),
    ]
}

//! Table definitions (DDL) of the sink's ClickHouse database.
//!
//! Every statement runs on ClickHouse 18.16 and on current releases: Enum8 for fixed sets,
//! `DateTime('UTC')` next to Int64 epoch-millisecond columns, the `ENGINE = MergeTree()
//! PARTITION BY ... ORDER BY ...` syntax, no Nullable column in a sorting key. Newer features
//! appear only when [`ServerCaps`] says the server has them; the column *types seen by a
//! RowBinary insert* never depend on the caps (`LowCardinality(String)` and `String` take the
//! same bytes; a codec changes storage only), so one row struct serves every server.
//!
//! Every statement is idempotent (`IF NOT EXISTS`), so a migration interrupted half-way can
//! simply run again.
//!
//! The Enum8 value tables below are the contract between the DDL and [`crate::rows`]: a row
//! carries the `i8` code, and the tests check each schema enum variant maps to the entry with
//! its own name. Codes are stable forever; new symbols get new codes. `UNKNOWN` is `0`
//! wherever the Avro enum has it as its resolution default, so a record written with a newer
//! schema still inserts.

use std::fmt::Write as _;

use crate::caps::ServerCaps;
use crate::migrate::Step;

/// A fixed set of names and their Enum8 codes.
pub type Enum8Values = &'static [(&'static str, i8)];

/// `events.kind`: the canonical event kinds (Avro `EventKind`).
pub const EVENT_KIND: Enum8Values = &[
    ("UNKNOWN", 0),
    ("REGISTER", 1),
    ("HEARTBEAT", 2),
    ("LINK", 3),
    ("SNAPSHOT", 4),
    ("LIFECYCLE", 5),
    ("ATTESTATION", 6),
    ("REPLAY", 7),
    ("TRUST_VIOLATION", 8),
];

/// `events.source`, `dlq.source`: how a record entered the pipeline (Avro `Source`).
pub const SOURCE: Enum8Values = &[("UNKNOWN", 0), ("KAFKA_RAW", 1), ("HTTP", 2), ("REPLAY", 3)];

/// `node_state.kind` (Avro `NodeKind`).
pub const NODE_KIND: Enum8Values = &[
    ("UNKNOWN", 0),
    ("EDGE", 1),
    ("DC", 2),
    ("GATEWAY", 3),
    ("RELAY", 4),
    ("VIRTUAL", 5),
];

/// `node_state.connectivity`: the connectivity spectrum (Avro `ConnectivityMode`), in
/// spectrum order so `ORDER BY connectivity` reads from best to worst.
pub const CONNECTIVITY: Enum8Values = &[
    ("UNKNOWN", 0),
    ("LIVE", 1),
    ("DELAYED", 2),
    ("EDGE_CACHED", 3),
    ("AUTONOMOUS", 4),
    ("DISCONNECTED", 5),
    ("RETURNING", 6),
    ("REPLAYING", 7),
];

/// `node_state.lifecycle_phase` (Avro `LifecyclePhase`, a closed set), in state-machine order.
pub const LIFECYCLE_PHASE: Enum8Values = &[
    ("PROVISIONING", 1),
    ("ENROLLED", 2),
    ("ACTIVE", 3),
    ("UPDATING", 4),
    ("DEGRADED", 5),
    ("QUARANTINED", 6),
    ("DECOMMISSIONING", 7),
    ("RETIRED", 8),
];

/// `node_state.health` (Avro `Health`).
pub const HEALTH: Enum8Values = &[("UNKNOWN", 0), ("OK", 1), ("DEGRADED", 2), ("FAILED", 3)];

/// `node_state.attestation`: the last attestation result (Avro `AttestationResult`), `NONE`
/// when the node was never attested.
pub const ATTESTATION: Enum8Values = &[("NONE", 0), ("VERIFIED", 1), ("FAILED", 2)];

/// `transitions.machine`: the state machine of a ledger entry (Avro `TransitionMachine`).
pub const TRANSITION_MACHINE: Enum8Values =
    &[("UNKNOWN", 0), ("CONNECTIVITY", 1), ("LIFECYCLE", 2)];

/// The code of `name` in `values`, if it is one of them.
pub fn enum8_code(values: Enum8Values, name: &str) -> Option<i8> {
    values
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, code)| *code)
}

/// Renders `Enum8('A' = 1, 'B' = 2)`. Names are plain upper-case identifiers, so they need no
/// escaping.
pub fn enum8(values: Enum8Values) -> String {
    let mut sql = String::from("Enum8(");
    for (i, (name, code)) in values.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        // Writing to a String cannot fail.
        let _ = write!(sql, "'{name}' = {code}");
    }
    sql.push(')');
    sql
}

/// Names of the sink's tables.
pub mod table {
    /// Applied migrations.
    pub const SCHEMA_MIGRATIONS: &str = "schema_migrations";
    /// One row per canonical event.
    pub const EVENTS: &str = "events";
    /// The flattened digital twin, one live row per node under `FINAL`.
    pub const NODE_STATE: &str = "node_state";
    /// Dead letters.
    pub const DLQ: &str = "dlq";
    /// Connectivity and lifecycle ledger entries, one live row per entry under `FINAL`.
    pub const TRANSITIONS: &str = "transitions";
    /// Drift reports, one live row per `(node_id, seq)` under `FINAL`.
    pub const DRIFT_EVALUATIONS: &str = "drift_evaluations";
    /// Attention-queue and split-brain alerts.
    pub const ALERTS: &str = "alerts";
    /// Authority decisions.
    pub const AUTHORITY_AUDIT: &str = "authority_audit";
    /// View: connectivity, drift and alerts per domain.
    pub const DOMAIN_ROLLUP: &str = "domain_rollup";
    /// View: rollout status per policy bundle.
    pub const ROLLOUT_STATUS: &str = "rollout_status";
    /// View: nodes with a positive attention score.
    pub const ATTENTION_QUEUE: &str = "attention_queue";
    /// Rollup per domain and minute, fed by materialized views.
    pub const DOMAIN_MINUTE: &str = "domain_minute";
}

/// How a ReplacingMergeTree table of the sink collapses under `FINAL`: rows with equal sorting
/// `key` are one row, the one with the highest `version`, or without a version column the one
/// inserted last. The DDL writes the table's engine and `ORDER BY` from this, and the embedded
/// backend's `<table>_final` views read the Parquet tables the same way
/// ([`crate::query::session`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Replacing {
    /// Table name (one of [`table`]).
    pub table: &'static str,
    /// The columns of the sorting key.
    pub key: &'static [&'static str],
    /// The version column, if any.
    pub version: Option<&'static str>,
}

impl Replacing {
    /// The engine: `ReplacingMergeTree(version)` or `ReplacingMergeTree()`.
    pub fn engine(&self) -> String {
        format!("ReplacingMergeTree({})", self.version.unwrap_or(""))
    }

    /// The `ORDER BY` expression: the key column, or the tuple of key columns.
    pub fn sorting_key(&self) -> String {
        match self.key {
            [column] => (*column).to_owned(),
            columns => format!("({})", columns.join(", ")),
        }
    }
}

/// The replacing tables the sink lands (from its topics), read with `FINAL`.
pub mod replacing {
    use super::{table, Replacing};

    /// One live row per node: the highest twin version.
    pub const NODE_STATE: Replacing = Replacing {
        table: table::NODE_STATE,
        key: &["node_id"],
        version: Some("version"),
    };
    /// One live row per ledger entry.
    pub const TRANSITIONS: Replacing = Replacing {
        table: table::TRANSITIONS,
        key: &["node_id", "machine", "seq"],
        version: None,
    };
    /// One live row per drift report of a node.
    pub const DRIFT_EVALUATIONS: Replacing = Replacing {
        table: table::DRIFT_EVALUATIONS,
        key: &["node_id", "seq"],
        version: None,
    };
    /// One live row per raise and per resolve of an alert.
    pub const ALERTS: Replacing = Replacing {
        table: table::ALERTS,
        key: &["alert_id", "action"],
        version: None,
    };
    /// One live row per decision record (decisions have no natural key).
    pub const AUTHORITY_AUDIT: Replacing = Replacing {
        table: table::AUTHORITY_AUDIT,
        key: &["domain_id", "partition", "offset"],
        version: None,
    };
    /// Every one of them.
    pub const ALL: [Replacing; 5] = [
        NODE_STATE,
        TRANSITIONS,
        DRIFT_EVALUATIONS,
        ALERTS,
        AUTHORITY_AUDIT,
    ];
}

#[path = "ddl_analytics.rs"]
pub mod analytics;
#[path = "ddl_domain_minute.rs"]
pub mod domain_minute;
#[path = "ddl_rollups.rs"]
pub mod rollups;
pub use analytics::{ALERT_ACTION, ALERT_KIND, DECISION, DRIFT_STATUS, SUBJECT_KIND, TRUST_STATE};

/// True when `name` is a plain identifier (`[A-Za-z_][A-Za-z0-9_]*`), the only database names
/// the sink accepts, so names can be spliced into SQL without escaping.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `` `db`.`table` ``. The caller has checked `db` with [`is_identifier`]; table names are
/// this module's constants.
pub fn qualified(database: &str, table: &str) -> String {
    format!("`{database}`.`{table}`")
}

/// Column type of a string with few distinct values (region, zone, versions...).
fn low_cardinality_string(caps: &ServerCaps) -> &'static str {
    if caps.low_cardinality {
        "LowCardinality(String)"
    } else {
        "String"
    }
}

/// Codec clause for a mostly increasing Int64 timestamp column, empty without codec support.
fn delta_codec(caps: &ServerCaps) -> &'static str {
    if caps.codecs {
        " CODEC(Delta(8), LZ4)"
    } else {
        ""
    }
}

/// `CREATE DATABASE IF NOT EXISTS`.
pub fn create_database(database: &str) -> String {
    format!("CREATE DATABASE IF NOT EXISTS `{database}`")
}

/// The migrations ledger. ReplacingMergeTree so that two sinks migrating at the same moment
/// (both insert the same version) still read back one row per version under `FINAL`.
pub fn schema_migrations(database: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {}
(
    version UInt32,
    description String,
    applied_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(applied_at)
ORDER BY version",
        qualified(database, table::SCHEMA_MIGRATIONS)
    )
}

/// `events`: one row per canonical event, with the Kafka coordinates it was read from so
/// duplicates from an at-least-once replay can be removed later.
pub fn events(database: &str, caps: &ServerCaps) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {table}
(
    event_id String,
    node_id String,
    seq UInt64,
    kind {kind},
    source {source},
    replayed UInt8,
    event_time DateTime('UTC'),
    event_time_ms Int64{codec},
    received_ms Int64{codec},
    payload String,
    topic {lc},
    partition Int32,
    offset Int64
)
ENGINE = MergeTree()
PARTITION BY toYYYYMM(event_time)
ORDER BY (node_id, event_time_ms, seq)",
        table = qualified(database, table::EVENTS),
        kind = enum8(EVENT_KIND),
        source = enum8(SOURCE),
        codec = delta_codec(caps),
        lc = low_cardinality_string(caps),
    )
}

/// Widens `events.kind` to the current [`EVENT_KIND`] (adding Enum8 values changes only
/// metadata, on 18.16 too; running it again changes nothing).
pub fn events_kind_widened(database: &str) -> String {
    format!(
        "ALTER TABLE {table} MODIFY COLUMN kind {kind}",
        table = qualified(database, table::EVENTS),
        kind = enum8(EVENT_KIND),
    )
}

/// `node_state`: the flattened twin, deduplicated by `version` (ReplacingMergeTree keeps the
/// row with the highest version per node) and read with `FINAL`.
///
/// Absent values: strings are `''` and timestamps (`*_ms`) are `0` ("never"; no real
/// observation is at the epoch). The link-quality measurements and uptime are Nullable instead,
/// because `0` is a real measurement there and `avg()`/`quantile()` must skip nodes that never
/// reported one; they are not part of the sorting key, which 18.16 requires.
pub fn node_state(database: &str, caps: &ServerCaps) -> String {
    let lc = low_cardinality_string(caps);
    format!(
        "CREATE TABLE IF NOT EXISTS {table}
(
    node_id String,
    name String,
    kind {kind},
    tags Array(String),
    domain_id {lc},
    region {lc},
    zone {lc},
    authority_level {lc},
    controller_ids Array(String),
    authority_updated_ms Int64,
    connectivity {connectivity},
    last_seen_ms Int64,
    rtt_ms Nullable(Float64),
    loss_pct Nullable(Float64),
    bandwidth_kbps Nullable(Int64),
    seconds_behind Int64,
    backlog_messages Int64,
    replay_required UInt8,
    lifecycle_phase {phase},
    lifecycle_state String,
    lifecycle_reason String,
    lifecycle_transition_ms Int64,
    health {health},
    last_heartbeat_ms Int64,
    uptime_s Nullable(Int64),
    reported_version {lc},
    policy_version {lc},
    desired_bundle_id {lc},
    target_version {lc},
    desired_policy_version {lc},
    drift_score Float64,
    drift_objects Int32,
    drift_evaluated_ms Int64,
    hw_serial String,
    hw_manufacturer {lc},
    hw_model {lc},
    hw_batch_id String,
    hw_origin {lc},
    firmware_version {lc},
    firmware_signature String,
    sbom_hash String,
    attestation {attestation},
    attested_ms Int64,
    version UInt64,
    last_seq UInt64,
    last_event_id String,
    events_applied UInt64,
    updated_ms Int64,
    updated_at DateTime('UTC')
)
ENGINE = {engine}
ORDER BY {key}",
        table = qualified(database, table::NODE_STATE),
        engine = replacing::NODE_STATE.engine(),
        key = replacing::NODE_STATE.sorting_key(),
        kind = enum8(NODE_KIND),
        connectivity = enum8(CONNECTIVITY),
        phase = enum8(LIFECYCLE_PHASE),
        health = enum8(HEALTH),
        attestation = enum8(ATTESTATION),
    )
}

/// `dlq`: every dead letter with its reason, the coordinates of the input it replaces, the
/// original bytes (raw JSON is text; other bytes are kept as they are, since a ClickHouse
/// String is a byte string) and the dead letter's own Kafka coordinates.
pub fn dlq(database: &str, caps: &ServerCaps) -> String {
    let lc = low_cardinality_string(caps);
    format!(
        "CREATE TABLE IF NOT EXISTS {table}
(
    received_ms Int64{codec},
    received_at DateTime('UTC'),
    stage {lc},
    source {source},
    reason_code {lc},
    detail String,
    node_id String,
    source_topic {lc},
    source_partition Int32,
    source_offset Int64,
    original String,
    dlq_topic {lc},
    dlq_partition Int32,
    dlq_offset Int64
)
ENGINE = MergeTree()
PARTITION BY toYYYYMM(received_at)
ORDER BY (reason_code, received_ms)",
        table = qualified(database, table::DLQ),
        source = enum8(SOURCE),
        codec = delta_codec(caps),
    )
}

/// `transitions`: the connectivity and lifecycle ledger (`StateTransition` records), with the
/// Kafka coordinates each entry was read from.
///
/// ReplacingMergeTree ordered by `(node_id, machine, seq)`: an entry read twice (an
/// at-least-once replay of the sink, or a re-sent record) collapses to one row, so queries read
/// it with `FINAL`. Rows of one entry share `at` and so the monthly partition, which a merge
/// needs to replace them. `to_state` is `''` for a violation without a requested state
/// (`applied = 0`); `phase` and `event_id` are `''` when absent; the measurements stay
/// Nullable, outside the sorting key.
pub fn transitions(database: &str, caps: &ServerCaps) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {table}
(
    node_id String,
    machine {machine},
    at DateTime('UTC'),
    at_ms Int64{codec},
    from_state {lc},
    to_state {lc},
    applied UInt8,
    reason {lc},
    latency_ms Nullable(Float64),
    backlog Nullable(Int64),
    sync_interval_ms Nullable(Int64),
    phase {lc},
    event_id String,
    seq UInt64,
    topic {lc},
    partition Int32,
    offset Int64
)
ENGINE = {engine}
PARTITION BY toYYYYMM(at)
ORDER BY {key}",
        table = qualified(database, table::TRANSITIONS),
        engine = replacing::TRANSITIONS.engine(),
        key = replacing::TRANSITIONS.sorting_key(),
        machine = enum8(TRANSITION_MACHINE),
        codec = delta_codec(caps),
        lc = low_cardinality_string(caps),
    )
}

/// Migration 10: the node's domain on each ledger entry (StateTransition v2), so transitions
/// roll up per domain. Entries landed before read `''`.
pub fn transitions_domain(caps: &ServerCaps) -> Step {
    Step::AddColumn {
        table: table::TRANSITIONS,
        column: "domain_id",
        // Next to node_id, where the Parquet backend has it too.
        definition: format!("{} DEFAULT '' AFTER node_id", low_cardinality_string(caps)),
    }
}

/// Migration 9: the Kafka coordinates of each `node_state` row, so a replayed twin record
/// is recognised as landed (see [`crate::landed`]). Rows written before have `''`/`-1`/`-1`.
pub fn node_state_coordinates(caps: &ServerCaps) -> Vec<Step> {
    let column = |column, definition: String| Step::AddColumn {
        table: table::NODE_STATE,
        column,
        definition,
    };
    vec![
        column(
            "topic",
            format!("{} DEFAULT ''", low_cardinality_string(caps)),
        ),
        column("partition", "Int32 DEFAULT -1".to_owned()),
        column("offset", "Int64 DEFAULT -1".to_owned()),
    ]
}

#[cfg(test)]
#[path = "ddl_tests.rs"]
mod tests;

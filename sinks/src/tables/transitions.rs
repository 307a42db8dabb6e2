//! `transitions`: the connectivity and lifecycle ledger, one row per entry of a node's
//! connectivity or lifecycle machine (a `StateTransition` record), with the Kafka coordinates it
//! was read from.

use serde::{Deserialize, Serialize};
use sxfleet_schemas::StateTransition;

use super::arrow::{col, Column, Kind};
use super::ddl::{delta_codec, low_cardinality_string, qualified, table, Replacing, Step};
use super::enums::{self, enum8, TRANSITION_MACHINE};
use super::role::TopicRole;
use super::row::{code, datetime, plain_source_row, unsigned, Coords, RowError};
use super::table::Table;
use crate::caps::ServerCaps;

/// The `transitions` table.
#[derive(Clone, Copy, Debug)]
pub struct Transitions;

impl Table for Transitions {
    const NAME: &'static str = table::TRANSITIONS;
    const ROLE: TopicRole = TopicRole::Transitions;
    const REPLACING: Option<Replacing> = Some(REPLACING);
    type Record = StateTransition;
    type Row = TransitionRow;

    fn row(record: &StateTransition, at: Coords<'_>) -> Result<TransitionRow, RowError> {
        transition_row(record, at)
    }

    fn create(database: &str, caps: &ServerCaps) -> String {
        create(database, caps)
    }

    fn columns() -> Vec<Column<TransitionRow>> {
        vec![
            col("node_id", Kind::Str(|r| &r.node_id)),
            col("domain_id", Kind::Str(|r| &r.domain_id)),
            col(
                "machine",
                Kind::Enum(enums::TRANSITION_MACHINE, |r| r.machine),
            ),
            col("at", Kind::DateTime(|r| r.at)),
            col("at_ms", Kind::I64(|r| r.at_ms)),
            col("from_state", Kind::Str(|r| &r.from_state)),
            col("to_state", Kind::Str(|r| &r.to_state)),
            col("applied", Kind::U8(|r| r.applied)),
            col("reason", Kind::Str(|r| &r.reason)),
            col("latency_ms", Kind::OptF64(|r| r.latency_ms)),
            col("backlog", Kind::OptI64(|r| r.backlog)),
            col("sync_interval_ms", Kind::OptI64(|r| r.sync_interval_ms)),
            col("phase", Kind::Str(|r| &r.phase)),
            col("event_id", Kind::Str(|r| &r.event_id)),
            col("seq", Kind::U64(|r| r.seq)),
            col("topic", Kind::Str(|r| &r.topic)),
            col("partition", Kind::I32(|r| r.partition)),
            col("offset", Kind::I64(|r| r.offset)),
        ]
    }
}

/// One live row per ledger entry.
pub const REPLACING: Replacing = Replacing {
    table: table::TRANSITIONS,
    key: &["node_id", "machine", "seq"],
    version: None,
};

/// A row of `transitions`. See [`create`] for the columns.
#[derive(Debug, Clone, PartialEq, clickhouse::Row, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct TransitionRow {
    pub node_id: String,
    /// `''` for an entry of StateTransition v1, or of a node without a domain.
    pub domain_id: String,
    /// Enum8 code from [`enums::TRANSITION_MACHINE`].
    pub machine: i8,
    /// Seconds since the epoch (`DateTime('UTC')`) of `at_ms`.
    pub at: u32,
    pub at_ms: i64,
    pub from_state: String,
    /// `''` for a violation without a requested state.
    pub to_state: String,
    /// `0` for a violation (recorded, not applied).
    pub applied: u8,
    pub reason: String,
    pub latency_ms: Option<f64>,
    pub backlog: Option<i64>,
    pub sync_interval_ms: Option<i64>,
    /// `''` when the entry carries no phase.
    pub phase: String,
    /// `''` for a timer firing.
    pub event_id: String,
    pub seq: u64,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// The `transitions` row for a ledger entry, read at `at`.
///
/// # Errors
/// [`RowError::Negative`] for a negative `seq`; [`RowError::UnknownSymbol`] for a machine
/// without an Enum8 code.
pub fn transition_row(entry: &StateTransition, at: Coords<'_>) -> Result<TransitionRow, RowError> {
    Ok(TransitionRow {
        node_id: entry.node_id.clone(),
        domain_id: entry.domain_id.clone(),
        machine: code("machine", enums::TRANSITION_MACHINE, entry.machine.as_str())?,
        at: datetime(entry.at_ms),
        at_ms: entry.at_ms,
        from_state: entry.from_state.clone(),
        to_state: entry.to_state.clone(),
        applied: u8::from(entry.applied),
        reason: entry.reason.clone(),
        latency_ms: entry.latency_ms,
        backlog: entry.backlog,
        sync_interval_ms: entry.sync_interval_ms,
        phase: entry.phase.clone().unwrap_or_default(),
        event_id: entry.event_id.clone().unwrap_or_default(),
        seq: unsigned("seq", entry.seq)?,
        topic: at.topic.to_owned(),
        partition: at.partition,
        offset: at.offset,
    })
}

plain_source_row!(TransitionRow, node_id);

/// `transitions`: the connectivity and lifecycle ledger (`StateTransition` records), with the
/// Kafka coordinates each entry was read from.
///
/// ReplacingMergeTree ordered by `(node_id, machine, seq)`: an entry read twice (an
/// at-least-once replay of the sink, or a re-sent record) collapses to one row, so queries read
/// it with `FINAL`. Rows of one entry share `at` and so the monthly partition, which a merge
/// needs to replace them. `to_state` is `''` for a violation without a requested state
/// (`applied = 0`); `phase` and `event_id` are `''` when absent; the measurements stay
/// Nullable, outside the sorting key.
pub fn create(database: &str, caps: &ServerCaps) -> String {
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
        engine = REPLACING.engine(),
        key = REPLACING.sorting_key(),
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

//! The `transitions` row: one ledger entry of a node's connectivity or lifecycle machine
//! (a `StateTransition` record), with the Kafka coordinates it was read from.

use serde::{Deserialize, Serialize};
use sxfleet_schemas::StateTransition;

use super::{code, datetime, unsigned, Coords, RowError};
use crate::ddl;

/// A row of `transitions`. See [`crate::ddl::transitions`] for the columns.
#[derive(Debug, Clone, PartialEq, clickhouse::Row, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct TransitionRow {
    pub node_id: String,
    /// `''` for an entry of StateTransition v1, or of a node without a domain.
    pub domain_id: String,
    /// Enum8 code from [`ddl::TRANSITION_MACHINE`].
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
        machine: code("machine", ddl::TRANSITION_MACHINE, entry.machine.as_str())?,
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

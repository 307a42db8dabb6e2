//! Row building: pure functions from decoded schema types (plus Kafka coordinates) to the
//! rows of the sink's tables. No I/O, no clock.
//!
//! Conventions (see [`crate::ddl`] for the tables):
//! - Enum8 columns carry the `i8` code looked up *by symbol name* in the DDL's value tables, so
//!   rows and DDL cannot disagree; a symbol missing there is a [`RowError`].
//! - `DateTime('UTC')` columns are whole seconds since the epoch (`u32` in RowBinary), derived
//!   from the exact Int64 millisecond column next to them and clamped to the type's range.
//! - Absent strings are `''`, absent timestamps `0`; link quality and uptime stay `None`
//!   (Nullable columns), see [`crate::ddl::node_state`].
//! - Signed schema counters (`seq`, `version`, ...) land in UInt64 columns; a negative value
//!   is a [`RowError`] rather than a silently wrapped number.

use serde::{Deserialize, Serialize};
use sxfleet_schemas::{DeadLetter, EventPayload, FleetEvent, Node};

use crate::ddl::{self, Enum8Values};

#[path = "rows_transition.rs"]
mod transition;
pub use transition::{transition_row, TransitionRow};

#[path = "rows_analytics.rs"]
mod analytics;
pub use analytics::{alert_row, authority_row, drift_row, AlertRow, AuthorityRow, DriftRow};

/// Where a record was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Coords<'a> {
    /// Topic.
    pub topic: &'a str,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
}

/// A decoded record that does not fit its table.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RowError {
    /// A counter that must not be negative is.
    #[error("{field} is negative ({value})")]
    Negative {
        /// Schema field name.
        field: &'static str,
        /// Its value.
        value: i64,
    },
    /// An enum symbol has no Enum8 code in the table's column type.
    #[error("{column} has no Enum8 code for symbol {symbol:?}")]
    UnknownSymbol {
        /// Column name.
        column: &'static str,
        /// The symbol.
        symbol: String,
    },
    /// The payload could not be rendered as JSON.
    #[error("payload is not representable as JSON: {0}")]
    Payload(String),
}

impl RowError {
    /// Stable reason code for the dead letter that replaces the record.
    pub fn reason_code(&self) -> &'static str {
        match self {
            RowError::Negative { .. } => "out_of_range",
            RowError::UnknownSymbol { .. } => "bad_enum",
            RowError::Payload(_) => "unrenderable_payload",
        }
    }
}

/// A row of `events`.
#[derive(Debug, Clone, PartialEq, clickhouse::Row, Serialize, Deserialize)]
pub struct EventRow {
    pub event_id: String,
    pub node_id: String,
    pub seq: u64,
    /// Enum8 code from [`ddl::EVENT_KIND`].
    pub kind: i8,
    /// Enum8 code from [`ddl::SOURCE`].
    pub source: i8,
    pub replayed: u8,
    /// Seconds since the epoch (`DateTime('UTC')`).
    pub event_time: u32,
    pub event_time_ms: i64,
    pub received_ms: i64,
    /// The payload record as compact JSON (Avro symbols as strings, absent fields as null).
    pub payload: String,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// A row of `node_state`: the twin flattened. See [`crate::ddl::node_state`] for the columns.
#[derive(Debug, Clone, PartialEq, clickhouse::Row, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct NodeStateRow {
    pub node_id: String,
    pub name: String,
    pub kind: i8,
    pub tags: Vec<String>,
    pub domain_id: String,
    pub region: String,
    pub zone: String,
    pub authority_level: String,
    pub controller_ids: Vec<String>,
    pub authority_updated_ms: i64,
    pub connectivity: i8,
    pub last_seen_ms: i64,
    pub rtt_ms: Option<f64>,
    pub loss_pct: Option<f64>,
    pub bandwidth_kbps: Option<i64>,
    pub seconds_behind: i64,
    pub backlog_messages: i64,
    pub replay_required: u8,
    pub lifecycle_phase: i8,
    pub lifecycle_state: String,
    pub lifecycle_reason: String,
    pub lifecycle_transition_ms: i64,
    pub health: i8,
    pub last_heartbeat_ms: i64,
    pub uptime_s: Option<i64>,
    pub reported_version: String,
    pub policy_version: String,
    pub desired_bundle_id: String,
    pub target_version: String,
    pub desired_policy_version: String,
    pub drift_score: f64,
    pub drift_objects: i32,
    pub drift_evaluated_ms: i64,
    pub hw_serial: String,
    pub hw_manufacturer: String,
    pub hw_model: String,
    pub hw_batch_id: String,
    pub hw_origin: String,
    pub firmware_version: String,
    pub firmware_signature: String,
    pub sbom_hash: String,
    pub attestation: i8,
    pub attested_ms: i64,
    pub version: u64,
    pub last_seq: u64,
    pub last_event_id: String,
    pub events_applied: u64,
    pub updated_ms: i64,
    pub updated_at: u32,
    /// Enum8 code from [`ddl::DRIFT_STATUS`].
    pub drift_status: i8,
    pub drift_stale_by_ms: Option<i64>,
    pub drift_age_ms: Option<i64>,
    /// Enum8 code from [`ddl::TRUST_STATE`].
    pub trust_state: i8,
    pub trust_violations: u64,
    pub last_violation: String,
    pub last_violation_ms: i64,
    pub attention_score: f64,
    pub alert_open: u8,
    pub attention_reasons: Vec<String>,
    /// `''` when no replay is in flight.
    pub replay_session: String,
    pub replay_started_ms: i64,
    pub replay_chunks: i64,
    pub replay_events: i64,
    pub replay_backlog_total: Option<i64>,
    /// Where the twin record was read (migration 9).
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// A row of `dlq`.
#[derive(Debug, Clone, PartialEq, clickhouse::Row, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct DlqRow {
    pub received_ms: i64,
    pub received_at: u32,
    pub stage: String,
    pub source: i8,
    pub reason_code: String,
    pub detail: String,
    pub node_id: String,
    /// `''` / `-1` / `-1` when the rejected input did not come from Kafka.
    pub source_topic: String,
    pub source_partition: i32,
    pub source_offset: i64,
    /// The original bytes, written as a ClickHouse String (a byte string).
    #[serde(with = "byte_string")]
    pub original: Vec<u8>,
    pub dlq_topic: String,
    pub dlq_partition: i32,
    pub dlq_offset: i64,
}

/// The `events` row for `event`, read at `at`.
///
/// # Errors
/// [`RowError::Negative`] for a negative `seq`; [`RowError::UnknownSymbol`] for a kind or
/// source without an Enum8 code.
pub fn event_row(event: &FleetEvent, at: Coords<'_>) -> Result<EventRow, RowError> {
    Ok(EventRow {
        event_id: event.event_id.clone(),
        node_id: event.node_id.clone(),
        seq: unsigned("seq", event.seq)?,
        kind: code("kind", ddl::EVENT_KIND, event.kind().as_str())?,
        source: code("source", ddl::SOURCE, event.source.as_str())?,
        replayed: u8::from(event.replayed),
        event_time: datetime(event.event_time_ms),
        event_time_ms: event.event_time_ms,
        received_ms: event.received_ms,
        payload: payload_json(&event.payload)?,
        topic: at.topic.to_owned(),
        partition: at.partition,
        offset: at.offset,
    })
}

/// The `node_state` row for a twin, read at `at`.
///
/// # Errors
/// [`RowError::Negative`] for a negative `version`, `last_seq` or `events_applied`;
/// [`RowError::UnknownSymbol`] for an enum symbol without an Enum8 code.
pub fn node_state_row(node: &Node, at: Coords<'_>) -> Result<NodeStateRow, RowError> {
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let conn = &node.connectivity;
    let actual = &node.actual_state;
    let desired = &node.desired_state;
    let chain = &node.supply_chain;
    let attestation = chain.attestation.as_ref();
    let replay = conn.replay.as_ref();
    Ok(NodeStateRow {
        node_id: node.id.clone(),
        name: text(&node.name),
        kind: code("kind", ddl::NODE_KIND, node.kind.as_str())?,
        tags: node.tags.clone(),
        domain_id: node.domain_id.clone(),
        region: node.region.clone(),
        zone: node.zone.clone(),
        authority_level: node
            .authority
            .master_of_record
            .map_or_else(String::new, |level| level.as_str().to_owned()),
        controller_ids: node.authority.controller_ids.clone(),
        authority_updated_ms: node.authority.last_authoritative_update_ms.unwrap_or(0),
        connectivity: code("connectivity", ddl::CONNECTIVITY, conn.mode.as_str())?,
        last_seen_ms: conn.last_seen_ms.unwrap_or(0),
        rtt_ms: conn.link_quality.rtt_ms,
        loss_pct: conn.link_quality.loss_pct,
        bandwidth_kbps: conn.link_quality.bandwidth_kbps,
        seconds_behind: conn.sync_debt.seconds_behind,
        backlog_messages: conn.sync_debt.backlog_messages,
        replay_required: u8::from(conn.sync_debt.replay_required),
        lifecycle_phase: code(
            "lifecycle_phase",
            ddl::LIFECYCLE_PHASE,
            node.lifecycle.phase.as_str(),
        )?,
        lifecycle_state: node.lifecycle.state.clone(),
        lifecycle_reason: text(&node.lifecycle.reason),
        lifecycle_transition_ms: node.lifecycle.last_transition_ms.unwrap_or(0),
        health: code("health", ddl::HEALTH, actual.runtime.health.as_str())?,
        last_heartbeat_ms: actual.runtime.last_heartbeat_ms.unwrap_or(0),
        uptime_s: actual.runtime.uptime_s,
        reported_version: text(&actual.reported_version),
        policy_version: text(&actual.policy_version),
        desired_bundle_id: text(&desired.policy_bundle_id),
        target_version: text(&desired.target_version),
        desired_policy_version: text(&desired.policy_version),
        drift_score: node.drift.score,
        drift_objects: node.drift.objects_out_of_spec,
        drift_evaluated_ms: node.drift.last_evaluated_ms.unwrap_or(0),
        hw_serial: text(&chain.hardware.serial),
        hw_manufacturer: text(&chain.hardware.manufacturer),
        hw_model: text(&chain.hardware.model),
        hw_batch_id: text(&chain.hardware.batch_id),
        hw_origin: text(&chain.hardware.origin),
        firmware_version: text(&chain.firmware.version),
        firmware_signature: text(&chain.firmware.signature),
        sbom_hash: text(&actual.sbom_hash),
        attestation: match attestation {
            Some(status) => code("attestation", ddl::ATTESTATION, status.result.as_str())?,
            None => 0,
        },
        attested_ms: attestation.map_or(0, |status| status.at_ms),
        version: unsigned("version", node.version)?,
        last_seq: unsigned("last_seq", node.last_seq)?,
        last_event_id: text(&node.last_event_id),
        events_applied: unsigned("events_applied", node.events_applied)?,
        updated_ms: node.updated_ms,
        updated_at: datetime(node.updated_ms),
        drift_status: code("drift_status", ddl::DRIFT_STATUS, &node.drift.status)?,
        drift_stale_by_ms: node.drift.stale_by_ms,
        drift_age_ms: node.drift.drift_age_ms,
        trust_state: code("trust_state", ddl::TRUST_STATE, &node.trust.state)?,
        trust_violations: unsigned("trust.violations", node.trust.violations)?,
        last_violation: text(&node.trust.last_violation),
        last_violation_ms: node.trust.last_violation_ms.unwrap_or(0),
        attention_score: node.attention.score,
        alert_open: u8::from(node.attention.alert_open),
        attention_reasons: node.attention.reasons.clone(),
        replay_session: replay
            .and_then(|r| r.session_id.clone())
            .unwrap_or_default(),
        replay_started_ms: replay.map_or(0, |r| r.started_ms),
        replay_chunks: replay.map_or(0, |r| r.chunks_received),
        replay_events: replay.map_or(0, |r| r.events_received),
        replay_backlog_total: replay.and_then(|r| r.backlog_total),
        topic: at.topic.to_owned(),
        partition: at.partition,
        offset: at.offset,
    })
}

/// The `dlq` row for a dead letter, itself read at `at`.
///
/// # Errors
/// [`RowError::UnknownSymbol`] for a source without an Enum8 code.
pub fn dlq_row(dead: &DeadLetter, at: Coords<'_>) -> Result<DlqRow, RowError> {
    Ok(DlqRow {
        received_ms: dead.received_ms,
        received_at: datetime(dead.received_ms),
        stage: dead.stage.clone(),
        source: code("source", ddl::SOURCE, dead.source.as_str())?,
        reason_code: dead.reason_code.clone(),
        detail: dead.detail.clone(),
        node_id: dead.node_id.clone().unwrap_or_default(),
        source_topic: dead.source_topic.clone().unwrap_or_default(),
        source_partition: dead.source_partition.unwrap_or(-1),
        source_offset: dead.source_offset.unwrap_or(-1),
        original: dead.original.clone(),
        dlq_topic: at.topic.to_owned(),
        dlq_partition: at.partition,
        dlq_offset: at.offset,
    })
}

/// A row that knows the Kafka record it was built from: what the effectively-once landing
/// ([`crate::landed`]) matches against ClickHouse, and what a dead letter for a row the server
/// rejects points back to.
pub trait SourceRow {
    /// Topic, partition and offset of the record the row was built from.
    fn source(&self) -> Coords<'_>;
    /// The node the row is about (`''` when none).
    fn node_id(&self) -> &str;
}

macro_rules! source_row {
    ($row:ty, $topic:ident, $partition:ident, $offset:ident) => {
        impl SourceRow for $row {
            fn source(&self) -> Coords<'_> {
                Coords {
                    topic: &self.$topic,
                    partition: self.$partition,
                    offset: self.$offset,
                }
            }
            fn node_id(&self) -> &str {
                &self.node_id
            }
        }
    };
}

source_row!(EventRow, topic, partition, offset);
source_row!(NodeStateRow, topic, partition, offset);
source_row!(DlqRow, dlq_topic, dlq_partition, dlq_offset);
source_row!(TransitionRow, topic, partition, offset);
source_row!(DriftRow, topic, partition, offset);

impl SourceRow for AlertRow {
    fn source(&self) -> Coords<'_> {
        Coords {
            topic: &self.topic,
            partition: self.partition,
            offset: self.offset,
        }
    }
    /// The alert's subject: a node id, or a domain id for a split brain.
    fn node_id(&self) -> &str {
        &self.subject_id
    }
}

impl SourceRow for AuthorityRow {
    fn source(&self) -> Coords<'_> {
        Coords {
            topic: &self.topic,
            partition: self.partition,
            offset: self.offset,
        }
    }
    /// Authority decisions are about domains: none.
    fn node_id(&self) -> &str {
        ""
    }
}

/// Seconds since the epoch for a `DateTime` column, clamped to `0..=u32::MAX`.
pub fn datetime(epoch_ms: i64) -> u32 {
    let secs = epoch_ms.div_euclid(1000).clamp(0, i64::from(u32::MAX));
    u32::try_from(secs).unwrap_or(0)
}

fn unsigned(field: &'static str, value: i64) -> Result<u64, RowError> {
    u64::try_from(value).map_err(|_| RowError::Negative { field, value })
}

fn code(column: &'static str, values: Enum8Values, symbol: &str) -> Result<i8, RowError> {
    ddl::enum8_code(values, symbol).ok_or_else(|| RowError::UnknownSymbol {
        column,
        symbol: symbol.to_owned(),
    })
}

/// The payload record alone as compact JSON: the kind is its own column.
fn payload_json(payload: &EventPayload) -> Result<String, RowError> {
    let json = match payload {
        EventPayload::Register(p) => serde_json::to_string(p),
        EventPayload::Heartbeat(p) => serde_json::to_string(p),
        EventPayload::Link(p) => serde_json::to_string(p),
        EventPayload::Snapshot(p) => serde_json::to_string(p),
        EventPayload::Lifecycle(p) => serde_json::to_string(p),
        EventPayload::Attestation(p) => serde_json::to_string(p),
        EventPayload::Replay(p) => serde_json::to_string(p),
        EventPayload::TrustViolation(p) => serde_json::to_string(p),
    };
    json.map_err(|err| RowError::Payload(err.to_string()))
}

/// Serde for `Vec<u8>` as a ClickHouse String: RowBinary writes serde bytes exactly like a
/// string (length + bytes), and reads a String back as a byte buffer.
mod byte_string {
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(bytes)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a byte string")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(v)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Vec<u8>, E> {
                Ok(v.as_bytes().to_vec())
            }
        }
        deserializer.deserialize_byte_buf(Visitor)
    }
}

#[cfg(test)]
#[path = "rows_tests.rs"]
mod tests;

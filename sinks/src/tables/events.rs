//! `events`: one row per canonical event (`FleetEvent`), with the Kafka coordinates it was read
//! from.

use serde::{Deserialize, Serialize};
use sxfleet_schemas::{EventPayload, FleetEvent};

use super::arrow::{col, Column, Kind};
use super::ddl::{delta_codec, low_cardinality_string, qualified, table};
use super::enums::{self, enum8, SOURCE};
use super::role::TopicRole;
use super::row::{code, datetime, plain_source_row, unsigned, Coords, RowError};
use super::table::Table;
use crate::caps::ServerCaps;

/// The `events` table.
#[derive(Clone, Copy, Debug)]
pub struct Events;

impl Table for Events {
    const NAME: &'static str = table::EVENTS;
    const ROLE: TopicRole = TopicRole::Events;
    type Record = FleetEvent;
    type Row = EventRow;

    fn row(record: &FleetEvent, at: Coords<'_>) -> Result<EventRow, RowError> {
        event_row(record, at)
    }

    fn create(database: &str, caps: &ServerCaps) -> String {
        create(database, caps)
    }

    fn columns() -> Vec<Column<EventRow>> {
        vec![
            col("event_id", Kind::Str(|r| &r.event_id)),
            col("node_id", Kind::Str(|r| &r.node_id)),
            col("seq", Kind::U64(|r| r.seq)),
            col("kind", Kind::Enum(enums::EVENT_KIND, |r| r.kind)),
            col("source", Kind::Enum(enums::SOURCE, |r| r.source)),
            col("replayed", Kind::U8(|r| r.replayed)),
            col("event_time", Kind::DateTime(|r| r.event_time)),
            col("event_time_ms", Kind::I64(|r| r.event_time_ms)),
            col("received_ms", Kind::I64(|r| r.received_ms)),
            col("payload", Kind::Str(|r| &r.payload)),
            col("topic", Kind::Str(|r| &r.topic)),
            col("partition", Kind::I32(|r| r.partition)),
            col("offset", Kind::I64(|r| r.offset)),
        ]
    }
}

/// A row of `events`.
#[derive(Debug, Clone, PartialEq, clickhouse::Row, Serialize, Deserialize)]
pub struct EventRow {
    pub event_id: String,
    pub node_id: String,
    pub seq: u64,
    /// Enum8 code from [`enums::EVENT_KIND`].
    pub kind: i8,
    /// Enum8 code from [`enums::SOURCE`].
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
        kind: code("kind", enums::EVENT_KIND, event.kind().as_str())?,
        source: code("source", enums::SOURCE, event.source.as_str())?,
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

plain_source_row!(EventRow, node_id);

/// `events`: one row per canonical event, with the Kafka coordinates it was read from so
/// duplicates from an at-least-once replay can be removed later.
pub fn create(database: &str, caps: &ServerCaps) -> String {
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
        // Created with the kinds of its shipped text; migration 15 adds EDGE.
        kind = enum8(enums::EVENT_KIND_V2),
        source = enum8(SOURCE),
        codec = delta_codec(caps),
        lc = low_cardinality_string(caps),
    )
}

/// Widens `events.kind` to `kinds` (adding Enum8 values changes only metadata, on 18.16 too;
/// running it again changes nothing): [`enums::EVENT_KIND_V2`] in migration 8,
/// [`enums::EVENT_KIND_V3`] in migration 15, [`enums::EVENT_KIND`] in migration 16.
pub fn events_kind_widened(database: &str, kinds: enums::Enum8Values) -> String {
    format!(
        "ALTER TABLE {table} MODIFY COLUMN kind {kind}",
        table = qualified(database, table::EVENTS),
        kind = enum8(kinds),
    )
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
        EventPayload::Edge(p) => serde_json::to_string(p),
        EventPayload::CommandAck(p) => serde_json::to_string(p),
    };
    json.map_err(|err| RowError::Payload(err.to_string()))
}

//! `dlq`: every dead letter (`DeadLetter`) from the normalizer's and the sink's own DLQ topic,
//! with its original bytes and its own Kafka coordinates.

use serde::{Deserialize, Serialize};
use sxfleet_schemas::DeadLetter;

use super::arrow::{col, Column, Kind};
use super::ddl::{delta_codec, low_cardinality_string, qualified, table};
use super::enums::{self, enum8, SOURCE};
use super::role::TopicRole;
use super::row::{code, datetime, Coordinates, Coords, RowError, SourceRow};
use super::table::Table;
use crate::caps::ServerCaps;

/// The `dlq` table.
#[derive(Clone, Copy, Debug)]
pub struct Dlq;

impl Table for Dlq {
    const NAME: &'static str = table::DLQ;
    const ROLE: TopicRole = TopicRole::DeadLetters;
    const COORDINATES: Coordinates = Coordinates {
        topic: "dlq_topic",
        partition: "dlq_partition",
        offset: "dlq_offset",
    };
    type Record = DeadLetter;
    type Row = DlqRow;

    fn row(record: &DeadLetter, at: Coords<'_>) -> Result<DlqRow, RowError> {
        dlq_row(record, at)
    }

    fn create(database: &str, caps: &ServerCaps) -> String {
        create(database, caps)
    }

    fn columns() -> Vec<Column<DlqRow>> {
        vec![
            col("received_ms", Kind::I64(|r| r.received_ms)),
            col("received_at", Kind::DateTime(|r| r.received_at)),
            col("stage", Kind::Str(|r| &r.stage)),
            col("source", Kind::Enum(enums::SOURCE, |r| r.source)),
            col("reason_code", Kind::Str(|r| &r.reason_code)),
            col("detail", Kind::Str(|r| &r.detail)),
            col("node_id", Kind::Str(|r| &r.node_id)),
            col("source_topic", Kind::Str(|r| &r.source_topic)),
            col("source_partition", Kind::I32(|r| r.source_partition)),
            col("source_offset", Kind::I64(|r| r.source_offset)),
            col("original", Kind::Bytes(|r| &r.original)),
            col("dlq_topic", Kind::Str(|r| &r.dlq_topic)),
            col("dlq_partition", Kind::I32(|r| r.dlq_partition)),
            col("dlq_offset", Kind::I64(|r| r.dlq_offset)),
        ]
    }
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

/// The `dlq` row for a dead letter, itself read at `at`.
///
/// # Errors
/// [`RowError::UnknownSymbol`] for a source without an Enum8 code.
pub fn dlq_row(dead: &DeadLetter, at: Coords<'_>) -> Result<DlqRow, RowError> {
    Ok(DlqRow {
        received_ms: dead.received_ms,
        received_at: datetime(dead.received_ms),
        stage: dead.stage.clone(),
        source: code("source", enums::SOURCE, dead.source.as_str())?,
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

impl SourceRow for DlqRow {
    fn source(&self) -> Coords<'_> {
        Coords {
            topic: &self.dlq_topic,
            partition: self.dlq_partition,
            offset: self.dlq_offset,
        }
    }
    fn node_id(&self) -> &str {
        &self.node_id
    }
}

/// `dlq`: every dead letter with its reason, the coordinates of the input it replaces, the
/// original bytes (raw JSON is text; other bytes are kept as they are, since a ClickHouse
/// String is a byte string) and the dead letter's own Kafka coordinates.
pub fn create(database: &str, caps: &ServerCaps) -> String {
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

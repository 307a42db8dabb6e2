//! `DeadLetter` (topic `fleet.dlq.v1`): an input some stage rejected, with its original bytes.

use serde::{Deserialize, Serialize};

use super::common::Source;
use super::EpochMillis;
use crate::catalog;
use crate::codec::plain_canonical;

/// Values of [`DeadLetter::stage`].
pub mod stage {
    /// Raw input -> canonical event.
    pub const NORMALIZER: &str = "normalizer";
    /// Stateful processors.
    pub const PROCESSOR: &str = "processor";
    /// ClickHouse / Parquet sinks.
    pub const SINK: &str = "sink";
}

/// A rejected input. Nothing is dropped silently: every rejection becomes one of these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// The raw bytes exactly as received.
    #[serde(with = "apache_avro::serde::bytes")]
    pub original: Vec<u8>,
    /// How the input entered the pipeline.
    pub source: Source,
    /// Kafka topic it was read from.
    pub source_topic: Option<String>,
    /// Kafka partition it was read from.
    pub source_partition: Option<i32>,
    /// Kafka offset.
    pub source_offset: Option<i64>,
    /// Node id, if it could be read.
    pub node_id: Option<String>,
    /// Stable machine-readable reason, e.g. `"invalid_json"`, `"missing_field"`, `"bad_enum"`.
    pub reason_code: String,
    /// Human-readable explanation.
    pub detail: String,
    /// Rejecting stage, one of [`stage`].
    pub stage: String,
    /// Ingest time of the original input.
    pub received_ms: EpochMillis,
}

plain_canonical!(DeadLetter => catalog::DEAD_LETTER);

//! Building the records stages write: canonical Avro values, and DLQ records for input a stage
//! rejects (one shape for every stage, so analysts see the same columns whoever rejected it).

use serde::Serialize;
use sxfleet_schemas::{encode, Canonical, DeadLetter, Source};

use crate::stage::InternalError;
use crate::{Input, Output};

/// `value` in the Confluent wire format. A canonical record that does not encode is a bug.
///
/// # Errors
/// [`InternalError`] when the value does not encode.
pub fn encoded<T: Canonical + Serialize>(value: &T) -> Result<Vec<u8>, InternalError> {
    encode(value).map_err(|error| InternalError(format!("cannot encode canonical record: {error}")))
}

/// Why a stage rejects an input record.
#[derive(Clone, Debug)]
pub struct Rejection<'a> {
    /// Stage that rejected it (`sxfleet_schemas::stage::*`).
    pub stage: &'a str,
    /// Stable reason code.
    pub reason_code: &'a str,
    /// Human-readable detail.
    pub detail: String,
    /// Where the record entered the pipeline.
    pub source: Source,
    /// The node it concerns, when known; also the DLQ record's key.
    pub node_id: Option<String>,
    /// Receive time in epoch ms (the input's Kafka timestamp, 0 when it has none).
    pub received_ms: i64,
}

/// The DLQ record for `input` (its original bytes and coordinates), keyed by node id when
/// known, for topic `dlq_topic`.
///
/// # Errors
/// [`InternalError`] when the record does not encode.
pub fn dead_letter(
    dlq_topic: &str,
    input: &Input<'_>,
    rejection: Rejection<'_>,
) -> Result<Output, InternalError> {
    let letter = DeadLetter {
        original: input.payload.unwrap_or_default().to_vec(),
        source: rejection.source,
        source_topic: Some(input.topic.to_owned()),
        source_partition: Some(input.partition),
        source_offset: Some(input.offset),
        node_id: rejection.node_id.clone(),
        reason_code: rejection.reason_code.to_owned(),
        detail: rejection.detail,
        stage: rejection.stage.to_owned(),
        received_ms: rejection.received_ms,
    };
    Ok(Output {
        topic: dlq_topic.to_owned(),
        partition: None,
        key: rejection.node_id.map(String::into_bytes),
        payload: Some(encoded(&letter)?),
    })
}

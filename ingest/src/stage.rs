//! The normalizer as a [`Stage`]: raw topic in; events, control records and DLQ records out.

use sxfleet_runtime::stage::InternalError;
use sxfleet_runtime::{Input, Output, Stage, Topics};
use sxfleet_schemas::{encode, DeadLetter, Source};

use crate::normalize::{normalize, Normalized, NormalizerConfig, RawContext};

/// Stateless normalizer stage over the raw Kafka topic.
pub struct NormalizerStage {
    config: NormalizerConfig,
    topics: Topics,
}

impl NormalizerStage {
    /// A normalizer writing to `topics`.
    pub fn new(config: NormalizerConfig, topics: Topics) -> Self {
        Self { config, topics }
    }
}

/// The DLQ record for a raw message rejected at `stage`.
pub fn dead_letter(
    input: &Input<'_>,
    source: Source,
    received_ms: i64,
    node_id: Option<String>,
    reason_code: &str,
    detail: String,
    stage: &str,
) -> DeadLetter {
    DeadLetter {
        original: input.payload.unwrap_or_default().to_vec(),
        source,
        source_topic: Some(input.topic.to_owned()),
        source_partition: Some(input.partition),
        source_offset: Some(input.offset),
        node_id,
        reason_code: reason_code.to_owned(),
        detail,
        stage: stage.to_owned(),
        received_ms,
    }
}

fn encoded<T: sxfleet_schemas::Canonical + serde::Serialize>(
    value: &T,
) -> Result<Vec<u8>, InternalError> {
    encode(value).map_err(|error| InternalError(format!("cannot encode canonical record: {error}")))
}

impl Stage for NormalizerStage {
    fn name(&self) -> &'static str {
        "normalizer"
    }

    fn changelog(&self) -> Option<&str> {
        None
    }

    fn restore(
        &mut self,
        _partition: i32,
        _key: &[u8],
        _value: Option<&[u8]>,
    ) -> Result<(), InternalError> {
        Ok(())
    }

    fn revoke(&mut self, _partition: i32) {}

    fn reset(&mut self) {}

    fn process(&mut self, input: &Input<'_>, out: &mut Vec<Output>) -> Result<(), InternalError> {
        // The raw message's Kafka timestamp is the receive time; a message without one skips
        // the future-skew check (see `RawContext`).
        let ctx = RawContext {
            source: Source::KafkaRaw,
            received_ms: input.timestamp_ms.unwrap_or(0),
        };
        match normalize(&self.config, input.payload.unwrap_or_default(), ctx) {
            Ok(records) => {
                for record in records {
                    out.push(match record {
                        Normalized::Event(event) => Output {
                            topic: self.topics.events.clone(),
                            partition: None,
                            key: Some(event.node_id.clone().into_bytes()),
                            payload: Some(encoded(&event)?),
                        },
                        Normalized::Control(event) => Output {
                            topic: self.topics.control.clone(),
                            partition: None,
                            key: Some(event.key.clone().into_bytes()),
                            payload: Some(encoded(&event)?),
                        },
                    });
                }
            }
            Err(rejected) => {
                let key = rejected.node_id.clone().map(String::into_bytes);
                let letter = dead_letter(
                    input,
                    ctx.source,
                    ctx.received_ms,
                    rejected.node_id,
                    rejected.rejection.code.as_str(),
                    rejected.rejection.detail,
                    "normalizer",
                );
                out.push(Output {
                    topic: self.topics.dlq.clone(),
                    partition: None,
                    key,
                    payload: Some(encoded(&letter)?),
                });
            }
        }
        Ok(())
    }

    fn flush(&mut self, _out: &mut Vec<Output>) -> Result<(), InternalError> {
        Ok(())
    }
}

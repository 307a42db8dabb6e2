//! The normalizer as a [`Stage`]: raw topic in; events, control records and DLQ records out.

use sxfleet_runtime::records::{dead_letter, encoded, Rejection};
use sxfleet_runtime::stage::InternalError;
use sxfleet_runtime::{Input, Output, Stage, Topics};
use sxfleet_schemas::{stage, Source};

use crate::normalize::{normalize, Normalized, NormalizerConfig, RawContext};

/// Stateless normalizer stage over the raw Kafka topic.
///
/// A control-plane record goes to the control topic and, as a copy, to every partition of the
/// events topic: the fleet processor keeps the control state next to each partition's nodes, so
/// each partition's log holds node events and control changes in one deterministic order.
pub struct NormalizerStage {
    config: NormalizerConfig,
    topics: Topics,
    events_partitions: i32,
}

impl NormalizerStage {
    /// A normalizer writing to `topics`, whose events topic has `events_partitions` partitions.
    pub fn new(config: NormalizerConfig, topics: Topics, events_partitions: i32) -> Self {
        Self {
            config,
            topics,
            events_partitions,
        }
    }
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
                    match record {
                        Normalized::Event(event) => out.push(Output {
                            topic: self.topics.events.clone(),
                            partition: None,
                            key: Some(event.node_id.clone().into_bytes()),
                            payload: Some(encoded(&event)?),
                        }),
                        Normalized::Control(event) => {
                            let key = event.key.clone().into_bytes();
                            let payload = encoded(&event)?;
                            for partition in 0..self.events_partitions {
                                out.push(Output {
                                    topic: self.topics.events.clone(),
                                    partition: Some(partition),
                                    key: Some(key.clone()),
                                    payload: Some(payload.clone()),
                                });
                            }
                            out.push(Output {
                                topic: self.topics.control.clone(),
                                partition: None,
                                key: Some(key),
                                payload: Some(payload),
                            });
                        }
                    }
                }
            }
            Err(rejected) => {
                let rejection = Rejection {
                    stage: stage::NORMALIZER,
                    reason_code: rejected.rejection.code.as_str(),
                    detail: rejected.rejection.detail,
                    source: ctx.source,
                    node_id: rejected.node_id,
                    received_ms: ctx.received_ms,
                };
                out.push(dead_letter(&self.topics.dlq, input, rejection)?);
            }
        }
        Ok(())
    }

    fn flush(&mut self, _out: &mut Vec<Output>) -> Result<(), InternalError> {
        Ok(())
    }
}

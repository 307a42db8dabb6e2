//! The twin processor as a [`Stage`]: canonical events in; the latest twin per node out, with
//! its state in a compacted changelog.

use std::collections::BTreeSet;

use hashbrown::HashMap;
use sxfleet_runtime::stage::InternalError;
use sxfleet_runtime::{Input, Output, Stage, Topics};
use sxfleet_schemas::{decode, encode, DeadLetter, FleetEvent, Node, Source};

use crate::twin::{apply, Applied};

/// Name of the twin store; its changelog is `<application-id>-twins-changelog`.
pub const TWIN_STORE: &str = "twins";

/// One input partition's twins and the keys changed since the last flush.
#[derive(Default)]
struct PartitionState {
    twins: HashMap<String, Node>,
    dirty: BTreeSet<String>,
}

/// The twin processor.
pub struct TwinStage {
    topics: Topics,
    changelog: String,
    partitions: HashMap<i32, PartitionState>,
}

impl TwinStage {
    /// A twin processor for application `app_id` writing to `topics`.
    pub fn new(app_id: &str, topics: Topics) -> Self {
        let changelog = topics.changelog(app_id, TWIN_STORE);
        Self {
            topics,
            changelog,
            partitions: HashMap::new(),
        }
    }

    /// The twin of `node_id` held for input `partition`, if any (for tests and inspection).
    pub fn twin(&self, partition: i32, node_id: &str) -> Option<&Node> {
        self.partitions.get(&partition)?.twins.get(node_id)
    }

    fn dead_letter(&self, input: &Input<'_>, detail: String) -> Result<Output, InternalError> {
        let node_id = input
            .key
            .and_then(|key| std::str::from_utf8(key).ok())
            .map(str::to_owned);
        let letter = DeadLetter {
            original: input.payload.unwrap_or_default().to_vec(),
            source: Source::KafkaRaw,
            source_topic: Some(input.topic.to_owned()),
            source_partition: Some(input.partition),
            source_offset: Some(input.offset),
            node_id: node_id.clone(),
            reason_code: "undecodable".to_owned(),
            detail,
            stage: "processor".to_owned(),
            received_ms: input.timestamp_ms.unwrap_or(0),
        };
        Ok(Output {
            topic: self.topics.dlq.clone(),
            partition: None,
            key: node_id.map(String::into_bytes),
            payload: Some(
                encode(&letter)
                    .map_err(|error| InternalError(format!("cannot encode DLQ record: {error}")))?,
            ),
        })
    }
}

impl Stage for TwinStage {
    fn name(&self) -> &'static str {
        "twin"
    }

    fn changelog(&self) -> Option<&str> {
        Some(&self.changelog)
    }

    fn restore(
        &mut self,
        partition: i32,
        key: &[u8],
        value: Option<&[u8]>,
    ) -> Result<(), InternalError> {
        let state = self.partitions.entry(partition).or_default();
        let node_id = String::from_utf8_lossy(key).into_owned();
        match value {
            None => {
                state.twins.remove(&node_id);
            }
            Some(bytes) => {
                let node: Node = decode(bytes).map_err(|error| {
                    InternalError(format!("twin of {node_id} does not decode: {error}"))
                })?;
                state.twins.insert(node_id, node);
            }
        }
        Ok(())
    }

    fn revoke(&mut self, partition: i32) {
        self.partitions.remove(&partition);
    }

    fn reset(&mut self) {
        self.partitions.clear();
    }

    fn process(&mut self, input: &Input<'_>, out: &mut Vec<Output>) -> Result<(), InternalError> {
        let event: FleetEvent = match decode(input.payload.unwrap_or_default()) {
            Ok(event) => event,
            Err(error) => {
                out.push(self.dead_letter(input, format!("not a canonical FleetEvent: {error}"))?);
                return Ok(());
            }
        };
        let state = self.partitions.entry(input.partition).or_default();
        let mut twin = state.twins.remove(&event.node_id);
        let applied = apply(&mut twin, &event);
        if let Some(node) = twin {
            state.twins.insert(event.node_id.clone(), node);
        }
        if applied == Applied::Updated {
            state.dirty.insert(event.node_id);
        }
        Ok(())
    }

    fn flush(&mut self, out: &mut Vec<Output>) -> Result<(), InternalError> {
        for (partition, state) in &mut self.partitions {
            for node_id in std::mem::take(&mut state.dirty) {
                let Some(node) = state.twins.get(&node_id) else {
                    continue;
                };
                let bytes = encode(node).map_err(|error| {
                    InternalError(format!("twin of {node_id} does not encode: {error}"))
                })?;
                let key = node_id.into_bytes();
                out.push(Output {
                    topic: self.changelog.clone(),
                    partition: Some(*partition),
                    key: Some(key.clone()),
                    payload: Some(bytes.clone()),
                });
                out.push(Output {
                    topic: self.topics.twin.clone(),
                    partition: None,
                    key: Some(key),
                    payload: Some(bytes),
                });
            }
        }
        Ok(())
    }
}

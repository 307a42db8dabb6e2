//! The twin processor as a [`Stage`]: canonical events in; the latest twin per node out, with
//! its state in a changelog-backed [`Store`].

use std::path::Path;

use sxfleet_runtime::stage::{InternalError, SnapshotError, SnapshotInfo};
use sxfleet_runtime::store::{Store, StoreSpec};
use sxfleet_runtime::{Input, Output, Stage, Topics};
use sxfleet_schemas::{decode, encode, DeadLetter, FleetEvent, Node, Source};

use crate::twin::{apply, Applied};

/// Name of the twin store; its changelog is `<application-id>-twins-changelog`.
pub const TWIN_STORE: &str = "twins";

/// Version of the twin store's value format (the Avro `Node` in wire format).
pub const TWIN_STORE_VERSION: u32 = 1;

/// The twin processor.
pub struct TwinStage {
    topics: Topics,
    twins: Store<Node>,
}

impl TwinStage {
    /// A twin processor for application `app_id` writing to `topics`.
    pub fn new(app_id: &str, topics: Topics) -> Self {
        let spec = StoreSpec {
            name: TWIN_STORE,
            changelog: topics.changelog(app_id, TWIN_STORE),
            format_version: TWIN_STORE_VERSION,
        };
        Self {
            topics,
            twins: Store::new(spec),
        }
    }

    /// The twin store (for tests and inspection).
    pub fn twins(&self) -> &Store<Node> {
        &self.twins
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
        Some(&self.twins.spec().changelog)
    }

    fn restore(
        &mut self,
        partition: i32,
        key: &[u8],
        value: Option<&[u8]>,
    ) -> Result<(), InternalError> {
        self.twins.restore(partition, key, value)
    }

    fn load_snapshot(
        &mut self,
        dir: &Path,
        partition: i32,
    ) -> Result<Option<SnapshotInfo>, SnapshotError> {
        self.twins.load_snapshot(dir, partition)
    }

    fn save_snapshot(
        &self,
        dir: &Path,
        partition: i32,
        next_offset: i64,
        now_ms: i64,
    ) -> Result<(), SnapshotError> {
        self.twins
            .save_snapshot(dir, partition, next_offset, now_ms)
    }

    fn revoke(&mut self, partition: i32) {
        self.twins.revoke(partition);
    }

    fn reset(&mut self) {
        self.twins.reset();
    }

    fn process(&mut self, input: &Input<'_>, out: &mut Vec<Output>) -> Result<(), InternalError> {
        let event: FleetEvent = match decode(input.payload.unwrap_or_default()) {
            Ok(event) => event,
            Err(error) => {
                out.push(self.dead_letter(input, format!("not a canonical FleetEvent: {error}"))?);
                return Ok(());
            }
        };
        self.twins.update(input.partition, &event.node_id, |twin| {
            (apply(twin, &event) == Applied::Updated, ())
        });
        Ok(())
    }

    fn flush(&mut self, out: &mut Vec<Output>) -> Result<(), InternalError> {
        let start = out.len();
        self.twins.flush(out)?;
        // Every changed twin also goes to the twin topic (compacted, latest per node).
        let published: Vec<Output> = out[start..]
            .iter()
            .map(|record| Output {
                topic: self.topics.twin.clone(),
                partition: None,
                key: record.key.clone(),
                payload: record.payload.clone(),
            })
            .collect();
        out.extend(published);
        Ok(())
    }
}

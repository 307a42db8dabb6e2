//! The fleet processor as a [`Stage`]: canonical events in; per node the twin on
//! `fleet.twin.v1` and the connectivity/lifecycle ledger on `fleet.transitions.v1`. State lives
//! in a changelog-backed [`Store`]; silence timers fire as the partition's event time passes
//! them (events, and tick records while the partition is idle).

use std::path::Path;

use sxfleet_runtime::records::{dead_letter, encoded, Rejection};
use sxfleet_runtime::stage::{InternalError, SnapshotError, SnapshotInfo};
use sxfleet_runtime::store::{Store, StoreSpec};
use sxfleet_runtime::timers::Timers;
use sxfleet_runtime::{Input, Output, Stage, Topics};
use sxfleet_schemas::catalog::ids;
use sxfleet_schemas::{decode, peek_schema_id, stage, FleetEvent, Source, StateTransition};

use crate::connectivity::ConnectivityConfig;
use crate::node::{self, NodeState, NODE_STATE_FORMAT};

/// Name of the node store; its changelog is `<application-id>-twins-changelog`.
pub const TWIN_STORE: &str = "twins";

/// The fleet processor.
pub struct TwinStage {
    topics: Topics,
    nodes: Store<NodeState>,
    timers: Timers,
    connectivity: ConnectivityConfig,
}

impl TwinStage {
    /// A processor for application `app_id` writing to `topics`, with the default thresholds.
    pub fn new(app_id: &str, topics: Topics) -> Self {
        let spec = StoreSpec {
            name: TWIN_STORE,
            changelog: topics.changelog(app_id, TWIN_STORE),
            format_version: u32::from(NODE_STATE_FORMAT),
        };
        Self {
            topics,
            nodes: Store::new(spec),
            timers: Timers::new(),
            connectivity: ConnectivityConfig::default(),
        }
    }

    /// The same processor with other connectivity thresholds.
    pub fn with_connectivity(mut self, config: ConnectivityConfig) -> Self {
        self.connectivity = config;
        self
    }

    /// The node store (for tests and inspection).
    pub fn nodes(&self) -> &Store<NodeState> {
        &self.nodes
    }

    /// Moves `partition`'s event time to `time_ms` and fires the silence timers due by then.
    fn advance(
        &mut self,
        partition: i32,
        time_ms: i64,
        out: &mut Vec<Output>,
    ) -> Result<(), InternalError> {
        let now = self
            .timers
            .event_time(partition)
            .map_or(time_ms, |t| t.max(time_ms));
        for (node_id, _due) in self.timers.advance(partition, time_ms) {
            let config = &self.connectivity;
            let (ledger, deadline) = self.nodes.update(partition, &node_id, |state| {
                let Some(state) = state.as_mut() else {
                    return (false, (Vec::new(), None));
                };
                let ledger = node::on_timer(state, now, config);
                (!ledger.is_empty(), (ledger, state.deadline(config)))
            });
            self.timers.set(partition, &node_id, deadline);
            self.publish(&node_id, ledger, out)?;
        }
        Ok(())
    }

    fn publish(
        &self,
        node_id: &str,
        ledger: Vec<StateTransition>,
        out: &mut Vec<Output>,
    ) -> Result<(), InternalError> {
        for entry in ledger {
            out.push(Output {
                topic: self.topics.transitions.clone(),
                partition: None,
                key: Some(node_id.as_bytes().to_vec()),
                payload: Some(encoded(&entry)?),
            });
        }
        Ok(())
    }
}

impl Stage for TwinStage {
    fn name(&self) -> &'static str {
        "twin"
    }

    fn changelog(&self) -> Option<&str> {
        Some(&self.nodes.spec().changelog)
    }

    fn restore(
        &mut self,
        partition: i32,
        key: &[u8],
        value: Option<&[u8]>,
    ) -> Result<(), InternalError> {
        self.nodes.restore(partition, key, value)?;
        if let Ok(node_id) = std::str::from_utf8(key) {
            let deadline = self
                .nodes
                .get(partition, node_id)
                .and_then(|state| state.deadline(&self.connectivity));
            self.timers.set(partition, node_id, deadline);
        }
        Ok(())
    }

    fn load_snapshot(
        &mut self,
        dir: &Path,
        partition: i32,
    ) -> Result<Option<SnapshotInfo>, SnapshotError> {
        let info = self.nodes.load_snapshot(dir, partition)?;
        self.timers.revoke(partition);
        for (node_id, state) in self.nodes.entries(partition) {
            self.timers
                .set(partition, node_id, state.deadline(&self.connectivity));
        }
        Ok(info)
    }

    fn save_snapshot(
        &self,
        dir: &Path,
        partition: i32,
        next_offset: i64,
        now_ms: i64,
    ) -> Result<(), SnapshotError> {
        self.nodes
            .save_snapshot(dir, partition, next_offset, now_ms)
    }

    fn revoke(&mut self, partition: i32) {
        self.nodes.revoke(partition);
        self.timers.revoke(partition);
    }

    fn reset(&mut self) {
        self.nodes.reset();
        self.timers.reset();
    }

    fn process(&mut self, input: &Input<'_>, out: &mut Vec<Output>) -> Result<(), InternalError> {
        let Some(payload) = input.payload else {
            return Ok(()); // a tombstone carries no event
        };
        if peek_schema_id(payload).ok() == Some(ids::CONTROL_EVENT) {
            return Ok(()); // control state is not kept yet
        }
        let event: FleetEvent = match decode(payload) {
            Ok(event) => event,
            Err(error) => {
                let rejection = Rejection {
                    stage: stage::PROCESSOR,
                    reason_code: "undecodable",
                    detail: format!("not a canonical FleetEvent: {error}"),
                    source: Source::KafkaRaw,
                    node_id: input
                        .key
                        .and_then(|key| std::str::from_utf8(key).ok())
                        .map(str::to_owned),
                    received_ms: input.timestamp_ms.unwrap_or(0),
                };
                out.push(dead_letter(&self.topics.dlq, input, rejection)?);
                return Ok(());
            }
        };
        let partition = input.partition;
        if !event.replayed {
            self.advance(partition, event.event_time_ms, out)?;
        }
        let config = &self.connectivity;
        let (ledger, deadline) = self.nodes.update(partition, &event.node_id, |state| {
            let state = state.get_or_insert_with(|| NodeState::new(&event.node_id));
            let ledger = node::on_event(state, &event, config);
            (ledger.is_some(), (ledger, state.deadline(config)))
        });
        self.timers.set(partition, &event.node_id, deadline);
        if let Some(ledger) = ledger {
            self.publish(&event.node_id, ledger, out)?;
        }
        Ok(())
    }

    fn on_tick(
        &mut self,
        partition: i32,
        tick_ms: i64,
        out: &mut Vec<Output>,
    ) -> Result<(), InternalError> {
        self.advance(partition, tick_ms, out)
    }

    fn event_time(&self, partition: i32) -> Option<i64> {
        self.timers.event_time(partition)
    }

    fn flush(&mut self, out: &mut Vec<Output>) -> Result<(), InternalError> {
        // Every changed node's twin also goes to the twin topic (compacted, latest per node).
        let twin_topic = &self.topics.twin;
        self.nodes.flush_each(out, |node_id, state, out| {
            if let Some(state) = state {
                out.push(Output {
                    topic: twin_topic.clone(),
                    partition: None,
                    key: Some(node_id.as_bytes().to_vec()),
                    payload: Some(encoded(&state.twin)?),
                });
            }
            Ok(())
        })
    }
}

//! The fleet processor as a [`Stage`]: canonical events and the control-plane copies on the
//! events topic in; per node the twin on `fleet.twin.v1`, the connectivity/lifecycle ledger on
//! `fleet.transitions.v1`, drift reports on `fleet.drift.v1` and attention alerts on
//! `fleet.alerts.v1`; authority decisions on `fleet.authority.v1` and split-brain alerts.
//! State lives in one changelog-backed [`Store`] (nodes and the partition's control state);
//! silence timers fire as the partition's event time passes them (events, and tick records
//! while the partition is idle).

use std::collections::HashMap;
use std::path::Path;

use sxfleet_runtime::records::{dead_letter, encoded, Rejection};
use sxfleet_runtime::stage::{InternalError, SnapshotError, SnapshotInfo};
use sxfleet_runtime::store::{Store, StoreSpec};
use sxfleet_runtime::timers::Timers;
use sxfleet_runtime::{Input, Output, Stage, Topics};
use sxfleet_schemas::catalog::ids;
use sxfleet_schemas::{
    decode, peek_schema_id, stage, Canonical, CodecError, ControlEvent, EventPayload, FleetEvent,
    Source,
};

use crate::config::ProjectionConfig;
use crate::connectivity::ConnectivityConfig;
use crate::control::{Affected, ControlOutcome, ControlState, NodeHome};
use crate::derived::Derived;
use crate::entry::{Entry, CONTROL_KEY, STORE_FORMAT_VERSION};
use crate::fold::{self, Step};
use crate::node::NodeState;

/// Name of the fleet store; its changelog is `<application-id>-twins-changelog`.
pub const TWIN_STORE: &str = "twins";

/// The fleet processor.
pub struct TwinStage {
    topics: Topics,
    store: Store<Entry>,
    /// Each owned partition's control state (also in `store` under [`CONTROL_KEY`]).
    controls: HashMap<i32, ControlState>,
    timers: Timers,
    config: ProjectionConfig,
}

impl TwinStage {
    /// A processor for application `app_id` writing to `topics`, with the default settings.
    pub fn new(app_id: &str, topics: Topics) -> Self {
        let spec = StoreSpec {
            name: TWIN_STORE,
            changelog: topics.changelog(app_id, TWIN_STORE),
            format_version: STORE_FORMAT_VERSION,
        };
        Self {
            topics,
            store: Store::new(spec),
            controls: HashMap::new(),
            timers: Timers::new(),
            config: ProjectionConfig::default(),
        }
    }

    /// The same processor with other projection settings.
    pub fn with_config(mut self, config: ProjectionConfig) -> Self {
        self.config = config;
        self
    }

    /// The same processor with other default connectivity thresholds.
    pub fn with_connectivity(mut self, config: ConnectivityConfig) -> Self {
        self.config.connectivity = config;
        self
    }

    /// The nodes of `partition` (for tests and inspection).
    pub fn nodes(&self, partition: i32) -> Vec<(&str, &NodeState)> {
        let entries = self.store.entries(partition).into_iter();
        entries
            .filter_map(|(key, entry)| entry.node().map(|node| (key, node)))
            .collect()
    }

    /// The control state of `partition`, if any control record reached it.
    pub fn control(&self, partition: i32) -> Option<&ControlState> {
        self.controls.get(&partition)
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
        let empty = ControlState::default();
        for (node_id, _due) in self.timers.advance(partition, time_ms) {
            let (config, control) = (
                &self.config,
                self.controls.get(&partition).unwrap_or(&empty),
            );
            let (step, deadline) = self.store.update(partition, &node_id, |slot| {
                let Some(Entry::Node(state)) = slot.as_mut() else {
                    return (false, (Step::default(), None));
                };
                let step = fold::on_timer(state, now, control, config);
                let changed = !step.ledger.is_empty() || step.derived.changed;
                let deadline = fold::deadline(state, config);
                (changed, (step, deadline))
            });
            self.timers.set(partition, &node_id, deadline);
            self.publish_step(&node_id, step, out)?;
        }
        Ok(())
    }

    fn on_event(
        &mut self,
        partition: i32,
        event: &FleetEvent,
        out: &mut Vec<Output>,
    ) -> Result<(), InternalError> {
        // Replayed events are history, and a trust-violation report is stamped with ingest's
        // receive time, not the node's clock: neither moves the partition's event time.
        let reported = matches!(event.payload, EventPayload::TrustViolation(_));
        if !event.replayed && !reported {
            self.advance(partition, event.event_time_ms, out)?;
        }
        let empty = ControlState::default();
        let (config, control) = (
            &self.config,
            self.controls.get(&partition).unwrap_or(&empty),
        );
        let node_id = event.node_id.as_str();
        let result = self.store.update(partition, node_id, |slot| {
            let Some(state) = Entry::node_mut(slot, node_id) else {
                return (false, None);
            };
            let step = fold::on_event(state, event, control, config);
            let deadline = fold::deadline(state, config);
            let domain = state.twin.domain_id.clone();
            (step.is_some(), Some((step, deadline, domain)))
        });
        let Some((step, deadline, domain)) = result else {
            return Err(InternalError(format!(
                "event for reserved key {node_id} on partition {partition}"
            )));
        };
        self.timers.set(partition, node_id, deadline);
        if let Some(step) = step {
            self.publish_step(node_id, step, out)?;
        }
        // Assignments that waited for this node apply once it lives here with its domain.
        let released = self
            .controls
            .get_mut(&partition)
            .filter(|control| !domain.is_empty() && control.pending.contains_key(node_id))
            .and_then(|control| control.release_pending(node_id, &domain));
        if let Some(outcome) = released {
            self.after_control(partition, outcome, event.event_time_ms, out)?;
        }
        Ok(())
    }

    fn on_control(
        &mut self,
        partition: i32,
        event: &ControlEvent,
        out: &mut Vec<Output>,
    ) -> Result<(), InternalError> {
        let store = &self.store;
        let control = self.controls.entry(partition).or_default();
        let outcome = control.apply(event, partition == 0, |node_id| {
            match store.get(partition, node_id).and_then(Entry::node) {
                Some(node) => NodeHome::Here(node.twin.domain_id.clone()),
                None => NodeHome::Elsewhere,
            }
        });
        self.after_control(partition, outcome, event.event_time_ms, out)
    }

    /// Publishes a control outcome, persists the control state and recomputes the affected
    /// nodes at `now_ms`.
    fn after_control(
        &mut self,
        partition: i32,
        outcome: ControlOutcome,
        now_ms: i64,
        out: &mut Vec<Output>,
    ) -> Result<(), InternalError> {
        for decision in &outcome.decisions {
            out.push(self.output(&self.topics.authority, &decision.domain_id, decision)?);
        }
        for alert in &outcome.alerts {
            out.push(self.output(&self.topics.alerts, &alert.subject_id, alert)?);
        }
        let Some(control) = self.controls.get(&partition) else {
            return Ok(());
        };
        if outcome.changed {
            let entry = Entry::Control(Box::new(control.clone()));
            self.store.put(partition, CONTROL_KEY, entry);
        }
        let targets: Vec<String> = match outcome.affected {
            Affected::Nothing => Vec::new(),
            Affected::Node(node_id) => vec![node_id],
            Affected::AllNodes => self
                .store
                .entries(partition)
                .into_iter()
                .filter(|(_, entry)| entry.node().is_some())
                .map(|(key, _)| key.to_owned())
                .collect(),
        };
        let config = &self.config;
        for node_id in targets {
            let derived = self.store.update(partition, &node_id, |slot| {
                let Some(Entry::Node(state)) = slot.as_mut() else {
                    return (false, Derived::default());
                };
                let derived = fold::on_control(state, control, now_ms, config);
                (derived.changed, derived)
            });
            let step = Step {
                ledger: Vec::new(),
                derived,
            };
            self.publish_step(&node_id, step, out)?;
        }
        Ok(())
    }

    fn publish_step(
        &self,
        node_id: &str,
        step: Step,
        out: &mut Vec<Output>,
    ) -> Result<(), InternalError> {
        for entry in &step.ledger {
            out.push(self.output(&self.topics.transitions, node_id, entry)?);
        }
        if let Some(report) = &step.derived.report {
            out.push(self.output(&self.topics.drift, node_id, report)?);
        }
        if let Some(alert) = &step.derived.alert {
            out.push(self.output(&self.topics.alerts, node_id, alert)?);
        }
        Ok(())
    }

    fn output<T: Canonical + serde::Serialize>(
        &self,
        topic: &str,
        key: &str,
        value: &T,
    ) -> Result<Output, InternalError> {
        Ok(Output {
            topic: topic.to_owned(),
            partition: None,
            key: Some(key.as_bytes().to_vec()),
            payload: Some(encoded(value)?),
        })
    }

    fn reject(
        &self,
        input: &Input<'_>,
        what: &str,
        error: &CodecError,
        out: &mut Vec<Output>,
    ) -> Result<(), InternalError> {
        let rejection = Rejection {
            stage: stage::PROCESSOR,
            reason_code: "undecodable",
            detail: format!("not a canonical {what}: {error}"),
            source: Source::KafkaRaw,
            node_id: input
                .key
                .and_then(|key| std::str::from_utf8(key).ok())
                .map(str::to_owned),
            received_ms: input.timestamp_ms.unwrap_or(0),
        };
        out.push(dead_letter(&self.topics.dlq, input, rejection)?);
        Ok(())
    }

    /// Copies the control state restored into `store` to the side map and re-arms timers.
    fn settle_restored(&mut self, partition: i32) {
        self.timers.revoke(partition);
        self.controls.remove(&partition);
        let mut deadlines = Vec::new();
        for (key, entry) in self.store.entries(partition) {
            match entry {
                Entry::Node(state) => {
                    deadlines.push((key.to_owned(), fold::deadline(state, &self.config)));
                }
                Entry::Control(control) => {
                    self.controls.insert(partition, (**control).clone());
                }
            }
        }
        for (node_id, deadline) in deadlines {
            self.timers.set(partition, &node_id, deadline);
        }
    }
}

impl Stage for TwinStage {
    fn name(&self) -> &'static str {
        "twin"
    }

    fn changelog(&self) -> Option<&str> {
        Some(&self.store.spec().changelog)
    }

    fn restore(
        &mut self,
        partition: i32,
        key: &[u8],
        value: Option<&[u8]>,
    ) -> Result<(), InternalError> {
        self.store.restore(partition, key, value)?;
        let Ok(key) = std::str::from_utf8(key) else {
            return Ok(());
        };
        match self.store.get(partition, key) {
            Some(Entry::Control(control)) => {
                self.controls.insert(partition, (**control).clone());
            }
            Some(Entry::Node(state)) => {
                let deadline = fold::deadline(state, &self.config);
                self.timers.set(partition, key, deadline);
            }
            None => self.timers.set(partition, key, None),
        }
        Ok(())
    }

    fn load_snapshot(
        &mut self,
        dir: &Path,
        partition: i32,
    ) -> Result<Option<SnapshotInfo>, SnapshotError> {
        let info = self.store.load_snapshot(dir, partition)?;
        self.settle_restored(partition);
        Ok(info)
    }

    fn save_snapshot(
        &self,
        dir: &Path,
        partition: i32,
        next_offset: i64,
        now_ms: i64,
    ) -> Result<(), SnapshotError> {
        self.store
            .save_snapshot(dir, partition, next_offset, now_ms)
    }

    fn revoke(&mut self, partition: i32) {
        self.store.revoke(partition);
        self.controls.remove(&partition);
        self.timers.revoke(partition);
    }

    fn reset(&mut self) {
        self.store.reset();
        self.controls.clear();
        self.timers.reset();
    }

    fn process(&mut self, input: &Input<'_>, out: &mut Vec<Output>) -> Result<(), InternalError> {
        let Some(payload) = input.payload else {
            return Ok(()); // a tombstone carries no event
        };
        if peek_schema_id(payload).ok() == Some(ids::CONTROL_EVENT) {
            return match decode::<ControlEvent>(payload) {
                Ok(event) => self.on_control(input.partition, &event, out),
                Err(error) => self.reject(input, "ControlEvent", &error, out),
            };
        }
        match decode::<FleetEvent>(payload) {
            Ok(event) => self.on_event(input.partition, &event, out),
            Err(error) => self.reject(input, "FleetEvent", &error, out),
        }
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
        self.store.flush_each(out, |node_id, entry, out| {
            if let Some(Entry::Node(state)) = entry {
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

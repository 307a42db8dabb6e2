//! The fleet processor as a [`Stage`]: canonical events and the control-plane copies on the
//! events topic in; per node the twin on `fleet.twin.v1`, the connectivity/lifecycle ledger on
//! `fleet.transitions.v1`, drift reports on `fleet.drift.v1` and attention alerts on
//! `fleet.alerts.v1`; authority decisions on `fleet.authority.v1`, split-brain alerts, domain
//! records on `fleet.domains.v1` and bundle versions on `fleet.bundles.v1`; commands
//! (`stage::commands`) on `fleet.commands.v1` and their statuses on `fleet.command-status.v1`.
//! State lives in one changelog-backed store (nodes, and the partition's control state under
//! [`CONTROL_KEY`]); timers (a node's silence and sync-debt refresh, the control state's
//! overdue syncs) fire as the partition's event time passes them (events, and tick records
//! while the partition is idle). The store and timer glue is the runtime's keyed
//! adapter ([`Keyed`]); [`Twin`] is the fold it drives.
//!
//! [`Stage`]: sxfleet_runtime::Stage

use sxfleet_runtime::keyed::{Fold, Keyed, KeyedStage, Keys};
use sxfleet_runtime::records::{dead_letter, encoded, Rejection};
use sxfleet_runtime::stage::InternalError;
use sxfleet_runtime::store::Rest;
use sxfleet_runtime::{Input, Output, Topics};
use sxfleet_schemas::catalog::ids;
use sxfleet_schemas::{
    decode, peek_schema_id, stage, Canonical, CodecError, ControlEvent, ControlPayload,
    EventPayload, FleetEvent, Source,
};

use crate::config::ProjectionConfig;
use crate::connectivity::ConnectivityConfig;
use crate::control::{Affected, ControlOutcome, ControlState, NodeHome};
use crate::entry::{Entry, CONTROL_KEY, STORE_FORMAT_VERSION};
use crate::fold::{self, Step};
use crate::node::NodeState;

mod commands;

/// Name of the fleet store; its changelog is `<application-id>-twins-changelog`.
pub const TWIN_STORE: &str = "twins";

/// The fleet processor.
pub struct TwinStage {
    keyed: Keyed<Twin>,
}

impl TwinStage {
    /// A processor for application `app_id` writing to `topics`, with the default settings.
    pub fn new(app_id: &str, topics: Topics) -> Self {
        let twin = Twin {
            topics: topics.clone(),
            config: ProjectionConfig::default(),
        };
        Self {
            keyed: Keyed::new(twin, &topics, app_id),
        }
    }

    /// The same processor with other projection settings.
    pub fn with_config(mut self, config: ProjectionConfig) -> Self {
        self.keyed.fold_mut().config = config;
        self
    }

    /// The same processor with other default connectivity thresholds.
    pub fn with_connectivity(mut self, config: ConnectivityConfig) -> Self {
        self.keyed.fold_mut().config.connectivity = config;
        self
    }

    /// The nodes of `partition` (for tests and inspection).
    pub fn nodes(&self, partition: i32) -> Vec<(&str, &NodeState)> {
        let entries = self.keyed.store().entries(partition).into_iter();
        entries
            .filter_map(|(key, entry)| entry.node().map(|node| (key, node)))
            .collect()
    }

    /// The control state of `partition`, if any control record reached it.
    pub fn control(&self, partition: i32) -> Option<&ControlState> {
        match self.keyed.store().get(partition, CONTROL_KEY) {
            Some(Entry::Control(control)) => Some(control),
            _ => None,
        }
    }
}

impl KeyedStage for TwinStage {
    type Fold = Twin;

    fn keyed(&self) -> &Keyed<Twin> {
        &self.keyed
    }

    fn keyed_mut(&mut self) -> &mut Keyed<Twin> {
        &mut self.keyed
    }
}

/// The fleet processor's fold: what an event, a control record and a node's silence timer do.
/// Its store holds an [`Entry`] per key: a node, or under [`CONTROL_KEY`] the partition's
/// control state, which every node step reads next to the node.
pub struct Twin {
    topics: Topics,
    config: ProjectionConfig,
}

/// The partition's control state in `rest`, or `empty` before any control record reached it.
fn control_in<'a>(rest: Rest<'a, Entry>, empty: &'a ControlState) -> &'a ControlState {
    match rest.get(CONTROL_KEY) {
        Some(Entry::Control(control)) => control,
        _ => empty,
    }
}

impl Twin {
    fn on_event(
        &self,
        keys: &mut Keys<'_, Self>,
        event: &FleetEvent,
        out: &mut Vec<Output>,
    ) -> Result<(), InternalError> {
        // Replayed events are history, and a trust-violation report is stamped with ingest's
        // receive time, not the node's clock: neither moves the partition's event time.
        let reported = matches!(event.payload, EventPayload::TrustViolation(_));
        if !event.replayed && !reported {
            keys.advance(self, event.event_time_ms, out)?;
        }
        let empty = ControlState::default();
        let config = &self.config;
        let node_id = event.node_id.as_str();
        let result = keys.update(self, node_id, |slot, rest| {
            let Some(state) = Entry::node_mut(slot, node_id) else {
                return (false, None);
            };
            let control = control_in(rest, &empty);
            let step = fold::on_event(state, event, control, config);
            // Assignments held for this node apply once it lives here with its domain.
            let domain = &state.twin.domain_id;
            let waiting = (!domain.is_empty() && control.pending.contains_key(node_id))
                .then(|| domain.clone());
            (step.is_some(), Some((step, waiting)))
        });
        let Some((step, waiting)) = result else {
            return Err(InternalError(format!(
                "event for reserved key {node_id} on partition {}",
                keys.partition()
            )));
        };
        if let Some(step) = step {
            self.publish_step(node_id, step, out)?;
        }
        if let Some(domain) = waiting {
            let released = keys.update(self, CONTROL_KEY, |slot, _| match slot {
                Some(Entry::Control(control)) => {
                    let released = control.release_pending(node_id, &domain);
                    (released.is_some(), released)
                }
                _ => (false, None),
            });
            if let Some(outcome) = released {
                self.after_control(keys, outcome, event.event_time_ms, out)?;
            }
        }
        Ok(())
    }

    fn on_control(
        &self,
        keys: &mut Keys<'_, Self>,
        event: &ControlEvent,
        out: &mut Vec<Output>,
    ) -> Result<(), InternalError> {
        let publishes_domains = keys.partition() == 0;
        let outcome = keys.update(self, CONTROL_KEY, |slot, rest| {
            let entry = slot.get_or_insert_with(|| Entry::Control(Box::default()));
            let Entry::Control(control) = entry else {
                return (false, None);
            };
            let outcome = control.apply(event, publishes_domains, |node_id| {
                match rest.get(node_id).and_then(Entry::node) {
                    Some(node) => NodeHome::Here(node.twin.domain_id.clone()),
                    None => NodeHome::Elsewhere,
                }
            });
            (outcome.changed, Some(outcome))
        });
        let Some(outcome) = outcome else {
            return Err(InternalError(format!(
                "store key {CONTROL_KEY} holds a node on partition {}",
                keys.partition()
            )));
        };
        self.after_control(keys, outcome, event.event_time_ms, out)
    }

    /// Publishes a control outcome (the control state is already updated) and recomputes the
    /// affected nodes at `now_ms`.
    fn after_control(
        &self,
        keys: &mut Keys<'_, Self>,
        outcome: ControlOutcome,
        now_ms: i64,
        out: &mut Vec<Output>,
    ) -> Result<(), InternalError> {
        self.publish_control(&outcome, out)?;
        let targets: Vec<String> = match outcome.affected {
            Affected::Nothing => Vec::new(),
            Affected::Node(node_id) => vec![node_id],
            Affected::AllNodes => keys
                .entries()
                .into_iter()
                .filter(|(_, entry)| entry.node().is_some())
                .map(|(key, _)| key.to_owned())
                .collect(),
        };
        let empty = ControlState::default();
        let config = &self.config;
        for node_id in targets {
            let step = keys.update(self, &node_id, |slot, rest| {
                let Some(Entry::Node(state)) = slot.as_mut() else {
                    return (false, Step::default());
                };
                let control = control_in(rest, &empty);
                let step = fold::on_control(state, control, now_ms, config);
                (step.derived.changed || step.commands.changed, step)
            });
            self.publish_step(&node_id, step, out)?;
        }
        Ok(())
    }

    /// Publishes what a control change decided: authority decisions (keyed by domain, or by
    /// bundle for a bundle decision), split-brain alerts, domain records and bundle versions.
    fn publish_control(
        &self,
        outcome: &ControlOutcome,
        out: &mut Vec<Output>,
    ) -> Result<(), InternalError> {
        for decision in &outcome.decisions {
            let key = match (&decision.domain_id, &decision.target_id) {
                (domain, Some(target)) if domain.is_empty() => target,
                (domain, _) => domain,
            };
            out.push(self.output(&self.topics.authority, key, decision)?);
        }
        for alert in &outcome.alerts {
            out.push(self.output(&self.topics.alerts, &alert.subject_id, alert)?);
        }
        for domain in &outcome.domains {
            out.push(self.output(&self.topics.domains, &domain.domain_id, domain)?);
        }
        for record in &outcome.bundles {
            let key = format!("{}@{}", record.bundle.bundle_id, record.bundle.version);
            out.push(self.output(&self.topics.bundles, &key, record)?);
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
        for status in &step.commands.statuses {
            out.push(self.output(&self.topics.command_status, node_id, status)?);
        }
        for command in &step.commands.commands {
            out.push(self.output(&self.topics.commands, node_id, command)?);
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
}

impl Fold for Twin {
    type Value = Entry;
    const NAME: &'static str = "twin";
    const STORE: &'static str = TWIN_STORE;
    const FORMAT_VERSION: u32 = STORE_FORMAT_VERSION;

    /// A node's timer (silence, sync-debt refresh), or the control state's (a domain's
    /// upstream sync becoming overdue).
    fn deadline(&self, _key: &str, entry: &Entry) -> Option<i64> {
        match entry {
            Entry::Node(state) => fold::deadline(state, &self.config),
            Entry::Control(control) => control.next_deadline(),
        }
    }

    fn process(
        &mut self,
        keys: &mut Keys<'_, Self>,
        input: &Input<'_>,
        out: &mut Vec<Output>,
    ) -> Result<(), InternalError> {
        let Some(payload) = input.payload else {
            return Ok(()); // a tombstone carries no event
        };
        if peek_schema_id(payload).ok() == Some(ids::CONTROL_EVENT) {
            return match decode::<ControlEvent>(payload) {
                Ok(ControlEvent {
                    payload: ControlPayload::Command(request),
                    ..
                }) => self.on_command(keys, &request, out),
                Ok(event) => self.on_control(keys, &event, out),
                Err(error) => self.reject(input, "ControlEvent", &error, out),
            };
        }
        match decode::<FleetEvent>(payload) {
            Ok(event) => self.on_event(keys, &event, out),
            Err(error) => self.reject(input, "FleetEvent", &error, out),
        }
    }

    /// Fires a node's timers, or the control state's, at `now_ms`.
    fn on_timer(
        &self,
        node_id: &str,
        slot: &mut Option<Entry>,
        rest: Rest<'_, Entry>,
        now_ms: i64,
        out: &mut Vec<Output>,
    ) -> Result<bool, InternalError> {
        let state = match slot.as_mut() {
            Some(Entry::Node(state)) => state,
            Some(Entry::Control(control)) => {
                let outcome = control.on_timer(now_ms);
                self.publish_control(&outcome, out)?;
                return Ok(outcome.changed);
            }
            None => return Ok(false),
        };
        let empty = ControlState::default();
        let step = fold::on_timer(state, now_ms, control_in(rest, &empty), &self.config);
        let changed = !step.ledger.is_empty() || step.derived.changed || step.commands.changed;
        self.publish_step(node_id, step, out)?;
        Ok(changed)
    }

    /// Every changed node's twin also goes to the twin topic (compacted, latest per node).
    fn on_flush(
        &self,
        node_id: &str,
        entry: Option<&Entry>,
        out: &mut Vec<Output>,
    ) -> Result<(), InternalError> {
        if let Some(Entry::Node(state)) = entry {
            out.push(Output {
                topic: self.topics.twin.clone(),
                partition: None,
                key: Some(node_id.as_bytes().to_vec()),
                payload: Some(encoded(&state.twin)?),
            });
        }
        Ok(())
    }
}

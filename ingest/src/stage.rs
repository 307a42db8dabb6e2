//! The normalizer as a [`Stage`]: raw topic in; events, control records, trust violations and
//! DLQ records out. Per-node state (seq dedupe, the reorder buffer, the registered key, replay
//! chunks taken) lives in a changelog-backed [`Store`]; held events are released as the
//! partition's ingest time passes their window (raw records, and tick records while idle).

use std::path::Path;

use futures::future::BoxFuture;
use serde_json::{Map, Value};
use sxfleet_runtime::records::{dead_letter, encoded, Rejection as DeadLetterReason};
use sxfleet_runtime::stage::{InternalError, SnapshotError, SnapshotInfo};
use sxfleet_runtime::store::{Store, StoreSpec};
use sxfleet_runtime::timers::Timers;
use sxfleet_runtime::{Input, Output, Stage, Topics};
use sxfleet_schemas::{stage, EventPayload, FleetEvent, Source, TrustViolation};

use crate::admit::{admit, NodeIngest, NodeMessage, Verdict, NODE_INGEST_FORMAT};
use crate::config::{NormalizerConfig, SignatureMode};
use crate::context::{RawContext, HTTP_SOURCE};
use crate::normalize::{normalize_map, parse_object, Normalized};
use crate::registry::SchemaRegistry;
use crate::reject::{Rejected, Rejection};
use crate::signature::{signed, Signed};
use crate::telemetry;

/// Name of the node store; its changelog is `<application-id>-ingest-nodes-changelog`.
pub const NODE_STORE: &str = "ingest-nodes";

/// Normalizer stage over the raw Kafka topic.
///
/// Raw messages are JSON; with a schema registry configured, a message starting with the
/// Confluent magic byte is Avro, decoded with its writer schema and converted to the same JSON
/// object ([`crate::avro_raw`]) before the same normalization, dedupe, ordering and signature checks.
///
/// A control-plane record goes to the control topic and, as a copy, to every partition of the
/// events topic: the fleet processor keeps the control state next to each partition's nodes, so
/// each partition's log holds node events and control changes in one deterministic order.
pub struct NormalizerStage {
    config: NormalizerConfig,
    topics: Topics,
    events_partitions: i32,
    nodes: Store<NodeIngest>,
    timers: Timers,
    /// Writer schemas of Avro raw messages; `None`: JSON only.
    registry: Option<SchemaRegistry>,
}

impl NormalizerStage {
    /// A normalizer of application `app_id` writing to `topics`, whose events topic has
    /// `events_partitions` partitions.
    pub fn new(
        app_id: &str,
        config: NormalizerConfig,
        topics: Topics,
        events_partitions: i32,
    ) -> Self {
        let spec = StoreSpec {
            name: NODE_STORE,
            changelog: topics.changelog(app_id, NODE_STORE),
            format_version: NODE_INGEST_FORMAT,
        };
        let registry = config
            .schema_registry
            .as_ref()
            .map(SchemaRegistry::from_config);
        Self {
            config,
            topics,
            events_partitions,
            nodes: Store::new(spec),
            timers: Timers::new(),
            registry,
        }
    }

    /// Replaces the schema registry client (tests use one over an in-memory fake).
    pub fn with_registry(mut self, registry: SchemaRegistry) -> Self {
        self.registry = Some(registry);
        self
    }

    /// Looks up, before a batch is processed, the writer schemas its Avro raw messages name
    /// (see [`Stage::prepare`]): the registry's retries wait here, asynchronously, never in
    /// [`Stage::process`].
    async fn resolve_schemas(&mut self, inputs: &[Input<'_>]) -> Result<(), InternalError> {
        if let Some(registry) = self.registry.as_mut() {
            registry
                .resolve(inputs.iter().filter_map(|input| input.payload))
                .await;
        }
        Ok(())
    }

    /// The raw message as a JSON object: with a registry, a message starting with the
    /// Confluent magic byte is Avro, decoded with the writer schema [`Self::resolve_schemas`]
    /// found; anything else is JSON.
    ///
    /// # Errors
    /// [`InternalError`] when the registry stayed unavailable past its `max_outage`: the
    /// message is neither dead-lettered nor skipped, the partition stops before committing it.
    /// Also when its schema id was not resolved before the batch (a bug).
    fn raw_object(
        &self,
        raw: &[u8],
    ) -> Result<Result<Map<String, Value>, Rejected>, InternalError> {
        match self.registry.as_ref() {
            Some(registry) if raw.first() == Some(&sxfleet_schemas::MAGIC) => {
                Ok(registry.decode(raw)?.map_err(|rejection| Rejected {
                    rejection,
                    node_id: None,
                }))
            }
            _ => Ok(parse_object(raw)),
        }
    }

    /// The node store (for tests and inspection).
    pub fn nodes(&self) -> &Store<NodeIngest> {
        &self.nodes
    }

    /// Moves `partition`'s ingest time to `time_ms` and releases held events whose window
    /// passed.
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
        let limits = self.config.order_limits();
        for (node_id, _due) in self.timers.advance(partition, time_ms) {
            let (released, deadline) = self.nodes.update(partition, &node_id, |state| {
                let Some(state) = state.as_mut() else {
                    return (false, (Vec::new(), None));
                };
                let mut released = Vec::new();
                state.seq.release_due(now, &limits, &mut released);
                (
                    !released.is_empty(),
                    (released, state.seq.deadline(&limits)),
                )
            });
            self.timers.set(partition, &node_id, deadline);
            self.forward(&released, out)?;
        }
        Ok(())
    }

    fn forward(&self, events: &[FleetEvent], out: &mut Vec<Output>) -> Result<(), InternalError> {
        for event in events {
            out.push(Output {
                topic: self.topics.events.clone(),
                partition: None,
                key: Some(event.node_id.clone().into_bytes()),
                payload: Some(encoded(event)?),
            });
        }
        Ok(())
    }

    fn control(
        &self,
        event: &sxfleet_schemas::ControlEvent,
        out: &mut Vec<Output>,
    ) -> Result<(), InternalError> {
        let key = event.key.clone().into_bytes();
        let payload = encoded(event)?;
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
        Ok(())
    }

    fn node_message(
        &mut self,
        input: &Input<'_>,
        ctx: RawContext,
        object: &Map<String, Value>,
        events: Vec<FleetEvent>,
        out: &mut Vec<Output>,
    ) -> Result<(), InternalError> {
        let Some(head) = events.first() else {
            return Ok(());
        };
        let (node_id, seq, event_id) = (head.node_id.clone(), head.seq, head.event_id.clone());
        let signed = match self.config.signatures {
            SignatureMode::Verify => signed(object),
            SignatureMode::Off => Signed::Unsigned,
        };
        let config = &self.config;
        let limits = config.order_limits();
        let message = NodeMessage { events, signed };
        let (verdict, deadline) = self.nodes.update(input.partition, &node_id, |state| {
            let verdict = admit(state, message, config, ctx.received_ms);
            let deadline = state.as_ref().and_then(|s| s.seq.deadline(&limits));
            (true, (verdict, deadline))
        });
        self.timers.set(input.partition, &node_id, deadline);
        match verdict {
            Verdict::Taken { released, counts } => {
                telemetry::admitted(&counts);
                self.forward(&released, out)
            }
            Verdict::Rejected(rejection) => {
                if rejection.code.is_trust_violation() {
                    let violation = FleetEvent {
                        event_id: format!("{node_id}:trust:{}:{}", input.partition, input.offset),
                        node_id: node_id.clone(),
                        seq,
                        event_time_ms: ctx.received_ms,
                        received_ms: ctx.received_ms,
                        source: ctx.source,
                        replayed: false,
                        payload: EventPayload::TrustViolation(TrustViolation {
                            reason: rejection.code.as_str().to_owned(),
                            detail: rejection.detail.clone(),
                            offending_seq: Some(seq),
                            offending_event_id: Some(event_id),
                        }),
                    };
                    self.forward(&[violation], out)?;
                }
                self.reject(input, ctx, rejection, Some(node_id), out)
            }
        }
    }

    fn reject(
        &self,
        input: &Input<'_>,
        ctx: RawContext,
        rejection: Rejection,
        node_id: Option<String>,
        out: &mut Vec<Output>,
    ) -> Result<(), InternalError> {
        telemetry::rejected(rejection.code, ctx.source);
        let reason = DeadLetterReason {
            stage: stage::NORMALIZER,
            reason_code: rejection.code.as_str(),
            detail: rejection.detail,
            source: ctx.source,
            node_id,
            received_ms: ctx.received_ms,
        };
        out.push(dead_letter(&self.topics.dlq, input, reason)?);
        Ok(())
    }
}

/// Where a raw record came in, from its `sxfleet-source` header.
fn source_of(header: Option<&[u8]>) -> Source {
    match header {
        Some(HTTP_SOURCE) => Source::Http,
        _ => Source::KafkaRaw,
    }
}

impl Stage for NormalizerStage {
    fn name(&self) -> &'static str {
        "normalizer"
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
            let limits = self.config.order_limits();
            let deadline = self
                .nodes
                .get(partition, node_id)
                .and_then(|state| state.seq.deadline(&limits));
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
        let limits = self.config.order_limits();
        for (node_id, state) in self.nodes.entries(partition) {
            self.timers
                .set(partition, node_id, state.seq.deadline(&limits));
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

    fn prepare<'a>(
        &'a mut self,
        inputs: &'a [Input<'a>],
    ) -> BoxFuture<'a, Result<(), InternalError>> {
        Box::pin(self.resolve_schemas(inputs))
    }

    fn process(&mut self, input: &Input<'_>, out: &mut Vec<Output>) -> Result<(), InternalError> {
        // The raw message's Kafka timestamp is the receive (ingest) time; a message without one
        // skips the future-skew check (see `RawContext`) and does not move ingest time.
        let ctx = RawContext {
            source: source_of(input.source),
            received_ms: input.timestamp_ms.unwrap_or(0),
        };
        self.advance(input.partition, ctx.received_ms, out)?;
        let object = match self.raw_object(input.payload.unwrap_or_default())? {
            Ok(object) => object,
            Err(rejected) => {
                return self.reject(input, ctx, rejected.rejection, rejected.node_id, out)
            }
        };
        let records = match normalize_map(&self.config, &object, ctx) {
            Ok(records) => records,
            Err(rejected) => {
                return self.reject(input, ctx, rejected.rejection, rejected.node_id, out)
            }
        };
        let mut events = Vec::with_capacity(records.len());
        for record in records {
            match record {
                Normalized::Event(event) => events.push(event),
                Normalized::Control(event) => self.control(&event, out)?,
            }
        }
        self.node_message(input, ctx, &object, events, out)
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
        self.nodes.flush(out)
    }
}

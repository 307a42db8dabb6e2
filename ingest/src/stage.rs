//! The normalizer as a [`Stage`]: raw topic in; events, control records, trust violations and
//! DLQ records out. Per-node state (seq dedupe, the reorder buffer, the registered key, replay
//! chunks taken) lives in a changelog-backed [`Store`]; held events are released as the
//! partition's ingest time passes their window (raw records, and tick records while idle).
//! The store and timer glue is the runtime's keyed adapter ([`Keyed`]); [`Normalizer`] is the
//! fold it drives.
//!
//! [`Stage`]: sxfleet_runtime::Stage

use futures::future::BoxFuture;
use serde_json::{Map, Value};
use sxfleet_runtime::keyed::{Fold, Keyed, KeyedStage, Keys};
use sxfleet_runtime::records::{dead_letter, encoded, Rejection as DeadLetterReason};
use sxfleet_runtime::stage::InternalError;
use sxfleet_runtime::store::{Rest, Store};
use sxfleet_runtime::{Input, Output, Topics};
use sxfleet_schemas::{
    stage, CommandTarget, ControlPayload, EventPayload, FleetEvent, Source, TrustViolation,
};

use crate::admit::{admit, NodeIngest, NodeMessage, Verdict, NODE_INGEST_FORMAT};
use crate::config::{NormalizerConfig, SignatureMode};
use crate::context::{RawContext, HTTP_SOURCE};
use crate::normalize::{normalize_map, parse_object, rfc3339_ms, Normalized};
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
/// each partition's log holds node events and control changes in one order. That order is the
/// raw records' event-time order when the driver merges the raw partitions by
/// [`Fold::order_time`] (`InputOrder::EventTime`, which `sxfleet` turns on for the normalizer).
pub struct NormalizerStage {
    keyed: Keyed<Normalizer>,
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
        let registry = config
            .schema_registry
            .as_ref()
            .map(SchemaRegistry::from_config);
        let normalizer = Normalizer {
            config,
            topics: topics.clone(),
            events_partitions,
            registry,
        };
        Self {
            keyed: Keyed::new(normalizer, &topics, app_id),
        }
    }

    /// Replaces the schema registry client (tests use one over an in-memory fake).
    pub fn with_registry(mut self, registry: SchemaRegistry) -> Self {
        self.keyed.fold_mut().registry = Some(registry);
        self
    }

    /// The node store (for tests and inspection).
    pub fn nodes(&self) -> &Store<NodeIngest> {
        self.keyed.store()
    }
}

impl KeyedStage for NormalizerStage {
    type Fold = Normalizer;

    fn keyed(&self) -> &Keyed<Normalizer> {
        &self.keyed
    }

    fn keyed_mut(&mut self) -> &mut Keyed<Normalizer> {
        &mut self.keyed
    }
}

/// The normalizer's fold: what a raw record and a node's release timer do. Its store holds a
/// [`NodeIngest`] per node; a node's timer is due when its oldest held event's window ends.
pub struct Normalizer {
    config: NormalizerConfig,
    topics: Topics,
    events_partitions: i32,
    /// Writer schemas of Avro raw messages; `None`: JSON only.
    registry: Option<SchemaRegistry>,
}

impl Normalizer {
    /// Looks up, before a batch is processed, the writer schemas its Avro raw messages name
    /// (see [`Fold::prepare`]): the registry's retries wait here, asynchronously, never in
    /// [`Fold::process`].
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
        // A command for one node goes to that node's partition only (keyed like its events);
        // every other control record to every partition.
        let for_one_node = matches!(
            &event.payload,
            ControlPayload::Command(request) if request.target_kind == CommandTarget::Node
        );
        if for_one_node {
            out.push(Output {
                topic: self.topics.events.clone(),
                partition: None,
                key: Some(key.clone()),
                payload: Some(payload.clone()),
            });
        }
        for partition in (0..self.events_partitions).filter(|_| !for_one_node) {
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
        &self,
        keys: &mut Keys<'_, Self>,
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
        let message = NodeMessage { events, signed };
        let verdict = keys.update(self, &node_id, |state, _| {
            (true, admit(state, message, config, ctx.received_ms))
        });
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

/// The one field of a raw JSON record the driver's merge orders by, read without the rest.
#[derive(serde::Deserialize)]
struct OrderFields<'a> {
    #[serde(borrow)]
    ts: Option<std::borrow::Cow<'a, str>>,
}

/// The event time `ts` of a raw JSON record; `None` for anything else (Avro raw, no or bad
/// `ts`: normalizing rejects the latter later, as without the merge).
fn raw_event_time(raw: &[u8]) -> Option<i64> {
    let fields: OrderFields<'_> = serde_json::from_slice(raw).ok()?;
    rfc3339_ms("ts", &fields.ts?).ok()
}

/// Where a raw record came in, from its `sxfleet-source` header.
fn source_of(header: Option<&[u8]>) -> Source {
    match header {
        Some(HTTP_SOURCE) => Source::Http,
        _ => Source::KafkaRaw,
    }
}

impl Fold for Normalizer {
    type Value = NodeIngest;
    const NAME: &'static str = "normalizer";
    const STORE: &'static str = NODE_STORE;
    const FORMAT_VERSION: u32 = NODE_INGEST_FORMAT;

    fn deadline(&self, _node_id: &str, state: &NodeIngest) -> Option<i64> {
        state.seq.deadline(&self.config.order_limits())
    }

    fn prepare<'a>(
        &'a mut self,
        inputs: &'a [Input<'a>],
    ) -> BoxFuture<'a, Result<(), InternalError>> {
        Box::pin(self.resolve_schemas(inputs))
    }

    /// A raw record is merged with the other raw partitions by its event time `ts`, so control
    /// records and node events reach the events topic in event-time order (see
    /// `sxfleet_runtime::driver::InputOrder`); the Kafka timestamp when it has none.
    fn order_time(&self, input: &Input<'_>) -> Option<i64> {
        input
            .payload
            .and_then(raw_event_time)
            .or(input.timestamp_ms)
    }

    fn process(
        &mut self,
        keys: &mut Keys<'_, Self>,
        input: &Input<'_>,
        out: &mut Vec<Output>,
    ) -> Result<(), InternalError> {
        // The raw message's Kafka timestamp is the receive (ingest) time; a message without one
        // skips the future-skew check (see `RawContext`) and does not move ingest time.
        let ctx = RawContext {
            source: source_of(input.source),
            received_ms: input.timestamp_ms.unwrap_or(0),
        };
        keys.advance(self, ctx.received_ms, out)?;
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
        self.node_message(keys, input, ctx, &object, events, out)
    }

    /// Releases the node's held events whose window passed by ingest time `now_ms`.
    fn on_timer(
        &self,
        _node_id: &str,
        state: &mut Option<NodeIngest>,
        _rest: Rest<'_, NodeIngest>,
        now_ms: i64,
        out: &mut Vec<Output>,
    ) -> Result<bool, InternalError> {
        let Some(state) = state.as_mut() else {
            return Ok(false);
        };
        let mut released = Vec::new();
        state
            .seq
            .release_due(now_ms, &self.config.order_limits(), &mut released);
        self.forward(&released, out)?;
        Ok(!released.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::raw_event_time;

    #[test]
    fn a_raw_record_is_ordered_by_its_event_time_when_it_has_one() {
        let cases: [(&[u8], Option<i64>); 6] = [
            (
                br#"{"type":"heartbeat","node_id":"n1","ts":"2026-01-01T00:00:01.500Z","seq":1}"#,
                Some(1_767_225_601_500),
            ),
            (
                br#"{"events":[{"ts":"2020-01-01T00:00:00Z"}],"ts":"2026-01-01T00:00:00+01:00"}"#,
                Some(1_767_222_000_000),
            ),
            (br#"{"type":"heartbeat","ts":"yesterday"}"#, None),
            (br#"{"type":"heartbeat","ts":17}"#, None),
            (br#"{"type":"heartbeat"}"#, None),
            (&[0, 0, 0, 0, 7, 2, 4], None),
        ];
        for (raw, expected) in cases {
            assert_eq!(
                raw_event_time(raw),
                expected,
                "{}",
                String::from_utf8_lossy(raw)
            );
        }
    }
}

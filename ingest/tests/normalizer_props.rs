//! Property test of the whole normalizer stage (stateless normalization + dedupe and order),
//! driven in-process: arbitrary bytes and mutated valid messages never panic; every input is
//! either taken or sent to the DLQ (one DLQ record, never more); and once the reorder window
//! has passed, exactly one event per distinct (node_id, seq) taken has been forwarded. The
//! rejection metric counts exactly the DLQ records.

use std::collections::BTreeSet;

use metrics_exporter_prometheus::PrometheusBuilder;
use proptest::prelude::*;
use serde_json::{json, Value};
use sxfleet_ingest::{normalize, Normalized, NormalizerConfig, NormalizerStage, RawContext};
use sxfleet_runtime::{Input, Output, Stage, Topics};
use sxfleet_schemas::{decode, FleetEvent, Source};

const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

fn valid(node: u8, seq: u8, kind: u8) -> Value {
    let node_id = format!("n-{node}");
    let ts = "2026-01-01T00:00:00Z";
    match kind % 5 {
        0 => json!({"type": "heartbeat", "node_id": node_id, "ts": ts, "seq": seq,
                    "rtt_ms": 12.5, "health": "OK"}),
        1 => json!({"type": "link", "node_id": node_id, "ts": ts, "seq": seq, "state": "lost"}),
        2 => json!({"type": "register", "node_id": node_id, "ts": ts, "seq": seq, "kind": "EDGE",
                    "domain_id": "d-1", "region": "eu", "zone": "eu-1"}),
        3 => json!({"type": "replay", "node_id": node_id, "ts": ts, "seq": seq, "phase": "chunk",
                    "events": [
                        {"type": "heartbeat", "node_id": node_id, "ts": ts,
                         "seq": seq.wrapping_add(40)},
                        {"type": "link", "node_id": node_id, "ts": ts,
                         "seq": seq.wrapping_add(41), "state": "detected"}]}),
        _ => json!({"type": "domain", "domain_id": format!("d-{node}"), "level": "ZONE",
                    "ts": ts, "seq": seq}),
    }
}

/// A mutation of one field of a valid message.
fn mutate(mut value: Value, field: usize, replacement: Value, drop: bool) -> Value {
    if let Value::Object(map) = &mut value {
        let keys: Vec<String> = map.keys().cloned().collect();
        if let Some(key) = keys.get(field % keys.len().max(1)) {
            if drop {
                map.remove(key);
            } else {
                map.insert(key.clone(), replacement);
            }
        }
    }
    value
}

fn json_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        ".{0,8}".prop_map(Value::String),
        Just(json!([1, "x"])),
        Just(json!({"a": 1})),
    ]
}

fn input_bytes() -> impl Strategy<Value = Vec<u8>> {
    let message = || (0u8..3, 0u8..12, any::<u8>());
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..64),
        message().prop_map(|(n, s, k)| serde_json::to_vec(&valid(n, s, k)).unwrap_or_default()),
        (message(), any::<usize>(), json_value(), any::<bool>()).prop_map(
            |((n, s, k), field, replacement, drop)| {
                serde_json::to_vec(&mutate(valid(n, s, k), field, replacement, drop))
                    .unwrap_or_default()
            }
        ),
        (message(), any::<usize>(), any::<u8>()).prop_map(|((n, s, k), at, byte)| {
            let mut bytes = serde_json::to_vec(&valid(n, s, k)).unwrap_or_default();
            if !bytes.is_empty() {
                let at = at % bytes.len();
                bytes[at] = byte;
            }
            bytes
        }),
    ]
}

/// The sum of every `sxfleet_ingest_rejected_total` series in a Prometheus text rendering.
fn rejected_total(rendered: &str) -> u64 {
    rendered
        .lines()
        .filter(|line| line.starts_with(sxfleet_ingest::telemetry::REJECTED))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

fn node_events(outputs: &[Output], topics: &Topics) -> Vec<FleetEvent> {
    outputs
        .iter()
        .filter(|o| o.topic == topics.events && o.partition.is_none())
        .filter_map(|o| o.payload.as_deref().and_then(|p| decode(p).ok()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_input_is_taken_or_dead_lettered_and_each_seq_goes_out_once(
        inputs in proptest::collection::vec(input_bytes(), 1..60)
    ) {
        let recorder = PrometheusBuilder::new().build_recorder();
        let metrics = recorder.handle();
        let _recording = metrics::set_default_local_recorder(&recorder);
        let topics = Topics::with_prefix("p.");
        let config = NormalizerConfig::default();
        let mut stage = NormalizerStage::new("app", config.clone(), topics.clone(), 2);
        let mut outputs = Vec::new();
        let (mut dead, mut taken) = (0usize, 0usize);
        let mut expected = BTreeSet::new();
        for (offset, bytes) in inputs.iter().enumerate() {
            let received_ms = T0 + offset as i64;
            let input = Input {
                topic: "raw",
                partition: 0,
                offset: offset as i64,
                key: None,
                payload: Some(bytes),
                timestamp_ms: Some(received_ms),
                source: None,
            };
            let mut out = Vec::new();
            stage.process(&input, &mut out).unwrap();
            let letters = out.iter().filter(|o| o.topic == topics.dlq).count();
            prop_assert!(letters <= 1, "one DLQ record at most per input");
            if letters == 1 {
                dead += 1;
            } else {
                taken += 1;
                let ctx = RawContext { source: Source::KafkaRaw, received_ms };
                let records = normalize(&config, bytes, ctx);
                prop_assert!(records.is_ok(), "taken input normalizes");
                for record in records.unwrap_or_default() {
                    if let Normalized::Event(event) = record {
                        expected.insert((event.node_id, event.seq));
                    }
                }
            }
            outputs.extend(out);
        }
        prop_assert_eq!(dead + taken, inputs.len());
        prop_assert_eq!(rejected_total(&metrics.render()), dead as u64);
        // Past every window: all held events come out.
        stage.on_tick(0, T0 + 3_600_000, &mut outputs).unwrap();
        let events = node_events(&outputs, &topics);
        let forwarded: BTreeSet<(String, i64)> =
            events.iter().map(|e| (e.node_id.clone(), e.seq)).collect();
        prop_assert_eq!(forwarded.len(), events.len(), "no (node_id, seq) forwarded twice");
        prop_assert_eq!(forwarded, expected);
    }
}

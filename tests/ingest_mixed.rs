//! The normalizer on a real broker: 100,000 mixed raw messages (good, malformed, duplicated,
//! out of order, forged) in; out come exactly the good unique events, in per-node seq order,
//! one trust violation per forged message, and exactly one DLQ record per bad message.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{json, Value};
use sxfleet::pipeline::{self, PipelineConfig};
use sxfleet_ingest::signature::canonical_bytes;
use sxfleet_ingest::{NormalizerConfig, SignatureMode};
use sxfleet_runtime::{KafkaConfig, Shutdown};
use sxfleet_schemas::{decode, DeadLetter, EventPayload, FleetEvent};

const NODES: usize = 200;
/// Nodes `0..SIGNED` register a key and sign everything.
const SIGNED: usize = 20;
const PER_NODE: i64 = 400;
const DUPLICATES: usize = 8_000;
const MALFORMED: usize = 6_000;
const FORGED: usize = 6_000;
const TOTAL: usize = NODES * PER_NODE as usize + DUPLICATES + MALFORMED + FORGED;

fn node_id(node: usize) -> String {
    format!("sx-mixed-{node:04}")
}

fn key(node: usize) -> SigningKey {
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&(node as u64 + 1).to_be_bytes());
    SigningKey::from_bytes(&seed)
}

fn sign(mut value: Value, key: &SigningKey) -> Value {
    let sig = STANDARD.encode(key.sign(&canonical_bytes(&value)).to_bytes());
    value["sig"] = Value::String(sig);
    value
}

/// The good message `seq` of `node` (seq 1 registers; signed nodes register their key).
fn good(node: usize, seq: i64) -> Value {
    let id = node_id(node);
    let ts = format!("2026-01-01T00:{:02}:{:02}Z", seq / 60 % 60, seq % 60);
    let value = if seq == 1 {
        let mut register = json!({"type": "register", "node_id": id, "ts": ts, "seq": seq,
            "kind": "EDGE", "domain_id": "d-1", "region": "eu", "zone": "eu-1"});
        if node < SIGNED {
            register["public_key"] = json!(STANDARD.encode(key(node).verifying_key().to_bytes()));
        }
        register
    } else {
        json!({"type": "heartbeat", "node_id": id, "ts": ts, "seq": seq,
               "rtt_ms": seq, "health": "OK"})
    };
    if node < SIGNED {
        sign(value, &key(node))
    } else {
        value
    }
}

fn malformed(i: usize) -> Vec<u8> {
    let id = node_id(i % NODES);
    match i % 6 {
        0 => b"{not json".to_vec(),
        1 => Vec::new(),
        2 => json!([1, 2]).to_string().into_bytes(),
        3 => json!({"type": "heartbeat", "node_id": id, "seq": 1})
            .to_string()
            .into_bytes(),
        4 => json!({"type": "teleport", "node_id": id, "ts": "2026-01-01T00:00:00Z", "seq": 1})
            .to_string()
            .into_bytes(),
        _ => json!({"type": "heartbeat", "node_id": id, "ts": "2026-01-01T00:00:00Z",
                    "seq": 2, "health": "SPLENDID"})
        .to_string()
        .into_bytes(),
    }
}

/// A forged copy of a signed node's message: altered after signing, or stripped of `sig`.
fn forged(i: usize) -> Value {
    let node = i % SIGNED;
    let seq = 2 + (i / SIGNED) as i64 % (PER_NODE - 1);
    let mut value = good(node, seq);
    if i % 2 == 0 {
        value["rtt_ms"] = json!(9_999);
    } else if let Value::Object(map) = &mut value {
        map.remove("sig");
    }
    value
}

/// Every node's messages with neighbouring seqs swapped (out of order by one to three), then
/// interleaved with duplicates, malformed and forged messages, deterministically.
fn input() -> Vec<(String, Vec<u8>)> {
    let mut per_node: Vec<Vec<Vec<u8>>> = (0..NODES)
        .map(|node| {
            let mut seqs: Vec<i64> = (1..=PER_NODE).collect();
            for start in (0..seqs.len().saturating_sub(3)).step_by(7) {
                seqs.swap(start, start + 1 + node % 3);
            }
            seqs.iter()
                .map(|&seq| good(node, seq).to_string().into_bytes())
                .collect()
        })
        .collect();
    let mut out = Vec::with_capacity(TOTAL);
    let mut extra = 0usize;
    for round in 0..PER_NODE as usize {
        for (node, messages) in per_node.iter_mut().enumerate() {
            let message = std::mem::take(&mut messages[round]);
            out.push((node_id(node), message.clone()));
            let slot = round * NODES + node;
            if slot % 8 == 0 && extra < DUPLICATES + MALFORMED + FORGED {
                for _ in 0..2 {
                    let i = extra;
                    extra += 1;
                    let record = if i < DUPLICATES {
                        (node_id(node), message.clone())
                    } else if i < DUPLICATES + MALFORMED {
                        (node_id(i % NODES), malformed(i))
                    } else {
                        let forged = forged(i);
                        let id = forged["node_id"].as_str().unwrap_or_default().to_owned();
                        (id, forged.to_string().into_bytes())
                    };
                    out.push(record);
                }
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundred_thousand_mixed_messages_come_out_exactly_once_in_order() {
    let services = common::services();
    let prefix = format!("{}.", common::unique("mixed"));
    let _cleanup = common::Cleanup::new(&services.kafka, &prefix);
    let config = PipelineConfig::new(KafkaConfig::new(&services.kafka), &prefix);
    pipeline::create_topics(&config).await.unwrap();
    let records = input();
    assert_eq!(records.len(), TOTAL);
    common::produce(&services.kafka, &config.topics.raw, &records).await;

    let normalizer = NormalizerConfig {
        signatures: SignatureMode::Verify,
        reorder_window: Duration::from_secs(60),
        ..NormalizerConfig::default()
    };
    let stop = Shutdown::new();
    let task = {
        let (config, stop) = (config.clone(), stop.clone());
        tokio::spawn(async move { pipeline::run_normalizer(&config, normalizer, &stop).await })
    };
    common::wait_committed(
        &services.kafka,
        &config.app_id("normalizer"),
        &config.topics.raw,
        config.partitions,
        Some(TOTAL as i64),
        Duration::from_secs(120),
    )
    .await;
    stop.trigger();
    task.await.unwrap().unwrap();

    let (events, letters) =
        common::read_events_and_dlq(&services.kafka, &config.topics, config.partitions).await;

    let mut seqs: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut violations: BTreeMap<String, usize> = BTreeMap::new();
    for (_, _, _, payload) in &events {
        let event: FleetEvent = decode(payload.as_deref().unwrap()).unwrap();
        match &event.payload {
            EventPayload::TrustViolation(v) => {
                *violations.entry(v.reason.clone()).or_default() += 1
            }
            _ => seqs
                .entry(event.node_id.clone())
                .or_default()
                .push(event.seq),
        }
    }
    assert_eq!(seqs.len(), NODES);
    let expected: Vec<i64> = (1..=PER_NODE).collect();
    for (node, got) in &seqs {
        assert_eq!(got, &expected, "{node}: every seq once, in order");
    }
    assert_eq!(
        violations,
        BTreeMap::from([
            ("bad_signature".to_owned(), FORGED / 2),
            ("unsigned".to_owned(), FORGED / 2)
        ])
    );

    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for (_, _, _, payload) in &letters {
        let letter: DeadLetter = decode(payload.as_deref().unwrap()).unwrap();
        *reasons.entry(letter.reason_code).or_default() += 1;
    }
    assert_eq!(
        reasons.values().sum::<usize>(),
        MALFORMED + FORGED,
        "{reasons:?}"
    );
    assert_eq!(reasons["bad_signature"], FORGED / 2);
    assert_eq!(reasons["unsigned"], FORGED / 2);
    assert_eq!(reasons["invalid_json"], MALFORMED / 6);
    assert_eq!(reasons["empty_payload"], MALFORMED / 6);
}

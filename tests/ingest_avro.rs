//! Avro raw messages on a real broker. Producers are played by fastavro (an independent Avro
//! implementation, through `$SXFLEET_PYTHON`), which registers the schemas of `schemas/raw/`
//! in the registry fixture (`tests/common/registry.rs`; not a Confluent server) and encodes in
//! the Confluent wire format.
//!
//! 1. The same messages, once all as JSON and once as a mix of Avro and JSON (with duplicates
//!    across formats), give exactly the same canonical events, trust violations included; the
//!    mixed run adds exactly one DLQ record per unknown-schema and per corrupt Avro message.
//! 2. A registry answering 500 for a while: nothing is committed or dead-lettered meanwhile,
//!    and every event comes out once it recovers.
//! 3. A registry down past `max_outage`: the partitions stop without committing or
//!    dead-lettering; a restarted normalizer delivers everything.
//! 4. In `sxfleet run` (normalizer, twin and sink joined in one task), a registry answering
//!    500 pauses only the normalizer: events reaching the events topic meanwhile go through
//!    the twin and the sink into ClickHouse; once the registry answers, the Avro input follows.
//!
//! Needs `$SXFLEET_PYTHON` (else `python3`) with fastavro; fails, never skips, without it.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::registry::Registry;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{json, Value};
use sxfleet::pipeline::{self, PipelineConfig};
use sxfleet_ingest::signature::canonical_bytes;
use sxfleet_ingest::{NormalizerConfig, RegistryUrl, SchemaRegistryConfig, SignatureMode};
use sxfleet_runtime::records::encoded;
use sxfleet_runtime::{KafkaConfig, Shutdown};
use sxfleet_schemas::{
    decode, DeadLetter, EventPayload, Firmware, FleetEvent, Hardware, Heartbeat, NodeKind,
    Register, Source,
};
use sxfleet_sinks::{ClickHouse, ClickHouseConfig};

const NODES: usize = 12;
/// Nodes `0..SIGNED` register a key and sign every message.
const SIGNED: usize = 4;
/// Seqs per node (8..=10 arrive only inside the replay chunk).
const SEQS: i64 = 18;
const UNKNOWN: usize = 6;
const CORRUPT: usize = 6;
const EVENT_T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const RAW_NAMESPACE: &str = "io.souverix.fleet.raw";

const SCHEMAS: [&str; 5] = ["Register", "Heartbeat", "Snapshot", "Link", "Replay"];

fn schema_file(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("schemas/raw/{name}.avsc"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn node_id(node: usize) -> String {
    format!("sx-avro-{node:02}")
}

fn key(node: usize) -> SigningKey {
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&(node as u64 + 100).to_be_bytes());
    SigningKey::from_bytes(&seed)
}

/// One raw message in both forms: the record fastavro writes (ts in epoch ms, union branches
/// named by `-type`) and its JSON twin (ts as RFC 3339 text), which is exactly the object the
/// normalizer must convert the Avro form into.
#[derive(Clone)]
struct Raw {
    schema: &'static str,
    avro: Value,
    json: Value,
}

fn raw(schema: &'static str, node: usize, seq: i64, fields: Value) -> Raw {
    let kind = schema.to_lowercase();
    let mut avro = json!({"type": kind, "node_id": node_id(node), "seq": seq,
                          "ts": EVENT_T0 + seq * 1_000});
    let mut twin = json!({"type": kind, "node_id": node_id(node), "seq": seq,
                          "ts": format!("2026-01-01T00:{:02}:{:02}.000Z", seq / 60, seq % 60)});
    for (name, value) in fields.as_object().unwrap() {
        avro[name] = value.clone();
        twin[name] = value.clone();
    }
    Raw {
        schema,
        avro,
        json: twin,
    }
}

fn heartbeat(node: usize, seq: i64) -> Raw {
    let health = if seq % 4 == 0 { "DEGRADED" } else { "OK" };
    raw(
        "Heartbeat",
        node,
        seq,
        json!({"rtt_ms": seq as f64 * 1.5, "loss_pct": 0.5, "bandwidth_kbps": 10_000 + seq,
               "health": health}),
    )
}

fn link(node: usize, seq: i64, state: &str) -> Raw {
    raw("Link", node, seq, json!({"state": state}))
}

/// A replay chunk carrying the node's buffered seqs 8..=10.
fn chunk(node: usize, seq: i64) -> Raw {
    let carried = [
        heartbeat(node, 8),
        heartbeat(node, 9),
        link(node, 10, "lost"),
    ];
    let mut message = raw(
        "Replay",
        node,
        seq,
        json!({"phase": "chunk", "session_id": format!("rs-{node}"), "chunk_seq": 1}),
    );
    message.json["events"] = carried.iter().map(|m| m.json.clone()).collect();
    message.avro["events"] = carried
        .iter()
        .map(|m| {
            let mut event = m.avro.clone();
            event["-type"] = json!(format!("{RAW_NAMESPACE}.{}", m.schema));
            event
        })
        .collect();
    message
}

/// Adds `sig` over the canonical JSON of the converted object (the twin) to both forms.
fn sign(mut message: Raw, node: usize) -> Raw {
    let sig = STANDARD.encode(key(node).sign(&canonical_bytes(&message.json)).to_bytes());
    message.avro["sig"] = json!(sig);
    message.json["sig"] = json!(sig);
    message
}

fn message(node: usize, seq: i64) -> Raw {
    let message = match seq {
        1 => {
            let mut fields = json!({"kind": "EDGE", "domain_id": "d-1", "region": "eu",
                "zone": "eu-1", "tags": ["rempart", format!("n{node}")],
                "hardware": {"serial": format!("HW-{node}"), "manufacturer": "Souverix",
                             "model": "SX-E1"},
                "firmware": {"version": "2.1.3", "signature": "sha256:abc"}});
            if node < SIGNED {
                fields["public_key"] = json!(STANDARD.encode(key(node).verifying_key().to_bytes()));
            }
            raw("Register", node, seq, fields)
        }
        6 => raw(
            "Snapshot",
            node,
            seq,
            json!({"reported_version": "1.4.6", "policy_version": "policy-v2.0",
                   "config": {"stir.enforcement_mode": "soft", "rate_limit.max_cps": "1500"},
                   "inventory": {"cpu": "x86_64", "ram_gb": 16.0, "gpus": ["a100", "l4"]}}),
        ),
        7 => link(node, seq, "lost"),
        11 => link(node, seq, "detected"),
        12 => raw(
            "Replay",
            node,
            seq,
            // The converted object has every field the writer wrote, so the empty `events`
            // array (the schema's default) is part of what is signed.
            json!({"phase": "begin", "session_id": format!("rs-{node}"), "backlog_total": 3,
                   "events": []}),
        ),
        13 => chunk(node, seq),
        14 => raw(
            "Replay",
            node,
            seq,
            json!({"phase": "end", "session_id": format!("rs-{node}"), "events": []}),
        ),
        _ => heartbeat(node, seq),
    };
    if node < SIGNED {
        sign(message, node)
    } else {
        message
    }
}

/// Every node's messages in delivery order: seqs 3 and 4 swapped, 8..=10 only in the chunk,
/// seq 2 again after 5 (the duplicate), and for node 0 a forged copy of a signed heartbeat at
/// the end. Each entry: (node, message, whether the mixed run sends it as Avro).
fn plan() -> Vec<(usize, Raw, bool)> {
    let order: Vec<i64> = [1, 2, 4, 3, 5, 2, 6, 7, 11, 12, 13, 14]
        .into_iter()
        .chain(15..=SEQS)
        .collect();
    let mut out = Vec::new();
    for (round, &seq) in order.iter().enumerate() {
        for node in 0..NODES {
            let duplicate = round == 5;
            // Mostly Avro; the duplicate of seq 2 goes in the other format than the original.
            let original_avro = (node + seq as usize) % 3 != 0;
            let avro = if duplicate {
                !original_avro
            } else {
                original_avro
            };
            out.push((node, message(node, seq), avro));
        }
    }
    let mut forged = sign(heartbeat(0, SEQS + 1), 0);
    forged.avro["rtt_ms"] = json!(9_999.0);
    forged.json["rtt_ms"] = json!(9_999.0);
    out.push((0, forged, true));
    out
}

fn python() -> String {
    std::env::var("SXFLEET_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// fastavro registers the raw schemas in `registry` and encodes `messages`; returns the ids by
/// schema name and the Confluent-framed bytes of each message.
fn encode_with_fastavro(
    registry: &str,
    messages: &[&Raw],
) -> (BTreeMap<String, u32>, Vec<Vec<u8>>) {
    let dir = tempfile::tempdir().unwrap();
    let schemas: serde_json::Map<String, Value> = SCHEMAS
        .iter()
        .map(|name| ((*name).to_owned(), schema_file(name)))
        .collect();
    let records: Vec<Value> = messages
        .iter()
        .map(|m| json!({"schema": m.schema, "value": m.avro}))
        .collect();
    let manifest = dir.path().join("manifest.json");
    let out = dir.path().join("out.json");
    std::fs::write(
        &manifest,
        serde_json::to_vec(&json!({"schemas": schemas, "records": records})).unwrap(),
    )
    .unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/encode_avro_raw.py");
    let python = python();
    let run = Command::new(&python)
        .arg(script)
        .arg(registry)
        .arg(&manifest)
        .arg(&out)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python} (set SXFLEET_PYTHON): {e}"));
    assert!(
        run.status.success(),
        "fastavro encoder failed ({}; exit 2 = fastavro missing):\n{}",
        run.status,
        String::from_utf8_lossy(&run.stderr)
    );
    let answer: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let ids = answer["ids"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, id)| (name.clone(), id.as_u64().unwrap() as u32))
        .collect();
    let bytes = answer["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hex| from_hex(hex.as_str().unwrap()))
        .collect();
    (ids, bytes)
}

fn from_hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn normalizer(registry: Option<&str>, max_outage: Duration) -> NormalizerConfig {
    let schema_registry = registry.map(|url| {
        let mut settings = SchemaRegistryConfig::new(RegistryUrl::parse(url).unwrap());
        settings.request_timeout = Duration::from_secs(2);
        settings.retry_backoff = Duration::from_millis(100);
        settings.max_retry_backoff = Duration::from_millis(500);
        settings.max_outage = max_outage;
        settings
    });
    NormalizerConfig {
        signatures: SignatureMode::Verify,
        reorder_window: Duration::from_secs(60),
        schema_registry,
        ..NormalizerConfig::default()
    }
}

async fn deployment(base: &str, partitions: i32) -> PipelineConfig {
    let services = common::services();
    let prefix = format!("{}.", common::unique(base));
    let mut config = PipelineConfig::new(KafkaConfig::new(&services.kafka), &prefix);
    config.partitions = partitions;
    pipeline::create_topics(&config).await.unwrap();
    config
}

/// Runs the normalizer on `config` until it has committed `records` raw records.
async fn normalize_all(config: &PipelineConfig, normalizer: NormalizerConfig, records: usize) {
    let stop = Shutdown::new();
    let task = {
        let (config, stop) = (config.clone(), stop.clone());
        tokio::spawn(async move { pipeline::run_normalizer(&config, normalizer, &stop).await })
    };
    wait_committed(config, records).await;
    stop.trigger();
    task.await.unwrap().unwrap();
}

async fn wait_committed(config: &PipelineConfig, records: usize) {
    common::wait_committed(
        &config.kafka.bootstrap,
        &config.app_id("normalizer"),
        &config.topics.raw,
        config.partitions,
        Some(records as i64),
        Duration::from_secs(120),
    )
    .await;
}

/// (events as (partition, key, event), dead letters) committed by the normalizer.
async fn outputs(config: &PipelineConfig) -> (Vec<(i32, Vec<u8>, FleetEvent)>, Vec<DeadLetter>) {
    let (events, letters) =
        common::read_events_and_dlq(&config.kafka.bootstrap, &config.topics, config.partitions)
            .await;
    let events = events
        .into_iter()
        .map(|(partition, _, key, value)| (partition, key, decode(&value.unwrap()).unwrap()))
        .collect();
    let letters = letters
        .into_iter()
        .map(|(_, _, _, value)| decode(&value.unwrap()).unwrap())
        .collect();
    (events, letters)
}

/// Per node, the seqs of its non-violation events in output order.
fn seqs_by_node(events: &[(i32, Vec<u8>, FleetEvent)]) -> BTreeMap<String, Vec<i64>> {
    let mut seqs: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (_, _, event) in events {
        if !matches!(event.payload, EventPayload::TrustViolation(_)) {
            seqs.entry(event.node_id.clone())
                .or_default()
                .push(event.seq);
        }
    }
    seqs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn avro_and_json_give_the_same_events_and_bad_avro_is_dead_lettered() {
    let registry = Registry::start().await;
    let plan = plan();
    let avro_messages: Vec<&Raw> = plan.iter().map(|(_, m, _)| m).collect();
    let (ids, encoded) = encode_with_fastavro(&registry.url(), &avro_messages);
    assert_eq!(ids.len(), SCHEMAS.len());

    // Unknown ids: a valid heartbeat datum under ids nobody registered.
    let heartbeat_bytes = &encoded[plan
        .iter()
        .position(|(_, m, _)| m.schema == "Heartbeat")
        .unwrap()];
    let mut bad: Vec<(String, Vec<u8>, &str)> = Vec::new();
    for i in 0..UNKNOWN {
        let mut bytes = heartbeat_bytes.clone();
        bytes[1..5].copy_from_slice(&(4_000_000 + i as u32).to_be_bytes());
        bad.push((node_id(i % NODES), bytes, "unknown_schema"));
    }
    // Corrupt datums under a registered id: cut short, extra bytes, garbage.
    for i in 0..CORRUPT {
        let mut bytes = heartbeat_bytes.clone();
        match i % 3 {
            0 => bytes.truncate(bytes.len() - 3),
            1 => bytes.extend_from_slice(&[1, 2]),
            _ => {
                bytes.truncate(5);
                bytes.extend_from_slice(&[0xff; 9]);
            }
        }
        bad.push((node_id(i % NODES), bytes, "invalid_avro"));
    }

    let t0 = now_ms();
    let json_run: Vec<(String, Vec<u8>, i64)> = plan
        .iter()
        .enumerate()
        .map(|(i, (node, m, _))| {
            (
                node_id(*node),
                m.json.to_string().into_bytes(),
                t0 + i as i64,
            )
        })
        .collect();
    let mut mixed_run: Vec<(String, Vec<u8>, i64)> = plan
        .iter()
        .zip(&encoded)
        .enumerate()
        .map(|(i, ((node, m, avro), bytes))| {
            let value = if *avro {
                bytes.clone()
            } else {
                m.json.to_string().into_bytes()
            };
            (node_id(*node), value, t0 + i as i64)
        })
        .collect();
    let avro_count = mixed_run.iter().filter(|(_, v, _)| v[0] == 0).count();
    assert!(
        avro_count > plan.len() / 2 && avro_count < plan.len(),
        "{avro_count}"
    );
    let after = t0 + plan.len() as i64;
    mixed_run.extend(
        bad.iter()
            .enumerate()
            .map(|(j, (key, bytes, _))| (key.clone(), bytes.clone(), after + j as i64)),
    );

    let services = common::services();
    let json_config = deployment("avro_json", 4).await;
    let mixed_config = deployment("avro_mixed", 4).await;
    let _cleanup = [&json_config, &mixed_config]
        .map(|config| common::Cleanup::new(&services.kafka, config.topics.prefix()));
    common::produce_at(&services.kafka, &json_config.topics.raw, &json_run).await;
    common::produce_at(&services.kafka, &mixed_config.topics.raw, &mixed_run).await;
    normalize_all(
        &json_config,
        normalizer(None, Duration::from_secs(30)),
        json_run.len(),
    )
    .await;
    normalize_all(
        &mixed_config,
        normalizer(Some(&registry.url()), Duration::from_secs(30)),
        mixed_run.len(),
    )
    .await;
    let (json_events, json_letters) = outputs(&json_config).await;
    let (mixed_events, mixed_letters) = outputs(&mixed_config).await;

    // Every seq of every node once, in order: the return (link detected, replay begin, the
    // chunk marker) before the backlog it carries, flagged as replayed; one trust violation.
    let expected: Vec<i64> = [1, 2, 3, 4, 5, 6, 7, 11, 12, 13, 8, 9, 10]
        .into_iter()
        .chain(14..=SEQS)
        .collect();
    let seqs = seqs_by_node(&mixed_events);
    assert_eq!(seqs.len(), NODES);
    for (node, got) in &seqs {
        assert_eq!(got, &expected, "{node}");
    }
    let replayed: Vec<i64> = mixed_events
        .iter()
        .filter(|(_, _, e)| e.node_id == node_id(5) && e.replayed)
        .map(|(_, _, e)| e.seq)
        .collect();
    assert_eq!(replayed, [8, 9, 10]);
    let violations: Vec<&FleetEvent> = mixed_events
        .iter()
        .map(|(_, _, e)| e)
        .filter(|e| matches!(e.payload, EventPayload::TrustViolation(_)))
        .collect();
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].node_id, node_id(0));

    // Field by field, partition and key included: the same canonical events.
    assert_eq!(mixed_events.len(), json_events.len());
    for (mixed, json) in mixed_events.iter().zip(&json_events) {
        assert_eq!(mixed, json);
    }

    // The JSON run rejects only the forged message; the mixed run rejects it too (as Avro),
    // and each unknown-schema and corrupt message exactly once with its bytes.
    let letters = |letters: &[DeadLetter]| {
        let mut got: Vec<(String, Vec<u8>)> = letters
            .iter()
            .map(|l| (l.reason_code.clone(), l.original.clone()))
            .collect();
        got.sort();
        got
    };
    let forged_index = plan.len() - 1;
    assert_eq!(
        letters(&json_letters),
        vec![("bad_signature".to_owned(), json_run[forged_index].1.clone())]
    );
    let mut expected_letters: Vec<(String, Vec<u8>)> = bad
        .iter()
        .map(|(_, bytes, reason)| ((*reason).to_owned(), bytes.clone()))
        .collect();
    expected_letters.push(("bad_signature".to_owned(), encoded[forged_index].clone()));
    expected_letters.sort();
    assert_eq!(letters(&mixed_letters), expected_letters);
    for letter in mixed_letters
        .iter()
        .filter(|l| l.reason_code == "unknown_schema")
    {
        assert!(
            letter.detail.starts_with("schema id 400000"),
            "{}",
            letter.detail
        );
    }

    // Each registered schema was fetched once (cached); each unknown id asked once.
    for (name, id) in &ids {
        assert_eq!(registry.lookups(*id), 1, "{name}");
    }
    assert!(registry.lookups(4_000_000) >= 1);
}

/// Avro messages of `nodes` nodes (seqs 1..=7: register, heartbeats, snapshot, link), with
/// the registry's ids, keyed by node.
fn avro_input(registry: &Registry, nodes: usize) -> Vec<(String, Vec<u8>)> {
    let messages: Vec<(usize, Raw)> = (1..=7)
        .flat_map(|seq| (0..nodes).map(move |node| (node, message(node + SIGNED, seq))))
        .collect();
    let refs: Vec<&Raw> = messages.iter().map(|(_, m)| m).collect();
    let (_, encoded) = encode_with_fastavro(&registry.url(), &refs);
    messages
        .iter()
        .zip(encoded)
        .map(|((node, _), bytes)| (node_id(node + SIGNED), bytes))
        .collect()
}

fn assert_all_out(events: &[(i32, Vec<u8>, FleetEvent)], nodes: usize) {
    let seqs = seqs_by_node(events);
    assert_eq!(seqs.len(), nodes);
    for (node, got) in &seqs {
        assert_eq!(got, &(1..=7).collect::<Vec<i64>>(), "{node}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_registry_failing_for_a_while_delays_but_loses_and_dead_letters_nothing() {
    let registry = Registry::start().await;
    let input = avro_input(&registry, 5);
    registry.fail_with(Some(500));
    let config = deployment("avro_outage", 2).await;
    let _cleanup = common::Cleanup::new(&common::services().kafka, config.topics.prefix());
    common::produce(&config.kafka.bootstrap, &config.topics.raw, &input).await;

    let stop = Shutdown::new();
    let task = {
        let (config, stop) = (config.clone(), stop.clone());
        let normalizer = normalizer(Some(&registry.url()), Duration::from_secs(60));
        tokio::spawn(async move { pipeline::run_normalizer(&config, normalizer, &stop).await })
    };
    // Fail until the normalizer has retried a few times.
    common::eventually(
        Duration::from_secs(60),
        "retries against the failing registry",
        || {
            let failed = registry.failed();
            async move {
                if failed >= 4 {
                    Ok(())
                } else {
                    Err(format!("{failed} failed requests"))
                }
            }
        },
    )
    .await;
    let progress = {
        let (kafka, group, raw) = (
            config.kafka.bootstrap.clone(),
            config.app_id("normalizer"),
            config.topics.raw.clone(),
        );
        tokio::task::spawn_blocking(move || {
            common::kafka::GroupProgress::new(&kafka, &group, &raw, 2).get()
        })
        .await
        .unwrap()
    };
    assert_eq!(progress.0, 0, "nothing committed while the registry fails");
    registry.fail_with(None);

    wait_committed(&config, input.len()).await;
    stop.trigger();
    let stats = task.await.unwrap().unwrap();
    assert!(stats.stopped_partitions.is_empty(), "{stats:?}");
    let (events, letters) = outputs(&config).await;
    assert!(letters.is_empty(), "{letters:?}");
    assert_all_out(&events, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_registry_down_past_max_outage_stops_the_partitions_and_a_restart_resumes() {
    let mut registry = Registry::start().await;
    let input = avro_input(&registry, 4);
    registry.stop();
    let config = deployment("avro_down", 2).await;
    let _cleanup = common::Cleanup::new(&common::services().kafka, config.topics.prefix());
    common::produce(&config.kafka.bootstrap, &config.topics.raw, &input).await;
    let partitions_used = {
        let highs = tokio::task::spawn_blocking({
            let (kafka, raw) = (config.kafka.bootstrap.clone(), config.topics.raw.clone());
            move || common::kafka::high_watermarks(&kafka, &raw, 2)
        })
        .await
        .unwrap();
        highs.iter().filter(|&&high| high > 0).count()
    };

    let stop = Shutdown::new();
    let task = {
        let (config, stop) = (config.clone(), stop.clone());
        let normalizer = normalizer(Some(&registry.url()), Duration::from_secs(2));
        tokio::spawn(async move { pipeline::run_normalizer(&config, normalizer, &stop).await })
    };
    // Each partition with input stops after ~2 s of retries (one after the other: the stage
    // waits for a lookup before processing its batch).
    tokio::time::sleep(Duration::from_secs(8 + 6 * partitions_used as u64)).await;
    stop.trigger();
    let stats = task.await.unwrap().unwrap();
    assert_eq!(stats.stopped_partitions.len(), partitions_used, "{stats:?}");
    assert_eq!(stats.records_in, 0, "nothing committed: {stats:?}");
    let (events, letters) = outputs(&config).await;
    assert!(
        events.is_empty() && letters.is_empty(),
        "{events:?} {letters:?}"
    );

    // The operator brings the registry back and restarts the normalizer.
    registry.restart().await;
    normalize_all(
        &config,
        normalizer(Some(&registry.url()), Duration::from_secs(2)),
        input.len(),
    )
    .await;
    let (events, letters) = outputs(&config).await;
    assert!(letters.is_empty(), "{letters:?}");
    assert_all_out(&events, 4);
}

/// Canonical events of `nodes` nodes (a registration and a heartbeat each), as the normalizer
/// would write them to the events topic, keyed by node.
fn canonical_events(nodes: &[String]) -> Vec<(String, Vec<u8>)> {
    let event = |node: &str, seq: i64, payload| FleetEvent {
        event_id: format!("{node}:{seq}"),
        node_id: node.to_owned(),
        seq,
        event_time_ms: EVENT_T0 + seq * 1_000,
        received_ms: EVENT_T0 + seq * 1_000,
        source: Source::KafkaRaw,
        replayed: false,
        payload,
    };
    nodes
        .iter()
        .flat_map(|node| {
            let register = Register {
                kind: NodeKind::Edge,
                domain_id: "dom-avro".to_owned(),
                region: "eu-1".to_owned(),
                zone: "eu-1a".to_owned(),
                tags: Vec::new(),
                hardware: Hardware::default(),
                firmware: Firmware::default(),
                public_key: None,
            };
            [
                event(node, 1, EventPayload::Register(register)),
                event(node, 2, EventPayload::Heartbeat(Heartbeat::default())),
            ]
        })
        .map(|event| (event.node_id.clone(), encoded(&event).unwrap()))
        .collect()
}

/// (rows in `events`, rows in `node_state FINAL`) of nodes whose id starts with `prefix`; an
/// error until the sink has created the database.
async fn landed(clickhouse: &ClickHouseConfig, prefix: &str) -> Result<(u64, u64), String> {
    let ch = ClickHouse::connect(clickhouse)
        .await
        .map_err(|e| e.to_string())?;
    ch.client()
        .query(&format!(
            "SELECT (SELECT count() FROM events WHERE startsWith(node_id, '{prefix}')),
                    (SELECT count() FROM node_state FINAL WHERE startsWith(node_id, '{prefix}'))"
        ))
        .fetch_one::<(u64, u64)>()
        .await
        .map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_registry_outage_pauses_only_the_normalizer_of_sxfleet_run() {
    let services = common::services();
    let registry = Registry::start().await;
    let avro_nodes = 3;
    let input = avro_input(&registry, avro_nodes);
    registry.fail_with(Some(500));
    let mut config = deployment("avro_run", 2).await;
    config.normalizer = normalizer(Some(&registry.url()), Duration::from_secs(300));
    let database = common::unique("fleet_avro_run");
    let clickhouse = ClickHouseConfig::new(&services.clickhouse, &database);
    let _cleanup = common::Cleanup::new(&services.kafka, config.topics.prefix())
        .database(&services.clickhouse, &database);
    common::produce(&services.kafka, &config.topics.raw, &input).await;

    let stop = Shutdown::new();
    let run = {
        let (config, clickhouse, stop) = (config.clone(), clickhouse.clone(), stop.clone());
        tokio::spawn(async move { pipeline::run_all(&config, &clickhouse, &stop).await })
    };
    common::eventually(
        Duration::from_secs(60),
        "retries against the failing registry",
        || {
            let failed = registry.failed();
            async move {
                if failed >= 4 {
                    Ok(())
                } else {
                    Err(format!("{failed} failed requests"))
                }
            }
        },
    )
    .await;

    // While the normalizer waits for the registry, events that reach the events topic go
    // through the twin and the sink running in the same task.
    let direct: Vec<String> = (0..4).map(|n| format!("sx-direct-{n}")).collect();
    common::produce(
        &services.kafka,
        &config.topics.events,
        &canonical_events(&direct),
    )
    .await;
    common::eventually(
        Duration::from_secs(90),
        "direct events and twins in ClickHouse",
        || async {
            match landed(&clickhouse, "sx-direct-").await? {
                (8, 4) => Ok(()),
                other => Err(format!("(events, twins) = {other:?}")),
            }
        },
    )
    .await;
    let failed_before = registry.failed();
    let progress = {
        let (kafka, group, raw) = (
            services.kafka.clone(),
            config.app_id("normalizer"),
            config.topics.raw.clone(),
        );
        tokio::task::spawn_blocking(move || {
            common::kafka::GroupProgress::new(&kafka, &group, &raw, 2).get()
        })
        .await
        .unwrap()
    };
    assert_eq!(progress.0, 0, "nothing normalized while the registry fails");
    assert_eq!(
        landed(&clickhouse, "sx-avro-").await.unwrap(),
        (0, 0),
        "no Avro input landed yet"
    );
    common::eventually(
        Duration::from_secs(30),
        "the normalizer still retrying",
        || {
            let failed = registry.failed();
            async move {
                if failed > failed_before {
                    Ok(())
                } else {
                    Err(format!("{failed} failed requests"))
                }
            }
        },
    )
    .await;

    // The registry answers again: the waiting batch goes through, nothing dead-lettered.
    registry.fail_with(None);
    wait_committed(&config, input.len()).await;
    let avro_events = 7 * avro_nodes as u64;
    common::eventually(
        Duration::from_secs(90),
        "Avro events and twins in ClickHouse",
        || async {
            match landed(&clickhouse, "sx-avro-").await? {
                (events, twins) if events == avro_events && twins == avro_nodes as u64 => Ok(()),
                other => Err(format!("(events, twins) = {other:?}")),
            }
        },
    )
    .await;
    stop.trigger();
    run.await.unwrap().unwrap();
    let (_, letters) = outputs(&config).await;
    assert!(letters.is_empty(), "{letters:?}");
}

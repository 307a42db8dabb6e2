//! The normalizer stage with Avro raw messages, driven in-process over an in-memory registry
//! (tier b): Avro and JSON forms of the same messages give the same outputs; unknown ids and
//! corrupt datums are dead-lettered with their bytes; an unavailable registry is an internal
//! error with no output (never a DLQ record); signatures cover the converted object. The
//! registry's own HTTP path is tested against the fixture in `tests/ingest_avro.rs`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use apache_avro::types::Value as Avro;
use apache_avro::writer::datum::GenericDatumWriter;
use apache_avro::Schema;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use proptest::prelude::*;
use serde_json::{json, Value};
use sxfleet_ingest::registry::{FetchError, FetchSchema, RegisteredSchema};
use sxfleet_ingest::signature::canonical_bytes;
use sxfleet_ingest::{
    NormalizerConfig, NormalizerStage, RegistryUrl, SchemaRegistry, SchemaRegistryConfig,
    SignatureMode,
};
use sxfleet_runtime::{Input, Output, Stage, Topics};
use sxfleet_schemas::{decode, Canonical, DeadLetter, EventPayload, FleetEvent};

const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

const HEARTBEAT: u32 = 11;
const REGISTER: u32 = 12;
const SNAPSHOT: u32 = 13;
const LINK: u32 = 14;
const NOT_A_RECORD: u32 = 15;

fn schema_text(id: u32) -> &'static str {
    match id {
        HEARTBEAT => include_str!("../../schemas/raw/Heartbeat.avsc"),
        REGISTER => include_str!("../../schemas/raw/Register.avsc"),
        SNAPSHOT => include_str!("../../schemas/raw/Snapshot.avsc"),
        LINK => include_str!("../../schemas/raw/Link.avsc"),
        _ => r#"{"type": "array", "items": "long"}"#,
    }
}

/// The registry: the raw schemas under fixed ids; can be switched off.
struct Fake {
    schemas: HashMap<u32, &'static str>,
    down: Arc<AtomicBool>,
}

impl FetchSchema for Fake {
    fn fetch(&self, id: u32) -> Result<RegisteredSchema, FetchError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(FetchError::Status {
                status: 503,
                message: "down".into(),
            });
        }
        match self.schemas.get(&id) {
            Some(text) => Ok(RegisteredSchema {
                schema: (*text).to_owned(),
                schema_type: None,
                references: 0,
            }),
            None => Err(FetchError::NotFound {
                id,
                message: format!("Schema {id} not found"),
            }),
        }
    }
}

fn topics() -> Topics {
    Topics::with_prefix("t.")
}

fn stage(config: NormalizerConfig, registry: bool) -> (NormalizerStage, Arc<AtomicBool>) {
    let down = Arc::new(AtomicBool::new(false));
    let stage = NormalizerStage::new("app", config, topics(), 2);
    if !registry {
        return (stage, down);
    }
    let fake = Fake {
        schemas: [HEARTBEAT, REGISTER, SNAPSHOT, LINK, NOT_A_RECORD]
            .into_iter()
            .map(|id| (id, schema_text(id)))
            .collect(),
        down: Arc::clone(&down),
    };
    let mut settings = SchemaRegistryConfig::new(RegistryUrl::parse("http://127.0.0.1:1").unwrap());
    settings.retry_backoff = Duration::from_millis(5);
    settings.max_outage = Duration::from_millis(100);
    let stage = stage.with_registry(SchemaRegistry::new(&settings, Box::new(fake)));
    (stage, down)
}

/// Confluent wire bytes of `value` (JSON, resolved against the schema by apache-avro).
fn avro(id: u32, value: &Value) -> Vec<u8> {
    let schema = Schema::parse_str(schema_text(id)).unwrap();
    let value = Avro::try_from(value.clone())
        .unwrap()
        .resolve(&schema)
        .unwrap();
    let datum = GenericDatumWriter::builder(&schema)
        .build()
        .unwrap()
        .write_value_to_vec(value)
        .unwrap();
    let mut raw = vec![0];
    raw.extend_from_slice(&id.to_be_bytes());
    raw.extend(datum);
    raw
}

/// One message in both forms: the Avro record (ts in epoch ms) and its JSON twin (ts as RFC
/// 3339 text), with its schema id.
struct Message {
    id: u32,
    avro: Value,
    json: Value,
}

fn message(id: u32, node: &str, seq: i64, fields: Value) -> Message {
    let kind = match id {
        HEARTBEAT => "heartbeat",
        REGISTER => "register",
        SNAPSHOT => "snapshot",
        _ => "link",
    };
    let mut avro = json!({"type": kind, "node_id": node, "seq": seq, "ts": T0 + seq * 1_000});
    let mut twin = json!({"type": kind, "node_id": node, "seq": seq,
                          "ts": format!("2026-01-01T00:00:{seq:02}.000Z")});
    for (key, value) in fields.as_object().unwrap() {
        avro[key] = value.clone();
        twin[key] = value.clone();
    }
    Message {
        id,
        avro,
        json: twin,
    }
}

fn messages(node: &str) -> Vec<Message> {
    vec![
        message(
            REGISTER,
            node,
            1,
            json!({"kind": "GATEWAY", "domain_id": "d-1", "region": "eu", "zone": "eu-1",
                   "tags": ["rempart", "prod"],
                   "hardware": {"serial": "HW-1", "model": "SX-E1"},
                   "firmware": {"version": "2.1.3", "signature": "sha256:abc"}}),
        ),
        message(
            HEARTBEAT,
            node,
            2,
            json!({"rtt_ms": 12.5, "loss_pct": 0.25, "bandwidth_kbps": 10_000, "health": "DEGRADED",
                   "via": ["relay-7", "sat-link-2"]}),
        ),
        message(
            SNAPSHOT,
            node,
            4,
            json!({"reported_version": "1.4.6",
                   "config": {"stir.enforcement_mode": "soft", "rate_limit.max_cps": "1500"},
                   "inventory": {"cpu": "x86_64", "ram_gb": 16.0, "gpus": ["a100"]}}),
        ),
        message(LINK, node, 3, json!({"state": "lost", "via": []})),
        message(HEARTBEAT, node, 5, json!({"uptime_s": 30})),
    ]
}

fn input<'a>(offset: i64, payload: &'a [u8]) -> Input<'a> {
    Input {
        topic: "t.raw",
        partition: 0,
        offset,
        key: None,
        payload: Some(payload),
        timestamp_ms: Some(T0 + 60_000 + offset),
        source: None,
    }
}

/// Lets the stage resolve what `inputs`, one batch, need ([`Stage::prepare`], as the driver
/// does before processing them).
fn prepare(stage: &mut NormalizerStage, inputs: &[Input<'_>]) {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
        .block_on(stage.prepare(inputs))
        .unwrap();
}

/// Everything the stage writes for `payloads` (one batch), in order, flushes included.
fn run(stage: &mut NormalizerStage, payloads: &[Vec<u8>]) -> Vec<Output> {
    let mut out = Vec::new();
    let inputs: Vec<Input<'_>> = payloads
        .iter()
        .enumerate()
        .map(|(offset, payload)| input(offset as i64, payload))
        .collect();
    prepare(stage, &inputs);
    for input in &inputs {
        stage.process(input, &mut out).unwrap();
    }
    stage.on_tick(0, T0 + 3_600_000, &mut out).unwrap();
    stage.flush(&mut out).unwrap();
    out
}

/// The records written to `topic`, decoded.
fn decoded<T: Canonical>(outputs: &[Output], topic: &str) -> Vec<T> {
    outputs
        .iter()
        .filter(|o| o.topic == topic)
        .map(|o| decode(o.payload.as_deref().unwrap()).unwrap())
        .collect()
}

fn dead_letters(outputs: &[Output]) -> Vec<DeadLetter> {
    decoded(outputs, &topics().dlq)
}

fn events(outputs: &[Output]) -> Vec<FleetEvent> {
    decoded(outputs, &topics().events)
}

#[test]
fn avro_and_json_forms_of_the_same_messages_give_the_same_outputs() {
    let all: Vec<Message> = ["n-a", "n-b"].into_iter().flat_map(messages).collect();
    let as_json: Vec<Vec<u8>> = all
        .iter()
        .map(|m| m.json.to_string().into_bytes())
        .collect();
    // Mixed: node n-a all Avro, node n-b alternating, and every message of n-a once more as
    // JSON (a duplicate across formats, dropped by dedupe).
    let mut mixed: Vec<Vec<u8>> = all
        .iter()
        .enumerate()
        .map(|(i, m)| {
            if m.json["node_id"] == "n-a" || i % 2 == 0 {
                avro(m.id, &m.avro)
            } else {
                m.json.to_string().into_bytes()
            }
        })
        .collect();
    let (mut json_stage, _) = stage(NormalizerConfig::default(), true);
    let (mut mixed_stage, _) = stage(NormalizerConfig::default(), true);
    let expected = run(&mut json_stage, &as_json);
    let duplicates: Vec<Vec<u8>> = as_json[..5].to_vec();
    mixed.extend(duplicates);
    let got = run(&mut mixed_stage, &mixed);
    assert!(dead_letters(&got).is_empty(), "{:?}", dead_letters(&got));
    let (expected_events, got_events) = (events(&expected), events(&got));
    assert_eq!(expected_events.len(), 10);
    assert_eq!(got_events, expected_events);
    // Byte for byte, changelog records included.
    assert_eq!(got, expected);
    // The nested and map fields made it through.
    let EventPayload::Register(register) = &got_events[0].payload else {
        panic!("{:?}", got_events[0])
    };
    assert_eq!(register.tags, ["rempart", "prod"]);
    assert_eq!(register.hardware.serial.as_deref(), Some("HW-1"));
    assert_eq!(register.firmware.version.as_deref(), Some("2.1.3"));
    let snapshot = got_events
        .iter()
        .find_map(|e| match &e.payload {
            EventPayload::Snapshot(s) => Some(s),
            _ => None,
        })
        .unwrap();
    assert_eq!(snapshot.config["rate_limit.max_cps"], "1500");
    assert_eq!(snapshot.inventory.as_ref().unwrap().gpus, ["a100"]);
    // So did `via`: a path on the heartbeat, direct (empty) on the link.
    let paths: Vec<Option<Vec<String>>> = got_events[..5]
        .iter()
        .filter_map(|e| match &e.payload {
            EventPayload::Heartbeat(h) => Some(h.via.clone()),
            EventPayload::Link(l) => Some(l.via.clone()),
            _ => None,
        })
        .collect();
    let hops = vec!["relay-7".to_owned(), "sat-link-2".to_owned()];
    assert_eq!(paths, [Some(hops), Some(vec![]), None]);
}

#[test]
fn unknown_ids_and_bad_datums_are_dead_lettered_with_their_bytes() {
    let good = avro(HEARTBEAT, &messages("n-c")[1].avro);
    let mut unknown = good.clone();
    unknown[1..5].copy_from_slice(&999u32.to_be_bytes());
    let mut truncated = good.clone();
    truncated.truncate(12);
    let mut extra = good.clone();
    extra.push(7);
    let mut not_a_record = good.clone();
    not_a_record[1..5].copy_from_slice(&NOT_A_RECORD.to_be_bytes());
    let short = vec![0, 0, 0];
    let inputs = vec![
        unknown.clone(),
        truncated.clone(),
        extra.clone(),
        not_a_record.clone(),
        short.clone(),
    ];
    let (mut stage, _) = stage(NormalizerConfig::default(), true);
    let out = run(&mut stage, &inputs);
    let letters = dead_letters(&out);
    let got: Vec<(&str, &[u8])> = letters
        .iter()
        .map(|l| (l.reason_code.as_str(), l.original.as_slice()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("unknown_schema", unknown.as_slice()),
            ("invalid_avro", truncated.as_slice()),
            ("invalid_avro", extra.as_slice()),
            ("invalid_avro", not_a_record.as_slice()),
            ("invalid_avro", short.as_slice()),
        ]
    );
    assert_eq!(
        letters[0].detail,
        "schema id 999 is not registered: Schema 999 not found"
    );
    assert!(
        letters[3].detail.contains("not a record"),
        "{}",
        letters[3].detail
    );
    assert!(events(&out).is_empty());
}

#[test]
fn without_a_registry_avro_bytes_stay_invalid_json() {
    let bytes = avro(HEARTBEAT, &messages("n-d")[1].avro);
    let (mut stage, _) = stage(NormalizerConfig::default(), false);
    let letters = dead_letters(&run(&mut stage, &[bytes]));
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].reason_code, "invalid_json");
}

#[test]
fn an_unavailable_registry_is_an_internal_error_with_no_output() {
    let bytes = avro(HEARTBEAT, &messages("n-e")[1].avro);
    let (mut stage, down) = stage(NormalizerConfig::default(), true);
    down.store(true, Ordering::SeqCst);
    let mut out = Vec::new();
    prepare(&mut stage, &[input(0, &bytes)]);
    let error = stage.process(&input(0, &bytes), &mut out).unwrap_err();
    assert!(
        error.0.contains("schema registry unavailable") && error.0.contains("503"),
        "{}",
        error.0
    );
    assert!(
        out.is_empty(),
        "nothing written, nothing dead-lettered: {out:?}"
    );
    // The driver would abort the batch; once the registry answers, the same record goes
    // through (the failure was not cached).
    down.store(false, Ordering::SeqCst);
    prepare(&mut stage, &[input(0, &bytes)]);
    stage.process(&input(0, &bytes), &mut out).unwrap();
    assert!(dead_letters(&out).is_empty());
}

fn key() -> SigningKey {
    SigningKey::from_bytes(&[5; 32])
}

/// Signs the JSON twin (the converted object) and puts `sig` into both forms.
fn signed(mut message: Message) -> Message {
    let sig = STANDARD.encode(key().sign(&canonical_bytes(&message.json)).to_bytes());
    message.avro["sig"] = json!(sig);
    message.json["sig"] = json!(sig);
    message
}

#[test]
fn signatures_of_avro_messages_cover_the_converted_object() {
    let config = NormalizerConfig {
        signatures: SignatureMode::Verify,
        ..NormalizerConfig::default()
    };
    let mut register = messages("n-s").remove(0);
    let public_key = STANDARD.encode(key().verifying_key().to_bytes());
    register.avro["public_key"] = json!(public_key);
    register.json["public_key"] = json!(public_key);
    let register = signed(register);
    let heartbeat = signed(messages("n-s").remove(1));
    let mut forged = avro(HEARTBEAT, &{
        let mut value = signed(messages("n-s").remove(4)).avro;
        value["uptime_s"] = json!(31);
        value
    });
    let (mut stage, _) = stage(config, true);
    let out = run(
        &mut stage,
        &[
            avro(REGISTER, &register.avro),
            avro(HEARTBEAT, &heartbeat.avro),
            std::mem::take(&mut forged),
        ],
    );
    let letters = dead_letters(&out);
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0].reason_code, "bad_signature");
    let kinds: Vec<(i64, bool)> = events(&out)
        .iter()
        .map(|e| (e.seq, matches!(e.payload, EventPayload::TrustViolation(_))))
        .collect();
    assert_eq!(kinds, vec![(1, false), (2, false), (5, true)]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn any_bytes_after_a_header_are_taken_or_dead_lettered_once(
        id in prop_oneof![Just(HEARTBEAT), Just(REGISTER), Just(SNAPSHOT), Just(LINK), Just(77u32)],
        datum in proptest::collection::vec(any::<u8>(), 0..80),
        mutate in any::<bool>(),
        at in any::<usize>(),
        byte in any::<u8>(),
    ) {
        let raw = if mutate && id != 77 {
            let valid = messages("n-p").into_iter().find(|m| m.id == id).unwrap();
            let mut bytes = avro(id, &valid.avro);
            let at = 5 + at % (bytes.len() - 5);
            bytes[at] = byte;
            bytes
        } else {
            let mut bytes = vec![0];
            bytes.extend_from_slice(&id.to_be_bytes());
            bytes.extend(&datum);
            bytes
        };
        let (mut stage, _) = stage(NormalizerConfig::default(), true);
        let mut out = Vec::new();
        prepare(&mut stage, &[input(0, &raw)]);
        stage.process(&input(0, &raw), &mut out).unwrap();
        let letters = dead_letters(&out);
        prop_assert!(letters.len() <= 1);
        if let Some(letter) = letters.first() {
            prop_assert_eq!(&letter.original, &raw);
            prop_assert!(!letter.detail.is_empty());
            if id == 77 {
                prop_assert_eq!(letter.reason_code.as_str(), "unknown_schema");
            }
        } else {
            prop_assert!(id != 77);
        }
    }
}

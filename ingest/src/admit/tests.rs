use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{json, Value};
use sxfleet_schemas::Source;

use super::{admit, NodeIngest, NodeMessage, Verdict};
use crate::config::{NormalizerConfig, SignatureMode};
use crate::context::RawContext;
use crate::normalize::{normalize, Normalized};
use crate::reject::ReasonCode;
use crate::signature::{canonical_bytes, signed};
use crate::telemetry::Counts;

const CTX: RawContext = RawContext {
    source: Source::KafkaRaw,
    received_ms: 1_800_000_000_000,
};

fn node_key() -> SigningKey {
    SigningKey::from_bytes(&[9; 32])
}

fn key_text(key: &SigningKey) -> String {
    STANDARD.encode(key.verifying_key().to_bytes())
}

fn heartbeat(seq: i64) -> Value {
    json!({"type": "heartbeat", "node_id": "n-1", "ts": "2026-01-01T00:00:00Z", "seq": seq})
}

fn register(seq: i64, key: &SigningKey) -> Value {
    json!({"type": "register", "node_id": "n-1", "ts": "2026-01-01T00:00:00Z", "seq": seq,
           "kind": "EDGE", "domain_id": "d", "region": "r", "zone": "z",
           "public_key": key_text(key)})
}

fn chunk(seq: i64, chunk_seq: i64, events: Vec<Value>) -> Value {
    json!({"type": "replay", "node_id": "n-1", "ts": "2026-01-01T00:00:00Z", "seq": seq,
           "phase": "chunk", "session_id": "s-1", "chunk_seq": chunk_seq, "events": events})
}

fn sign(mut value: Value, key: &SigningKey) -> Value {
    let sig = STANDARD.encode(key.sign(&canonical_bytes(&value)).to_bytes());
    if let Value::Object(map) = &mut value {
        map.insert("sig".into(), Value::String(sig));
    }
    value
}

fn message(config: &NormalizerConfig, value: &Value) -> NodeMessage {
    let raw = serde_json::to_vec(value).unwrap();
    let events = normalize(config, &raw, CTX)
        .unwrap()
        .into_iter()
        .filter_map(|record| match record {
            Normalized::Event(event) => Some(event),
            Normalized::Control(_) => None,
        })
        .collect();
    let Value::Object(map) = value else {
        panic!("test messages are objects")
    };
    NodeMessage {
        events,
        signed: signed(map),
    }
}

/// Admits `value` and returns the released seqs, or the reason code of the rejection.
fn run(
    state: &mut Option<NodeIngest>,
    config: &NormalizerConfig,
    value: &Value,
) -> Result<(Vec<i64>, Counts), ReasonCode> {
    match admit(state, message(config, value), config, CTX.received_ms) {
        Verdict::Taken { released, counts } => {
            Ok((released.iter().map(|e| e.seq).collect(), counts))
        }
        Verdict::Rejected(rejection) => Err(rejection.code),
    }
}

fn verifying() -> NormalizerConfig {
    NormalizerConfig {
        signatures: SignatureMode::Verify,
        ..NormalizerConfig::default()
    }
}

#[test]
fn with_verification_a_registered_node_must_sign_everything() {
    let config = verifying();
    let key = node_key();
    let mut state = None;
    assert_eq!(
        run(&mut state, &config, &sign(register(1, &key), &key))
            .unwrap()
            .0,
        vec![1]
    );
    assert_eq!(
        run(&mut state, &config, &sign(heartbeat(2), &key))
            .unwrap()
            .0,
        vec![2]
    );
    assert_eq!(
        run(&mut state, &config, &heartbeat(3)),
        Err(ReasonCode::Unsigned)
    );
    let forger = SigningKey::from_bytes(&[1; 32]);
    assert_eq!(
        run(&mut state, &config, &sign(heartbeat(3), &forger)),
        Err(ReasonCode::BadSignature)
    );
    assert_eq!(
        run(&mut state, &config, &sign(register(3, &forger), &forger)),
        Err(ReasonCode::KeyConflict),
        "first registration wins"
    );
    assert_eq!(
        run(&mut state, &config, &sign(heartbeat(3), &key))
            .unwrap()
            .0,
        vec![3]
    );
}

#[test]
fn a_registration_must_be_signed_by_the_key_it_brings() {
    let config = verifying();
    let key = node_key();
    let mut state = None;
    assert_eq!(
        run(&mut state, &config, &register(1, &key)),
        Err(ReasonCode::Unsigned)
    );
    assert_eq!(state.as_ref().and_then(|s| s.public_key.clone()), None);
}

#[test]
fn without_verification_keys_register_but_nothing_is_checked() {
    let config = NormalizerConfig::default();
    let key = node_key();
    let mut state = None;
    assert_eq!(
        run(&mut state, &config, &register(1, &key)).unwrap().0,
        vec![1]
    );
    assert_eq!(
        state.as_ref().and_then(|s| s.public_key.clone()),
        Some(key_text(&key))
    );
    assert_eq!(run(&mut state, &config, &heartbeat(2)).unwrap().0, vec![2]);
    let mut bad = register(3, &key);
    bad["public_key"] = json!("not base64!");
    assert_eq!(run(&mut state, &config, &bad), Err(ReasonCode::BadKey));
}

#[test]
fn replayed_events_are_deduped_against_live_ones_and_fill_gaps() {
    let config = NormalizerConfig::default();
    let mut state = None;
    assert_eq!(run(&mut state, &config, &heartbeat(1)).unwrap().0, vec![1]);
    assert_eq!(
        run(&mut state, &config, &heartbeat(3)).unwrap().0,
        Vec::<i64>::new()
    );
    // The chunk (seq 4) carries 2 (missing) and 3 (already held): 2 fills the gap, 3 is a
    // duplicate, and 2, 3 and the chunk marker go out in seq order.
    let (released, counts) = run(
        &mut state,
        &config,
        &chunk(4, 1, vec![heartbeat(2), heartbeat(3)]),
    )
    .unwrap();
    assert_eq!(released, vec![2, 3, 4]);
    assert_eq!(counts.duplicates, 1);
    // The same chunk again (the upload resumed), under a new seq: nothing but the seq.
    let (released, counts) = run(
        &mut state,
        &config,
        &chunk(5, 1, vec![heartbeat(2), heartbeat(3)]),
    )
    .unwrap();
    assert_eq!(released, Vec::<i64>::new());
    assert_eq!(counts.duplicates, 3);
    assert_eq!(run(&mut state, &config, &heartbeat(6)).unwrap().0, vec![6]);
}

#[test]
fn state_round_trips_through_its_changelog_codec() {
    use sxfleet_runtime::store::StoreCodec;
    let config = NormalizerConfig::default();
    let mut state = None;
    run(&mut state, &config, &register(1, &node_key())).unwrap();
    run(&mut state, &config, &heartbeat(5)).unwrap();
    run(&mut state, &config, &chunk(6, 1, vec![heartbeat(2)])).unwrap();
    let state = state.unwrap();
    assert_eq!(NodeIngest::decode(&state.encode().unwrap()).unwrap(), state);
    assert!(NodeIngest::decode(b"{}").is_err());
}

#[test]
fn a_replay_begin_releases_the_live_events_waiting_for_the_backlog() {
    let config = NormalizerConfig::default();
    let mut state = None;
    for seq in 1..=3 {
        run(&mut state, &config, &heartbeat(seq)).unwrap();
    }
    // Offline for 4..=6; back with 7, then the session: BEGIN 8, a chunk (9) carrying 4..=6.
    assert_eq!(
        run(&mut state, &config, &heartbeat(7)).unwrap().0,
        Vec::<i64>::new()
    );
    let begin = json!({"type": "replay", "node_id": "n-1", "ts": "2026-01-01T00:00:00Z",
                       "seq": 8, "phase": "begin", "session_id": "s-1", "backlog_total": 3});
    assert_eq!(run(&mut state, &config, &begin).unwrap().0, vec![7, 8]);
    let (released, counts) = run(
        &mut state,
        &config,
        &chunk(9, 1, vec![heartbeat(4), heartbeat(5), heartbeat(6)]),
    )
    .unwrap();
    assert_eq!(
        released,
        vec![9, 4, 5, 6],
        "the backlog after its chunk marker"
    );
    assert_eq!(counts.late, 3);
    assert_eq!(
        run(&mut state, &config, &heartbeat(10)).unwrap().0,
        vec![10]
    );
}

//! Table-driven tests of the normalizer, plus a property test over arbitrary input.

use proptest::prelude::*;
use sxfleet_schemas::{EventPayload, Health, Source};

use super::{normalize, Normalized};

mod commands;
mod federation;
use crate::config::{NormalizerConfig, UnknownFields};
use crate::context::RawContext;
use crate::reject::ReasonCode;

pub(super) const RECEIVED_MS: i64 = 1_772_150_400_000; // 2026-02-27T00:00:00Z

pub(super) fn ctx() -> RawContext {
    RawContext {
        source: Source::KafkaRaw,
        received_ms: RECEIVED_MS,
    }
}

pub(super) fn code_of(raw: &str, config: &NormalizerConfig) -> Result<usize, ReasonCode> {
    normalize(config, raw.as_bytes(), ctx())
        .map(|records| records.len())
        .map_err(|rejected| rejected.rejection.code)
}

#[test]
fn table_of_inputs_and_outcomes() {
    let hb = r#""type":"heartbeat","node_id":"n-1","ts":"2026-02-27T00:00:00Z""#;
    let cases: Vec<(String, Result<usize, ReasonCode>)> = vec![
        (format!("{{{hb},\"seq\":1}}"), Ok(1)),
        (format!("{{{hb},\"seq\":1,\"health\":\"degraded\"}}"), Ok(1)),
        (format!("{{{hb}}}"), Err(ReasonCode::MissingField)),
        (format!("{{{hb},\"seq\":-1}}"), Err(ReasonCode::OutOfRange)),
        (format!("{{{hb},\"seq\":\"1\"}}"), Err(ReasonCode::WrongType)),
        (format!("{{{hb},\"seq\":1,\"loss_pct\":100.5}}"), Err(ReasonCode::OutOfRange)),
        (format!("{{{hb},\"seq\":1,\"health\":\"UNKNOWNISH\"}}"), Err(ReasonCode::BadEnum)),
        (
            r#"{"type":"heartbeat","node_id":"","ts":"2026-02-27T00:00:00Z","seq":1}"#.into(),
            Err(ReasonCode::BadId),
        ),
        (
            // Six minutes ahead of the receive time: beyond the default five.
            r#"{"type":"link","node_id":"n-1","ts":"2026-02-27T00:06:00Z","seq":1,"state":"lost"}"#.into(),
            Err(ReasonCode::FutureTimestamp),
        ),
        (
            // A year old: late, but accepted.
            r#"{"type":"link","node_id":"n-1","ts":"2025-02-27T00:00:00Z","seq":1,"state":"lost"}"#.into(),
            Ok(1),
        ),
        (
            r#"{"type":"register","node_id":"n-1","ts":"2026-02-27T00:00:00Z","seq":1,"kind":"UNKNOWN","domain_id":"d","region":"r","zone":"z"}"#.into(),
            Err(ReasonCode::BadEnum),
        ),
        ("".into(), Err(ReasonCode::EmptyPayload)),
        ("null".into(), Err(ReasonCode::NotAnObject)),
        ("{".into(), Err(ReasonCode::InvalidJson)),
        (r#"{"type":"warp"}"#.into(), Err(ReasonCode::UnknownType)),
        (
            r#"{"type":"domain","ts":"2026-02-27T00:00:00Z","domain_id":"region-a","level":"REGION"}"#.into(),
            Ok(1),
        ),
        (
            r#"{"type":"assign","ts":"2026-02-27T00:00:00Z","bundle_id":"b","authority":{"controller_id":"c","level":"REGION","epoch":1}}"#.into(),
            Err(ReasonCode::MissingField),
        ),
    ];
    let config = NormalizerConfig::default();
    for (raw, want) in cases {
        assert_eq!(code_of(&raw, &config), want, "{raw}");
    }
}

#[test]
fn unknown_fields_are_ignored_or_rejected_as_configured() {
    let raw = r#"{"type":"link","node_id":"n-1","ts":"2026-02-27T00:00:00Z","seq":1,"state":"lost","colour":"red"}"#;
    assert_eq!(code_of(raw, &NormalizerConfig::default()), Ok(1));
    let strict = NormalizerConfig {
        unknown_fields: UnknownFields::Reject,
        ..NormalizerConfig::default()
    };
    assert_eq!(code_of(raw, &strict), Err(ReasonCode::UnknownField));
}

#[test]
fn heartbeat_fields_reach_the_canonical_event() {
    let raw = br#"{"type":"heartbeat","node_id":"n-1","ts":"2026-02-27T00:00:30.250Z","seq":7,"rtt_ms":45,"loss_pct":0.5,"health":"ok","uptime_s":900}"#;
    let records = normalize(&NormalizerConfig::default(), raw, ctx()).unwrap();
    let [Normalized::Event(event)] = records.as_slice() else {
        panic!("one event expected, got {records:?}");
    };
    assert_eq!(event.event_id, "n-1:7");
    assert_eq!(event.event_time_ms, RECEIVED_MS + 30_250);
    assert_eq!(event.received_ms, RECEIVED_MS);
    let EventPayload::Heartbeat(hb) = &event.payload else {
        panic!("heartbeat expected");
    };
    assert_eq!(hb.rtt_ms, Some(45.0));
    assert_eq!(hb.health, Health::Ok);
    assert_eq!(hb.uptime_s, Some(900));
}

#[test]
fn a_replay_chunk_yields_its_marker_and_its_events_or_nothing() {
    let chunk = |second_seq: &str| {
        format!(
            r#"{{"type":"replay","node_id":"n-1","ts":"2026-02-27T00:00:00Z","seq":9,"phase":"chunk","chunk_seq":1,
            "events":[{{"type":"heartbeat","node_id":"n-1","ts":"2026-02-26T20:00:00Z","seq":3}},
                      {{"type":"heartbeat","node_id":"n-1","ts":"2026-02-26T20:00:30Z","seq":{second_seq}}}]}}"#
        )
    };
    let records = normalize(&NormalizerConfig::default(), chunk("4").as_bytes(), ctx()).unwrap();
    assert_eq!(records.len(), 3);
    let replayed: Vec<bool> = records
        .iter()
        .map(|r| matches!(r, Normalized::Event(e) if e.replayed))
        .collect();
    assert_eq!(replayed, [false, true, true]);
    let rejected = normalize(
        &NormalizerConfig::default(),
        chunk("\"x\"").as_bytes(),
        ctx(),
    );
    let rejection = rejected.unwrap_err().rejection;
    assert_eq!(rejection.code, ReasonCode::WrongType);
    assert!(
        rejection.detail.starts_with("events[1]"),
        "{}",
        rejection.detail
    );
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = normalize(&NormalizerConfig::default(), &bytes, ctx());
    }

    #[test]
    fn mutated_valid_messages_are_accepted_or_rejected_never_panic(
        cut in 0usize..120,
        flip in 0usize..120,
        byte in any::<u8>(),
    ) {
        let mut raw = br#"{"type":"heartbeat","node_id":"n-1","ts":"2026-02-27T00:00:00Z","seq":1,"rtt_ms":4}"#.to_vec();
        if flip < raw.len() { raw[flip] = byte; }
        raw.truncate(cut.max(1));
        match normalize(&NormalizerConfig::default(), &raw, ctx()) {
            Ok(records) => prop_assert!(!records.is_empty()),
            Err(rejected) => prop_assert!(!rejected.rejection.detail.is_empty()),
        }
    }
}

//! The normalizer stage with control-plane records, driven in-process (tier b): a `sync`
//! report takes the same path as every control record, to the control topic and one copy to
//! each partition of the events topic, keyed by its domain.

use sxfleet_ingest::{NormalizerConfig, NormalizerStage};
use sxfleet_runtime::{Input, Output, Stage, Topics};
use sxfleet_schemas::{decode, ControlEvent, ControlPayload, DeadLetter, SyncDirection};

const T0: i64 = 1_772_150_400_000; // 2026-02-27T00:00:00Z

fn run(stage: &mut NormalizerStage, payload: &[u8]) -> Vec<Output> {
    let input = Input {
        topic: "t.fleet.raw.v1",
        partition: 0,
        offset: 0,
        key: Some(b"region-a"),
        payload: Some(payload),
        timestamp_ms: Some(T0 + 1_200_000),
        source: None,
    };
    let mut out = Vec::new();
    stage.process(&input, &mut out).unwrap();
    stage.flush(&mut out).unwrap();
    out
}

#[test]
fn a_sync_report_goes_to_the_control_topic_and_every_events_partition() {
    let topics = Topics::with_prefix("t.");
    let mut stage = NormalizerStage::new("app", NormalizerConfig::default(), topics.clone(), 3);
    let raw = br#"{"type":"sync","ts":"2026-02-27T00:20:00Z","controller_id":"region-a-control",
        "domain_id":"region-a","direction":"upstream","peer":"global-control",
        "last_sync":"2026-02-27T00:15:00Z","frequency":"15m","mode":"continuous"}"#;
    let out = run(&mut stage, raw);
    let copies: Vec<Option<i32>> = out
        .iter()
        .filter(|o| o.topic == topics.events)
        .map(|o| o.partition)
        .collect();
    assert_eq!(copies, [Some(0), Some(1), Some(2)]);
    let control: Vec<&Output> = out.iter().filter(|o| o.topic == topics.control).collect();
    assert_eq!(control.len(), 1);
    for output in out
        .iter()
        .filter(|o| o.topic == topics.events || o.topic == topics.control)
    {
        assert_eq!(output.key.as_deref(), Some(&b"region-a"[..]));
        let event: ControlEvent = decode(output.payload.as_deref().unwrap()).unwrap();
        let ControlPayload::Sync(sync) = event.payload else {
            panic!("{event:?}")
        };
        assert_eq!(sync.direction, SyncDirection::Upstream);
        assert_eq!(sync.last_sync_ms, T0 + 900_000);
        assert_eq!(sync.frequency_ms, Some(900_000));
    }
}

#[test]
fn a_bad_sync_report_is_dead_lettered_with_its_reason() {
    let topics = Topics::with_prefix("t.");
    let mut stage = NormalizerStage::new("app", NormalizerConfig::default(), topics.clone(), 3);
    let raw = br#"{"type":"sync","ts":"2026-02-27T00:20:00Z","controller_id":"c","domain_id":"d",
        "direction":"upstream","peer":"p","last_sync":"2026-02-27T00:15:00Z","frequency":"soon"}"#;
    let out = run(&mut stage, raw);
    assert!(out
        .iter()
        .all(|o| o.topic != topics.events && o.topic != topics.control));
    let dead: Vec<DeadLetter> = out
        .iter()
        .filter(|o| o.topic == topics.dlq)
        .map(|o| decode(o.payload.as_deref().unwrap()).unwrap())
        .collect();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].reason_code, "bad_duration");
    assert_eq!(dead[0].original, raw);
}

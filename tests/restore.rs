//! Bounded restore: a twin store restored from a local snapshot plus the changelog's tail
//! equals the store restored from the whole changelog, and the store built by processing the
//! events from scratch.

mod common;

use std::time::Duration;

use sxfleet::pipeline::{self, PipelineConfig};
use sxfleet_processors::node::NodeState;
use sxfleet_processors::TwinStage;
use sxfleet_runtime::restore::{restore, SnapshotPolicy};
use sxfleet_runtime::{run_stage, KafkaConfig, Shutdown};
use sxfleet_schemas::{encode, EventPayload, FleetEvent, Health, Heartbeat, Source};

const PARTITIONS: i32 = 4;

/// `count` heartbeats for each of `nodes` nodes, seq starting at `first_seq`.
fn events(nodes: u32, first_seq: i64, count: i64) -> Vec<FleetEvent> {
    let mut out = Vec::new();
    for seq in first_seq..first_seq + count {
        for n in 0..nodes {
            let node_id = format!("sx-edge-r-{n:05}");
            out.push(FleetEvent {
                event_id: format!("{node_id}:{seq}"),
                node_id,
                seq,
                event_time_ms: 1_772_150_400_000 + seq * 30_000,
                received_ms: 1_772_150_400_000 + seq * 30_000,
                source: Source::KafkaRaw,
                replayed: false,
                payload: EventPayload::Heartbeat(Heartbeat {
                    rtt_ms: Some(f64::from(n % 97) + seq as f64),
                    loss_pct: Some(f64::from(n % 7)),
                    bandwidth_kbps: Some(1_000),
                    backlog_messages: Some(seq),
                    health: if (n + seq as u32) % 11 == 0 {
                        Health::Degraded
                    } else {
                        Health::Ok
                    },
                    uptime_s: Some(seq * 30),
                    via: None,
                    battery_pct: None,
                }),
            });
        }
    }
    out
}

async fn produce(kafka: &str, topic: &str, events: &[FleetEvent]) {
    let records: Vec<(String, Vec<u8>)> = events
        .iter()
        .map(|e| (e.node_id.clone(), encode(e).unwrap()))
        .collect();
    common::produce(kafka, topic, &records).await;
}

/// Runs the twin stage of `config` until its group has committed every record of the events
/// topic, then stops it and returns the stage with its state.
async fn process_all(config: &PipelineConfig) -> TwinStage {
    let run = config.run_config("twin", vec![config.topics.events.clone()]);
    let mut stage = TwinStage::new(&config.app_id("twin"), config.topics.clone());
    let stop = Shutdown::new();
    let watcher = {
        let (kafka, group, topic, stop) = (
            config.kafka.bootstrap.clone(),
            run.group.clone(),
            config.topics.events.clone(),
            stop.clone(),
        );
        tokio::spawn(async move {
            let limit = Duration::from_secs(180);
            common::wait_committed(&kafka, &group, &topic, PARTITIONS, None, limit).await;
            stop.trigger();
        })
    };
    run_stage(&run, &mut stage, &stop).await.unwrap();
    watcher.await.unwrap();
    stage
}

fn wall_ms() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    i64::try_from(now.unwrap().as_millis()).unwrap()
}

fn state(stage: &TwinStage) -> Vec<Vec<(String, NodeState)>> {
    (0..PARTITIONS)
        .map(|p| {
            stage
                .nodes(p)
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.clone()))
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn snapshot_plus_tail_equals_full_changelog_equals_from_scratch() {
    let services = common::services();
    let prefix = format!("{}.", common::unique("restore"));
    let _cleanup = common::Cleanup::new(&services.kafka, &prefix);
    let state_dir = tempfile::tempdir().unwrap();
    let mut config = PipelineConfig::new(KafkaConfig::new(&services.kafka), &prefix);
    config.state_dir = Some(state_dir.path().to_owned());
    pipeline::create_topics(&config).await.unwrap();

    // Phase 1 with snapshots, phase 2 without: the snapshots then lag the changelog.
    produce(&services.kafka, &config.topics.events, &events(400, 1, 15)).await;
    let first = process_all(&config).await;
    drop(first);
    produce(&services.kafka, &config.topics.events, &events(500, 16, 10)).await;
    let mut no_snapshots = config.clone();
    no_snapshots.state_dir = None;
    let live = process_all(&no_snapshots).await;
    let live_state = state(&live);
    assert_eq!(live_state.iter().map(Vec::len).sum::<usize>(), 500);

    let changelog = config
        .topics
        .changelog(&config.app_id("twin"), sxfleet_processors::TWIN_STORE);
    let mut from_snapshot = TwinStage::new(&config.app_id("twin"), config.topics.clone());
    let mut from_changelog = TwinStage::new(&config.app_id("twin"), config.topics.clone());
    let (mut snapshot_entries, mut tail_records, mut full_records) = (0, 0, 0);
    for p in 0..PARTITIONS {
        let policy = SnapshotPolicy {
            dir: state_dir.path(),
            max_age: Duration::from_secs(3600),
            now_ms: wall_ms(),
        };
        let a = restore(
            &config.kafka,
            &mut from_snapshot,
            &changelog,
            p,
            Some(policy),
        )
        .unwrap();
        let b = restore(&config.kafka, &mut from_changelog, &changelog, p, None).unwrap();
        assert_eq!(
            a.position, b.position,
            "both restores reach the changelog's end"
        );
        snapshot_entries += a.from_snapshot;
        tail_records += a.from_changelog;
        full_records += b.from_changelog;
    }
    assert!(
        snapshot_entries >= 400,
        "snapshots were used: {snapshot_entries}"
    );
    assert!(
        tail_records < full_records,
        "the tail ({tail_records}) is shorter than the whole changelog ({full_records})"
    );
    assert_eq!(state(&from_snapshot), live_state, "snapshot + tail");
    assert_eq!(state(&from_changelog), live_state, "whole changelog");

    // From scratch: a new application over the same events.
    let mut scratch = config.clone();
    scratch.app_prefix = format!("{prefix}scratch-");
    scratch.state_dir = None;
    pipeline::create_topics(&scratch).await.unwrap();
    let rebuilt = process_all(&scratch).await;
    assert_eq!(state(&rebuilt), live_state, "processing from scratch");

    // A corrupt snapshot is never trusted: restore falls back to the whole changelog.
    for p in 0..PARTITIONS {
        let file = sxfleet_runtime::snapshot::path(state_dir.path(), &changelog, p);
        let mut bytes = std::fs::read(&file).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xff;
        std::fs::write(&file, bytes).unwrap();
    }
    let mut after_damage = TwinStage::new(&config.app_id("twin"), config.topics.clone());
    for p in 0..PARTITIONS {
        let policy = SnapshotPolicy {
            dir: state_dir.path(),
            max_age: Duration::from_secs(3600),
            now_ms: wall_ms(),
        };
        let r = restore(
            &config.kafka,
            &mut after_damage,
            &changelog,
            p,
            Some(policy),
        )
        .unwrap();
        assert_eq!(r.from_snapshot, 0);
    }
    assert_eq!(
        state(&after_damage),
        live_state,
        "fallback after a corrupt snapshot"
    );
}

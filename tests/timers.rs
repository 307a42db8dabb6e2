//! Timers under replay: silence timers fired live by wall-clock punctuation (tick records the
//! driver appends to the input) fire identically when another application replays the same
//! log from scratch, with punctuation off.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use sxfleet::pipeline::{self, PipelineConfig};
use sxfleet_processors::connectivity::ConnectivityConfig;
use sxfleet_processors::node::NodeState;
use sxfleet_processors::TwinStage;
use sxfleet_runtime::topics::{ensure_topics, TopicSpec};
use sxfleet_runtime::{run_stage, KafkaConfig, Shutdown};
use sxfleet_schemas::{
    decode, encode, ConnectivityMode, EventPayload, FleetEvent, Health, Heartbeat, Source,
    StateTransition,
};

const PARTITIONS: i32 = 4;
const NODES: u32 = 40;

/// Thresholds in seconds instead of minutes, so wall-clock ticks reach them quickly.
fn fast() -> ConnectivityConfig {
    ConnectivityConfig {
        edge_cached_after_ms: 1_000,
        autonomous_after_ms: 2_000,
        disconnected_after_ms: 4_000,
        ..ConnectivityConfig::default()
    }
}

fn heartbeat(n: u32, seq: i64) -> FleetEvent {
    let node_id = format!("sx-timer-{n:03}");
    let t = 1_772_150_400_000 + seq * 300 + i64::from(n);
    FleetEvent {
        event_id: format!("{node_id}:{seq}"),
        node_id,
        seq,
        event_time_ms: t,
        received_ms: t,
        source: Source::KafkaRaw,
        replayed: false,
        payload: EventPayload::Heartbeat(Heartbeat {
            rtt_ms: Some(40.0),
            loss_pct: Some(0.0),
            bandwidth_kbps: None,
            backlog_messages: Some(0),
            health: Health::Ok,
            uptime_s: Some(seq),
            via: None,
            battery_pct: None,
        }),
    }
}

async fn produce(kafka: &str, topic: &str) {
    let events: Vec<(String, Vec<u8>)> = (1..=3)
        .flat_map(|seq| (0..NODES).map(move |n| heartbeat(n, seq)))
        .map(|e| (e.node_id.clone(), encode(&e).unwrap()))
        .collect();
    common::produce(kafka, topic, &events).await;
}

/// The ledger per node, in order, read back with `read_committed`.
fn ledger(kafka: &str, topic: &str) -> BTreeMap<String, Vec<StateTransition>> {
    let mut ledger: BTreeMap<String, Vec<StateTransition>> = BTreeMap::new();
    for (_, _, _, value) in common::kafka::read_committed(kafka, topic, PARTITIONS) {
        let entry: StateTransition = decode(&value.unwrap()).unwrap();
        ledger.entry(entry.node_id.clone()).or_default().push(entry);
    }
    ledger
}

fn states(stage: &TwinStage) -> Vec<Vec<(String, NodeState)>> {
    (0..PARTITIONS)
        .map(|p| {
            let entries = stage.nodes(p).into_iter();
            entries.map(|(k, v)| (k.to_owned(), v.clone())).collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn timer_firings_are_identical_live_and_in_a_replay_of_the_log() {
    let services = common::services();
    let prefix = format!("{}.", common::unique("timers"));
    let _cleanup = common::Cleanup::new(&services.kafka, &prefix);
    let mut live = PipelineConfig::new(KafkaConfig::new(&services.kafka), &prefix);
    live.punctuate_after = Some(Duration::from_millis(300));
    pipeline::create_topics(&live).await.unwrap();
    produce(&services.kafka, &live.topics.events).await;

    // Live: the events, then quiet; ticks carry event time on at wall speed until every
    // node's silence timers have fired (AUTONOMOUS after 2 s, DISCONNECTED after 4 s).
    let mut run = live.run_config("twin", vec![live.topics.events.clone()]);
    run.punctuate_after = live.punctuate_after;
    let mut stage =
        TwinStage::new(&live.app_id("twin"), live.topics.clone()).with_connectivity(fast());
    let stop = Shutdown::new();
    let stopper = {
        let stop = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(12)).await;
            stop.trigger();
        })
    };
    let stats = run_stage(&run, &mut stage, &stop).await.unwrap();
    stopper.await.unwrap();
    assert!(stats.ticks > 0, "punctuation wrote ticks");
    let live_states = states(&stage);
    let all: Vec<&NodeState> = live_states.iter().flatten().map(|(_, s)| s).collect();
    assert_eq!(all.len(), NODES as usize);
    assert!(
        all.iter()
            .all(|s| s.twin.connectivity.mode == ConnectivityMode::Disconnected),
        "ticks fired the silence timers"
    );

    // Replay: another application reads the same log (events and recorded ticks) with
    // punctuation off, and writes its ledger to a topic of its own.
    let mut replay = live.clone();
    replay.app_prefix = format!("{prefix}replay-");
    replay.punctuate_after = None;
    replay.topics.transitions = format!("{prefix}replay.transitions");
    replay.topics.twin = format!("{prefix}replay.twin");
    pipeline::create_topics(&replay).await.unwrap();
    ensure_topics(
        &replay.kafka,
        &[
            TopicSpec::new(&replay.topics.transitions, PARTITIONS),
            TopicSpec::new(&replay.topics.twin, PARTITIONS).compacted(),
        ],
    )
    .await
    .unwrap();
    let run = replay.run_config("twin", vec![replay.topics.events.clone()]);
    let mut rebuilt =
        TwinStage::new(&replay.app_id("twin"), replay.topics.clone()).with_connectivity(fast());
    let stop = Shutdown::new();
    // Where the log's records end (transaction markers of the live run's tick transactions
    // come after them, so the high watermarks are further on).
    let mut ends = [0i64; PARTITIONS as usize];
    for (partition, offset, _, _) in
        common::kafka::read_committed(&services.kafka, &replay.topics.events, PARTITIONS)
    {
        ends[partition as usize] = ends[partition as usize].max(offset + 1);
    }
    let end: i64 = ends.iter().sum();
    let watcher = {
        let (stop, kafka, group, topic) = (
            stop.clone(),
            services.kafka.clone(),
            run.group.clone(),
            replay.topics.events.clone(),
        );
        tokio::spawn(async move {
            let limit = Duration::from_secs(120);
            common::wait_committed(&kafka, &group, &topic, PARTITIONS, Some(end), limit).await;
            stop.trigger();
        })
    };
    run_stage(&run, &mut rebuilt, &stop).await.unwrap();
    watcher.await.unwrap();

    assert_eq!(states(&rebuilt), live_states, "state after the replay");
    let live_ledger = ledger(&services.kafka, &live.topics.transitions);
    let replay_ledger = ledger(&services.kafka, &replay.topics.transitions);
    let silences = live_ledger
        .values()
        .flatten()
        .filter(|t| t.reason == "silence" && t.event_id.is_none())
        .count();
    assert!(
        silences >= 2 * NODES as usize,
        "{silences} timer firings in the live ledger"
    );
    assert_eq!(replay_ledger, live_ledger, "the ledger after the replay");
}

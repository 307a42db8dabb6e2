//! Exactly-once under `kill -9` (issue 3), on the real broker: the twin processor runs as the
//! real `sxfleet process` binary and is killed with SIGKILL at random moments, restarted each
//! time, and must end with the same committed twin output and changelog as an uninterrupted
//! reference run over the same input — no duplicate, no missing, no wrong record.
//!
//! The input (2,000 nodes x 50 events, 4 partitions) goes straight to the canonical events
//! topic, so the test exercises the processor and its runtime only. Every committed twin record
//! is checked against the pure fold (`fold::on_event`) of the first `version` events of its node,
//! which is what the twin at that version must be whatever the batch boundaries were.
//!
//! Kill moments come from a seeded RNG; the seed is printed and `CRASH_SEED=<n>` replays it.

mod common;

use std::collections::BTreeMap;
use std::time::Instant;

use sxfleet::pipeline::{self, PipelineConfig};
use sxfleet_processors::control::ControlState;
use sxfleet_processors::entry::Entry;
use sxfleet_processors::fold::on_event;
use sxfleet_processors::node::NodeState;
use sxfleet_processors::ProjectionConfig;
use sxfleet_processors::TWIN_STORE;
use sxfleet_runtime::store::StoreCodec;
use sxfleet_runtime::{KafkaConfig, Shutdown};
use sxfleet_schemas::{
    decode, encode, EventPayload, FleetEvent, Health, Heartbeat, Node, Snapshot, Source,
};

use common::kafka::{read_committed, Record};
use common::process::{progress_of, wait_drained, wait_progress, Twin};
use common::Rng;

const NODES: usize = 2_000;
const EVENTS_PER_NODE: i64 = 50;
const PARTITIONS: i32 = 4;
const KILLS: usize = 10;

/// The known input and, per node, the encoded twin after each of its events.
struct Input {
    /// (node id, encoded `FleetEvent`) in production order.
    events: Vec<(String, Vec<u8>)>,
    /// `twins[node][v - 1]` is the encoded twin at version `v`.
    twins: BTreeMap<String, Vec<Vec<u8>>>,
}

fn node_id(n: usize) -> String {
    format!("sx-crash-{n:04}")
}

/// Event `seq` of node `n`: every tenth a snapshot, the others heartbeats; values depend only
/// on (n, seq).
fn event(n: usize, seq: i64) -> FleetEvent {
    let node_id = node_id(n);
    let t = 1_767_225_600_000 + seq * 60_000 + n as i64;
    let k = n as i64 * 31 + seq * 7;
    let payload = if seq % 10 == 0 {
        EventPayload::Snapshot(Snapshot {
            reported_version: Some(format!("1.{}.{}", seq / 10, n % 7)),
            policy_version: Some(format!("p{}", seq / 10)),
            config: [("interval".to_owned(), (k % 60).to_string())].into(),
            firmware_version: Some("fw-2".to_owned()),
            sbom_hash: Some(format!("{k:016x}")),
            inventory: None,
        })
    } else {
        EventPayload::Heartbeat(Heartbeat {
            rtt_ms: Some((k % 1_500) as f64 + 0.5),
            loss_pct: Some((k % 9) as f64),
            bandwidth_kbps: Some(1_000 + k % 5_000),
            backlog_messages: Some(k % 13),
            health: match k % 4 {
                0 => Health::Degraded,
                _ => Health::Ok,
            },
            uptime_s: Some(seq * 60),
            via: None,
            battery_pct: None,
        })
    };
    FleetEvent {
        event_id: FleetEvent::derived_event_id(&node_id, seq),
        node_id,
        seq,
        event_time_ms: t,
        received_ms: t + 5,
        source: Source::KafkaRaw,
        replayed: false,
        payload,
    }
}

fn input() -> Input {
    let mut events = Vec::with_capacity(NODES * EVENTS_PER_NODE as usize);
    let mut twins: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
    let (control, config) = (ControlState::default(), ProjectionConfig::default());
    let mut states: Vec<NodeState> = (0..NODES).map(|n| NodeState::new(&node_id(n))).collect();
    // Round by round, so every node progresses through the whole stream and a kill cuts
    // through the middle of many nodes' histories. Events of a node are a minute apart, so no
    // silence timer fires and the twin at version v is the fold of the node's first v events.
    for seq in 1..=EVENTS_PER_NODE {
        for (n, state) in states.iter_mut().enumerate() {
            let event = event(n, seq);
            assert!(on_event(state, &event, &control, &config).is_some());
            let twin = encode(&state.twin).unwrap();
            twins.entry(event.node_id.clone()).or_default().push(twin);
            events.push((event.node_id.clone(), encode(&event).unwrap()));
        }
    }
    Input { events, twins }
}

/// A deployment of its own: topics with a unique prefix, created and filled with the input.
async fn deployment(kafka: &str, base: &str, input: &Input) -> PipelineConfig {
    let prefix = format!("{}.", common::unique(base));
    let mut config = PipelineConfig::new(KafkaConfig::new(kafka), &prefix);
    config.partitions = PARTITIONS;
    pipeline::create_topics(&config).await.unwrap();
    common::produce(kafka, &config.topics.events, &input.events).await;
    config
}

/// The last twin per node: (version, encoded twin).
type Finals = BTreeMap<String, (i64, Vec<u8>)>;

/// Checks every committed twin record of `records` (twin output or changelog) against the
/// pure fold and returns the last twin per node. Per node the versions must strictly increase
/// in log order: a duplicate or a replayed-and-visible record would break that.
fn check_twins(what: &str, records: &[Record], input: &Input) -> Finals {
    let mut last = Finals::new();
    for (partition, offset, key, value) in records {
        let node_id = String::from_utf8(key.clone()).unwrap();
        let at = format!("{what} {partition}@{offset} ({node_id})");
        let bytes = value.as_ref().unwrap_or_else(|| panic!("{at}: tombstone"));
        let node: Node = decode(bytes).unwrap_or_else(|e| panic!("{at}: {e}"));
        assert_eq!(node.id, node_id, "{at}");
        let history = &input.twins[&node_id];
        assert!(
            (1..=history.len() as i64).contains(&node.version),
            "{at}: version {}",
            node.version
        );
        if let Some((previous, _)) = last.get(&node_id) {
            assert!(
                node.version > *previous,
                "{at}: version {} after {previous} (duplicate or regression)",
                node.version
            );
        }
        assert!(
            bytes == &history[node.version as usize - 1],
            "{at}: twin at version {} differs from the fold of its first {} events: {node:?}",
            node.version,
            node.version
        );
        last.insert(node_id, (node.version, bytes.clone()));
    }
    last
}

/// Checks the twin output and the changelog of `config` and returns the final twins.
fn check_deployment(name: &str, config: &PipelineConfig, input: &Input) -> (Vec<Record>, Finals) {
    let kafka = &config.kafka.bootstrap;
    let output = read_committed(kafka, &config.topics.twin, PARTITIONS);
    let finals = check_twins(&format!("{name} twin"), &output, input);
    let changelog_topic = config.topics.changelog(&config.app_id("twin"), TWIN_STORE);
    // The changelog holds each node's whole state; compare its twin.
    let changelog: Vec<Record> = read_committed(kafka, &changelog_topic, PARTITIONS)
        .into_iter()
        .map(|(partition, offset, key, value)| {
            let twin = value
                .map(|bytes| encode(&Entry::decode(&bytes).unwrap().node().unwrap().twin).unwrap());
            (partition, offset, key, twin)
        })
        .collect();
    let restored = check_twins(&format!("{name} changelog"), &changelog, input);
    assert_eq!(finals.len(), NODES, "{name}: nodes in the twin output");
    for (node_id, history) in &input.twins {
        let want = (history.len() as i64, history.last().unwrap().clone());
        assert!(finals[node_id] == want, "{name}: final twin of {node_id}");
        assert!(
            restored.get(node_id) == Some(&want),
            "{name}: changelog state of {node_id}"
        );
    }
    (output, finals)
}

/// The versions each node's output holds, with the twin bytes.
fn by_version(records: &[Record]) -> BTreeMap<(Vec<u8>, i64), Vec<u8>> {
    let mut versions = BTreeMap::new();
    for (_, _, key, value) in records {
        let bytes = value.clone().unwrap();
        let node: Node = decode(&bytes).unwrap();
        let duplicate = versions.insert((key.clone(), node.version), bytes);
        assert!(duplicate.is_none(), "{} v{} twice", node.id, node.version);
    }
    versions
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twin_output_is_exactly_once_under_repeated_kill_9() {
    let started = Instant::now();
    let services = common::services();
    let mut rng = Rng(common::crash_seed());
    let input = std::sync::Arc::new(input());
    let reference = deployment(&services.kafka, "crash_ref", &input).await;
    let crashed = deployment(&services.kafka, "crash_kill", &input).await;
    let _cleanup = [&reference, &crashed]
        .map(|config| common::Cleanup::new(&services.kafka, config.topics.prefix()));
    let input_len = input.events.len();
    println!(
        "{} events produced twice in {:.1} s",
        input.events.len(),
        started.elapsed().as_secs_f64()
    );

    // The crash run: the real binary, killed at random moments, then run to the end. The
    // first debug-build session consumes the whole input in a few seconds while each restart
    // first waits out the dead member's 10 s session, so a kill moment is chosen by progress:
    // kill `run` waits until a random share of the input around (run + 1) / (KILLS + 4) is
    // committed, then a random 0-150 ms more, which lands in the collection, processing or
    // commit of a later batch.
    let crash = {
        let config = crashed.clone();
        tokio::task::spawn_blocking(move || {
            let progress = progress_of(&config);
            let total = input_len as i64;
            let mut mid_stream = 0;
            for run in 0..KILLS {
                let mut twin = Twin::start(&config, "0", run);
                twin.wait_assigned(1);
                let step = total / (KILLS as i64 + 4);
                let jitter = rng.next() % (step as u64 / 2);
                let target = step * (run as i64 + 1) - step / 4 + jitter as i64;
                wait_progress(&progress, &mut twin, target);
                let delay = rng.delay(0, 150);
                std::thread::sleep(delay);
                twin.assert_alive();
                twin.kill();
                let (done, total) = progress.get();
                mid_stream += usize::from(done < total);
                println!(
                    "kill {run}: {} ms after {target} committed; {done} of {total} committed",
                    delay.as_millis()
                );
            }
            let mut twin = Twin::start(&config, "0", KILLS);
            wait_drained(&progress, &mut [&mut twin]);
            twin.kill();
            mid_stream
        })
    };

    // The reference run meanwhile, in process and uninterrupted.
    let stop = Shutdown::new();
    let run = {
        let (config, stop) = (reference.clone(), stop.clone());
        tokio::spawn(async move { pipeline::run_twin(&config, &stop).await.unwrap() })
    };
    let drained = reference.clone();
    tokio::task::spawn_blocking(move || wait_drained(&progress_of(&drained), &mut []))
        .await
        .unwrap();
    stop.trigger();
    let stats = run.await.unwrap();
    assert_eq!(stats.sessions, 1, "the reference run never restarted");
    assert_eq!(stats.records_in, input.events.len() as u64);

    let mid_stream = crash.await.unwrap();
    println!(
        "{mid_stream} of {KILLS} kills before the input was consumed; {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        mid_stream >= KILLS / 2,
        "only {mid_stream} kills landed before the input was consumed"
    );

    let checked = input.clone();
    let (reference, crashed) = (reference.clone(), crashed.clone());
    tokio::task::spawn_blocking(move || {
        let (want, want_final) = check_deployment("reference", &reference, &checked);
        let (got, got_final) = check_deployment("crash run", &crashed, &checked);
        assert!(got_final == want_final, "final twins differ");
        let want = by_version(&want);
        let got = by_version(&got);
        for (key, bytes) in &got {
            if let Some(reference) = want.get(key) {
                assert!(
                    reference == bytes,
                    "twin {key:?} differs from the reference"
                );
            }
        }
        println!(
            "twin records: reference {}, crash run {}",
            want.len(),
            got.len()
        );
    })
    .await
    .unwrap();
    println!("done in {:.1} s", started.elapsed().as_secs_f64());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_instance_hands_its_partitions_to_the_survivor() {
    let started = Instant::now();
    let services = common::services();
    let mut rng = Rng(common::crash_seed());
    let input = std::sync::Arc::new(input());
    let prefix = format!("{}.", common::unique("crash_pair"));
    let _cleanup = common::Cleanup::new(&services.kafka, &prefix);
    let mut config = PipelineConfig::new(KafkaConfig::new(&services.kafka), &prefix);
    config.partitions = PARTITIONS;
    pipeline::create_topics(&config).await.unwrap();

    // Both instances share the work before any input exists, so b always dies mid-stream.
    let pair = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || {
            let mut a = Twin::start(&config, "a", 0);
            let mut b = Twin::start(&config, "b", 0);
            a.wait_assigned(1);
            b.wait_assigned(1);
            (a, b)
        })
    };
    let (a, mut b) = pair.await.unwrap();
    let producing = {
        let (kafka, topic, input) = (
            services.kafka.clone(),
            config.topics.events.clone(),
            input.clone(),
        );
        tokio::spawn(async move { common::produce(&kafka, &topic, &input.events).await })
    };

    let checked = input.clone();
    let (config, mut a) = tokio::task::spawn_blocking(move || {
        let progress = progress_of(&config);
        // Kill b once both have been working for a while: a random 15-35 % of the input
        // committed, then up to 150 ms more.
        let total = checked.events.len() as u64;
        let target = (total * 15 / 100 + rng.next() % (total / 5)) as i64;
        wait_progress(&progress, &mut b, target);
        let delay = rng.delay(0, 150);
        std::thread::sleep(delay);
        b.assert_alive();
        b.kill();
        let (done, _) = progress.get();
        println!(
            "instance b killed {} ms after {target} committed; {done} of {total} committed",
            delay.as_millis()
        );
        assert!(
            done < total as i64,
            "b was killed after the input was consumed"
        );
        (config, a)
    })
    .await
    .unwrap();
    producing.await.unwrap();

    // a takes over b's partitions once b's session expires, and consumes everything.
    tokio::task::spawn_blocking(move || {
        let progress = progress_of(&config);
        wait_drained(&progress, &mut [&mut a]);
        a.kill();
        println!(
            "instance a: {} assignments",
            a.log().matches("partitions assigned").count()
        );
        check_deployment("two instances", &config, &input);
    })
    .await
    .unwrap();
    println!("done in {:.1} s", started.elapsed().as_secs_f64());
}

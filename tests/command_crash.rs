//! Commands under `kill -9`, on the real broker: the processor runs as the real `sxfleet
//! process` binary with commands in flight (at-most-once and at-least-once, re-sends, acks, the
//! ack timeout) and is killed with SIGKILL at random moments, restarted each time. Compared by
//! content with an uninterrupted run over the same input: the same publications on
//! `fleet.commands.v1` and the same status ledger, so no command is lost and no at-most-once
//! command is published twice.
//!
//! Kill moments come from a seeded RNG; the seed is printed and `CRASH_SEED=<n>` replays it.

mod common;

use std::collections::BTreeMap;
use std::time::Instant;

use common::kafka::read_committed;
use common::process::{progress_of, wait_drained, wait_progress, Twin};
use common::Rng;
use sxfleet::pipeline::{self, PipelineConfig};
use sxfleet_runtime::{KafkaConfig, Shutdown};
use sxfleet_schemas::{
    decode, encode, AckStatus, AuthorityClaim, AuthorityClaimEvent, AuthorityLevel, Command,
    CommandAck, CommandKind, CommandRequest, CommandState, CommandStatus, CommandTarget,
    ControlEvent, ControlPayload, Delivery, DomainDef, DomainLevel, EventPayload, Firmware,
    FleetEvent, Hardware, Health, Heartbeat, NodeKind, Register, Source,
};

/// Enough that a pass over the input takes seconds, so every kill lands mid-stream.
const NODES: usize = 1500;
/// Heartbeats 20 s apart: re-sends at +30, +90 and +210 s, the ack at +400 s, LOST at +300 s.
const BEATS: i64 = 30;
const KILLS: usize = 4;
const T0: i64 = 1_772_150_400_000;
const STEP_MS: i64 = 20_000;

fn claim() -> AuthorityClaim {
    AuthorityClaim {
        controller_id: "ctl".into(),
        level: AuthorityLevel::Region,
        epoch: 1,
    }
}

fn control(key: &str, at_ms: i64, payload: ControlPayload) -> (String, Vec<u8>) {
    let event = ControlEvent {
        event_id: format!("{key}:{at_ms}:{}", payload.kind()),
        key: key.to_owned(),
        event_time_ms: at_ms,
        received_ms: at_ms,
        source: Source::KafkaRaw,
        payload,
    };
    (key.to_owned(), encode(&event).unwrap())
}

fn event(node: &str, seq: i64, payload: EventPayload) -> (String, Vec<u8>) {
    let at_ms = T0 + seq * STEP_MS;
    let event = FleetEvent {
        event_id: FleetEvent::derived_event_id(node, seq),
        node_id: node.to_owned(),
        seq,
        event_time_ms: at_ms,
        received_ms: at_ms,
        source: Source::KafkaRaw,
        replayed: false,
        payload,
    };
    (node.to_owned(), encode(&event).unwrap())
}

fn command(node: &str, id: &str, delivery: Delivery) -> (String, Vec<u8>) {
    let at_ms = T0 + 2 * STEP_MS + 1;
    let request = CommandRequest {
        command_id: id.to_owned(),
        idempotency_key: id.to_owned(),
        target_kind: CommandTarget::Node,
        target_id: node.to_owned(),
        kind: CommandKind::Restart,
        delivery,
        issued_ms: at_ms,
        expires_ms: None,
        authority: claim(),
        params: Default::default(),
    };
    control(node, at_ms, ControlPayload::Command(request))
}

/// Round by round, so a kill cuts through many nodes' command histories.
fn input() -> Vec<(String, Vec<u8>)> {
    let mut records = vec![
        control(
            "zone",
            T0,
            ControlPayload::Domain(DomainDef {
                domain_id: "zone".into(),
                parent_id: None,
                level: DomainLevel::Zone,
                autonomy: None,
                version: None,
                sync: None,
                utc_offset_minutes: None,
            }),
        ),
        control(
            "zone",
            T0,
            ControlPayload::Authority(AuthorityClaimEvent {
                domain_id: "zone".into(),
                controller_id: "ctl".into(),
                level: AuthorityLevel::Region,
                epoch: 1,
            }),
        ),
    ];
    let nodes: Vec<String> = (0..NODES).map(|n| format!("n-{n:04}")).collect();
    for node in &nodes {
        records.push(event(
            node,
            1,
            EventPayload::Register(Register {
                kind: NodeKind::Edge,
                domain_id: "zone".into(),
                region: "r".into(),
                zone: "zone".into(),
                tags: vec![],
                hardware: Hardware::default(),
                firmware: Firmware::default(),
                public_key: None,
            }),
        ));
    }
    for seq in 2..=BEATS {
        for node in &nodes {
            let payload = if seq == 22 {
                EventPayload::CommandAck(CommandAck {
                    command_id: format!("alo-{node}"),
                    status: AckStatus::Applied,
                    reason: None,
                    reported_version: None,
                })
            } else {
                EventPayload::Heartbeat(Heartbeat {
                    health: Health::Ok,
                    ..Heartbeat::default()
                })
            };
            records.push(event(node, seq, payload));
            if seq == 2 {
                records.push(command(node, &format!("amo-{node}"), Delivery::AtMostOnce));
                records.push(command(node, &format!("alo-{node}"), Delivery::AtLeastOnce));
            }
        }
    }
    records
}

async fn deployment(kafka: &str, base: &str, input: &[(String, Vec<u8>)]) -> PipelineConfig {
    let prefix = format!("{}.", common::unique(base));
    let mut config = PipelineConfig::new(KafkaConfig::new(kafka), &prefix);
    config.partitions = 1;
    pipeline::create_topics(&config).await.unwrap();
    common::produce(kafka, &config.topics.events, input).await;
    config
}

/// Every committed publication: (node, command id, attempt) -> how often, with its content.
fn publications(config: &PipelineConfig) -> BTreeMap<(String, String, i32), Vec<Command>> {
    let records = read_committed(&config.kafka.bootstrap, &config.topics.commands, 1);
    let mut out: BTreeMap<_, Vec<Command>> = BTreeMap::new();
    for record in records {
        let command: Command = decode(record.3.as_deref().unwrap()).unwrap();
        let key = (
            command.node_id.clone(),
            command.command_id.clone(),
            command.attempt,
        );
        out.entry(key).or_default().push(command);
    }
    out
}

/// Every committed status entry, in log order.
fn ledger(config: &PipelineConfig) -> Vec<CommandStatus> {
    read_committed(&config.kafka.bootstrap, &config.topics.command_status, 1)
        .iter()
        .map(|record| decode(record.3.as_deref().unwrap()).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_command_is_lost_or_published_twice_under_kill_9() {
    let started = Instant::now();
    let services = common::services();
    let mut rng = Rng(common::crash_seed());
    let input = input();
    let total = input.len() as i64;
    let reference = deployment(&services.kafka, "cmd_crash_ref", &input).await;
    let crashed = deployment(&services.kafka, "cmd_crash_kill", &input).await;
    let _cleanup = [&reference, &crashed]
        .map(|config| common::Cleanup::new(&services.kafka, config.topics.prefix()));

    let crash = {
        let config = crashed.clone();
        tokio::task::spawn_blocking(move || {
            let progress = progress_of(&config);
            for run in 0..KILLS {
                let mut twin = Twin::start(&config, "0", run);
                twin.wait_assigned(1);
                let step = total / (KILLS as i64 + 2);
                let jitter = rng.next() % (step as u64 / 2);
                let target = step * (run as i64 + 1) - step / 4 + jitter as i64;
                wait_progress(&progress, &mut twin, target);
                std::thread::sleep(rng.delay(0, 150));
                twin.assert_alive();
                twin.kill();
                let (done, total) = progress.get();
                println!("kill {run}: {done} of {total} committed");
                // Not vacuous: the kill cut through the input, commands in flight (issued in
                // the second round, acked in the 22nd of 30).
                assert!(done < total, "kill {run} came after the input was consumed");
            }
            let mut twin = Twin::start(&config, "0", KILLS);
            wait_drained(&progress, &mut [&mut twin]);
            twin.kill();
        })
    };
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
    crash.await.unwrap();

    let (want, got) = (publications(&reference), publications(&crashed));
    // The reference run itself: every node's at-most-once command once, its at-least-once one
    // first published and re-sent at +30, +90 and +210 s, then acked.
    assert_eq!(want.len(), NODES * 5, "publications of the reference run");
    for (key, copies) in &want {
        assert_eq!(copies.len(), 1, "{key:?} published once per attempt");
    }
    assert_eq!(got, want, "the same publications, by content");
    let amo = got
        .keys()
        .filter(|(_, id, _)| id.starts_with("amo-"))
        .count();
    assert_eq!(
        amo, NODES,
        "each at-most-once command published exactly once"
    );

    let (want, got) = (ledger(&reference), ledger(&crashed));
    let finals = |ledger: &[CommandStatus]| {
        let mut last = BTreeMap::new();
        for entry in ledger {
            last.insert(
                (entry.node_id.clone(), entry.command_id.clone()),
                entry.status,
            );
        }
        last
    };
    assert_eq!(got, want, "the same status ledger");
    let last = finals(&got);
    assert_eq!(last.len(), NODES * 2, "no command lost");
    for ((_, id), status) in &last {
        let expected = if id.starts_with("amo-") {
            CommandState::Lost
        } else {
            CommandState::Applied
        };
        assert_eq!(*status, expected, "{id}");
    }
    println!("{:.1} s", started.elapsed().as_secs_f64());
}

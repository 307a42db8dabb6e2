//! Commands through the fleet processor stage, driven in memory: a NODE command on the
//! partition holding its node (ACCEPTED, PUBLISHED, a `Command`), its copy (nothing), an
//! unknown node and an unauthorised controller (REJECTED), a DOMAIN command on two partitions
//! (each node; the authority decision from partition 0 only), an ack (APPLIED) and a re-send by
//! the partition's time. Outputs are checked on their topics. Pure: no services.

use sxfleet_processors::TwinStage;
use sxfleet_runtime::{Input, Output, Stage, Topics};
use sxfleet_schemas::{
    decode, encode, AckStatus, AuthorityClaim, AuthorityClaimEvent, AuthorityDecision,
    AuthorityLevel, Command, CommandAck, CommandKind, CommandRequest, CommandState, CommandStatus,
    CommandTarget, ControlEvent, ControlPayload, Delivery, DomainDef, DomainLevel, EventPayload,
    FleetEvent, Health, Heartbeat, NodeKind, Register, Source,
};

const T0: i64 = 1_772_150_400_000;
const S: i64 = 1_000;

fn control(n: i64, at_ms: i64, payload: ControlPayload) -> ControlEvent {
    ControlEvent {
        event_id: format!("c{n}"),
        key: "k".to_owned(),
        event_time_ms: at_ms,
        received_ms: at_ms,
        source: Source::KafkaRaw,
        payload,
    }
}

fn domain(id: &str, parent: Option<&str>) -> ControlPayload {
    ControlPayload::Domain(DomainDef {
        domain_id: id.to_owned(),
        parent_id: parent.map(str::to_owned),
        level: DomainLevel::Region,
        autonomy: None,
        version: Some(1),
        sync: None,
        utc_offset_minutes: None,
    })
}

fn node_event(node_id: &str, seq: i64, at_ms: i64, payload: EventPayload) -> FleetEvent {
    FleetEvent {
        event_id: format!("{node_id}:{seq}"),
        node_id: node_id.to_owned(),
        seq,
        event_time_ms: at_ms,
        received_ms: at_ms,
        source: Source::KafkaRaw,
        replayed: false,
        payload,
    }
}

fn register() -> EventPayload {
    EventPayload::Register(Register {
        kind: NodeKind::Edge,
        domain_id: "zone-a1".to_owned(),
        region: "region-a".to_owned(),
        zone: "zone-a1".to_owned(),
        tags: Vec::new(),
        hardware: Default::default(),
        firmware: Default::default(),
        public_key: None,
    })
}

fn heartbeat() -> EventPayload {
    EventPayload::Heartbeat(Heartbeat {
        rtt_ms: Some(40.0),
        loss_pct: Some(0.0),
        health: Health::Ok,
        ..Heartbeat::default()
    })
}

fn command(
    key: &str,
    target: (CommandTarget, &str),
    controller: &str,
    at_ms: i64,
) -> CommandRequest {
    CommandRequest {
        command_id: key.to_owned(),
        idempotency_key: key.to_owned(),
        target_kind: target.0,
        target_id: target.1.to_owned(),
        kind: CommandKind::Restart,
        delivery: Delivery::AtLeastOnce,
        issued_ms: at_ms,
        expires_ms: None,
        authority: AuthorityClaim {
            controller_id: controller.to_owned(),
            level: AuthorityLevel::Region,
            epoch: 3,
        },
        params: Default::default(),
    }
}

struct Feeder {
    stage: TwinStage,
    offsets: [i64; 2],
}

impl Feeder {
    fn feed(&mut self, partition: i32, payload: Vec<u8>, key: &str, at_ms: i64) -> Vec<Output> {
        let slot = usize::try_from(partition).unwrap();
        self.offsets[slot] += 1;
        let input = Input {
            topic: "fleet.events.v1",
            partition,
            offset: self.offsets[slot],
            key: Some(key.as_bytes()),
            payload: Some(&payload),
            timestamp_ms: Some(at_ms),
            source: None,
        };
        let mut out = Vec::new();
        self.stage.process(&input, &mut out).expect("processes");
        self.stage.flush(&mut out).expect("flushes");
        out
    }

    fn control(&mut self, partition: i32, event: &ControlEvent) -> Vec<Output> {
        let payload = encode(event).expect("encodes");
        self.feed(partition, payload, &event.key, event.event_time_ms)
    }

    fn event(&mut self, partition: i32, event: &FleetEvent) -> Vec<Output> {
        let payload = encode(event).expect("encodes");
        self.feed(partition, payload, &event.node_id, event.event_time_ms)
    }
}

fn on<T: sxfleet_schemas::Canonical + serde::de::DeserializeOwned>(
    out: &[Output],
    topic: &str,
) -> Vec<(String, T)> {
    out.iter()
        .filter(|o| o.topic == topic)
        .map(|o| {
            let key = String::from_utf8(o.key.clone().unwrap()).unwrap();
            (key, decode::<T>(o.payload.as_deref().unwrap()).unwrap())
        })
        .collect()
}

fn statuses(
    out: &[Output],
    topics: &Topics,
) -> Vec<(String, String, CommandState, Option<String>)> {
    on::<CommandStatus>(out, &topics.command_status)
        .into_iter()
        .map(|(key, s)| (key, s.command_id, s.status, s.reason))
        .collect()
}

fn st(
    key: &str,
    id: &str,
    status: CommandState,
    reason: Option<&str>,
) -> (String, String, CommandState, Option<String>) {
    (
        key.to_owned(),
        id.to_owned(),
        status,
        reason.map(str::to_owned),
    )
}

#[test]
fn commands_come_out_on_their_topics() {
    let topics = Topics::with_prefix("test.");
    let mut f = Feeder {
        stage: TwinStage::new("commands", topics.clone()),
        offsets: [0, 0],
    };
    let claim = ControlPayload::Authority(AuthorityClaimEvent {
        domain_id: "region-a".to_owned(),
        controller_id: "region-a-control".to_owned(),
        level: AuthorityLevel::Region,
        epoch: 3,
    });
    let setup = [
        control(1, T0, domain("region-a", None)),
        control(2, T0, domain("zone-a1", Some("region-a"))),
        control(3, T0 + 1, claim),
    ];
    for event in &setup {
        for p in [0, 1] {
            f.control(p, event);
        }
    }
    for (p, node) in [(0, "edge-1"), (1, "edge-2")] {
        f.event(p, &node_event(node, 1, T0 + S, register()));
        f.event(p, &node_event(node, 2, T0 + 2 * S, heartbeat()));
    }

    // A NODE command on its node's partition.
    let at = T0 + 10 * S;
    let restart = command(
        "r1",
        (CommandTarget::Node, "edge-1"),
        "region-a-control",
        at,
    );
    let record = control(4, at, ControlPayload::Command(restart.clone()));
    let out = f.control(0, &record);
    assert_eq!(
        statuses(&out, &topics),
        vec![
            st("edge-1", "r1", CommandState::Accepted, None),
            st("edge-1", "r1", CommandState::Published, None)
        ]
    );
    let sent = on::<Command>(&out, &topics.commands);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, "edge-1");
    assert_eq!(
        (
            sent[0].1.action.as_str(),
            sent[0].1.attempt,
            sent[0].1.published_ms
        ),
        ("restart", 1, at)
    );
    let decisions = on::<AuthorityDecision>(&out, &topics.authority);
    assert_eq!(decisions.len(), 1);
    let (key, decision) = &decisions[0];
    assert_eq!(
        (
            key.as_str(),
            decision.subject.as_str(),
            decision.decision.as_str()
        ),
        ("zone-a1", "COMMAND", "ACCEPTED")
    );
    let twin = on::<sxfleet_schemas::Node>(&out, &topics.twin);
    assert_eq!(twin.last().map(|(_, n)| n.commands_pending), Some(1));
    // Its copy (another offset, as over HTTP and Kafka) changes nothing.
    let copy = f.control(0, &control(5, at, ControlPayload::Command(restart)));
    assert!(statuses(&copy, &topics).is_empty());
    assert!(on::<Command>(&copy, &topics.commands).is_empty());

    // An unknown node, and a controller without authority.
    let ghost = command("g1", (CommandTarget::Node, "ghost"), "region-a-control", at);
    let out = f.control(0, &control(6, at, ControlPayload::Command(ghost)));
    assert_eq!(
        statuses(&out, &topics),
        vec![st(
            "ghost",
            "g1",
            CommandState::Rejected,
            Some("unknown_node")
        )]
    );
    let rogue = command("x1", (CommandTarget::Node, "edge-1"), "rogue", at);
    let out = f.control(0, &control(7, at, ControlPayload::Command(rogue)));
    assert_eq!(
        statuses(&out, &topics),
        vec![st(
            "edge-1",
            "x1",
            CommandState::Rejected,
            Some("no_authority")
        )]
    );
    let decisions = on::<AuthorityDecision>(&out, &topics.authority);
    assert_eq!(decisions[0].1.reason.as_deref(), Some("NO_AUTHORITY"));
    assert!(on::<Command>(&out, &topics.commands).is_empty());

    // A DOMAIN command reaches the nodes of both partitions; partition 0 alone audits it.
    let all = command(
        "all",
        (CommandTarget::Domain, "region-a"),
        "region-a-control",
        at + S,
    );
    let record = control(8, at + S, ControlPayload::Command(all));
    let zero = f.control(0, &record);
    let one = f.control(1, &record);
    assert_eq!(on::<Command>(&zero, &topics.commands)[0].0, "edge-1");
    assert_eq!(on::<Command>(&one, &topics.commands)[0].0, "edge-2");
    assert_eq!(on::<AuthorityDecision>(&zero, &topics.authority).len(), 1);
    assert!(on::<AuthorityDecision>(&one, &topics.authority).is_empty());

    // The node applies r1; 30 s after its publication "all" is re-sent (the partition's time).
    let ack = EventPayload::CommandAck(CommandAck {
        command_id: "r1".to_owned(),
        status: AckStatus::Applied,
        reason: None,
        reported_version: None,
    });
    let out = f.event(0, &node_event("edge-1", 3, at + 2 * S, ack));
    assert_eq!(
        statuses(&out, &topics),
        vec![st("edge-1", "r1", CommandState::Applied, None)]
    );
    let out = f.event(0, &node_event("edge-1", 4, at + 32 * S, heartbeat()));
    let resent = on::<Command>(&out, &topics.commands);
    assert_eq!(resent.len(), 1);
    assert_eq!(
        (
            resent[0].1.command_id.as_str(),
            resent[0].1.attempt,
            resent[0].1.published_ms
        ),
        ("all", 2, at + 31 * S)
    );
    assert_eq!(
        statuses(&out, &topics),
        vec![st("edge-1", "all", CommandState::Resent, None)]
    );
}

/// A rollout: assigning a bundle whose target version the node does not run issues its UPDATE,
/// held outside the maintenance window in the domain's local time (inherited from the parent
/// domain's `utc_offset_minutes`), published by the node's timer when the window opens, and
/// APPLIED when a snapshot reports the version; a newer bundle version supersedes nothing
/// once converged but issues the next UPDATE.
#[test]
fn a_rollout_waits_for_its_window_and_converges() {
    let topics = Topics::with_prefix("test.");
    let mut f = Feeder {
        stage: TwinStage::new("rollouts", topics.clone()),
        offsets: [0, 0],
    };
    let mut region = domain("region-a", None);
    if let ControlPayload::Domain(def) = &mut region {
        def.utc_offset_minutes = Some(120);
    }
    let bundle = |version: &str, target: &str| {
        ControlPayload::PolicyBundle(sxfleet_schemas::PolicyBundle {
            bundle_id: "b1".to_owned(),
            version: version.to_owned(),
            target_version: target.to_owned(),
            policy_version: "p1".to_owned(),
            config: Default::default(),
            // 03:00-04:00 local (+02:00) is 01:00-02:00 UTC.
            constraints: [("maintenance_window".to_owned(), "03:00-04:00".to_owned())].into(),
        })
    };
    let assign = ControlPayload::Assign(sxfleet_schemas::Assign {
        bundle_id: "b1".to_owned(),
        target_kind: sxfleet_schemas::AssignTarget::Domain,
        target_id: "zone-a1".to_owned(),
        authority: AuthorityClaim {
            controller_id: "region-a-control".to_owned(),
            level: AuthorityLevel::Region,
            epoch: 3,
        },
    });
    let claim = ControlPayload::Authority(AuthorityClaimEvent {
        domain_id: "region-a".to_owned(),
        controller_id: "region-a-control".to_owned(),
        level: AuthorityLevel::Region,
        epoch: 3,
    });
    for (n, payload) in [region, domain("zone-a1", Some("region-a")), claim]
        .into_iter()
        .enumerate()
    {
        f.control(0, &control(n as i64, T0, payload));
    }
    f.event(0, &node_event("edge-1", 1, T0 + S, register()));
    f.event(0, &node_event("edge-1", 2, T0 + 2 * S, heartbeat()));
    f.control(0, &control(10, T0 + 3 * S, bundle("1", "1.4.7")));
    let out = f.control(0, &control(11, T0 + 4 * S, assign));
    let id = "rollout:b1@1.4.7:edge-1";
    assert_eq!(
        statuses(&out, &topics),
        vec![
            st("edge-1", id, CommandState::Accepted, None),
            st("edge-1", id, CommandState::Held, Some("maintenance_window"))
        ]
    );
    let held = on::<CommandStatus>(&out, &topics.command_status);
    assert_eq!(held[1].1.rollout.as_deref(), Some("b1@1.4.7"));
    assert_eq!(held[1].1.controller_id, "region-a-control");
    // The node keeps talking every 5 minutes; at 01:00 UTC (03:00 local) the window opens.
    let hour = 3_600_000;
    let mut out = Vec::new();
    for k in 1..=13 {
        let at = T0 + k * 300 * S;
        out.extend(f.event(0, &node_event("edge-1", 2 + k, at, heartbeat())));
    }
    let sent = on::<Command>(&out, &topics.commands);
    // Published at the opening, then re-sent (no ack yet) 30 s, 90 s and 210 s later.
    let times: Vec<(i32, i64)> = sent
        .iter()
        .map(|(_, c)| (c.attempt, c.published_ms - T0 - hour))
        .collect();
    assert_eq!(times, vec![(1, 0), (2, 30 * S), (3, 90 * S), (4, 210 * S)]);
    assert_eq!(
        (sent[0].1.published_ms, sent[0].1.params["version"].as_str()),
        (T0 + hour, "1.4.7")
    );
    assert_eq!(sent[0].1.kind, CommandKind::Update);
    // The node reports the version: converged.
    let snapshot = EventPayload::Snapshot(sxfleet_schemas::Snapshot {
        reported_version: Some("1.4.7".to_owned()),
        policy_version: Some("p1".to_owned()),
        config: Default::default(),
        firmware_version: None,
        sbom_hash: None,
        inventory: None,
    });
    let out = f.event(
        0,
        &node_event("edge-1", 20, T0 + hour + 6 * 60 * S, snapshot),
    );
    assert_eq!(
        statuses(&out, &topics),
        vec![st(
            "edge-1",
            id,
            CommandState::Applied,
            Some("reported_version")
        )]
    );
    // A new bundle version with another target: the next rollout.
    let out = f.control(
        0,
        &control(12, T0 + hour + 7 * 60 * S, bundle("2", "1.4.8")),
    );
    let next: Vec<String> = on::<CommandStatus>(&out, &topics.command_status)
        .into_iter()
        .map(|(_, s)| s.command_id)
        .collect();
    assert_eq!(next, vec!["rollout:b1@1.4.8:edge-1"; 2]);
}

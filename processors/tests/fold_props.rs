//! Property tests of the whole per-node fold (machines, trust, drift, attention) mixed with
//! control-plane changes, in any order: every applied lifecycle transition is an edge of the
//! diagram, the ledger is gapless, and the same log folded twice gives identical state and
//! outputs.

use proptest::prelude::*;
use sxfleet_processors::control::{ControlState, NodeHome};
use sxfleet_processors::fold;
use sxfleet_processors::lifecycle::{diagram_edge, PreciseState};
use sxfleet_processors::node::NodeState;
use sxfleet_processors::ProjectionConfig;
use sxfleet_schemas::{
    Assign, AssignTarget, Attestation, AttestationResult, AuthorityClaim, AuthorityClaimEvent,
    AuthorityLevel, ControlEvent, ControlPayload, DomainDef, DomainLevel, EventPayload, Firmware,
    FleetEvent, Health, Heartbeat, Lifecycle, Link, LinkState, NodeKind, PolicyBundle, Register,
    Replay, ReplayPhase, Snapshot, Source, StateTransition, StringMap, TransitionMachine,
};

fn state(text: &str) -> PreciseState {
    *PreciseState::ALL
        .iter()
        .find(|s| s.as_str() == text)
        .unwrap_or_else(|| panic!("unknown state {text}"))
}

#[derive(Debug, Clone)]
enum Op {
    Event(Box<FleetEvent>),
    Control(Box<ControlEvent>),
    Tick(i64),
}

fn node_payload(kind: u8, n: i64) -> EventPayload {
    let signature = |n: i64| Some(format!("sig-{}", n % 2));
    match kind {
        0 | 1 => EventPayload::Heartbeat(Heartbeat {
            rtt_ms: Some((n * 97 % 3000) as f64),
            health: [Health::Ok, Health::Degraded, Health::Failed][(n % 3) as usize],
            backlog_messages: Some(n),
            ..Heartbeat::default()
        }),
        2 => EventPayload::Link(Link {
            state: if n % 2 == 0 {
                LinkState::Lost
            } else {
                LinkState::Detected
            },
            via: None,
        }),
        3 => EventPayload::Replay(Replay {
            phase: [ReplayPhase::Begin, ReplayPhase::Chunk, ReplayPhase::End][(n % 3) as usize],
            session_id: Some("rs-1".to_owned()),
            chunk_seq: None,
            backlog_total: Some(n),
            event_count: 0,
        }),
        4 => EventPayload::Snapshot(Snapshot {
            reported_version: Some(format!("1.{}.{}", n % 3, n % 5)),
            policy_version: Some(format!("policy-v{}", n % 2)),
            config: StringMap::from([("stir.mode".to_owned(), format!("m{}", n % 2))]),
            ..Snapshot::default()
        }),
        5 => EventPayload::Attestation(Attestation {
            result: if n % 4 == 0 {
                AttestationResult::Failed
            } else {
                AttestationResult::Verified
            },
            firmware_signature: signature(n),
            cert_not_after_ms: (n % 3 == 0).then_some(n * 60_000),
        }),
        6 => EventPayload::Lifecycle(Lifecycle {
            event: [
                "update_start",
                "update_complete",
                "remediation_complete",
                "decommission",
            ][(n % 4) as usize]
                .to_owned(),
            reason: None,
        }),
        _ => EventPayload::Register(Register {
            kind: NodeKind::Edge,
            domain_id: ["zone-1", "zone-2"][(n % 2) as usize].to_owned(),
            region: "region".to_owned(),
            zone: "zone".to_owned(),
            tags: Vec::new(),
            hardware: Default::default(),
            firmware: Firmware {
                version: None,
                signature: signature(n),
            },
            public_key: None,
        }),
    }
}

fn control_payload(kind: u8, n: i64) -> ControlPayload {
    let controller = format!("ctl-{}", n % 2);
    match kind {
        0 => ControlPayload::Domain(DomainDef {
            domain_id: ["zone-1", "zone-2"][(n % 2) as usize].to_owned(),
            parent_id: Some("region".to_owned()),
            level: DomainLevel::Zone,
            autonomy: None,
            version: None,
            sync: None,
            utc_offset_minutes: None,
        }),
        1 => ControlPayload::PolicyBundle(PolicyBundle {
            bundle_id: format!("b{}", n % 2),
            version: "1".to_owned(),
            target_version: format!("1.{}.0", n % 3),
            policy_version: "policy-v1".to_owned(),
            config: StringMap::from([("stir.mode".to_owned(), "m1".to_owned())]),
            constraints: StringMap::new(),
        }),
        2 => ControlPayload::Authority(AuthorityClaimEvent {
            domain_id: ["region", "zone-1"][(n % 2) as usize].to_owned(),
            controller_id: controller,
            level: AuthorityLevel::Region,
            epoch: n % 3,
        }),
        _ => ControlPayload::Assign(Assign {
            bundle_id: format!("b{}", n % 2),
            target_kind: if n % 3 == 0 {
                AssignTarget::Node
            } else {
                AssignTarget::Domain
            },
            target_id: if n % 3 == 0 { "n1" } else { "region" }.to_owned(),
            authority: AuthorityClaim {
                controller_id: controller,
                level: AuthorityLevel::Region,
                epoch: n % 3,
            },
        }),
    }
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let op = (0u8..14, 0i64..720, 0i64..60, any::<bool>());
    prop::collection::vec(op, 0..60)
        .prop_map(|raw| {
            raw.into_iter()
                .enumerate()
                .map(|(i, (kind, minute, n, replayed))| {
                    let t = minute * 60_000;
                    match kind {
                        8 => Op::Tick(t),
                        9..=12 => Op::Control(Box::new(ControlEvent {
                            event_id: format!("c{i}"),
                            key: "k".to_owned(),
                            event_time_ms: t,
                            received_ms: t,
                            source: Source::KafkaRaw,
                            payload: control_payload(kind - 9, n),
                        })),
                        _ => Op::Event(Box::new(FleetEvent {
                            event_id: format!("n1:{}", i + 1),
                            node_id: "n1".to_owned(),
                            seq: i as i64 + 1,
                            event_time_ms: t,
                            received_ms: t,
                            source: Source::KafkaRaw,
                            replayed: replayed && kind < 2,
                            payload: node_payload(kind, n),
                        })),
                    }
                })
                .collect::<Vec<_>>()
        })
        .prop_shuffle()
}

/// Everything one fold of `ops` produced.
#[derive(Debug, PartialEq)]
struct Folded {
    node: NodeState,
    control: ControlState,
    ledger: Vec<StateTransition>,
    reports: usize,
    alerts: Vec<String>,
}

fn fold_all(ops: &[Op]) -> Folded {
    let config = ProjectionConfig::default();
    let mut node = NodeState::new("n1");
    let mut control = ControlState::default();
    let mut ledger = Vec::new();
    let (mut reports, mut alerts) = (0, Vec::new());
    for op in ops {
        let step = match op {
            Op::Event(event) => fold::on_event(&mut node, event, &control, &config),
            Op::Tick(t) => Some(fold::on_timer(&mut node, *t, &control, &config)),
            Op::Control(event) => {
                let domain = node.twin.domain_id.clone();
                let outcome = control.apply(event, true, |_| NodeHome::Here(domain));
                alerts.extend(outcome.alerts.iter().map(|a| a.alert_id.clone()));
                Some(fold::on_control(
                    &mut node,
                    &control,
                    event.event_time_ms,
                    &config,
                ))
            }
        };
        if let Some(step) = step {
            ledger.extend(step.ledger);
            reports += usize::from(step.derived.report.is_some());
            alerts.extend(
                step.derived
                    .alert
                    .map(|a| format!("{}:{}", a.alert_id, a.action)),
            );
        }
    }
    Folded {
        node,
        control,
        ledger,
        reports,
        alerts,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_order_follows_the_diagram_and_replays_identically(ops in ops()) {
        let first = fold_all(&ops);
        // The ledger is numbered without gaps.
        for (i, entry) in first.ledger.iter().enumerate() {
            prop_assert_eq!(entry.seq, i as i64 + 1);
        }
        // Every applied lifecycle transition is a diagram edge, and they chain.
        let mut current = PreciseState::Provisioning;
        for entry in &first.ledger {
            if entry.machine != TransitionMachine::Lifecycle || !entry.applied {
                continue;
            }
            let (from, to) = (state(&entry.from_state), state(&entry.to_state));
            prop_assert_eq!(from, current);
            prop_assert!(diagram_edge(from, to).is_some(), "{:?} -> {:?}", from, to);
            current = to;
        }
        prop_assert_eq!(current.as_str(), first.node.twin.lifecycle.state.as_str());
        // Derived values stay in range.
        prop_assert!((0.0..=100.0).contains(&first.node.twin.drift.score));
        prop_assert!((0.0..=100.0).contains(&first.node.twin.attention.score));
        // Replaying the same log gives the same state and the same outputs.
        prop_assert_eq!(fold_all(&ops), first);
    }
}

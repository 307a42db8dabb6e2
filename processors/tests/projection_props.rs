//! Property tests of the connectivity and lifecycle machines together, through their public
//! API: a node's events in any order, mixed with ticks and reconciliation verdicts, only ever
//! produce states and edges the diagrams allow, and the same log gives the same result twice.

use proptest::prelude::*;
use sxfleet_processors::connectivity::{
    self, ConnectivityConfig, ConnectivityState, ConnectivityTransition,
};
use sxfleet_processors::lifecycle::{
    on_connectivity, on_event, on_replay_reconciled, LifecycleOutcome, LifecycleState,
    PreciseState, ReplayVerdict, DIAGRAM_EDGES,
};
use sxfleet_schemas::{
    ConnectivityMode as M, EventPayload, FleetEvent, Health, Heartbeat, Lifecycle, Link, LinkState,
    NodeKind, Register, Replay, ReplayPhase, Snapshot, Source,
};

fn ev(seq: i64, payload: EventPayload) -> FleetEvent {
    FleetEvent {
        event_id: format!("n1:{seq}"),
        node_id: "n1".to_owned(),
        seq,
        event_time_ms: 0,
        received_ms: 0,
        source: Source::KafkaRaw,
        replayed: false,
        payload,
    }
}

#[derive(Debug, Clone)]
enum Op {
    Event(Box<FleetEvent>),
    Tick(i64),
    Verdict(bool, bool),
}

const SIGNALS: &[&str] = &[
    "activate",
    "update_start",
    "update_complete",
    "update_failed",
    "decommission",
    "decommission_complete",
    "remediation_complete",
    "critical_failure",
    "unrecoverable",
    "x",
];

fn payload(kind: u8, rtt: f64, n: i64) -> EventPayload {
    let replay = |phase| {
        EventPayload::Replay(Replay {
            phase,
            session_id: Some(format!("rs-{}", n % 2)),
            chunk_seq: None,
            backlog_total: Some(n),
            event_count: 0,
        })
    };
    match kind {
        0 | 1 => EventPayload::Heartbeat(Heartbeat {
            rtt_ms: Some(rtt),
            loss_pct: Some(rtt / 500.0),
            backlog_messages: Some(n),
            health: [
                Health::Ok,
                Health::Degraded,
                Health::Failed,
                Health::Unknown,
            ][(n % 4) as usize],
            ..Heartbeat::default()
        }),
        2 => EventPayload::Link(Link {
            state: LinkState::Lost,
            via: None,
        }),
        3 => EventPayload::Link(Link {
            state: LinkState::Detected,
            via: None,
        }),
        4 => replay(ReplayPhase::Begin),
        5 => replay(ReplayPhase::Chunk),
        6 => replay(ReplayPhase::End),
        7 => EventPayload::Snapshot(Snapshot::default()),
        8 => EventPayload::Lifecycle(Lifecycle {
            event: SIGNALS[(n as usize) % SIGNALS.len()].to_owned(),
            reason: None,
        }),
        _ => EventPayload::Register(Register {
            kind: NodeKind::Edge,
            domain_id: "edge-zone-c".to_owned(),
            region: "region-c".to_owned(),
            zone: "edge-zone-c".to_owned(),
            tags: Vec::new(),
            hardware: Default::default(),
            firmware: Default::default(),
            public_key: None,
        }),
    }
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let op = (0u8..13, 0i64..720, any::<bool>(), 0.0f64..3000.0, 0i64..60);
    prop::collection::vec(op, 0..60)
        .prop_map(|raw| {
            raw.into_iter()
                .enumerate()
                .map(|(i, (kind, minute, replayed, rtt, n))| {
                    let t = minute * 60_000;
                    match kind {
                        10 => Op::Tick(t),
                        11 => Op::Verdict(replayed, n % 3 != 0),
                        _ => {
                            let mut event = ev(i as i64 + 1, payload(kind, rtt, n));
                            event.event_time_ms = t;
                            event.replayed = replayed && kind < 2;
                            Op::Event(Box::new(event))
                        }
                    }
                })
                .collect::<Vec<_>>()
        })
        .prop_shuffle()
}

/// The diagram's edges, plus ACTIVE's edges inherited by its sub-states, written out.
fn allowed(from: PreciseState, to: PreciseState) -> bool {
    use PreciseState as S;
    let literal = DIAGRAM_EDGES.iter().any(|(f, t, _)| *f == from && *t == to);
    let steady = [S::LiveOk, S::Delayed, S::EdgeCached];
    let inherited_connectivity = steady.contains(&from)
        && [S::LiveOk, S::Delayed, S::EdgeCached, S::Autonomous].contains(&to);
    let inherited_phase = (steady.contains(&from) || from == S::Autonomous)
        && [S::Updating, S::Degraded, S::Decommissioning].contains(&to);
    from != to && (literal || inherited_connectivity || inherited_phase)
}

type Run = (
    ConnectivityState,
    LifecycleState,
    Vec<ConnectivityTransition>,
    LifecycleOutcome,
);

/// Runs `ops` from lifecycle state `start`, checking the invariants after every step.
fn run(start: PreciseState, ops: &[Op]) -> Result<Run, TestCaseError> {
    let config = ConnectivityConfig::default();
    let mut conn = ConnectivityState::default();
    let mut life = LifecycleState {
        state: start,
        ..LifecycleState::default()
    };
    let mut ledger = Vec::new();
    let mut all = LifecycleOutcome::default();
    for op in ops {
        let before = life.clone();
        let (steps, mut outs) = match op {
            Op::Event(event) => {
                let steps = connectivity::on_event(&mut conn, &config, event);
                prop_assert!(!event.replayed || steps.is_empty(), "replayed {:?}", event);
                (steps, vec![on_event(&mut life, event)])
            }
            Op::Tick(t) => (connectivity::on_tick(&mut conn, &config, *t), Vec::new()),
            Op::Verdict(trusted, drift_ok) => {
                let verdict = ReplayVerdict {
                    trusted: *trusted,
                    drift_ok: *drift_ok,
                };
                (
                    Vec::new(),
                    vec![on_replay_reconciled(&mut life, verdict, 0)],
                )
            }
        };
        outs.extend(steps.iter().map(|step| on_connectivity(&mut life, step)));
        let mut current = before.state;
        for out in &outs {
            for t in &out.transitions {
                prop_assert!(allowed(t.from, t.to), "{:?} -> {:?}", t.from, t.to);
                prop_assert_eq!(t.from, current);
                current = t.to;
            }
        }
        prop_assert_eq!(current, life.state);
        if before.state == PreciseState::Retired {
            prop_assert_eq!(life.state, PreciseState::Retired);
        }
        check_connectivity(&conn, &ledger, &steps)?;
        ledger.extend(steps);
        for out in outs {
            all.transitions.extend(out.transitions);
            all.violations.extend(out.violations);
        }
    }
    Ok((conn, life, ledger, all))
}

fn check_connectivity(
    state: &ConnectivityState,
    ledger: &[ConnectivityTransition],
    steps: &[ConnectivityTransition],
) -> Result<(), TestCaseError> {
    prop_assert_eq!(state.mode == M::Replaying, state.replay.is_some());
    let now = state.now_ms.unwrap_or(i64::MIN);
    prop_assert!(state.last_seen_ms.is_none_or(|t| t <= now));
    prop_assert!(state.last_sync_ms.is_none_or(|t| t <= now));
    prop_assert!(state.sync_debt.seconds_behind >= 0 && state.sync_debt.backlog_messages >= 0);
    if let Some(replay) = &state.replay {
        prop_assert!(replay.eta_ms.is_none_or(|eta| eta >= now));
    }
    let mut mode = ledger.last().map_or(M::Unknown, |t| t.to);
    for step in steps {
        prop_assert_eq!(step.from, mode);
        prop_assert!(step.from != step.to && step.to != M::Unknown);
        prop_assert!(step.at_ms <= now);
        let ok = match step.to {
            M::Returning => matches!(step.from, M::Autonomous | M::Disconnected),
            M::Disconnected => step.from == M::Autonomous,
            M::Live if step.from == M::Replaying => step.reason == "replay_complete",
            M::Live | M::Delayed | M::EdgeCached => {
                matches!(step.from, M::Unknown | M::Live | M::Delayed | M::EdgeCached)
            }
            _ => true,
        };
        prop_assert!(ok, "{:?}", step);
        mode = step.to;
    }
    prop_assert_eq!(mode, state.mode);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]
    /// From any lifecycle state (the runtime restores arbitrary states), any order of a node's
    /// events stays on the diagrams, and the same log gives identical states and outputs.
    #[test]
    fn any_order_stays_valid_and_replays_identically(
        start in prop::sample::select(PreciseState::ALL),
        ops in ops(),
    ) {
        let first = run(start, &ops)?;
        let second = run(start, &ops)?;
        prop_assert_eq!(first, second);
    }
}

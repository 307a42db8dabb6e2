//! Table-driven tests of the connectivity machine, including seed 003's ConnectivityLedger and
//! seed 002's SyncDebt example. Time comes from the events and from explicit ticks.

use sxfleet_schemas::{
    ConnectivityMode as M, EventPayload, FleetEvent, Health, Heartbeat, Link, LinkState, Replay,
    ReplayPhase, Snapshot, Source,
};

use super::*;

/// 2026-02-27T00:00:00Z.
const DAY: i64 = 1_772_150_400_000;
const NODE: &str = "sx-rempart-edge-zone-c-node-15";

fn at(h: i64, m: i64) -> i64 {
    DAY + h * 3_600_000 + m * 60_000
}

fn ev(seq: i64, t: i64, payload: EventPayload) -> FleetEvent {
    FleetEvent {
        event_id: FleetEvent::derived_event_id(NODE, seq),
        node_id: NODE.to_owned(),
        seq,
        event_time_ms: t,
        received_ms: t,
        source: Source::KafkaRaw,
        replayed: false,
        payload,
    }
}

fn hb(rtt: f64) -> EventPayload {
    EventPayload::Heartbeat(Heartbeat {
        rtt_ms: Some(rtt),
        loss_pct: Some(0.1),
        health: Health::Ok,
        ..Heartbeat::default()
    })
}

fn hb_loss(rtt: Option<f64>, loss: Option<f64>) -> EventPayload {
    EventPayload::Heartbeat(Heartbeat {
        rtt_ms: rtt,
        loss_pct: loss,
        health: Health::Ok,
        ..Heartbeat::default()
    })
}

fn link(state: LinkState) -> EventPayload {
    EventPayload::Link(Link { state, via: None })
}

fn replay(phase: ReplayPhase, backlog_total: Option<i64>) -> EventPayload {
    EventPayload::Replay(Replay {
        phase,
        session_id: Some("rs-1".to_owned()),
        chunk_seq: None,
        backlog_total,
        event_count: 0,
    })
}

/// A backlog event recorded while autonomous, uploaded inside a replay chunk.
fn replayed(seq: i64, t: i64) -> FleetEvent {
    FleetEvent {
        replayed: true,
        source: Source::Replay,
        ..ev(seq, t, hb(40.0))
    }
}

/// Drives the machine as the runtime will: before each event, fire every timer that fell due
/// strictly before it; then apply the event. Returns the ledger.
fn run(
    state: &mut ConnectivityState,
    config: &ConnectivityConfig,
    events: &[FleetEvent],
) -> Vec<ConnectivityTransition> {
    let mut ledger = Vec::new();
    for event in events {
        if !event.replayed {
            while let Some(deadline) = next_deadline(state, config) {
                if deadline >= event.event_time_ms {
                    break;
                }
                ledger.extend(on_tick(state, config, deadline));
            }
        }
        ledger.extend(on_event(state, config, event));
    }
    ledger
}

fn entry(t: i64, from: M, to: M, reason: &str) -> ConnectivityTransition {
    ConnectivityTransition {
        at_ms: t,
        from,
        to,
        reason: reason.to_owned(),
        latency_ms: None,
        backlog: None,
        sync_interval_ms: None,
    }
}

/// Raw-derived input for seed 003's node-15 (see docs/projections.md, "Seed examples").
fn seed_003_events() -> Vec<FleetEvent> {
    let mut events = vec![
        ev(1, at(0, 0), hb(45.0)),
        ev(2, at(0, 5), hb(48.0)),
        ev(3, at(0, 10), hb(52.0)),
        ev(4, at(0, 15), hb(5000.0)),
        ev(5, at(0, 30), hb(4800.0)),
        ev(6, at(1, 0), link(LinkState::Lost)),
        ev(2000, at(4, 0), link(LinkState::Detected)),
        ev(2001, at(4, 5), replay(ReplayPhase::Begin, Some(1247))),
    ];
    // 1247 backlog events recorded between 01:00 and 04:00 (seq 7..=1253), in 3 chunks.
    for chunk in 0..3 {
        events.push(ev(
            2002 + chunk,
            at(4, 5 + 5 * chunk),
            replay(ReplayPhase::Chunk, Some(1247)),
        ));
        let range = match chunk {
            0 => 7..423,
            1 => 423..839,
            _ => 839..1254,
        };
        events.extend(range.map(|seq| replayed(seq, at(1, 0) + (seq - 7) * 8_000)));
    }
    events.push(ev(2005, at(4, 20), hb(50.0)));
    events.push(ev(2006, at(4, 20), replay(ReplayPhase::End, None)));
    events
}

#[test]
fn seed_003_connectivity_ledger_comes_out_exactly() {
    let config = ConnectivityConfig::default();
    let mut state = ConnectivityState::default();
    let ledger = run(&mut state, &config, &seed_003_events());
    let expected = vec![
        ConnectivityTransition {
            latency_ms: Some(45.0),
            ..entry(at(0, 0), M::Unknown, M::Live, "connectivity_live")
        },
        ConnectivityTransition {
            latency_ms: Some(5000.0),
            ..entry(at(0, 15), M::Live, M::Delayed, "latency_threshold")
        },
        ConnectivityTransition {
            sync_interval_ms: Some(15 * 60_000),
            ..entry(
                at(0, 30),
                M::Delayed,
                M::EdgeCached,
                "sync_interval_extends",
            )
        },
        entry(at(1, 0), M::EdgeCached, M::Autonomous, "connection_lost"),
        entry(at(4, 0), M::Autonomous, M::Returning, "connection_detected"),
        ConnectivityTransition {
            backlog: Some(1247),
            ..entry(at(4, 5), M::Returning, M::Replaying, "backlog_upload")
        },
        ConnectivityTransition {
            latency_ms: Some(50.0),
            ..entry(at(4, 20), M::Replaying, M::Live, "replay_complete")
        },
    ];
    assert_eq!(ledger, expected);
    let labels: Vec<&str> = ledger.iter().map(|t| ledger_label(t.to)).collect();
    assert_eq!(
        labels,
        [
            "live",
            "delayed",
            "edge-cached",
            "autonomous",
            "returning",
            "replaying",
            "live"
        ]
    );
    assert_eq!(state.mode, M::Live);
    assert_eq!(state.last_sync_ms, Some(at(4, 20)));
    assert_eq!(state.sync_debt, SyncDebtState::default());
    assert_eq!(state.replay, None);
}

#[test]
fn seed_002_sync_debt_and_replay_eta_come_out_of_the_observed_rate() {
    let config = ConnectivityConfig::default();
    let mut state = ConnectivityState::default();
    let mut events = vec![
        ev(1, at(0, 0), hb(45.0)),
        ev(2, at(0, 5), hb(5000.0)),
        ev(3, at(0, 10), link(LinkState::Lost)),
        ev(3000, at(3, 0), link(LinkState::Detected)),
        ev(3001, at(3, 15), replay(ReplayPhase::Begin, Some(2494))),
        ev(3002, at(3, 30), replay(ReplayPhase::Chunk, None)),
    ];
    events.extend((4..1251).map(|seq| replayed(seq, at(0, 10) + seq * 1_000)));
    run(&mut state, &config, &events);
    assert!(on_tick(&mut state, &config, at(3, 45)).is_empty());

    assert_eq!(state.mode, M::Replaying);
    assert_eq!(state.last_sync_ms, Some(at(0, 0)));
    assert_eq!(state.sync_debt.seconds_behind, 13_500);
    assert_eq!(state.sync_debt.seconds_behind as f64 / 3600.0, 3.75);
    assert_eq!(state.sync_debt.backlog_messages, 1247);
    let session = state.replay.clone().unwrap_or_default();
    assert_eq!(session.replayed, 1247);
    assert_eq!(session.eta_ms, Some(at(4, 15)));
    assert_eq!(session.eta_ms.map(|eta| eta - at(3, 45)), Some(30 * 60_000));
    assert_eq!(session.rate_per_s, Some(1247.0 / 1800.0));
}

#[test]
fn link_quality_thresholds_are_strict() {
    let cases: &[(Option<f64>, Option<f64>, M)] = &[
        (Some(45.0), Some(0.0), M::Live),
        (Some(1000.0), Some(0.0), M::Live),
        (Some(1000.5), Some(0.0), M::Delayed),
        (Some(10.0), Some(5.0), M::Live),
        (Some(10.0), Some(5.1), M::Delayed),
        (None, None, M::Live),
        (None, Some(50.0), M::Delayed),
    ];
    let config = ConnectivityConfig::default();
    for (rtt, loss, want) in cases {
        let mut state = ConnectivityState::default();
        on_event(&mut state, &config, &ev(1, at(0, 0), hb_loss(*rtt, *loss)));
        assert_eq!(state.mode, *want, "rtt {rtt:?} loss {loss:?}");
    }
}

#[test]
fn silence_ticks_move_to_autonomous_then_disconnected() {
    let config = ConnectivityConfig::default();
    let mut state = ConnectivityState::default();
    on_event(&mut state, &config, &ev(1, at(0, 0), hb(45.0)));
    assert_eq!(next_deadline(&state, &config), Some(at(0, 30) + 1));
    assert!(on_tick(&mut state, &config, at(0, 30)).is_empty());
    let first = on_tick(&mut state, &config, at(0, 30) + 1);
    assert_eq!(
        first,
        vec![entry(at(0, 30) + 1, M::Live, M::Autonomous, "silence")]
    );
    assert_eq!(next_deadline(&state, &config), Some(at(6, 0) + 1));
    let second = on_tick(&mut state, &config, at(7, 0));
    assert_eq!(
        second,
        vec![entry(
            at(6, 0) + 1,
            M::Autonomous,
            M::Disconnected,
            "silence"
        )]
    );
    assert_eq!(next_deadline(&state, &config), None);
    assert_eq!(state.sync_debt.seconds_behind, 7 * 3600);

    // One late tick gives the same ledger as ticks at every deadline.
    let mut late = ConnectivityState::default();
    on_event(&mut late, &config, &ev(1, at(0, 0), hb(45.0)));
    let both = on_tick(&mut late, &config, at(7, 0));
    assert_eq!(both, [first, second].concat());
    assert_eq!(late, state);

    // A disconnected node that is heard again is RETURNING.
    let back = on_event(&mut state, &config, &ev(2, at(8, 0), hb(45.0)));
    assert_eq!(
        back,
        vec![entry(
            at(8, 0),
            M::Disconnected,
            M::Returning,
            "connection_detected"
        )]
    );
}

#[test]
fn edge_cached_needs_a_long_silence_and_ends_on_a_prompt_contact() {
    let config = ConnectivityConfig::default();
    let cases: &[(i64, M)] = &[(10, M::Live), (11, M::EdgeCached), (30, M::EdgeCached)];
    for (gap_min, want) in cases {
        let mut state = ConnectivityState::default();
        on_event(&mut state, &config, &ev(1, at(0, 0), hb(45.0)));
        on_event(&mut state, &config, &ev(2, at(0, *gap_min), hb(45.0)));
        assert_eq!(state.mode, *want, "gap {gap_min} min");
    }
    let mut state = ConnectivityState::default();
    run(
        &mut state,
        &config,
        &[
            ev(1, at(0, 0), hb(45.0)),
            ev(2, at(0, 20), hb(45.0)),
            ev(3, at(0, 21), hb(45.0)),
        ],
    );
    assert_eq!(state.mode, M::Live);
    assert_eq!(state.sync_interval_ms, None);
    assert_eq!(state.last_sync_ms, Some(at(0, 21)));
}

#[test]
fn replay_progress_rate_and_eta() {
    let config = ConnectivityConfig::default();
    let mut state = ConnectivityState::default();
    let t0 = at(2, 0);
    let mut events = vec![
        ev(1, at(1, 0), link(LinkState::Lost)),
        ev(50, t0, replay(ReplayPhase::Begin, Some(100))),
    ];
    events.extend((2..27).map(|seq| replayed(seq, at(1, 0) + seq)));
    let ledger = run(&mut state, &config, &events);
    assert_eq!(
        ledger.iter().map(|t| t.to).collect::<Vec<_>>(),
        [M::Autonomous, M::Returning, M::Replaying]
    );
    let session = state.replay.clone().unwrap_or_default();
    assert_eq!((session.replayed, session.eta_ms), (25, None));
    on_tick(&mut state, &config, t0 + 60_000);
    let session = state.replay.clone().unwrap_or_default();
    assert_eq!(session.rate_per_s, Some(25.0 / 60.0));
    assert_eq!(session.eta_ms, Some(t0 + 60_000 + 180_000));
    assert_eq!(state.sync_debt.backlog_messages, 75);

    let end = on_event(
        &mut state,
        &config,
        &ev(51, t0 + 120_000, replay(ReplayPhase::End, None)),
    );
    assert_eq!(end.len(), 1);
    assert_eq!((state.mode, state.replay.is_none()), (M::Live, true));
    assert_eq!(state.sync_debt.backlog_messages, 0);
    assert_eq!(state.last_sync_ms, Some(t0 + 120_000));
}

#[test]
fn duplicates_old_and_replayed_events_never_move_the_mode_backwards() {
    let config = ConnectivityConfig::default();
    let mut state = ConnectivityState::default();
    on_event(&mut state, &config, &ev(5, at(0, 0), hb(45.0)));
    let before = state.clone();
    let slow_history = FleetEvent {
        replayed: true,
        ..ev(99, at(0, 0) - 60_000, hb(5000.0))
    };
    let cases = [
        ev(5, at(0, 0), hb(45.0)),      // duplicate
        ev(4, at(0, 1), hb(5000.0)),    // re-delivered older seq
        replayed(3, at(0, 0) - 60_000), // history, no session open
        slow_history,                   // history with a higher seq
    ];
    for event in &cases {
        assert!(on_event(&mut state, &config, event).is_empty());
        assert_eq!(state, before, "{event:?}");
    }
    // In a session, a replayed duplicate is counted once.
    on_event(
        &mut state,
        &config,
        &ev(6, at(0, 1), replay(ReplayPhase::Begin, Some(10))),
    );
    on_event(&mut state, &config, &replayed(3, at(0, 0) - 60_000));
    on_event(&mut state, &config, &replayed(3, at(0, 0) - 60_000));
    let session = state.replay.clone().unwrap_or_default();
    assert_eq!((state.mode, session.replayed), (M::Replaying, 1));
}

#[test]
fn non_heartbeat_contact_marks_presence_without_link_verdict() {
    let config = ConnectivityConfig::default();
    let mut state = ConnectivityState::default();
    let snapshot = EventPayload::Snapshot(Snapshot::default());
    let ledger = on_event(&mut state, &config, &ev(1, at(0, 0), snapshot.clone()));
    assert_eq!(
        ledger,
        vec![entry(at(0, 0), M::Unknown, M::Live, "connection_detected")]
    );
    on_event(&mut state, &config, &ev(2, at(0, 1), hb(5000.0)));
    assert!(on_event(&mut state, &config, &ev(3, at(0, 2), snapshot)).is_empty());
    assert_eq!(state.mode, M::Delayed);
}

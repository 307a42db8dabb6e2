//! A node's machines driven together by events and timer firings.

use sxfleet_schemas::{
    Attestation, AttestationResult, ConnectivityMode, EventPayload, FleetEvent, Health,
    LifecyclePhase, Link, LinkState, Replay, ReplayPhase, StateTransition, TransitionMachine,
};

use super::{on_event, on_timer, NodeRules, NodeState};

use crate::connectivity::ConnectivityConfig;
use crate::twin::tests::{event, heartbeat, register};

pub(super) const T0: i64 = 1_772_150_400_000; // 2026-02-27T00:00:00Z
pub(super) const MIN: i64 = 60_000;

fn rules(connectivity: &ConnectivityConfig) -> NodeRules<'_> {
    NodeRules {
        connectivity,
        quarantine_drift_score: 50.0,
    }
}

fn link(state: LinkState) -> EventPayload {
    EventPayload::Link(Link { state, via: None })
}

fn replay(phase: ReplayPhase, backlog_total: Option<i64>, event_count: i64) -> EventPayload {
    EventPayload::Replay(Replay {
        phase,
        session_id: Some("rs-1".to_owned()),
        chunk_seq: None,
        backlog_total,
        event_count,
    })
}

fn replayed(seq: i64, at_ms: i64) -> FleetEvent {
    FleetEvent {
        replayed: true,
        ..event(seq, at_ms, heartbeat(40.0, 0.0, Health::Ok))
    }
}

fn run(state: &mut NodeState, events: &[FleetEvent]) -> Vec<StateTransition> {
    let config = ConnectivityConfig::default();
    events
        .iter()
        .flat_map(|e| on_event(state, e, rules(&config)).unwrap_or_default())
        .collect()
}

fn states(ledger: &[StateTransition], machine: TransitionMachine) -> Vec<&str> {
    ledger
        .iter()
        .filter(|t| t.machine == machine && t.applied)
        .map(|t| t.to_state.as_str())
        .collect()
}

/// Seed 003's connectivity ledger (node-15), with a short backlog.
pub(super) fn seed_003(attestation: Option<AttestationResult>) -> Vec<FleetEvent> {
    let mut events = vec![
        event(1, T0 - MIN, register()),
        event(2, T0, heartbeat(45.0, 0.1, Health::Ok)),
        event(3, T0 + 5 * MIN, heartbeat(48.0, 0.1, Health::Ok)),
        event(4, T0 + 10 * MIN, heartbeat(52.0, 0.1, Health::Ok)),
        event(5, T0 + 15 * MIN, heartbeat(5_000.0, 0.1, Health::Ok)),
        event(6, T0 + 30 * MIN, heartbeat(4_800.0, 0.1, Health::Ok)),
        event(7, T0 + 60 * MIN, link(LinkState::Lost)),
        event(100, T0 + 240 * MIN, link(LinkState::Detected)),
        event(101, T0 + 245 * MIN, replay(ReplayPhase::Begin, Some(2), 0)),
        event(102, T0 + 250 * MIN, replay(ReplayPhase::Chunk, Some(2), 2)),
        replayed(8, T0 + 90 * MIN),
        replayed(9, T0 + 120 * MIN),
    ];
    if let Some(result) = attestation {
        let payload = EventPayload::Attestation(Attestation {
            result,
            firmware_signature: None,
            cert_not_after_ms: None,
        });
        events.push(event(103, T0 + 255 * MIN, payload));
    }
    events.push(event(104, T0 + 260 * MIN, heartbeat(50.0, 0.0, Health::Ok)));
    events.push(event(
        105,
        T0 + 260 * MIN,
        replay(ReplayPhase::End, None, 0),
    ));
    events
}

#[test]
fn seed_003_ledger_drives_connectivity_and_lifecycle_together() {
    let mut state = NodeState::new("n1");
    let ledger = run(&mut state, &seed_003(None));
    assert_eq!(
        states(&ledger, TransitionMachine::Connectivity),
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
    assert_eq!(
        states(&ledger, TransitionMachine::Lifecycle),
        [
            "ENROLLED",
            "ACTIVE",
            "LIVE_OK",
            "DELAYED",
            "EDGE_CACHED",
            "AUTONOMOUS",
            "RETURNING",
            "REPLAYING",
            "LIVE_OK"
        ]
    );
    let seqs: Vec<i64> = ledger.iter().map(|t| t.seq).collect();
    assert_eq!(seqs, (1..=ledger.len() as i64).collect::<Vec<_>>());
    let edge_cached = ledger.iter().find(|t| t.to_state == "edge-cached").unwrap();
    assert_eq!(edge_cached.sync_interval_ms, Some(15 * MIN));
    assert_eq!(edge_cached.event_id.as_deref(), Some("n1:6"));
    let twin = &state.twin;
    assert_eq!(twin.connectivity.mode, ConnectivityMode::Live);
    assert_eq!(twin.lifecycle.phase, LifecyclePhase::Active);
    assert_eq!(twin.lifecycle.state, "LIVE_OK");
    assert!(!twin.connectivity.sync_debt.replay_required);
    assert_eq!(twin.region, "region-a");
}

#[test]
fn a_replay_after_a_failed_attestation_ends_in_quarantine() {
    let mut state = NodeState::new("n1");
    let ledger = run(&mut state, &seed_003(Some(AttestationResult::Failed)));
    let last = states(&ledger, TransitionMachine::Lifecycle);
    assert_eq!(last.last(), Some(&"QUARANTINED"));
    assert_eq!(state.twin.lifecycle.phase, LifecyclePhase::Quarantined);
    // The failed attestation arrives while REPLAYING: quarantined at once, with its reason.
    assert_eq!(
        state.twin.lifecycle.reason.as_deref(),
        Some("attestation_failed")
    );
}

#[test]
fn silence_timers_move_a_quiet_node_and_bump_the_twin() {
    let config = ConnectivityConfig::default();
    let mut state = NodeState::new("n1");
    run(
        &mut state,
        &[event(1, T0, heartbeat(45.0, 0.0, Health::Ok))],
    );
    let version = state.twin.version;
    let due = state.deadline(&config).unwrap();
    assert_eq!(due, T0 + 30 * MIN + 1);
    assert_eq!(
        on_timer(&mut state, due - 1, rules(&config)),
        Default::default()
    );
    let fired = on_timer(&mut state, due, rules(&config)).ledger;
    assert_eq!(
        states(&fired, TransitionMachine::Connectivity),
        ["autonomous"]
    );
    assert!(fired.iter().all(|t| t.event_id.is_none()));
    assert_eq!(state.twin.version, version + 1);
    // Not LIVE any more: the sync-debt refresh (every 15 min after the last sync) comes first.
    assert_eq!(state.deadline(&config), Some(T0 + 45 * MIN));
    let later = T0 + 360 * MIN + 1;
    let fired = on_timer(&mut state, later + 10 * MIN, rules(&config)).ledger;
    assert_eq!(
        states(&fired, TransitionMachine::Connectivity),
        ["disconnected"]
    );
    assert_eq!(state.twin.connectivity.mode, ConnectivityMode::Disconnected);
    // Disconnected: no silence rule left, only the sync-debt refresh.
    let refresh = state.deadline(&config).unwrap();
    assert_eq!(refresh, T0 + 375 * MIN);
    // Dated by the DISCONNECTED transition (6 h + 1 ms), not by the late firing.
    assert_eq!(state.twin.connectivity.sync_debt.seconds_behind, 6 * 3600);
}

#[test]
fn a_duplicate_event_changes_nothing() {
    let config = ConnectivityConfig::default();
    let mut state = NodeState::new("n1");
    let hb = event(1, T0, heartbeat(45.0, 0.0, Health::Ok));
    assert!(on_event(&mut state, &hb, rules(&config)).is_some());
    let before = state.clone();
    assert!(on_event(&mut state, &hb, rules(&config)).is_none());
    assert_eq!(state, before);
}

#[test]
fn node_state_round_trips_through_its_changelog_format() {
    use sxfleet_runtime::store::StoreCodec;
    let mut state = NodeState::new("n1");
    run(&mut state, &seed_003(None));
    let bytes = state.encode().unwrap();
    assert_eq!(NodeState::decode(&bytes).unwrap(), state);
    let mut wrong = bytes.clone();
    wrong[0] = 1;
    assert!(NodeState::decode(&wrong).is_err());
    // A state stored in format 2 (before the hierarchy and topology fields) still reads.
    let mut json: serde_json::Value = serde_json::from_slice(&bytes[1..]).unwrap();
    let twin = json["twin"].as_object_mut().unwrap();
    for field in ["domain_path", "relay_path", "edges"] {
        twin.remove(field);
    }
    twin["connectivity"]
        .as_object_mut()
        .unwrap()
        .remove("last_sync_ms");
    json.as_object_mut().unwrap().remove("topology");
    let mut old = vec![super::NODE_STATE_FORMAT_V2];
    old.extend(serde_json::to_vec(&json).unwrap());
    let read = NodeState::decode(&old).unwrap();
    let mut want = state.clone();
    want.twin.connectivity.last_sync_ms = None;
    assert_eq!(read, want);
}

/// A state stored in format 4 (before the command book and maintenance) still reads, with an
/// empty book; the current format carries the book.
#[test]
fn the_format_before_commands_still_reads() {
    use sxfleet_runtime::store::StoreCodec;
    let mut state = NodeState::new("n1");
    run(&mut state, &seed_003(None));
    let bytes = state.encode().unwrap();
    assert_eq!(bytes[0], super::NODE_STATE_FORMAT);
    let mut json: serde_json::Value = serde_json::from_slice(&bytes[1..]).unwrap();
    assert!(json.as_object_mut().unwrap().remove("commands").is_some());
    let lifecycle = json["lifecycle"].as_object_mut().unwrap();
    assert!(lifecycle.remove("maintenance").is_some());
    let mut old = vec![super::NODE_STATE_FORMAT_V4];
    old.extend(serde_json::to_vec(&json).unwrap());
    assert_eq!(NodeState::decode(&old).unwrap(), state);
    state.commands.status_seq = 7;
    let bytes = state.encode().unwrap();
    assert_eq!(NodeState::decode(&bytes).unwrap().commands.status_seq, 7);
}

#[test]
fn debug_hours_of_silence_then_a_heartbeat() {
    let config = ConnectivityConfig::default();
    let mut state = NodeState::new("n1");
    run(
        &mut state,
        &[
            event(1, T0, register()),
            event(2, T0 + 1_000, heartbeat(45.0, 0.0, Health::Ok)),
        ],
    );
    let v = state.twin.version;
    let fired = on_timer(&mut state, T0 + 360 * MIN, rules(&config)).ledger;
    eprintln!("fired {fired:#?}");
    let led = on_event(
        &mut state,
        &event(3, T0 + 360 * MIN, heartbeat(777.0, 0.0, Health::Ok)),
        rules(&config),
    );
    eprintln!("event {led:#?}");
    assert_eq!(state.twin.version, v + 2);
}

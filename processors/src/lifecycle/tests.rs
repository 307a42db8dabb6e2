//! Table-driven tests of the lifecycle machine: every edge of diagram 3A, refused requests,
//! the command lock and seed 003's connectivity ledger driving the ACTIVE sub-states.

use sxfleet_schemas::{
    ConnectivityMode as M, EventPayload, FleetEvent, Health, Heartbeat, Lifecycle, LifecyclePhase,
    NodeKind, Register, Source,
};

use super::actions::{self, CommandAction, CommandStep};
use super::*;
use crate::connectivity::ConnectivityTransition;

fn ev(seq: i64, payload: EventPayload) -> FleetEvent {
    FleetEvent {
        event_id: format!("n1:{seq}"),
        node_id: "n1".to_owned(),
        seq,
        event_time_ms: 1_000 * seq,
        received_ms: 1_000 * seq,
        source: Source::KafkaRaw,
        replayed: false,
        payload,
    }
}

/// Owned counterpart of [`LifecycleInput`], so test tables can hold their inputs.
#[derive(Debug)]
enum In {
    Event(Box<FleetEvent>),
    Conn(ConnectivityTransition),
    Verdict(ReplayVerdict, i64),
}

impl In {
    fn borrow(&self) -> LifecycleInput<'_> {
        match self {
            In::Event(event) => LifecycleInput::Event(event),
            In::Conn(transition) => LifecycleInput::Connectivity(transition),
            In::Verdict(verdict, at) => LifecycleInput::Reconciled(*verdict, *at),
        }
    }
}

fn event_in(event: FleetEvent) -> In {
    In::Event(Box::new(event))
}

fn signal(name: &str) -> In {
    event_in(ev(
        100,
        EventPayload::Lifecycle(Lifecycle {
            event: name.to_owned(),
            reason: None,
        }),
    ))
}

fn health(health: Health) -> In {
    event_in(ev(
        100,
        EventPayload::Heartbeat(Heartbeat {
            health,
            ..Heartbeat::default()
        }),
    ))
}

fn register() -> In {
    event_in(ev(
        100,
        EventPayload::Register(Register {
            kind: NodeKind::Edge,
            domain_id: "edge-zone-c".to_owned(),
            region: "region-c".to_owned(),
            zone: "edge-zone-c".to_owned(),
            tags: Vec::new(),
            hardware: Default::default(),
            firmware: Default::default(),
            public_key: None,
        }),
    ))
}

fn conn(from: M, to: M, reason: &str) -> In {
    In::Conn(ConnectivityTransition {
        at_ms: 5_000,
        from,
        to,
        reason: reason.to_owned(),
        latency_ms: None,
        backlog: None,
        sync_interval_ms: None,
    })
}

fn verdict(trusted: bool, drift_ok: bool) -> In {
    In::Verdict(ReplayVerdict { trusted, drift_ok }, 9_000)
}

fn in_state(state: PreciseState) -> LifecycleState {
    LifecycleState {
        state,
        ..LifecycleState::default()
    }
}

#[test]
fn every_diagram_edge_is_reachable_from_its_input() {
    use PreciseState as S;
    let cases: Vec<(S, In, S)> = vec![
        (S::Provisioning, register(), S::Enrolled),
        (S::Enrolled, signal("activate"), S::Active),
        (
            S::Active,
            conn(M::Unknown, M::Live, "connectivity_live"),
            S::LiveOk,
        ),
        (
            S::Active,
            conn(M::Live, M::Delayed, "latency_threshold"),
            S::Delayed,
        ),
        (
            S::Active,
            conn(M::Delayed, M::EdgeCached, "sync_interval_extends"),
            S::EdgeCached,
        ),
        (
            S::Active,
            conn(M::Live, M::Autonomous, "connection_lost"),
            S::Autonomous,
        ),
        (
            S::LiveOk,
            conn(M::Live, M::Delayed, "latency_threshold"),
            S::Delayed,
        ),
        (
            S::Delayed,
            conn(M::Delayed, M::EdgeCached, "sync_interval_extends"),
            S::EdgeCached,
        ),
        (
            S::EdgeCached,
            conn(M::EdgeCached, M::Autonomous, "connection_lost"),
            S::Autonomous,
        ),
        (
            S::Autonomous,
            conn(M::Autonomous, M::Returning, "connection_detected"),
            S::Returning,
        ),
        (
            S::Returning,
            conn(M::Returning, M::Replaying, "backlog_upload"),
            S::Replaying,
        ),
        (S::Replaying, verdict(true, true), S::LiveOk),
        (S::Replaying, verdict(true, false), S::Quarantined),
        (S::Active, signal("update_start"), S::Updating),
        (S::Updating, signal("update_complete"), S::Active),
        (S::Updating, signal("update_failed"), S::Degraded),
        (S::Active, health(Health::Failed), S::Degraded),
        (S::Degraded, health(Health::Ok), S::Active),
        (S::Degraded, signal("critical_failure"), S::Quarantined),
        (S::Quarantined, signal("remediation_complete"), S::Active),
        (S::Quarantined, signal("unrecoverable"), S::Decommissioning),
        (S::Active, signal("decommission"), S::Decommissioning),
        (
            S::Decommissioning,
            signal("decommission_complete"),
            S::Retired,
        ),
        (S::Active, signal("maintenance_start"), S::Maintenance),
        (S::Maintenance, signal("maintenance_end"), S::Active),
        (S::Maintenance, signal("decommission"), S::Decommissioning),
        (S::Maintenance, signal("maintenance_failed"), S::Degraded),
    ];
    for (from, _, to) in &cases {
        assert!(diagram_edge(*from, *to).is_some(), "{from:?} -> {to:?}");
    }
    for (from, to, _) in DIAGRAM_EDGES {
        assert!(
            cases.iter().any(|(f, _, t)| f == from && t == to),
            "edge {from:?} -> {to:?} not covered"
        );
    }
    for (from, input, to) in cases {
        let mut state = in_state(from);
        let out = apply(&mut state, input.borrow());
        assert_eq!(out.violations, vec![], "{from:?} {input:?}");
        assert_eq!(out.transitions.len(), 1, "{from:?} {input:?}");
        assert_eq!((out.transitions[0].from, state.state), (from, to));
        assert_eq!(
            out.transitions[0].edge,
            diagram_edge(from, to).unwrap_or("?")
        );
        assert_eq!(state.phase(), to.phase());
    }
}

#[test]
fn requests_off_the_diagram_are_recorded_and_not_applied() {
    use PreciseState as S;
    let cases: Vec<(S, In, Option<S>)> = vec![
        (S::Provisioning, signal("activate"), Some(S::Active)),
        (S::Enrolled, signal("update_start"), Some(S::Updating)),
        (S::Retired, signal("activate"), Some(S::Active)),
        (
            S::Autonomous,
            conn(M::Autonomous, M::Live, "connectivity_live"),
            Some(S::LiveOk),
        ),
        (S::Returning, signal("update_start"), Some(S::Updating)),
        (
            S::Replaying,
            conn(M::Replaying, M::Autonomous, "silence"),
            Some(S::Autonomous),
        ),
        (S::LiveOk, verdict(false, true), Some(S::Quarantined)),
        (
            S::Updating,
            signal("decommission"),
            Some(S::Decommissioning),
        ),
        (S::LiveOk, signal("critical_failure"), Some(S::Quarantined)),
        (
            S::Decommissioning,
            signal("remediation_complete"),
            Some(S::Active),
        ),
        (
            S::LiveOk,
            conn(M::Live, M::Replaying, "backlog_upload"),
            Some(S::Replaying),
        ),
        (S::Active, signal("explode"), None),
    ];
    for (from, input, requested) in cases {
        let mut state = in_state(from);
        let before = state.clone();
        let out = apply(&mut state, input.borrow());
        assert_eq!(out.transitions, vec![], "{from:?} {input:?}");
        assert_eq!(out.violations.len(), 1, "{from:?} {input:?}");
        assert_eq!(
            (out.violations[0].from, out.violations[0].requested),
            (from, requested)
        );
        assert_eq!(state.state, before.state);
    }
}

#[test]
fn activation_enters_the_known_connectivity_sub_state() {
    let mut state = in_state(PreciseState::Enrolled);
    apply(
        &mut state,
        conn(M::Unknown, M::Live, "connectivity_live").borrow(),
    );
    assert_eq!(state.state, PreciseState::Enrolled);
    let out = apply(&mut state, health(Health::Ok).borrow());
    let path: Vec<_> = out.transitions.iter().map(|t| t.to).collect();
    assert_eq!(path, [PreciseState::Active, PreciseState::LiveOk]);
}

fn takes_commands(state: &LifecycleState) -> bool {
    command_hold(state, sxfleet_schemas::CommandKind::Restart).is_none()
}

#[test]
fn commands_wait_for_reconciliation() {
    use PreciseState as S;
    let cases = [
        (S::LiveOk, true),
        (S::Autonomous, false),
        (S::Returning, false),
        (S::Replaying, false),
        (S::Quarantined, false),
        (S::Retired, false),
        (S::Updating, true),
    ];
    for (state, accepts) in cases {
        assert_eq!(takes_commands(&in_state(state)), accepts, "{state:?}");
    }
    // The lock follows the connectivity even outside ACTIVE, and only a verdict lifts it.
    let mut state = in_state(S::Updating);
    apply(
        &mut state,
        conn(M::Autonomous, M::Returning, "connection_detected").borrow(),
    );
    assert!(!takes_commands(&state));
    apply(&mut state, signal("update_complete").borrow());
    assert!(!takes_commands(&state));
    // Back online, but not reconciled yet.
    apply(
        &mut state,
        conn(M::Returning, M::Live, "replay_complete").borrow(),
    );
    assert_eq!(
        command_hold(&state, sxfleet_schemas::CommandKind::Restart),
        Some("reconciliation")
    );
    apply(&mut state, verdict(true, true).borrow());
    assert!(takes_commands(&state));
}

#[test]
fn seed_003_ledger_drives_active_sub_states_until_the_verdict() {
    use PreciseState as S;
    let ledger = [
        (M::Unknown, M::Live, S::LiveOk),
        (M::Live, M::Delayed, S::Delayed),
        (M::Delayed, M::EdgeCached, S::EdgeCached),
        (M::EdgeCached, M::Autonomous, S::Autonomous),
        (M::Autonomous, M::Returning, S::Returning),
        (M::Returning, M::Replaying, S::Replaying),
        (M::Replaying, M::Live, S::Replaying),
    ];
    for (trusted, end) in [(true, S::LiveOk), (false, S::Quarantined)] {
        let mut state = in_state(S::Active);
        for (from, to, want) in ledger {
            let out = apply(&mut state, conn(from, to, "x").borrow());
            assert_eq!(out.violations, vec![]);
            assert_eq!(state.state, want);
        }
        assert!(!takes_commands(&state));
        apply(&mut state, verdict(trusted, true).borrow());
        assert_eq!(state.state, end);
        assert_eq!(takes_commands(&state), trusted);
        assert_eq!(
            state.phase(),
            if trusted {
                LifecyclePhase::Active
            } else {
                LifecyclePhase::Quarantined
            }
        );
    }
}

#[test]
fn replayed_and_duplicate_events_change_nothing() {
    let mut state = in_state(PreciseState::LiveOk);
    let mut old = ev(
        100,
        EventPayload::Heartbeat(Heartbeat {
            health: Health::Failed,
            ..Heartbeat::default()
        }),
    );
    old.replayed = true;
    assert_eq!(on_event(&mut state, &old), LifecycleOutcome::default());
    apply(&mut state, signal("update_start").borrow());
    let again = apply(&mut state, signal("update_complete").borrow());
    assert_eq!(
        again,
        LifecycleOutcome::default(),
        "same seq 100 is a duplicate"
    );
    assert_eq!(state.state, PreciseState::Updating);
}

#[test]
fn states_and_config_round_trip_through_json() -> Result<(), serde_json::Error> {
    use crate::connectivity::{self, ConnectivityConfig, ConnectivityState};

    let config: ConnectivityConfig = serde_json::from_str(r#"{"autonomous_after_ms": 60000}"#)?;
    assert_eq!(config.autonomous_after_ms, 60_000);
    assert_eq!(
        config.delayed_rtt_ms,
        ConnectivityConfig::default().delayed_rtt_ms
    );
    assert!(serde_json::from_str::<ConnectivityConfig>(r#"{"autonomus_after_ms": 1}"#).is_err());

    let mut conn = ConnectivityState::default();
    let mut life = in_state(PreciseState::Active);
    for seq in 1..4 {
        let event = ev(
            seq,
            EventPayload::Heartbeat(Heartbeat {
                rtt_ms: Some(45.0),
                ..Heartbeat::default()
            }),
        );
        for step in connectivity::on_event(&mut conn, &config, &event) {
            on_connectivity(&mut life, &step);
        }
    }
    assert_eq!(life.state, PreciseState::LiveOk);
    let conn_back: ConnectivityState = serde_json::from_str(&serde_json::to_string(&conn)?)?;
    let life_back: LifecycleState = serde_json::from_str(&serde_json::to_string(&life)?)?;
    assert_eq!((conn_back, life_back), (conn, life));
    assert_eq!(
        serde_json::to_string(&PreciseState::LiveOk)?,
        r#""LIVE_OK""#
    );
    Ok(())
}

#[test]
fn command_steps_move_the_lifecycle_along_its_edges() {
    use sxfleet_schemas::CommandKind as K;
    use CommandStep as C;
    use PreciseState as S;
    const AT: i64 = 1_000;
    // (from, kind, step, path of states entered, reason of the last)
    let cases: Vec<(S, K, C, Vec<S>, &str)> = vec![
        (
            S::LiveOk,
            K::Decommission,
            C::Accepted,
            vec![S::Decommissioning],
            "command:decommission",
        ),
        (
            S::Autonomous,
            K::Decommission,
            C::Accepted,
            vec![S::Decommissioning],
            "command:decommission",
        ),
        (
            S::Quarantined,
            K::Decommission,
            C::Accepted,
            vec![S::Decommissioning],
            "command:decommission",
        ),
        (
            S::Maintenance,
            K::Decommission,
            C::Accepted,
            vec![S::Decommissioning],
            "command:decommission",
        ),
        (
            S::Decommissioning,
            K::Decommission,
            C::Applied,
            vec![S::Retired],
            "command:decommission",
        ),
        (
            S::Decommissioning,
            K::Decommission,
            C::TimedOut,
            vec![S::Retired],
            "decommission_timeout",
        ),
        (S::Decommissioning, K::Decommission, C::Received, vec![], ""),
        (
            S::LiveOk,
            K::MaintenanceStart,
            C::Received,
            vec![S::Maintenance],
            "command:maintenance_start",
        ),
        (S::Maintenance, K::MaintenanceStart, C::Applied, vec![], ""),
        (
            S::Maintenance,
            K::MaintenanceEnd,
            C::Applied,
            vec![S::Active],
            "command:maintenance_end",
        ),
        (
            S::Maintenance,
            K::MaintenanceEnd,
            C::Failed,
            vec![S::Degraded],
            "command:maintenance_end",
        ),
        (
            S::LiveOk,
            K::Update,
            C::Received,
            vec![S::Updating],
            "command:update",
        ),
        (
            S::Updating,
            K::Update,
            C::Applied,
            vec![S::Active],
            "command:update",
        ),
        (
            S::Updating,
            K::ApplyBundle,
            C::Failed,
            vec![S::Degraded],
            "command:apply_bundle",
        ),
        (
            S::Delayed,
            K::Update,
            C::Applied,
            vec![S::Updating, S::Active],
            "command:update",
        ),
        (
            S::Quarantined,
            K::Remediate,
            C::Applied,
            vec![S::Active],
            "command:remediate",
        ),
        (S::LiveOk, K::Remediate, C::Applied, vec![], ""),
        (S::LiveOk, K::Restart, C::Applied, vec![], ""),
    ];
    for (from, kind, step, path, reason) in cases {
        let mut state = in_state(from);
        let action = CommandAction {
            kind,
            command_id: "c1".to_owned(),
            step,
            at_ms: AT,
            until_ms: Some(AT + 60_000),
        };
        let out = actions::on_command(&mut state, &action);
        let entered: Vec<S> = out.transitions.iter().map(|t| t.to).collect();
        assert_eq!(entered, path, "{from:?} {kind:?} {step:?}");
        assert_eq!(out.violations, vec![], "{from:?} {kind:?} {step:?}");
        if let Some(last) = out.transitions.last() {
            assert_eq!(last.reason, reason);
            assert_eq!(last.at_ms, AT);
        }
    }
    // A maintenance started by command ends by itself at its `until`.
    let mut state = in_state(S::LiveOk);
    let start = CommandAction {
        kind: K::MaintenanceStart,
        command_id: "m1".to_owned(),
        step: C::Applied,
        at_ms: AT,
        until_ms: Some(AT + 60_000),
    };
    actions::on_command(&mut state, &start);
    let maintenance = state.maintenance.clone().unwrap();
    assert_eq!(
        (
            maintenance.since_ms,
            maintenance.until_ms,
            maintenance.command_id.as_deref()
        ),
        (AT, Some(AT + 60_000), Some("m1"))
    );
    assert_eq!(
        state.phase(),
        LifecyclePhase::Updating,
        "maintenance reads UPDATING in Avro"
    );
    assert_eq!(actions::next_timer(&state), Some(AT + 60_000));
    assert!(actions::on_timer(&mut state, AT + 59_999)
        .transitions
        .is_empty());
    let out = actions::on_timer(&mut state, AT + 90_000);
    assert_eq!(out.transitions[0].to, S::Active);
    assert_eq!(out.transitions[0].at_ms, AT + 60_000);
    assert_eq!(state.maintenance, None);
    // An update step the diagram cannot take from here is a violation, not a move.
    let mut state = in_state(S::Maintenance);
    let update = CommandAction {
        kind: K::Update,
        step: C::Received,
        ..start
    };
    let out = actions::on_command(&mut state, &update);
    assert_eq!(out.transitions, vec![]);
    assert_eq!(out.violations.len(), 1);
}

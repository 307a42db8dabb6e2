//! Commands moving with the whole node: held through a replay and released at the clean
//! verdict, lifecycle actions with their ledger entries, the decommission timeout.

use sxfleet_schemas::{
    AttestationResult, AuthorityClaim, AuthorityLevel, Delivery, Health, StateTransition,
};

use super::commands::on_ack;
use super::tests::{seed_003, MIN, T0};
use super::NodeState;
use crate::command::Origin;
use crate::config::ProjectionConfig;
use crate::control::ControlState;
use crate::fold::{self, Step};
use crate::lifecycle::PreciseState;
use crate::twin::tests::{event, heartbeat, register};
use sxfleet_schemas::{
    AckStatus, CommandAck, CommandKind, CommandRequest, CommandState, CommandTarget,
};

fn request(key: &str, kind: CommandKind, issued_ms: i64) -> CommandRequest {
    CommandRequest {
        command_id: key.to_owned(),
        idempotency_key: key.to_owned(),
        target_kind: CommandTarget::Node,
        target_id: "n1".to_owned(),
        kind,
        delivery: Delivery::AtLeastOnce,
        issued_ms,
        expires_ms: None,
        authority: AuthorityClaim {
            controller_id: "c".to_owned(),
            level: AuthorityLevel::Region,
            epoch: 1,
        },
        params: Default::default(),
    }
}

fn submit(state: &mut NodeState, req: &CommandRequest) -> Step {
    let control = ControlState::default();
    fold::on_command(
        state,
        req,
        Origin::Controller(Ok(())),
        &control,
        &ProjectionConfig::default(),
    )
}

fn ack(
    state: &mut NodeState,
    id: &str,
    status: AckStatus,
    at: i64,
) -> super::commands::CommandStepped {
    let ack = CommandAck {
        command_id: id.to_owned(),
        status,
        reason: None,
        reported_version: None,
    };
    on_ack(state, &ack, 0, at, &ProjectionConfig::default().commands)
}

fn lifecycle_moves(ledger: &[StateTransition]) -> Vec<(&str, &str, &str, Option<&str>)> {
    ledger
        .iter()
        .filter(|t| t.applied && t.machine == sxfleet_schemas::TransitionMachine::Lifecycle)
        .map(|t| {
            (
                t.from_state.as_str(),
                t.to_state.as_str(),
                t.reason.as_str(),
                t.event_id.as_deref(),
            )
        })
        .collect()
}

fn live_node() -> NodeState {
    let mut state = NodeState::new("n1");
    let control = ControlState::default();
    let config = ProjectionConfig::default();
    for e in [
        event(1, T0, register()),
        event(2, T0 + 1_000, heartbeat(40.0, 0.0, Health::Ok)),
    ] {
        fold::on_event(&mut state, &e, &control, &config);
    }
    assert_eq!(state.lifecycle.state, PreciseState::LiveOk);
    state
}

#[test]
fn commands_wait_out_the_replay_and_go_at_the_clean_verdict_in_issue_order() {
    let control = ControlState::default();
    let config = ProjectionConfig::default();
    let events = seed_003(None);
    let (before_end, end) = events.split_at(events.len() - 2);
    let mut state = NodeState::new("n1");
    for e in before_end {
        fold::on_event(&mut state, e, &control, &config);
    }
    assert_eq!(state.lifecycle.state, PreciseState::Replaying);
    let at = T0 + 252 * MIN;
    let second = submit(&mut state, &request("second", CommandKind::Restart, at));
    let first = submit(
        &mut state,
        &request("first", CommandKind::Restart, at - MIN),
    );
    for step in [&first, &second] {
        let held = &step.commands.statuses[1];
        assert_eq!(
            (held.status, held.reason.as_deref()),
            (CommandState::Held, Some("node_away"))
        );
        assert!(step.commands.commands.is_empty());
    }
    assert_eq!((state.commands.held(), state.commands.pending()), (2, 2));
    // The heartbeat before the replay's end does not release them; the verdict does.
    let step = fold::on_event(&mut state, &end[0], &control, &config).unwrap();
    assert!(step.commands.commands.is_empty());
    let step = fold::on_event(&mut state, &end[1], &control, &config).unwrap();
    assert_eq!(state.lifecycle.state, PreciseState::LiveOk);
    let sent: Vec<(&str, i64)> = step
        .commands
        .commands
        .iter()
        .map(|c| (c.command_id.as_str(), c.published_ms))
        .collect();
    assert_eq!(
        sent,
        vec![("first", T0 + 260 * MIN), ("second", T0 + 260 * MIN)]
    );
    assert_eq!(state.commands.held(), 0);
}

#[test]
fn a_quarantined_node_takes_its_remediation_and_is_trusted_again() {
    let control = ControlState::default();
    let config = ProjectionConfig::default();
    let mut state = NodeState::new("n1");
    for e in seed_003(Some(AttestationResult::Failed)) {
        fold::on_event(&mut state, &e, &control, &config);
    }
    assert_eq!(state.lifecycle.state, PreciseState::Quarantined);
    let at = T0 + 300 * MIN;
    let restart = submit(&mut state, &request("restart", CommandKind::Restart, at));
    assert_eq!(
        restart.commands.statuses[1].reason.as_deref(),
        Some("quarantined")
    );
    let remediate = submit(&mut state, &request("fix", CommandKind::Remediate, at + 1));
    assert_eq!(
        remediate.commands.statuses[1].status,
        CommandState::Published
    );
    let done = ack(&mut state, "fix", AckStatus::Applied, at + 2);
    assert_eq!(
        lifecycle_moves(&done.ledger),
        vec![
            ("QUARANTINED", "ACTIVE", "command:remediate", Some("fix")),
            ("ACTIVE", "LIVE_OK", "connectivity", Some("fix")),
        ]
    );
    assert!(crate::trust::trusted(&state.trust));
    // The held restart goes at once.
    let sent: Vec<&str> = done
        .outcome
        .commands
        .iter()
        .map(|c| c.command_id.as_str())
        .collect();
    assert_eq!(sent, vec!["restart"]);
}

#[test]
fn decommission_by_command_then_by_timeout() {
    let config = ProjectionConfig::default();
    let control = ControlState::default();
    let mut state = live_node();
    let at = T0 + 10 * MIN;
    let step = submit(&mut state, &request("d", CommandKind::Decommission, at));
    assert_eq!(
        lifecycle_moves(&step.ledger),
        vec![(
            "LIVE_OK",
            "DECOMMISSIONING",
            "command:decommission",
            Some("d")
        )]
    );
    assert!(step.derived.changed);
    let held = submit(&mut state, &request("r", CommandKind::Restart, at + 1));
    assert_eq!(
        held.commands.statuses[1].reason.as_deref(),
        Some("decommissioning")
    );
    let timeout = at + config.commands.decommission_timeout_ms;
    assert!(fold::deadline(&state, &config).is_some_and(|d| d <= timeout));
    let step = fold::on_timer(&mut state, timeout, &control, &config);
    assert_eq!(
        lifecycle_moves(&step.ledger),
        vec![(
            "DECOMMISSIONING",
            "RETIRED",
            "decommission_timeout",
            Some("d")
        )]
    );
    let cancelled: Vec<(&str, CommandState)> = step
        .commands
        .statuses
        .iter()
        .filter(|s| s.reason.as_deref() == Some("node_retired"))
        .map(|s| (s.command_id.as_str(), s.status))
        .collect();
    assert_eq!(
        cancelled,
        vec![
            ("d", CommandState::Cancelled),
            ("r", CommandState::Cancelled)
        ]
    );
    let late = submit(&mut state, &request("x", CommandKind::Restart, timeout + 1));
    assert_eq!(
        late.commands.statuses[0].reason.as_deref(),
        Some("node_retired")
    );
}

#[test]
fn maintenance_by_command_ends_at_its_until_or_by_command() {
    let config = ProjectionConfig::default();
    let control = ControlState::default();
    let mut state = live_node();
    let at = T0 + 10 * MIN;
    let mut start = request("m", CommandKind::MaintenanceStart, at);
    start
        .params
        .insert("until".to_owned(), "2026-02-27T01:00:00Z".to_owned());
    submit(&mut state, &start);
    let received = ack(&mut state, "m", AckStatus::Received, at + 1);
    assert_eq!(
        lifecycle_moves(&received.ledger),
        vec![(
            "LIVE_OK",
            "MAINTENANCE",
            "command:maintenance_start",
            Some("m")
        )]
    );
    let maintenance = state.lifecycle.maintenance.clone().unwrap();
    assert_eq!(
        (maintenance.since_ms, maintenance.until_ms),
        (at + 1, Some(T0 + 60 * MIN))
    );
    assert_eq!(state.twin.lifecycle.state, "MAINTENANCE");
    assert_eq!(super::commands::deadline(&state), Some(T0 + 60 * MIN));
    let step = fold::on_timer(&mut state, T0 + 61 * MIN, &control, &config);
    assert_eq!(
        lifecycle_moves(&step.ledger)[0],
        ("MAINTENANCE", "ACTIVE", "maintenance_until", None)
    );
    // Again, ended by MAINTENANCE_END.
    submit(
        &mut state,
        &request("m2", CommandKind::MaintenanceStart, T0 + 62 * MIN),
    );
    ack(&mut state, "m2", AckStatus::Applied, T0 + 63 * MIN);
    submit(
        &mut state,
        &request("e2", CommandKind::MaintenanceEnd, T0 + 64 * MIN),
    );
    let done = ack(&mut state, "e2", AckStatus::Applied, T0 + 65 * MIN);
    assert_eq!(
        lifecycle_moves(&done.ledger)[0],
        (
            "MAINTENANCE",
            "ACTIVE",
            "command:maintenance_end",
            Some("e2")
        )
    );
}

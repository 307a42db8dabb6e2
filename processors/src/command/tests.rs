use sxfleet_schemas::{AuthorityClaim, AuthorityLevel, ConnectivityMode as M, Delivery};

use super::*;
use crate::lifecycle::actions::CommandStep;
use crate::lifecycle::{LifecycleState, PreciseState as P};
use sxfleet_schemas::{
    AckStatus, CommandAck, CommandKind as K, CommandRequest, CommandState, CommandTarget,
};

const T: i64 = 1_772_150_400_000;
const S: i64 = 1_000;

fn request(key: &str, kind: K, delivery: Delivery) -> CommandRequest {
    CommandRequest {
        command_id: format!("cmd-{key}"),
        idempotency_key: key.to_owned(),
        target_kind: CommandTarget::Node,
        target_id: "edge-1".to_owned(),
        kind,
        delivery,
        issued_ms: T,
        expires_ms: None,
        authority: AuthorityClaim {
            controller_id: "region-a-control".to_owned(),
            level: AuthorityLevel::Region,
            epoch: 3,
        },
        params: Default::default(),
    }
}

fn life(state: P, mode: M) -> LifecycleState {
    LifecycleState {
        state,
        connectivity: mode,
        ..LifecycleState::default()
    }
}

fn gate(lifecycle: &LifecycleState) -> Gate<'_> {
    Gate {
        node_id: "edge-1",
        domain_id: "edge-zone-a1",
        lifecycle,
        constraints: Constraints::default(),
    }
}

const OK: Origin = Origin::Controller(Ok(()));

fn statuses(out: &Outcome) -> Vec<(CommandState, Option<&str>)> {
    out.statuses
        .iter()
        .map(|s| (s.status, s.reason.as_deref()))
        .collect()
}

fn submit(book: &mut CommandBook, req: &CommandRequest, l: &LifecycleState, at: i64) -> Outcome {
    book.submit(req, OK, &gate(l), at, &CommandConfig::default())
}

#[test]
fn acceptance_rules_in_order() {
    use CommandState as C;
    let live = life(P::LiveOk, M::Live);
    let retired = life(P::Retired, M::Live);
    let expired = CommandRequest {
        expires_ms: Some(T),
        ..request("k", K::Restart, Delivery::AtLeastOnce)
    };
    let plain = request("k", K::Restart, Delivery::AtLeastOnce);
    let unknown = request("k", K::Unknown, Delivery::AtLeastOnce);
    let no_authority = Origin::Controller(Err("no_authority".to_owned()));
    // (request, origin, lifecycle, statuses)
    let cases = [
        (
            &plain,
            no_authority.clone(),
            &live,
            vec![(C::Rejected, Some("no_authority"))],
        ),
        // Authority comes first.
        (
            &expired,
            no_authority,
            &live,
            vec![(C::Rejected, Some("no_authority"))],
        ),
        (&expired, OK, &live, vec![(C::Rejected, Some("expired"))]),
        (
            &plain,
            OK,
            &retired,
            vec![(C::Rejected, Some("node_retired"))],
        ),
        (
            &unknown,
            OK,
            &live,
            vec![(C::Rejected, Some("unknown_kind"))],
        ),
        (
            &plain,
            OK,
            &live,
            vec![(C::Accepted, None), (C::Published, None)],
        ),
    ];
    for (req, origin, l, want) in cases {
        let mut book = CommandBook::default();
        let out = book.submit(req, origin, &gate(l), T, &CommandConfig::default());
        assert_eq!(statuses(&out), want, "{:?} {:?}", req.kind, l.state);
        let published = want.iter().any(|(s, _)| *s == C::Published);
        assert_eq!(out.commands.len(), usize::from(published));
        assert_eq!(book.pending(), i32::from(published));
    }
}

#[test]
fn the_delivery_record_says_what_and_which_attempt() {
    let live = life(P::LiveOk, M::Live);
    let mut book = CommandBook::default();
    let mut custom = request("k", K::Custom, Delivery::AtMostOnce);
    custom
        .params
        .insert("name".to_owned(), "flush_cache".to_owned());
    let out = submit(&mut book, &custom, &live, T);
    let sent = &out.commands[0];
    assert_eq!(
        (sent.action.as_str(), sent.attempt, sent.published_ms),
        ("flush_cache", 1, T)
    );
    assert_eq!(
        (sent.node_id.as_str(), sent.domain_id.as_str()),
        ("edge-1", "edge-zone-a1")
    );
    let out = submit(
        &mut book,
        &request("r", K::Restart, Delivery::AtLeastOnce),
        &live,
        T,
    );
    assert_eq!(out.commands[0].action, "restart");
    let seqs: Vec<i64> = out.statuses.iter().map(|s| s.seq).collect();
    assert_eq!(seqs, vec![3, 4], "status seq increases per node");
}

#[test]
fn one_key_is_one_command() {
    let live = life(P::LiveOk, M::Live);
    let mut book = CommandBook::default();
    let req = request("k", K::Restart, Delivery::AtLeastOnce);
    let first = submit(&mut book, &req, &live, T);
    assert_eq!(first.statuses.len(), 2);
    for at in [T, T + S, T + 2 * S] {
        let again = CommandRequest {
            issued_ms: at,
            ..req.clone()
        };
        let out = submit(&mut book, &again, &live, at);
        assert!(out.statuses.is_empty() && out.commands.is_empty(), "{at}");
    }
    let other = CommandRequest {
        kind: K::Decommission,
        ..req.clone()
    };
    let out = submit(&mut book, &other, &live, T + 3 * S);
    assert_eq!(
        statuses(&out),
        vec![(CommandState::Rejected, Some("duplicate_key_conflict"))]
    );
    assert!(out.actions.is_empty());
    let kept = &book.commands["k"];
    assert_eq!(
        (kept.request.kind, kept.status),
        (K::Restart, CommandState::Published)
    );
    assert_eq!(book.commands.len(), 1);
}

#[test]
fn at_least_once_resends_with_back_off_until_acked() {
    let live = life(P::LiveOk, M::Live);
    let config = CommandConfig::default();
    let mut book = CommandBook::default();
    submit(
        &mut book,
        &request("k", K::Restart, Delivery::AtLeastOnce),
        &live,
        T,
    );
    assert_eq!(book.deadline(), Some(T + 30 * S));
    // Nothing before the first back-off.
    assert!(book
        .on_timer(&gate(&live), T + 29 * S, &config)
        .commands
        .is_empty());
    // 30 s, then 60, 120, 240, 480, then capped at 900.
    let out = book.on_timer(&gate(&live), T + 3_000 * S, &config);
    let times: Vec<(i32, i64)> = out
        .commands
        .iter()
        .map(|c| (c.attempt, c.published_ms - T))
        .collect();
    assert_eq!(
        times,
        vec![
            (2, 30 * S),
            (3, 90 * S),
            (4, 210 * S),
            (5, 450 * S),
            (6, 930 * S),
            (7, 1_830 * S),
            (8, 2_730 * S)
        ]
    );
    assert!(out
        .statuses
        .iter()
        .all(|s| s.status == CommandState::Resent));
    assert_eq!(book.deadline(), Some(T + 3_630 * S));
    let ack = |status| CommandAck {
        command_id: "cmd-k".to_owned(),
        status,
        reason: None,
        reported_version: None,
    };
    let out = book.on_ack(
        &ack(AckStatus::Received),
        &gate(&live),
        T + 3_001 * S,
        &config,
    );
    assert_eq!(statuses(&out), vec![(CommandState::Received, None)]);
    assert_eq!(book.deadline(), None, "no more re-sends once received");
    assert!(book
        .on_ack(
            &ack(AckStatus::Received),
            &gate(&live),
            T + 3_002 * S,
            &config
        )
        .statuses
        .is_empty());
    let out = book.on_ack(
        &ack(AckStatus::Applied),
        &gate(&live),
        T + 3_003 * S,
        &config,
    );
    assert_eq!(statuses(&out), vec![(CommandState::Applied, None)]);
    assert_eq!(out.actions[0].step, CommandStep::Applied);
    // After the end nothing changes.
    let late = book.on_ack(
        &ack(AckStatus::Failed),
        &gate(&live),
        T + 3_004 * S,
        &config,
    );
    assert!(late.statuses.is_empty());
    assert_eq!(book.pending(), 0);
}

#[test]
fn at_most_once_is_sent_once_then_lost() {
    let live = life(P::LiveOk, M::Live);
    let config = CommandConfig::default();
    let mut book = CommandBook::default();
    submit(
        &mut book,
        &request("k", K::Restart, Delivery::AtMostOnce),
        &live,
        T,
    );
    let out = book.on_timer(&gate(&live), T + 299 * S, &config);
    assert!(out.statuses.is_empty());
    let out = book.on_timer(&gate(&live), T + 10_000 * S, &config);
    assert!(out.commands.is_empty(), "never re-sent");
    assert_eq!(
        statuses(&out),
        vec![(CommandState::Lost, Some("ack_timeout"))]
    );
    assert_eq!(out.statuses[0].at_ms, T + 300 * S);
    assert_eq!(book.deadline(), None);
}

#[test]
fn expiry_of_held_and_published_commands() {
    let config = CommandConfig::default();
    let away = life(P::Autonomous, M::Autonomous);
    let live = life(P::LiveOk, M::Live);
    for (l, first) in [
        (&away, CommandState::Held),
        (&live, CommandState::Published),
    ] {
        let mut book = CommandBook::default();
        let req = CommandRequest {
            expires_ms: Some(T + 100 * S),
            ..request("k", K::Restart, Delivery::AtLeastOnce)
        };
        let out = submit(&mut book, &req, l, T);
        assert_eq!(out.statuses[1].status, first);
        let out = book.on_timer(&gate(l), T + 200 * S, &config);
        let last = out.statuses.last().map(|s| (s.status, s.at_ms));
        assert_eq!(
            last,
            Some((CommandState::Expired, T + 100 * S)),
            "{first:?}"
        );
        // A published one was re-sent at +30 and +90 before it expired.
        let resent = if first == CommandState::Published {
            2
        } else {
            0
        };
        assert_eq!(out.commands.len(), resent);
    }
    // A held one released after its expiry is EXPIRED, never sent.
    let mut book = CommandBook::default();
    let req = CommandRequest {
        expires_ms: Some(T + 100 * S),
        ..request("k", K::Restart, Delivery::AtLeastOnce)
    };
    submit(&mut book, &req, &away, T);
    let out = book.release(&gate(&live), T + 100 * S, &config);
    assert!(out.commands.is_empty());
    assert_eq!(statuses(&out), vec![(CommandState::Expired, None)]);
}

#[test]
fn held_while_away_and_released_in_issue_order() {
    let config = CommandConfig::default();
    let mut book = CommandBook::default();
    let cases = [
        (life(P::Autonomous, M::Autonomous), "node_away"),
        (life(P::Returning, M::Returning), "node_away"),
        (life(P::Replaying, M::Replaying), "node_away"),
        (life(P::Updating, M::Disconnected), "node_away"),
        (
            LifecycleState {
                reconciliation_pending: true,
                ..life(P::LiveOk, M::Live)
            },
            "reconciliation",
        ),
    ];
    for (i, (l, reason)) in cases.iter().enumerate() {
        let mut req = request(&format!("k{i}"), K::Restart, Delivery::AtLeastOnce);
        // Issued in reverse of arrival; the two last at the same time.
        req.issued_ms = T - (i as i64).min(3) * S;
        let out = submit(&mut book, &req, l, T);
        assert_eq!(
            statuses(&out)[1],
            (CommandState::Held, Some(*reason)),
            "{:?}",
            l.state
        );
        assert!(out.commands.is_empty());
    }
    assert_eq!((book.held(), book.pending()), (5, 5));
    // Still away: a release changes nothing, a timer neither.
    let away = life(P::Replaying, M::Replaying);
    let out = book.release(&gate(&away), T + S, &config);
    assert!(out.commands.is_empty());
    assert_eq!(
        statuses(&out),
        vec![(CommandState::Held, Some("node_away"))],
        "only the reason of the one held for reconciliation changed"
    );
    assert_eq!(book.deadline(), None);
    // The clean verdict: every held command goes, in issue order.
    let live = life(P::LiveOk, M::Live);
    let out = book.release(&gate(&live), T + 2 * S, &config);
    let order: Vec<&str> = out
        .commands
        .iter()
        .map(|c| c.idempotency_key.as_str())
        .collect();
    assert_eq!(order, vec!["k3", "k4", "k2", "k1", "k0"]);
    assert!(out
        .commands
        .iter()
        .all(|c| c.published_ms == T + 2 * S && c.attempt == 1));
    assert_eq!(book.held(), 0);
    // A re-send due while the node is away again is held instead, and sent on release.
    let out = book.on_timer(&gate(&away), T + 100 * S, &config);
    assert!(out.commands.is_empty());
    assert!(out.statuses.iter().all(|s| s.status == CommandState::Held));
    let out = book.release(&gate(&live), T + 200 * S, &config);
    assert_eq!(out.commands.len(), 5);
    assert!(out
        .statuses
        .iter()
        .all(|s| s.status == CommandState::Resent));
    assert!(out.commands.iter().all(|c| c.attempt == 2));
}

#[test]
fn quarantine_and_decommissioning_allow_only_their_kinds() {
    let quarantined = LifecycleState {
        reconciliation_pending: true,
        ..life(P::Quarantined, M::Live)
    };
    let decommissioning = life(P::Decommissioning, M::Live);
    let kinds = [
        K::ApplyBundle,
        K::Update,
        K::Restart,
        K::Remediate,
        K::Decommission,
        K::MaintenanceStart,
        K::MaintenanceEnd,
        K::RotateCertificate,
        K::Custom,
    ];
    for kind in kinds {
        for (l, allowed, reason) in [
            (
                &quarantined,
                matches!(kind, K::Remediate | K::Decommission | K::RotateCertificate),
                "quarantined",
            ),
            (&decommissioning, kind == K::Decommission, "decommissioning"),
        ] {
            let mut book = CommandBook::default();
            let out = submit(&mut book, &request("k", kind, Delivery::AtLeastOnce), l, T);
            let want = if allowed {
                (CommandState::Published, None)
            } else {
                (CommandState::Held, Some(reason))
            };
            assert_eq!(statuses(&out)[1], want, "{kind:?} in {:?}", l.state);
        }
    }
}

#[test]
fn unknown_acks_and_retirement() {
    let config = CommandConfig::default();
    let live = life(P::LiveOk, M::Live);
    let mut book = CommandBook::default();
    let ack = CommandAck {
        command_id: "nope".to_owned(),
        status: AckStatus::Applied,
        reason: None,
        reported_version: None,
    };
    let out = book.on_ack(&ack, &gate(&live), T, &config);
    assert_eq!(
        statuses(&out),
        vec![(CommandState::Rejected, Some("unknown_command"))]
    );
    assert_eq!(out.statuses[0].node_id, "edge-1");
    submit(
        &mut book,
        &request("a", K::Restart, Delivery::AtLeastOnce),
        &live,
        T,
    );
    let away = life(P::Autonomous, M::Autonomous);
    submit(
        &mut book,
        &request("b", K::Restart, Delivery::AtLeastOnce),
        &away,
        T,
    );
    let retired = life(P::Retired, M::Live);
    let out = book.retire(&gate(&retired), T + S, &config);
    assert_eq!(
        statuses(&out),
        vec![
            (CommandState::Cancelled, Some("node_retired")),
            (CommandState::Cancelled, Some("node_retired"))
        ]
    );
    assert_eq!(book.pending(), 0);
}

#[test]
fn terminal_commands_are_kept_for_the_retention_then_forgotten() {
    let config = CommandConfig::default();
    let live = life(P::LiveOk, M::Live);
    let mut book = CommandBook::default();
    let req = request("k", K::Restart, Delivery::AtMostOnce);
    submit(&mut book, &req, &live, T);
    book.on_timer(&gate(&live), T + 300 * S, &config); // LOST at T+300s
    let kept = T + 300 * S + config.command_retention_ms - 1;
    assert!(submit(&mut book, &req, &live, kept).statuses.is_empty());
    let later = kept + 1;
    let out = submit(&mut book, &req, &live, later);
    assert_eq!(
        out.statuses[0].status,
        CommandState::Accepted,
        "a new command after retention"
    );
}

#[test]
fn decommission_times_out_without_its_ack() {
    let config = CommandConfig::default();
    let live = life(P::LiveOk, M::Live);
    let mut book = CommandBook::default();
    let out = submit(
        &mut book,
        &request("d", K::Decommission, Delivery::AtMostOnce),
        &live,
        T,
    );
    assert_eq!(out.actions[0].step, CommandStep::Accepted);
    let out = book.on_timer(&gate(&live), T + config.decommission_timeout_ms, &config);
    let steps: Vec<(CommandStep, i64)> = out.actions.iter().map(|a| (a.step, a.at_ms)).collect();
    assert_eq!(
        steps,
        vec![(CommandStep::TimedOut, T + config.decommission_timeout_ms)]
    );
    assert_eq!(book.deadline(), None);
}

#[test]
fn rollouts_wait_for_their_constraints_and_supersede() {
    let config = CommandConfig::default();
    let live = life(P::LiveOk, M::Live);
    let claim = request("x", K::Update, Delivery::AtLeastOnce).authority;
    let constraints = |pairs: &[(&str, &str)]| {
        let map = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Constraints::from_bundle(&map, 120)
    };
    let h = 3_600_000;
    // (constraints, lifecycle, battery, hold reason or None, next timer)
    let edge = life(P::EdgeCached, M::EdgeCached);
    let cases = [
        (constraints(&[]), &live, None, None),
        // T is 02:00 at +02:00; the window opens at 03:00 local.
        (
            constraints(&[("maintenance_window", "03:00-04:00")]),
            &live,
            None,
            Some(("maintenance_window", Some(T + h))),
        ),
        (
            constraints(&[("maintenance_window", "01:00-03:00")]),
            &live,
            None,
            None,
        ),
        (
            constraints(&[("maintenance_window", "bogus")]),
            &live,
            None,
            Some(("maintenance_window", None)),
        ),
        (
            constraints(&[("requires_online", "true")]),
            &edge,
            None,
            Some(("requires_online", None)),
        ),
        (
            constraints(&[("requires_online", "true")]),
            &live,
            None,
            None,
        ),
        (
            constraints(&[("min_battery_pct", "40")]),
            &live,
            Some(30.0),
            Some(("battery_low", None)),
        ),
        (
            constraints(&[("min_battery_pct", "40")]),
            &live,
            Some(40.0),
            None,
        ),
        (constraints(&[("min_battery_pct", "40")]), &live, None, None),
    ];
    for (c, l, battery, hold) in cases {
        let mut book = CommandBook {
            battery_pct: battery,
            ..CommandBook::default()
        };
        let g = Gate {
            constraints: c.clone(),
            ..gate(l)
        };
        let out = book.roll_out("b1", "1.4.7", Some("1.4.6"), &claim, &g, T, &config);
        let want = match hold {
            None => (CommandState::Published, None),
            Some((reason, _)) => (CommandState::Held, Some(reason)),
        };
        assert_eq!(statuses(&out)[1], want, "{c:?}");
        let tracked = &book.commands["rollout:b1@1.4.7:edge-1"];
        assert_eq!(tracked.rollout.as_deref(), Some("b1@1.4.7"));
        if let Some((_, until)) = hold {
            assert_eq!(tracked.timer_ms, until, "{c:?}");
        }
    }
    // The window opens: the held rollout goes by its timer; a newer version supersedes.
    let g = Gate {
        constraints: constraints(&[("maintenance_window", "03:00-04:00")]),
        ..gate(&live)
    };
    let mut book = CommandBook::default();
    book.roll_out("b1", "1.4.7", Some("1.4.6"), &claim, &g, T, &config);
    let out = book.on_timer(&g, T + h, &config);
    assert_eq!(out.commands[0].published_ms, T + h);
    assert_eq!(out.commands[0].params["version"], "1.4.7");
    assert!(book
        .roll_out("b1", "1.4.7", Some("1.4.6"), &claim, &g, T + h, &config)
        .statuses
        .is_empty());
    let out = book.roll_out("b1", "1.4.8", Some("1.4.6"), &claim, &g, T + h + S, &config);
    assert_eq!(
        statuses(&out)[0],
        (CommandState::Cancelled, Some("superseded"))
    );
    assert_eq!(out.statuses[1].command_id, "rollout:b1@1.4.8:edge-1");
    // Converged by the reported version.
    let out = book.on_reported_version("1.4.8", &g, T + h + 2 * S, &config);
    assert_eq!(
        statuses(&out),
        vec![(CommandState::Applied, Some("reported_version"))]
    );
    // A node already at the version gets no command.
    let mut book = CommandBook::default();
    let out = book.roll_out("b1", "1.4.7", Some("1.4.7"), &claim, &g, T, &config);
    assert!(out.statuses.is_empty() && book.commands.is_empty());
}

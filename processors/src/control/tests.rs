//! Tests of the partition's control state: who publishes what, held node assignments,
//! split-brain alerts and the desired state that accepted writes set.

use sxfleet_schemas::{
    Assign, AssignTarget, AuthorityClaim, AuthorityClaimEvent, AuthorityLevel, ControlEvent,
    ControlPayload, DomainDef, DomainLevel, PolicyBundle, Source,
};

use super::*;
use crate::drift::Resolution;

pub(crate) fn control(at_ms: i64, payload: ControlPayload) -> ControlEvent {
    ControlEvent {
        event_id: format!("c:{at_ms}"),
        key: "k".to_owned(),
        event_time_ms: at_ms,
        received_ms: at_ms,
        source: Source::KafkaRaw,
        payload,
    }
}

pub(crate) fn domain(at_ms: i64, id: &str, parent: Option<&str>) -> ControlEvent {
    control(
        at_ms,
        ControlPayload::Domain(DomainDef {
            domain_id: id.to_owned(),
            parent_id: parent.map(str::to_owned),
            level: if parent.is_some() {
                DomainLevel::Region
            } else {
                DomainLevel::Global
            },
            autonomy: None,
            version: None,
            sync: None,
            utc_offset_minutes: None,
        }),
    )
}

pub(crate) fn claim(at_ms: i64, domain: &str, controller: &str, epoch: i64) -> ControlEvent {
    control(
        at_ms,
        ControlPayload::Authority(AuthorityClaimEvent {
            domain_id: domain.to_owned(),
            controller_id: controller.to_owned(),
            level: AuthorityLevel::Region,
            epoch,
        }),
    )
}

pub(crate) fn assign(
    at_ms: i64,
    kind: AssignTarget,
    target: &str,
    bundle: &str,
    controller: &str,
    epoch: i64,
) -> ControlEvent {
    control(
        at_ms,
        ControlPayload::Assign(Assign {
            bundle_id: bundle.to_owned(),
            target_kind: kind,
            target_id: target.to_owned(),
            authority: AuthorityClaim {
                controller_id: controller.to_owned(),
                level: AuthorityLevel::Region,
                epoch,
            },
        }),
    )
}

pub(crate) fn bundle(at_ms: i64, id: &str, target_version: &str) -> ControlEvent {
    control(
        at_ms,
        ControlPayload::PolicyBundle(PolicyBundle {
            bundle_id: id.to_owned(),
            version: "1".to_owned(),
            target_version: target_version.to_owned(),
            policy_version: "policy-v1".to_owned(),
            config: Default::default(),
            constraints: Default::default(),
        }),
    )
}

fn elsewhere(_: &str) -> NodeHome {
    NodeHome::Elsewhere
}

fn decisions(outcome: &ControlOutcome) -> Vec<&str> {
    outcome
        .decisions
        .iter()
        .map(|d| d.decision.as_str())
        .collect()
}

#[test]
fn domain_decisions_are_published_by_one_partition_and_applied_by_all() {
    let inputs = [
        domain(1, "eu", None),
        bundle(2, "b1", "1.4.7"),
        claim(3, "eu", "ctl-a", 1),
        assign(4, AssignTarget::Domain, "eu", "b1", "ctl-a", 1),
    ];
    let mut publisher = ControlState::default();
    let mut other = ControlState::default();
    let mut published = Vec::new();
    for input in &inputs {
        let outcome = publisher.apply(input, true, elsewhere);
        published.extend(decisions(&outcome).into_iter().map(str::to_owned));
        assert!(other.apply(input, false, elsewhere).decisions.is_empty());
    }
    assert_eq!(
        published,
        [
            "ACCEPTED",
            "ACCEPTED",
            "AUDIT",
            "MASTER_CHANGED",
            "AUDIT",
            "ACCEPTED"
        ],
        "domain and bundle: accepted; claim: audit + master changed; assignment: audit + accepted"
    );
    assert!(publisher.publishes && !other.publishes);
    other.publishes = true;
    assert_eq!(
        publisher, other,
        "every partition holds the same control state (which one publishes aside)"
    );
    match other.desired.resolve("n1", Some("eu")) {
        Resolution::Resolved(desired) => assert_eq!(desired.bundle.bundle_id, "b1"),
        unexpected => panic!("{unexpected:?}"),
    }
}

#[test]
fn an_assignment_without_authority_is_rejected_with_its_reason() {
    let mut state = ControlState::default();
    state.apply(&domain(1, "eu", None), true, elsewhere);
    state.apply(&claim(2, "eu", "ctl-a", 1), true, elsewhere);
    let outcome = state.apply(
        &assign(3, AssignTarget::Domain, "eu", "b1", "ctl-rogue", 1),
        true,
        elsewhere,
    );
    let [rejected] = outcome.decisions.as_slice() else {
        panic!("{:?}", outcome.decisions)
    };
    assert_eq!(rejected.decision, "REJECTED");
    assert_eq!(rejected.reason.as_deref(), Some("NO_AUTHORITY"));
    assert_eq!(rejected.controller_id, "ctl-rogue");
    assert_eq!(rejected.target_id.as_deref(), Some("eu"));
    assert_eq!(
        state.desired.resolve("n1", Some("eu")),
        Resolution::Unassigned
    );
}

#[test]
fn node_assignments_wait_for_their_node_and_are_published_where_it_lives() {
    let mut state = ControlState::default();
    state.apply(&domain(1, "eu", None), true, elsewhere);
    state.apply(&claim(2, "eu", "ctl-a", 1), true, elsewhere);
    let write = assign(3, AssignTarget::Node, "n7", "b2", "ctl-a", 1);
    // Partition 0 publishes domain decisions but does not hold n7: the write waits.
    let held = state.apply(&write, true, elsewhere);
    assert!(held.decisions.is_empty());
    assert_eq!(held.affected, Affected::Nothing);
    assert_eq!(state.pending["n7"].len(), 1);
    // n7 registers here in domain eu.
    let released = state.release_pending("n7", "eu").expect("held");
    assert_eq!(decisions(&released), ["AUDIT", "ACCEPTED"]);
    assert_eq!(released.affected, Affected::Node("n7".to_owned()));
    assert!(state.pending.is_empty());
    assert!(state.release_pending("n7", "eu").is_none());
    // A partition that holds the node applies it at once and publishes it, even if it does
    // not publish domain decisions.
    let mut home = ControlState::default();
    home.apply(&domain(1, "eu", None), false, elsewhere);
    home.apply(&claim(2, "eu", "ctl-a", 1), false, elsewhere);
    let outcome = home.apply(&write, false, |_| NodeHome::Here("eu".to_owned()));
    assert_eq!(decisions(&outcome), ["AUDIT", "ACCEPTED"]);
}

#[test]
fn split_brain_raises_one_alert_and_a_higher_epoch_resolves_it() {
    let mut state = ControlState::default();
    state.apply(&domain(1, "eu", None), true, elsewhere);
    let first = state.apply(&claim(2, "eu", "ctl-a", 3), true, elsewhere);
    assert!(first.alerts.is_empty());
    let split = state.apply(&claim(3, "eu", "ctl-b", 3), true, elsewhere);
    assert!(decisions(&split).contains(&"SPLIT_BRAIN"));
    let [raised] = split.alerts.as_slice() else {
        panic!("{:?}", split.alerts)
    };
    assert_eq!(
        (
            raised.kind.as_str(),
            raised.action.as_str(),
            raised.alert_id.as_str()
        ),
        ("SPLIT_BRAIN", "RAISE", "SPLIT_BRAIN:eu:1")
    );
    // A third claimant widens the split: no second alert while one is open.
    let wider = state.apply(&claim(4, "eu", "ctl-c", 3), true, elsewhere);
    assert!(wider.alerts.is_empty());
    let resolved = state.apply(&claim(5, "eu", "ctl-a", 4), true, elsewhere);
    let [resolve] = resolved.alerts.as_slice() else {
        panic!("{:?}", resolved.alerts)
    };
    assert_eq!(
        (resolve.action.as_str(), resolve.alert_id.as_str()),
        ("RESOLVE", "SPLIT_BRAIN:eu:1")
    );
    // Partitions that do not publish keep the same alert state silently.
    let mut quiet = ControlState::default();
    for input in [
        domain(1, "eu", None),
        claim(2, "eu", "ctl-a", 3),
        claim(3, "eu", "ctl-b", 3),
    ] {
        assert!(quiet.apply(&input, false, elsewhere).alerts.is_empty());
    }
    assert!(quiet.split_brains["eu"].open);
}

//! The projections derived from a node and the control plane, through the processor's fold:
//! seed 003's drift analysis from control records and node events, recomputation when the
//! desired side changes, the replay verdict and the attention queue.

use sxfleet_schemas::{
    AssignTarget, Attestation, AttestationResult, ControlPayload, EventPayload, Health,
    PolicyBundle, Replay, ReplayPhase, Snapshot, StringMap,
};

use crate::config::ProjectionConfig;
use crate::control::tests::{assign, claim, control, domain};
use crate::control::{ControlState, NodeHome};
use crate::fold;
use crate::node::NodeState;
use crate::twin::tests::{event, heartbeat, register};

const T0: i64 = 1_772_150_400_000;
const MIN: i64 = 60_000;
const DOMAIN: &str = "edge-zone-a1"; // the domain `register()` puts the node in

fn seed_003_config() -> (StringMap, StringMap) {
    let mut want = StringMap::new();
    want.insert("stir.enforcement_mode".into(), "hard".into());
    want.insert("rate_limit.max_cps".into(), "2000".into());
    for i in 0..38 {
        want.insert(format!("routing.table_{i:02}"), format!("r{i}"));
    }
    let mut have = want.clone();
    have.insert("stir.enforcement_mode".into(), "soft".into());
    have.insert("rate_limit.max_cps".into(), "1500".into());
    (want, have)
}

/// The control plane of seed 003: a domain under a region, a master of record, the bundle
/// `rempart-1.4.7` and its assignment to the domain, all at T0.
fn seed_003_control() -> ControlState {
    let (want, _) = seed_003_config();
    let mut state = ControlState::default();
    let bundle = control(
        T0,
        ControlPayload::PolicyBundle(PolicyBundle {
            bundle_id: "rempart-1.4.7".into(),
            version: "7".into(),
            target_version: "souverix-rempart-1.4.7".into(),
            policy_version: "policy-v2.1".into(),
            config: want,
            constraints: StringMap::new(),
        }),
    );
    for input in [
        domain(T0, "region-a", None),
        domain(T0, DOMAIN, Some("region-a")),
        claim(T0, "region-a", "ctl-a", 1),
        bundle,
        assign(
            T0,
            AssignTarget::Domain,
            "region-a",
            "rempart-1.4.7",
            "ctl-a",
            1,
        ),
    ] {
        state.apply(&input, true, |_| NodeHome::Elsewhere);
    }
    state
}

/// A node registered at T0 that sent one healthy heartbeat a minute later.
fn live_node(control: &ControlState, config: &ProjectionConfig) -> NodeState {
    let mut node = NodeState::new("n1");
    for e in [
        event(1, T0, register()),
        event(2, T0 + MIN, heartbeat(40.0, 0.0, Health::Ok)),
    ] {
        fold::on_event(&mut node, &e, control, config);
    }
    node
}

fn snapshot(version: &str, policy: &str, config: StringMap) -> EventPayload {
    EventPayload::Snapshot(Snapshot {
        reported_version: Some(version.into()),
        policy_version: Some(policy.into()),
        config,
        firmware_version: None,
        sbom_hash: None,
        inventory: None,
    })
}

#[test]
fn seed_003_drift_analysis_comes_out_of_the_processor_fold() {
    let control = seed_003_control();
    let config = ProjectionConfig::default();
    let (_, have) = seed_003_config();
    let mut node = NodeState::new("node-15");
    let at_330 = T0 + 210 * MIN;
    fold::on_event(&mut node, &event(1, T0, register()), &control, &config).unwrap();
    let step = fold::on_event(
        &mut node,
        &event(
            2,
            at_330,
            snapshot("souverix-rempart-1.4.6", "policy-v2.0", have),
        ),
        &control,
        &config,
    )
    .unwrap();
    let report = step.derived.report.expect("a drift report");
    assert_eq!(report.status, "DRIFTED");
    assert_eq!(report.domain_id, DOMAIN);
    assert_eq!(report.bundle_id.as_deref(), Some("rempart-1.4.7"));
    assert_eq!(report.desired_source.as_deref(), Some("domain:region-a"));
    assert_eq!(report.version_desired.as_deref(), Some("1.4.7"));
    assert_eq!(report.version_actual.as_deref(), Some("1.4.6"));
    assert_eq!(report.version_severity.as_deref(), Some("MEDIUM"));
    assert_eq!(
        report.version_impact.as_deref(),
        Some("missing_security_patch")
    );
    let fields: Vec<(&str, &str, Option<&str>)> = report
        .config_fields
        .iter()
        .map(|f| (f.field.as_str(), f.desired.as_str(), f.actual.as_deref()))
        .collect();
    assert_eq!(
        fields,
        [
            ("rate_limit.max_cps", "2000", Some("1500")),
            ("stir.enforcement_mode", "hard", Some("soft")),
        ]
    );
    assert_eq!(report.policy_version.as_deref(), Some("policy-v2.1"));
    assert_eq!(report.policy_actual_version.as_deref(), Some("policy-v2.0"));
    assert_eq!(report.compliance_score, Some(0.95));
    assert_eq!((report.score, report.objects_out_of_spec), (44.0, 4));
    // Report 1 said UNKNOWN: assigned at registration, no snapshot to judge yet.
    assert_eq!(report.seq, 2);

    // Fifteen minutes later a heartbeat: same verdict, so no new report, but the twin shows
    // how stale the snapshot is and how long the node has been out of spec.
    let step = fold::on_event(
        &mut node,
        &event(3, at_330 + 15 * MIN, heartbeat(40.0, 0.0, Health::Ok)),
        &control,
        &config,
    )
    .unwrap();
    assert_eq!(step.derived.report, None);
    let drift = &node.twin.drift;
    assert_eq!(drift.status, "DRIFTED");
    assert_eq!(
        (drift.stale_by_ms, drift.drift_age_ms),
        (Some(15 * MIN), Some(15 * MIN))
    );
    assert_eq!(
        node.twin.desired_state.target_version.as_deref(),
        Some("souverix-rempart-1.4.7")
    );
    let authority = &node.twin.authority;
    assert_eq!(authority.controller_ids, ["ctl-a"]);
    assert_eq!(authority.epoch, Some(1));
}

#[test]
fn a_control_change_recomputes_the_node_and_moves_its_twin() {
    let config = ProjectionConfig::default();
    let mut control = ControlState::default();
    let mut node = NodeState::new("n1");
    fold::on_event(&mut node, &event(1, T0, register()), &control, &config).unwrap();
    let snap = event(
        2,
        T0 + MIN,
        snapshot("1.4.6", "policy-v1", StringMap::new()),
    );
    let step = fold::on_event(&mut node, &snap, &control, &config).unwrap();
    assert_eq!(
        step.derived.report, None,
        "nothing assigned, nothing to report"
    );
    assert_eq!(node.twin.drift.status, "UNASSIGNED");
    let version = node.twin.version;

    for input in [
        domain(T0, DOMAIN, None),
        claim(T0, DOMAIN, "ctl-a", 1),
        crate::control::tests::bundle(T0, "b1", "1.4.7"),
        assign(T0 + 2 * MIN, AssignTarget::Domain, DOMAIN, "b1", "ctl-a", 1),
    ] {
        control.apply(&input, true, |_| NodeHome::Elsewhere);
    }
    let derived = fold::on_control(&mut node, &control, T0 + 2 * MIN, &config).derived;
    assert!(derived.changed);
    let report = derived.report.expect("the assignment makes the node drift");
    assert_eq!((report.status.as_str(), report.seq), ("DRIFTED", 1));
    assert_eq!(report.version_severity.as_deref(), Some("MEDIUM"));
    assert_eq!(
        node.twin.version,
        version + 1,
        "a recomputed twin is a new version"
    );
    // The same control state again changes nothing.
    let again = fold::on_control(&mut node, &control, T0 + 2 * MIN, &config).derived;
    assert!(!again.changed && again.report.is_none());
    assert_eq!(node.twin.version, version + 1);
}

fn replay(phase: ReplayPhase) -> EventPayload {
    EventPayload::Replay(Replay {
        phase,
        session_id: Some("rs-1".to_owned()),
        chunk_seq: None,
        backlog_total: Some(0),
        event_count: 0,
    })
}

/// A node that went quiet for hours, returned and replayed, reporting `version` with the
/// desired config and policy, or (`drifted`) with seed 003's config and policy drift.
fn returning_node(version: &str, drifted: bool, config: &ProjectionConfig) -> NodeState {
    let control = seed_003_control();
    let (want, have) = seed_003_config();
    let (policy, reported) = if drifted {
        ("policy-v2.0", have)
    } else {
        ("policy-v2.1", want)
    };
    let mut node = NodeState::new("node-15");
    let link = |state| EventPayload::Link(sxfleet_schemas::Link { state, via: None });
    let events = [
        event(1, T0, register()),
        event(2, T0 + MIN, heartbeat(40.0, 0.0, Health::Ok)),
        event(3, T0 + 2 * MIN, link(sxfleet_schemas::LinkState::Lost)),
        event(
            4,
            T0 + 240 * MIN,
            link(sxfleet_schemas::LinkState::Detected),
        ),
        event(5, T0 + 241 * MIN, replay(ReplayPhase::Begin)),
        event(6, T0 + 242 * MIN, snapshot(version, policy, reported)),
        event(7, T0 + 243 * MIN, replay(ReplayPhase::End)),
    ];
    for e in &events {
        fold::on_event(&mut node, e, &control, config);
    }
    node
}

#[test]
fn a_replay_reconciles_to_live_or_quarantine_by_its_drift() {
    let config = ProjectionConfig::default();
    let in_spec = returning_node("souverix-rempart-1.4.7", false, &config);
    assert_eq!(in_spec.twin.drift.status, "IN_SPEC");
    assert_eq!(in_spec.twin.lifecycle.state, "LIVE_OK");
    let seed = returning_node("souverix-rempart-1.4.6", true, &config);
    assert_eq!(seed.twin.drift.score, 44.0, "seed 003's drift");
    assert_eq!(
        seed.twin.lifecycle.state, "LIVE_OK",
        "below the quarantine score"
    );
    // A major version behind with the same config and policy drift: 40 + 1.5 + 22.5 = 64.
    let major_behind = returning_node("souverix-rempart-0.9.0", true, &config);
    assert_eq!(major_behind.twin.drift.score, 64.0);
    assert_eq!(major_behind.twin.lifecycle.state, "QUARANTINED");
    assert_eq!(
        major_behind.twin.lifecycle.reason.as_deref(),
        Some("drift_violation")
    );
}

#[test]
fn a_failed_attestation_quarantines_and_raises_attention_once() {
    let config = ProjectionConfig::default();
    let control = seed_003_control();
    let mut node = live_node(&control, &config);
    assert_eq!(node.twin.lifecycle.state, "LIVE_OK");
    let failed = EventPayload::Attestation(Attestation {
        result: AttestationResult::Failed,
        firmware_signature: None,
        cert_not_after_ms: None,
    });
    let step = fold::on_event(
        &mut node,
        &event(3, T0 + 2 * MIN, failed),
        &control,
        &config,
    )
    .unwrap();
    let lifecycle: Vec<&str> = step.ledger.iter().map(|t| t.to_state.as_str()).collect();
    assert_eq!(lifecycle, ["DEGRADED", "QUARANTINED"]);
    assert_eq!(node.twin.trust.state, "VIOLATED");
    assert_eq!(
        node.twin.trust.last_violation.as_deref(),
        Some("attestation_failed")
    );
    let alert = step.derived.alert.expect("attention raised");
    assert_eq!(
        (alert.action.as_str(), alert.alert_id.as_str()),
        ("RAISE", "ATTENTION:n1:1")
    );
    assert_eq!(alert.reasons[0], "supply_chain");
    assert!(node.twin.attention.alert_open);
    let quiet = fold::on_event(
        &mut node,
        &event(4, T0 + 3 * MIN, heartbeat(40.0, 0.0, Health::Ok)),
        &control,
        &config,
    )
    .unwrap();
    assert_eq!(quiet.derived.alert, None, "still open: no second raise");
}

#[test]
fn a_reported_trust_violation_quarantines_without_moving_the_nodes_seq() {
    let config = ProjectionConfig::default();
    let control = seed_003_control();
    let mut node = live_node(&control, &config);
    let (seq, version) = (node.twin.last_seq, node.twin.version);
    // Ingest saw a forged message claiming seq 1 (already applied) and reports it.
    let mut report = event(
        1,
        T0 + 2 * MIN,
        EventPayload::TrustViolation(sxfleet_schemas::TrustViolation {
            reason: "bad_signature".to_owned(),
            detail: "signature does not verify".to_owned(),
            offending_seq: Some(1),
            offending_event_id: Some("n1:1".to_owned()),
        }),
    );
    report.event_id = "n1:trust:0:17".to_owned();
    let step = fold::on_event(&mut node, &report, &control, &config).expect("applied");
    let path: Vec<&str> = step.ledger.iter().map(|t| t.to_state.as_str()).collect();
    assert_eq!(path, ["DEGRADED", "QUARANTINED"]);
    assert!(step.ledger.iter().all(|t| t.reason == "bad_signature"));
    assert_eq!(node.twin.trust.state, "VIOLATED");
    assert_eq!(
        node.twin.last_seq, seq,
        "the report is not the node's event"
    );
    assert_eq!(node.twin.version, version + 1);
    // The node's next real event (seq 3) still applies.
    let next = event(3, T0 + 3 * MIN, heartbeat(40.0, 0.0, Health::Ok));
    assert!(fold::on_event(&mut node, &next, &control, &config).is_some());
    assert_eq!(node.twin.last_seq, 3);
}

#[test]
fn an_attested_signature_unlike_the_enrolled_one_raises_attention_at_the_attestation() {
    let config = ProjectionConfig::default();
    let control = seed_003_control();
    let mut node = NodeState::new("n1");
    let EventPayload::Register(mut enrolled) = register() else {
        unreachable!("register() is a register")
    };
    enrolled.firmware = sxfleet_schemas::Firmware {
        version: Some("2.1.3".into()),
        signature: Some("sig-a".into()),
    };
    for e in [
        event(1, T0, EventPayload::Register(enrolled)),
        event(2, T0 + MIN, heartbeat(40.0, 0.0, Health::Ok)),
    ] {
        let step = fold::on_event(&mut node, &e, &control, &config).unwrap();
        assert_eq!(step.derived.alert, None);
    }
    let forged = EventPayload::Attestation(Attestation {
        result: AttestationResult::Verified,
        firmware_signature: Some("sig-forged".into()),
        cert_not_after_ms: None,
    });
    let step = fold::on_event(
        &mut node,
        &event(3, T0 + 2 * MIN, forged),
        &control,
        &config,
    )
    .unwrap();
    assert_eq!(node.twin.trust.state, "VIOLATED");
    let alert = step
        .derived
        .alert
        .expect("attention raised at the attestation");
    assert_eq!(
        (alert.action.as_str(), alert.alert_id.as_str()),
        ("RAISE", "ATTENTION:n1:1")
    );
    let quiet = fold::on_event(
        &mut node,
        &event(4, T0 + 3 * MIN, heartbeat(40.0, 0.0, Health::Ok)),
        &control,
        &config,
    )
    .unwrap();
    assert_eq!(quiet.derived.alert, None, "still open: no second raise");
}

#[test]
fn command_timers_date_the_step_by_their_own_instants_not_the_partitions_time() {
    let config = ProjectionConfig::default();
    let control = seed_003_control();
    let mut node = live_node(&control, &config);
    let deadline = |node: &NodeState| {
        crate::node::commands::deadline(node).expect("the rollout's update awaits an ack")
    };
    while deadline(&node) <= T0 + MIN {
        let due = deadline(&node);
        fold::on_timer(&mut node, due, &control, &config);
    }
    let due = deadline(&node);
    // Other nodes moved the partition's time past the timer (not as far as a silence rule).
    let partition_ms = due + 20_000;
    let step = fold::on_timer(&mut node, partition_ms, &control, &config);
    let latest = step.commands.statuses.iter().map(|s| s.at_ms).max();
    assert_eq!(latest, Some(due), "the re-send is dated by its timer");
    assert_eq!(node.twin.updated_ms, due);
}

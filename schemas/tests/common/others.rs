//! Samples of DeadLetter and the other canonical objects.

use sxfleet_schemas::*;

use super::{claim, map, T0};

fn s(text: &str) -> Option<String> {
    Some(text.to_owned())
}

pub fn dead_letters() -> Vec<(&'static str, DeadLetter)> {
    let full = DeadLetter {
        original: b"{\"type\":\"heartbeat\",\"node_id\":\"edge-42\",\"health\":\"MAYBE\"}\xff\x00"
            .to_vec(),
        source: Source::KafkaRaw,
        source_topic: s("fleet.raw.v1"),
        source_partition: Some(3),
        source_offset: Some(1_234_567_890_123),
        node_id: s("edge-42"),
        reason_code: "bad_enum".into(),
        detail: "health: unknown value \"MAYBE\"".into(),
        stage: stage::NORMALIZER.into(),
        received_ms: T0,
    };
    let minimal = DeadLetter {
        original: Vec::new(),
        source: Source::Http,
        source_topic: None,
        source_partition: None,
        source_offset: None,
        node_id: None,
        reason_code: "invalid_json".into(),
        detail: String::new(),
        stage: stage::SINK.into(),
        received_ms: 0,
    };
    vec![("DeadLetter_full", full), ("DeadLetter_minimal", minimal)]
}

pub fn relays() -> Vec<(&'static str, Relay)> {
    let full = Relay {
        relay_id: "relay-sat-1".into(),
        name: s("Sat uplink 1"),
        kind: RelayKind::Satellite,
        domain_id: "dom-eu".into(),
        tags: vec!["sat".into()],
        upstream_ids: vec!["relay-gw-1".into(), "relay-gw-2".into()],
        health: Health::Ok,
        link_quality: LinkQuality {
            rtt_ms: Some(612.0),
            loss_pct: Some(1.5),
            bandwidth_kbps: Some(2048),
        },
        last_seen_ms: Some(T0),
        backlog_messages: Some(99),
    };
    let minimal = Relay {
        relay_id: "relay-0".into(),
        name: None,
        kind: RelayKind::Unknown,
        domain_id: String::new(),
        tags: vec![],
        upstream_ids: vec![],
        health: Health::Unknown,
        link_quality: LinkQuality::default(),
        last_seen_ms: None,
        backlog_messages: None,
    };
    vec![("Relay_full", full), ("Relay_minimal", minimal)]
}

pub fn domains() -> Vec<(&'static str, Domain)> {
    let full = Domain {
        domain_id: "dom-eu".into(),
        name: s("Europe"),
        parent_id: s("dom-global"),
        level: DomainLevel::Region,
        autonomy: s("opportunistic-sync"),
        authority: Some(claim()),
        updated_ms: T0,
        version: 3,
        path: vec!["dom-global".into(), "dom-eu".into()],
        sync: Some(DomainSync {
            upstream: s("global-control"),
            frequency_ms: Some(900_000),
            mode: s("opportunistic"),
            can_operate_isolated: Some(true),
        }),
        master_since_ms: Some(T0 - 10),
        split_brain: true,
        contenders: vec!["ctl-a".into(), "ctl-b".into()],
        upstream_sync: Some(UpstreamSync {
            controller_id: "region-a-control".into(),
            peer: "global-control".into(),
            last_sync_ms: T0 - 1_000_000,
            frequency_ms: Some(900_000),
            mode: s("continuous"),
            pending_changes: 4,
            sync_debt_s: 1_000,
            overdue: true,
        }),
        authority_status: "DEGRADED".into(),
        authority_reason: s("SPLIT_BRAIN"),
        can_operate_isolated: true,
        revision: 9,
    };
    let minimal = Domain {
        domain_id: "dom-global".into(),
        name: None,
        parent_id: None,
        level: DomainLevel::Global,
        autonomy: None,
        authority: None,
        updated_ms: 0,
        version: 0,
        path: vec![],
        sync: None,
        master_since_ms: None,
        split_brain: false,
        contenders: vec![],
        upstream_sync: None,
        authority_status: "AUTONOMOUS".into(),
        authority_reason: None,
        can_operate_isolated: false,
        revision: 0,
    };
    vec![("Domain_full", full), ("Domain_minimal", minimal)]
}

pub fn policy_bundles() -> Vec<(&'static str, PolicyBundle)> {
    let minimal = PolicyBundle {
        bundle_id: "b".into(),
        version: String::new(),
        target_version: String::new(),
        policy_version: String::new(),
        config: StringMap::new(),
        constraints: StringMap::new(),
    };
    vec![
        ("PolicyBundle_full", super::policy_bundle()),
        ("PolicyBundle_minimal", minimal),
    ]
}

pub fn bundle_versions() -> Vec<(&'static str, BundleVersion)> {
    let stale = BundleVersion {
        bundle: super::policy_bundle(),
        event_time_ms: T0,
        status: "STALE".into(),
        decided_ms: T0 + 1,
        superseded_by: s("8"),
        revision: 3,
    };
    let in_force = BundleVersion {
        bundle: policy_bundles().remove(1).1,
        event_time_ms: 0,
        status: "IN_FORCE".into(),
        decided_ms: 0,
        superseded_by: None,
        revision: 0,
    };
    vec![
        ("BundleVersion_stale", stale),
        ("BundleVersion_in_force", in_force),
    ]
}

pub fn observations() -> Vec<(&'static str, Observation)> {
    let full = Observation {
        node_id: "edge-42".into(),
        observed_ms: T0,
        kind: ObservationKind::Snapshot,
        event_kind: Some(EventKind::Snapshot),
        event_id: s("edge-42:3"),
        reference: s("kafka://fleet.events.v1/3/1234"),
        summary: map(&[("reported_version", "souverix-1.4.6")]),
    };
    let minimal = Observation {
        node_id: "edge-42".into(),
        observed_ms: T0,
        kind: ObservationKind::Event,
        event_kind: None,
        event_id: None,
        reference: None,
        summary: StringMap::new(),
    };
    vec![("Observation_full", full), ("Observation_minimal", minimal)]
}

pub fn artifacts() -> Vec<(&'static str, Artifact)> {
    let full = Artifact {
        artifact_id: "art-1".into(),
        kind: ArtifactKind::Software,
        name: "souverix-rempart".into(),
        version: "1.4.7".into(),
        digest: "sha256:0123".into(),
        signature: s("cosign:xyz"),
        sbom_ref: s("cyclonedx:rempart-1.4.7"),
        provenance: s("signed-by-build-system"),
        attestations: vec!["https://example.invalid/att/1".into()],
        created_ms: Some(T0 - 86_400_000),
    };
    let minimal = Artifact {
        artifact_id: "art-2".into(),
        kind: ArtifactKind::Firmware,
        name: "fw".into(),
        version: "2.1.3".into(),
        digest: "sha256:4567".into(),
        signature: None,
        sbom_ref: None,
        provenance: None,
        attestations: vec![],
        created_ms: None,
    };
    vec![("Artifact_full", full), ("Artifact_minimal", minimal)]
}

pub fn timelines() -> Vec<(&'static str, Timeline)> {
    let full = Timeline {
        node_id: "edge-42".into(),
        phase: LifecyclePhase::Quarantined,
        state: "QUARANTINED".into(),
        transitions: vec![
            Transition {
                at_ms: T0,
                from: None,
                to: "PROVISIONING".into(),
                reason: None,
                event_id: s("edge-42:0"),
            },
            Transition {
                at_ms: T0 + 5,
                from: s("REPLAYING"),
                to: "QUARANTINED".into(),
                reason: s("forged replay"),
                event_id: None,
            },
        ],
    };
    let minimal = Timeline {
        node_id: "edge-42".into(),
        phase: LifecyclePhase::Provisioning,
        state: String::new(),
        transitions: vec![],
    };
    vec![("Timeline_full", full), ("Timeline_minimal", minimal)]
}

/// A connectivity entry with every optional field set, a lifecycle entry, and a violation with
/// every optional field null.
pub fn state_transitions() -> Vec<(&'static str, StateTransition)> {
    let full = StateTransition {
        node_id: "edge-42".into(),
        domain_id: "region-a/a1".into(),
        machine: TransitionMachine::Connectivity,
        at_ms: T0 + 7,
        from_state: "LIVE".into(),
        to_state: "EDGE_CACHED".into(),
        applied: true,
        reason: "sync_interval_extends".into(),
        latency_ms: Some(180.75),
        backlog: Some(1247),
        sync_interval_ms: Some(900_000),
        phase: s("ACTIVE"),
        event_id: s("edge-42:11"),
        seq: 3,
    };
    let lifecycle = StateTransition {
        node_id: "edge-42".into(),
        domain_id: "region-a/a1".into(),
        machine: TransitionMachine::Lifecycle,
        at_ms: T0 + 8,
        from_state: "REPLAYING_APPLYING".into(),
        to_state: "QUARANTINED".into(),
        applied: true,
        reason: "forged_replay".into(),
        latency_ms: None,
        backlog: None,
        sync_interval_ms: None,
        phase: s("QUARANTINED"),
        event_id: None,
        seq: 4,
    };
    let minimal = StateTransition {
        node_id: "edge-42".into(),
        domain_id: String::new(),
        machine: TransitionMachine::Lifecycle,
        at_ms: T0,
        from_state: "RETIRED".into(),
        to_state: String::new(),
        applied: false,
        reason: String::new(),
        latency_ms: None,
        backlog: None,
        sync_interval_ms: None,
        phase: None,
        event_id: None,
        seq: 0,
    };
    vec![
        ("StateTransition_full", full),
        ("StateTransition_lifecycle", lifecycle),
        ("StateTransition_minimal", minimal),
    ]
}

/// Drift reports: the seed 003 example, and an unassigned node.
pub fn drift_reports() -> Vec<(&'static str, DriftReport)> {
    let full = DriftReport {
        node_id: "node-15".into(),
        domain_id: "edge-west".into(),
        evaluated_ms: 1_750_000_900_000,
        status: "DRIFTED".into(),
        bundle_id: Some("bundle-7".into()),
        desired_source: Some("domain:edge-west".into()),
        version_desired: Some("1.4.7".into()),
        version_actual: Some("1.4.6".into()),
        version_severity: Some("MEDIUM".into()),
        version_impact: Some("missing_security_patch".into()),
        config_fields: vec![ConfigFieldDiff {
            field: "stir.enforcement_mode".into(),
            desired: "hard".into(),
            actual: Some("soft".into()),
        }],
        config_desired_keys: 2,
        policy_version: Some("policy-v2.1".into()),
        policy_actual_version: Some("policy-v2.0".into()),
        compliance_score: Some(0.5),
        policy_violations: 1,
        score: 47.5,
        objects_out_of_spec: 4,
        last_sync_ms: Some(1_750_000_000_000),
        stale_by_ms: Some(900_000),
        first_out_of_spec_ms: Some(1_750_000_000_000),
        drift_age_ms: Some(900_000),
        seq: 3,
    };
    let minimal = DriftReport {
        node_id: "n".into(),
        domain_id: String::new(),
        evaluated_ms: 0,
        status: "UNASSIGNED".into(),
        bundle_id: None,
        desired_source: None,
        version_desired: None,
        version_actual: None,
        version_severity: None,
        version_impact: None,
        config_fields: Vec::new(),
        config_desired_keys: 0,
        policy_version: None,
        policy_actual_version: None,
        compliance_score: None,
        policy_violations: 0,
        score: 0.0,
        objects_out_of_spec: 0,
        last_sync_ms: None,
        stale_by_ms: None,
        first_out_of_spec_ms: None,
        drift_age_ms: None,
        seq: 1,
    };
    vec![("DriftReport_full", full), ("DriftReport_minimal", minimal)]
}

/// Alerts: an attention raise and a split-brain resolve.
pub fn alerts() -> Vec<(&'static str, Alert)> {
    let raise = Alert {
        alert_id: "ATTENTION:node-15:1".into(),
        kind: "ATTENTION".into(),
        action: "RAISE".into(),
        subject_kind: "NODE".into(),
        subject_id: "node-15".into(),
        domain_id: "edge-west".into(),
        at_ms: 1_750_000_900_000,
        score: 72.5,
        reasons: vec!["supply_chain".into(), "drift".into()],
        detail: "attention score 72.5 reached 60".into(),
    };
    let resolve = Alert {
        alert_id: "SPLIT_BRAIN:region-a:1".into(),
        kind: "SPLIT_BRAIN".into(),
        action: "RESOLVE".into(),
        subject_kind: "DOMAIN".into(),
        subject_id: "region-a".into(),
        domain_id: "region-a".into(),
        at_ms: 1,
        score: 0.0,
        reasons: Vec::new(),
        detail: String::new(),
    };
    vec![("Alert_raise", raise), ("Alert_resolve", resolve)]
}

/// Authority decisions: an audit with a loser, and a rejection.
pub fn authority_decisions() -> Vec<(&'static str, AuthorityDecision)> {
    let audit = AuthorityDecision {
        at_ms: 1_750_000_000_000,
        domain_id: "region-a".into(),
        decision: "AUDIT".into(),
        subject: "ASSIGNMENT".into(),
        target_kind: Some("DOMAIN".into()),
        target_id: Some("region-a".into()),
        controller_id: "ctl-a".into(),
        epoch: 4,
        level: "REGION".into(),
        bundle_id: Some("bundle-7".into()),
        loser_controller_id: Some("ctl-b".into()),
        loser_epoch: Some(3),
        loser_at_ms: Some(1_749_999_000_000),
        rule: Some("EPOCH".into()),
        reason: None,
        controllers: Vec::new(),
        detail: "ctl-a@4 wins over ctl-b@3 by epoch".into(),
    };
    let rejected = AuthorityDecision {
        at_ms: 1,
        domain_id: String::new(),
        decision: "REJECTED".into(),
        subject: "ASSIGNMENT".into(),
        target_kind: None,
        target_id: None,
        controller_id: "ctl-x".into(),
        epoch: 1,
        level: "LOCAL".into(),
        bundle_id: None,
        loser_controller_id: None,
        loser_epoch: None,
        loser_at_ms: None,
        rule: None,
        reason: Some("NO_AUTHORITY".into()),
        controllers: vec!["ctl-x".into()],
        detail: String::new(),
    };
    vec![
        ("AuthorityDecision_audit", audit),
        ("AuthorityDecision_rejected", rejected),
    ]
}

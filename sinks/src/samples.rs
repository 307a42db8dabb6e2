//! Sample schema values shared by the unit tests and the integration tests (of this crate and
//! of the workspace, with feature `samples`). Every optional field is set, so a forgotten
//! mapping shows up as a wrong value.

use sxfleet_schemas::{
    ActualState, AttestationResult, AttestationStatus, AuthorityLevel, ConnectivityMode,
    DeadLetter, DesiredState, EventPayload, Firmware, FleetEvent, Hardware, Health, Heartbeat,
    LifecyclePhase, LinkQuality, Node, NodeAttention, NodeAuthority, NodeConnectivity, NodeDrift,
    NodeEdge, NodeKind, NodeLifecycle, NodeMaintenance, NodeRuntime, NodeTrust, Register, Source,
    StateTransition, SupplyChain, SyncDebt, TransitionMachine,
};

pub mod commands;
pub mod tree;

/// 2026-02-25T06:13:20.123Z
pub const T0: i64 = 1_772_000_000_123;

pub fn heartbeat_event(node_id: &str, seq: i64) -> FleetEvent {
    FleetEvent {
        event_id: FleetEvent::derived_event_id(node_id, seq),
        node_id: node_id.to_owned(),
        seq,
        event_time_ms: T0 + seq * 1000,
        received_ms: T0 + seq * 1000 + 250,
        source: Source::Http,
        replayed: true,
        payload: EventPayload::Heartbeat(Heartbeat {
            rtt_ms: Some(42.5),
            loss_pct: Some(0.25),
            bandwidth_kbps: Some(5_000),
            backlog_messages: Some(12),
            health: Health::Degraded,
            uptime_s: Some(3_600),
            via: Some(vec!["relay-7".to_owned(), "sat-link-2".to_owned()]),
            battery_pct: None,
        }),
    }
}

pub fn register_event(node_id: &str, seq: i64) -> FleetEvent {
    FleetEvent {
        event_id: format!("ev-{node_id}-{seq}"),
        node_id: node_id.to_owned(),
        seq,
        event_time_ms: T0,
        received_ms: T0 + 5,
        source: Source::KafkaRaw,
        replayed: false,
        payload: EventPayload::Register(Register {
            kind: NodeKind::Gateway,
            domain_id: "dom-eu".to_owned(),
            region: "eu-west".to_owned(),
            zone: "eu-west-1a".to_owned(),
            tags: vec!["rack:7".to_owned(), "tier:gold".to_owned()],
            hardware: Hardware {
                serial: Some("SN-1".to_owned()),
                ..Hardware::default()
            },
            firmware: Firmware::default(),
            public_key: None,
        }),
    }
}

/// A fully populated twin.
pub fn node(id: &str, version: i64) -> Node {
    Node {
        id: id.to_owned(),
        name: Some(format!("{id} (name)")),
        kind: NodeKind::Edge,
        tags: vec!["a".to_owned(), "b c".to_owned()],
        domain_id: "dom-eu".to_owned(),
        region: "eu-west".to_owned(),
        zone: "eu-west-1b".to_owned(),
        authority: NodeAuthority {
            master_of_record: Some(AuthorityLevel::Region),
            controller_ids: vec!["ctl-1".to_owned(), "ctl-2".to_owned()],
            epoch: Some(3),
            last_authoritative_update_ms: Some(T0 - 10),
        },
        connectivity: NodeConnectivity {
            mode: ConnectivityMode::Replaying,
            last_seen_ms: Some(T0 - 20),
            link_quality: LinkQuality {
                rtt_ms: Some(120.25),
                loss_pct: Some(1.5),
                bandwidth_kbps: Some(256),
            },
            sync_debt: SyncDebt {
                seconds_behind: 90,
                backlog_messages: 1_234,
                replay_required: true,
            },
            replay: None,
            last_sync_ms: Some(T0 - 25),
        },
        desired_state: DesiredState {
            policy_bundle_id: Some("bundle-7".to_owned()),
            target_version: Some("2.4.0".to_owned()),
            policy_version: Some("p-9".to_owned()),
            ..DesiredState::default()
        },
        actual_state: ActualState {
            reported_version: Some("2.3.1".to_owned()),
            policy_version: Some("p-8".to_owned()),
            runtime: NodeRuntime {
                health: Health::Failed,
                last_heartbeat_ms: Some(T0 - 30),
                uptime_s: Some(86_400),
            },
            sbom_hash: Some("sha256:abc".to_owned()),
            ..ActualState::default()
        },
        drift: NodeDrift {
            score: 0.75,
            objects_out_of_spec: 3,
            last_evaluated_ms: Some(T0 - 40),
            status: "DRIFTED".to_owned(),
            bundle_id: Some("b-8".to_owned()),
            stale_by_ms: Some(60_000),
            drift_age_ms: Some(120_000),
        },
        trust: NodeTrust {
            state: "VIOLATED".to_owned(),
            baseline_signature: Some("sig:fw".to_owned()),
            violations: 1,
            last_violation: Some("attestation_failed".to_owned()),
            last_violation_ms: Some(T0 - 50),
        },
        attention: NodeAttention {
            score: 62.5,
            alert_open: true,
            reasons: vec!["supply_chain".to_owned(), "drift".to_owned()],
        },
        supply_chain: SupplyChain {
            hardware: Hardware {
                serial: Some("SN-42".to_owned()),
                manufacturer: Some("Acme".to_owned()),
                model: Some("X1".to_owned()),
                batch_id: Some("B-2025-07".to_owned()),
                origin: Some("Lyon".to_owned()),
            },
            firmware: Firmware {
                version: Some("fw-1.2".to_owned()),
                signature: Some("sig:fw".to_owned()),
            },
            public_key: Some("pk".to_owned()),
            attestation: Some(AttestationStatus {
                result: AttestationResult::Verified,
                at_ms: T0 - 50,
                firmware_signature: None,
                cert_not_after_ms: None,
            }),
        },
        lifecycle: NodeLifecycle {
            phase: LifecyclePhase::Quarantined,
            state: "QUARANTINED_REPLAY_MISMATCH".to_owned(),
            last_transition_ms: Some(T0 - 60),
            reason: Some("forged replay".to_owned()),
            maintenance: Some(NodeMaintenance {
                since_ms: T0 - 65,
                until_ms: Some(T0 + 3_600_000),
                command_id: Some("cmd-m".to_owned()),
            }),
        },
        version,
        last_seq: 77,
        last_event_id: Some(format!("{id}:77")),
        updated_ms: T0,
        events_applied: 70,
        domain_path: vec!["global".to_owned(), "dom-eu".to_owned()],
        relay_path: vec!["relay-1".to_owned()],
        edges: vec![NodeEdge {
            peer_id: "peer-1".to_owned(),
            relation: "CONTROL".to_owned(),
            state: "UP".to_owned(),
            changed_ms: T0 - 70,
        }],
        commands_pending: 2,
        commands_held: 1,
    }
}

pub fn dead_letter() -> DeadLetter {
    DeadLetter {
        original: b"{\"type\":\"heartbeat\",\"node_id\":".to_vec(),
        source: Source::KafkaRaw,
        source_topic: Some("fleet.raw.v1".to_owned()),
        source_partition: Some(2),
        source_offset: Some(991),
        node_id: Some("edge-9".to_owned()),
        reason_code: "invalid_json".to_owned(),
        detail: "EOF while parsing a value at line 1 column 31".to_owned(),
        stage: "normalizer".to_owned(),
        received_ms: T0,
    }
}

/// A connectivity ledger entry with every optional field set.
pub fn connectivity_transition(node_id: &str, seq: i64) -> StateTransition {
    StateTransition {
        node_id: node_id.to_owned(),
        domain_id: "region-a/a1".to_owned(),
        machine: TransitionMachine::Connectivity,
        at_ms: T0 + seq * 1000,
        from_state: "live".to_owned(),
        to_state: "delayed".to_owned(),
        applied: true,
        reason: "latency_threshold".to_owned(),
        latency_ms: Some(812.5),
        backlog: Some(40),
        sync_interval_ms: Some(30_000),
        phase: Some("ACTIVE".to_owned()),
        event_id: Some(FleetEvent::derived_event_id(node_id, seq)),
        seq,
    }
}

/// A lifecycle violation: recorded, not applied, no requested state, timer-driven.
pub fn lifecycle_violation(node_id: &str, seq: i64) -> StateTransition {
    StateTransition {
        node_id: node_id.to_owned(),
        domain_id: "region-a/a1".to_owned(),
        machine: TransitionMachine::Lifecycle,
        at_ms: T0 + seq * 1000,
        from_state: "RETIRED".to_owned(),
        to_state: String::new(),
        applied: false,
        reason: "retired_is_final".to_owned(),
        latency_ms: None,
        backlog: None,
        sync_interval_ms: None,
        phase: None,
        event_id: None,
        seq,
    }
}

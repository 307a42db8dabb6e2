//! Sample values of every canonical type, fully populated and minimal, shared by the tests.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt::Debug;

use serde::Serialize;
use sxfleet_schemas::*;

pub const T0: EpochMillis = 1_772_163_900_000; // 2026-02-27T03:45:00Z

pub fn map(pairs: &[(&str, &str)]) -> StringMap {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect::<BTreeMap<_, _>>()
}

fn s(text: &str) -> Option<String> {
    Some(text.to_owned())
}

pub fn hardware() -> Hardware {
    Hardware {
        serial: s("HW-2024-Q3-0042"),
        manufacturer: s("Factory-A"),
        model: s("rempart-edge-2"),
        batch_id: s("BATCH-2024-Q3-001"),
        origin: s("Factory-A"),
    }
}

pub fn firmware() -> Firmware {
    Firmware {
        version: s("2.1.3"),
        signature: s("sha256:abc"),
    }
}

pub fn inventory() -> Inventory {
    Inventory {
        cpu: s("arm64-8c"),
        ram_gb: Some(15.5),
        storage_gb: Some(256.0),
        gpus: vec!["jetson-orin".into(), "unicode-δ".into()],
    }
}

pub fn claim() -> AuthorityClaim {
    AuthorityClaim {
        controller_id: "region-a-control".into(),
        level: AuthorityLevel::Region,
        epoch: 7,
    }
}

/// One fully populated payload per event kind.
pub fn full_payloads() -> Vec<EventPayload> {
    vec![
        EventPayload::Register(Register {
            kind: NodeKind::Edge,
            domain_id: "dom-eu".into(),
            region: "eu-west".into(),
            zone: "eu-west-1a".into(),
            tags: vec!["prod".into(), "rempart".into()],
            hardware: hardware(),
            firmware: firmware(),
            public_key: s("ed25519:AAAA"),
        }),
        EventPayload::Heartbeat(Heartbeat {
            rtt_ms: Some(42.25),
            loss_pct: Some(0.1),
            bandwidth_kbps: Some(12_000),
            backlog_messages: Some(1247),
            health: Health::Degraded,
            uptime_s: Some(86_400),
            via: Some(vec!["relay-7".into(), "sat-link-2".into()]),
            battery_pct: Some(63.5),
        }),
        EventPayload::Link(Link {
            state: LinkState::Detected,
            via: Some(vec![]),
        }),
        EventPayload::Snapshot(Snapshot {
            reported_version: s("souverix-1.4.6"),
            policy_version: s("policy-v2.0"),
            config: map(&[("region", "eu"), ("max_conn", "64"), ("tls", "{\"v\":1.3}")]),
            firmware_version: s("2.1.3"),
            sbom_hash: s("sha256:def"),
            inventory: Some(inventory()),
        }),
        EventPayload::Lifecycle(Lifecycle {
            event: "enrollment_complete".into(),
            reason: s("factory enrollment"),
        }),
        EventPayload::Attestation(Attestation {
            result: AttestationResult::Verified,
            firmware_signature: s("sha256:abc"),
            cert_not_after_ms: Some(T0 + 86_400_000),
        }),
        EventPayload::Replay(Replay {
            phase: ReplayPhase::Chunk,
            session_id: s("sess-1"),
            chunk_seq: Some(3),
            backlog_total: Some(1247),
            event_count: 100,
        }),
        EventPayload::Edge(EdgeDecl {
            peer_id: "edge-43".into(),
            relation: EdgeRelation::Bypass,
            state: EdgeState::Removed,
        }),
    ]
    .into_iter()
    .chain(full_acks())
    .collect()
}

/// One payload per event kind with every optional field null and every collection empty.
pub fn minimal_payloads() -> Vec<EventPayload> {
    vec![
        EventPayload::Register(Register {
            kind: NodeKind::Virtual,
            domain_id: String::new(),
            region: String::new(),
            zone: String::new(),
            tags: vec![],
            hardware: Hardware::default(),
            firmware: Firmware::default(),
            public_key: None,
        }),
        EventPayload::Heartbeat(Heartbeat::default()),
        EventPayload::Link(Link {
            state: LinkState::Lost,
            via: None,
        }),
        EventPayload::Snapshot(Snapshot::default()),
        EventPayload::Lifecycle(Lifecycle {
            event: "activate".into(),
            reason: None,
        }),
        EventPayload::Attestation(Attestation {
            result: AttestationResult::Failed,
            firmware_signature: None,
            cert_not_after_ms: None,
        }),
        EventPayload::Replay(Replay {
            phase: ReplayPhase::Begin,
            session_id: None,
            chunk_seq: None,
            backlog_total: None,
            event_count: 0,
        }),
        EventPayload::Edge(EdgeDecl {
            peer_id: String::new(),
            relation: EdgeRelation::Unknown,
            state: EdgeState::Up,
        }),
    ]
    .into_iter()
    .chain(minimal_acks())
    .collect()
}

pub fn fleet_event(seq: i64, payload: EventPayload) -> FleetEvent {
    FleetEvent {
        event_id: FleetEvent::derived_event_id("edge-42", seq),
        node_id: "edge-42".into(),
        seq,
        event_time_ms: T0 + seq,
        received_ms: T0 + seq + 150,
        source: Source::KafkaRaw,
        replayed: seq % 2 == 0,
        payload,
    }
}

pub fn fleet_events() -> Vec<(String, FleetEvent)> {
    let full = full_payloads().into_iter().map(|p| ("full", p));
    let minimal = minimal_payloads().into_iter().map(|p| ("minimal", p));
    full.chain(minimal)
        .enumerate()
        .map(|(i, (label, payload))| {
            let name = format!("FleetEvent_{}_{label}", payload.kind());
            (name, fleet_event(i as i64, payload))
        })
        .collect()
}

pub fn control_payloads() -> Vec<ControlPayload> {
    vec![
        ControlPayload::Domain(DomainDef {
            domain_id: "dom-eu".into(),
            parent_id: s("dom-global"),
            level: DomainLevel::Region,
            autonomy: s("opportunistic-sync"),
            version: Some(3),
            sync: Some(DomainSync {
                upstream: s("global-control"),
                frequency_ms: Some(900_000),
                mode: s("opportunistic"),
                can_operate_isolated: Some(true),
            }),
            utc_offset_minutes: Some(120),
        }),
        ControlPayload::Domain(DomainDef {
            domain_id: "dom-global".into(),
            parent_id: None,
            level: DomainLevel::Global,
            autonomy: None,
            version: None,
            sync: Some(DomainSync::default()),
            utc_offset_minutes: None,
        }),
        ControlPayload::Domain(DomainDef {
            domain_id: "dom-x".into(),
            parent_id: None,
            level: DomainLevel::Zone,
            autonomy: None,
            version: None,
            sync: None,
            utc_offset_minutes: None,
        }),
        ControlPayload::PolicyBundle(policy_bundle()),
        ControlPayload::Assign(Assign {
            bundle_id: "bundle-7".into(),
            target_kind: AssignTarget::Node,
            target_id: "edge-42".into(),
            authority: claim(),
        }),
        ControlPayload::Authority(AuthorityClaimEvent {
            domain_id: "dom-eu".into(),
            controller_id: "region-a-control".into(),
            level: AuthorityLevel::Autonomous,
            epoch: 8,
        }),
        ControlPayload::Sync(FederationSync {
            controller_id: "region-a-control".into(),
            domain_id: "dom-eu".into(),
            direction: SyncDirection::Upstream,
            peer: "global-control".into(),
            last_sync_ms: T0 - 60_000,
            frequency_ms: Some(900_000),
            mode: s("continuous"),
            pending_changes: 4,
        }),
        ControlPayload::Sync(FederationSync {
            controller_id: "c".into(),
            domain_id: "d".into(),
            direction: SyncDirection::Downstream,
            peer: String::new(),
            last_sync_ms: 0,
            frequency_ms: None,
            mode: None,
            pending_changes: 0,
        }),
    ]
    .into_iter()
    .chain(control_commands())
    .collect()
}

pub fn control_events() -> Vec<(String, ControlEvent)> {
    control_payloads()
        .into_iter()
        .enumerate()
        .map(|(i, payload)| {
            let name = format!("ControlEvent_{}_{i}", payload.kind());
            let event = ControlEvent {
                event_id: format!("ctl-{i}"),
                key: "dom-eu".into(),
                event_time_ms: T0 + i as i64,
                received_ms: T0 + i as i64 + 5,
                source: Source::Http,
                payload,
            };
            (name, event)
        })
        .collect()
}

pub fn policy_bundle() -> PolicyBundle {
    PolicyBundle {
        bundle_id: "bundle-7".into(),
        version: "7".into(),
        target_version: "souverix-1.4.7".into(),
        policy_version: "policy-v2.1".into(),
        config: map(&[("region", "eu"), ("max_conn", "128")]),
        constraints: map(&[
            ("maintenance_window", "Sun 02:00-04:00"),
            ("requires_online", "false"),
        ]),
    }
}

pub fn node_full() -> Node {
    let mut node = Node::new("edge-42");
    node.name = s("Edge 42");
    node.kind = NodeKind::Edge;
    node.tags = vec!["prod".into()];
    node.domain_id = "dom-eu".into();
    node.region = "eu-west".into();
    node.zone = "eu-west-1a".into();
    node.authority = NodeAuthority {
        master_of_record: Some(AuthorityLevel::Region),
        controller_ids: vec!["region-a-control".into()],
        epoch: Some(7),
        last_authoritative_update_ms: Some(T0),
    };
    node.connectivity = NodeConnectivity {
        mode: ConnectivityMode::Replaying,
        last_seen_ms: Some(T0 + 10),
        link_quality: LinkQuality {
            rtt_ms: Some(80.5),
            loss_pct: Some(2.0),
            bandwidth_kbps: Some(512),
        },
        sync_debt: SyncDebt {
            seconds_behind: 61_200,
            backlog_messages: 1247,
            replay_required: true,
        },
        replay: Some(ReplayProgress {
            session_id: s("sess-1"),
            started_ms: T0 + 1,
            chunks_received: 3,
            events_received: 300,
            backlog_total: Some(1247),
        }),
        last_sync_ms: Some(T0 - 61_200_000),
    };
    node.desired_state = DesiredState {
        policy_bundle_id: s("bundle-7"),
        target_version: s("souverix-1.4.7"),
        policy_version: s("policy-v2.1"),
        config: map(&[("region", "eu")]),
        constraints: map(&[("requires_online", "false")]),
        assigned_ms: Some(T0 - 1000),
    };
    node.actual_state = ActualState {
        reported_version: s("souverix-1.4.6"),
        policy_version: s("policy-v2.0"),
        config: map(&[("region", "us")]),
        runtime: NodeRuntime {
            health: Health::Ok,
            last_heartbeat_ms: Some(T0 + 5),
            uptime_s: Some(3600),
        },
        inventory: Some(inventory()),
        sbom_hash: s("sha256:def"),
        last_snapshot_ms: Some(T0 + 2),
    };
    node.drift = NodeDrift {
        score: 2.5,
        objects_out_of_spec: 3,
        last_evaluated_ms: Some(T0 + 2),
        status: "DRIFTED".to_owned(),
        bundle_id: s("bundle-7"),
        stale_by_ms: Some(900_000),
        drift_age_ms: Some(60_000),
    };
    node.trust = NodeTrust {
        state: "VIOLATED".to_owned(),
        baseline_signature: s("sig-base"),
        violations: 2,
        last_violation: s("firmware_signature_mismatch"),
        last_violation_ms: Some(T0 + 3),
    };
    node.attention = NodeAttention {
        score: 64.5,
        alert_open: true,
        reasons: vec!["supply_chain".to_owned(), "drift".to_owned()],
    };
    node.supply_chain = SupplyChain {
        hardware: hardware(),
        firmware: firmware(),
        public_key: s("ed25519:AAAA"),
        attestation: Some(AttestationStatus {
            result: AttestationResult::Verified,
            at_ms: T0 + 3,
            firmware_signature: s("sha256:abc"),
            cert_not_after_ms: Some(T0 + 86_400_000),
        }),
    };
    node.lifecycle = NodeLifecycle {
        phase: LifecyclePhase::Active,
        state: "REPLAYING_APPLYING".into(),
        last_transition_ms: Some(T0 + 1),
        reason: s("backlog upload"),
        maintenance: Some(NodeMaintenance {
            since_ms: T0 + 1,
            until_ms: Some(T0 + 7_200_000),
            command_id: s("cmd-maint-1"),
        }),
    };
    node.commands_pending = 3;
    node.commands_held = 2;
    node.domain_path = vec!["dom-global".into(), "dom-eu".into()];
    node.relay_path = vec!["relay-7".into(), "sat-link-2".into()];
    node.edges = vec![
        NodeEdge {
            peer_id: "edge-43".into(),
            relation: "MEDIA".into(),
            state: "UP".into(),
            changed_ms: T0 + 4,
        },
        NodeEdge {
            peer_id: "edge-44".into(),
            relation: "BYPASS".into(),
            state: "REMOVED".into(),
            changed_ms: T0 + 6,
        },
    ];
    node.version = 12;
    node.last_seq = 11;
    node.last_event_id = s("edge-42:11");
    node.updated_ms = T0 + 10;
    node.events_applied = 11;
    node
}

mod commands;
mod others;
pub use commands::*;
pub use others::*;

/// One sample, type-erased: its wire bytes and its serde JSON (the wire record's shape).
pub struct Vector {
    pub name: String,
    pub schema_id: u32,
    pub bytes: Vec<u8>,
    pub json: serde_json::Value,
}

fn vector<T: Canonical + Serialize>(name: &str, value: &T) -> Vector {
    Vector {
        name: name.to_owned(),
        schema_id: T::SCHEMA_ID,
        bytes: encode(value).unwrap(),
        json: serde_json::to_value(value).unwrap(),
    }
}

fn vectors_of<T: Canonical + Serialize>(out: &mut Vec<Vector>, samples: &[(impl AsRef<str>, T)]) {
    out.extend(samples.iter().map(|(name, v)| vector(name.as_ref(), v)));
}

/// Every sample of every catalog schema.
pub fn all_vectors() -> Vec<Vector> {
    let mut out = Vec::new();
    vectors_of(&mut out, &fleet_events());
    vectors_of(&mut out, &control_events());
    vectors_of(
        &mut out,
        &[("Node_full", node_full()), ("Node_minimal", Node::new("n"))],
    );
    vectors_of(&mut out, &dead_letters());
    vectors_of(&mut out, &relays());
    vectors_of(&mut out, &domains());
    vectors_of(&mut out, &policy_bundles());
    vectors_of(&mut out, &bundle_versions());
    vectors_of(&mut out, &observations());
    vectors_of(&mut out, &commands());
    vectors_of(&mut out, &command_statuses());
    vectors_of(&mut out, &artifacts());
    vectors_of(&mut out, &timelines());
    vectors_of(&mut out, &state_transitions());
    vectors_of(&mut out, &drift_reports());
    vectors_of(&mut out, &alerts());
    vectors_of(&mut out, &authority_decisions());
    out
}

/// Encodes, checks the header, decodes and compares.
#[track_caller]
pub fn assert_round_trip<T: Canonical + Serialize + PartialEq + Debug>(name: &str, value: &T) {
    let bytes = encode(value).unwrap_or_else(|e| panic!("{name}: encode failed: {e:?}"));
    assert_eq!(bytes[0], 0, "{name}: magic byte");
    assert_eq!(
        u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]),
        T::SCHEMA_ID,
        "{name}: schema id"
    );
    let back: T = decode(&bytes).unwrap_or_else(|e| panic!("{name}: decode failed: {e:?}"));
    assert_eq!(&back, value, "{name}: round trip changed the value");
}

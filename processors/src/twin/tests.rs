//! Table-driven tests of the twin's own fields; time comes from the events.

use sxfleet_schemas::{
    Attestation, AttestationResult, EventPayload, FleetEvent, Health, Heartbeat, Node, NodeKind,
    Register, Snapshot, Source,
};

use super::{apply, Applied};

pub(crate) fn event(seq: i64, at_ms: i64, payload: EventPayload) -> FleetEvent {
    FleetEvent {
        event_id: format!("n1:{seq}"),
        node_id: "n1".to_owned(),
        seq,
        event_time_ms: at_ms,
        received_ms: at_ms,
        source: Source::KafkaRaw,
        replayed: false,
        payload,
    }
}

pub(crate) fn register() -> EventPayload {
    EventPayload::Register(Register {
        kind: NodeKind::Edge,
        domain_id: "edge-zone-a1".to_owned(),
        region: "region-a".to_owned(),
        zone: "edge-zone-a1".to_owned(),
        tags: vec!["rempart".to_owned()],
        hardware: Default::default(),
        firmware: Default::default(),
        public_key: None,
    })
}

pub(crate) fn heartbeat(rtt_ms: f64, loss_pct: f64, health: Health) -> EventPayload {
    EventPayload::Heartbeat(Heartbeat {
        rtt_ms: Some(rtt_ms),
        loss_pct: Some(loss_pct),
        bandwidth_kbps: None,
        backlog_messages: Some(3),
        health,
        uptime_s: Some(60),
        via: None,
        battery_pct: None,
    })
}

#[test]
fn each_event_sets_its_fields_and_bumps_the_version() {
    let mut node = Node::new("n1".to_owned());
    apply(&mut node, &event(1, 1_000, register()));
    apply(
        &mut node,
        &event(2, 2_000, heartbeat(45.0, 0.1, Health::Degraded)),
    );
    let attestation = EventPayload::Attestation(Attestation {
        result: AttestationResult::Failed,
        firmware_signature: Some("sha256:bad".to_owned()),
        cert_not_after_ms: Some(9_000),
    });
    apply(&mut node, &event(3, 3_000, attestation));
    assert_eq!(node.region, "region-a");
    assert_eq!(node.kind, NodeKind::Edge);
    assert_eq!(node.actual_state.runtime.health, Health::Degraded);
    assert_eq!(node.actual_state.runtime.last_heartbeat_ms, Some(2_000));
    let status = node.supply_chain.attestation.as_ref().unwrap();
    assert_eq!(
        (status.result, status.at_ms),
        (AttestationResult::Failed, 3_000)
    );
    assert_eq!(
        (node.version, node.last_seq, node.events_applied),
        (3, 3, 3)
    );
    assert_eq!(node.updated_ms, 3_000);
    assert_eq!(node.last_event_id.as_deref(), Some("n1:3"));
}

#[test]
fn duplicates_and_older_events_do_not_move_state() {
    let mut node = Node::new("n1".to_owned());
    apply(
        &mut node,
        &event(5, 5_000, heartbeat(45.0, 0.0, Health::Ok)),
    );
    let before = node.clone();
    for stale_seq in [5, 4, 1] {
        let stale = event(stale_seq, 9_000, heartbeat(9_999.0, 50.0, Health::Failed));
        assert_eq!(apply(&mut node, &stale), Applied::Stale);
    }
    assert_eq!(node, before);
}

#[test]
fn snapshot_sets_actual_state_and_keeps_inventory_when_absent() {
    let mut node = Node::new("n1".to_owned());
    let mut config = sxfleet_schemas::StringMap::new();
    config.insert("rate_limit.max_cps".to_owned(), "1500".to_owned());
    let snapshot = |inventory| {
        EventPayload::Snapshot(Snapshot {
            reported_version: Some("1.4.6".to_owned()),
            policy_version: Some("policy-v2.0".to_owned()),
            config: config.clone(),
            firmware_version: Some("2.1.3".to_owned()),
            sbom_hash: Some("sha256:def".to_owned()),
            inventory,
        })
    };
    let inventory = sxfleet_schemas::Inventory {
        cpu: Some("arm64-8c".to_owned()),
        ram_gb: Some(16.0),
        storage_gb: Some(256.0),
        gpus: vec![],
    };
    apply(
        &mut node,
        &event(1, 1_000, snapshot(Some(inventory.clone()))),
    );
    apply(&mut node, &event(2, 2_000, snapshot(None)));
    assert_eq!(node.actual_state.reported_version.as_deref(), Some("1.4.6"));
    assert_eq!(node.actual_state.config["rate_limit.max_cps"], "1500");
    assert_eq!(node.actual_state.inventory, Some(inventory));
    assert_eq!(node.actual_state.last_snapshot_ms, Some(2_000));
    assert_eq!(node.supply_chain.firmware.version.as_deref(), Some("2.1.3"));
    assert_eq!(node.events_applied, 2);
}

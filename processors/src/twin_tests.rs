//! Table-driven tests of the twin projection; time comes from the events.

use sxfleet_schemas::{
    ConnectivityMode, EventPayload, FleetEvent, Health, Heartbeat, LifecyclePhase, Link, LinkState,
    NodeKind, Register, Snapshot, Source,
};

use super::{apply, Applied};

fn event(seq: i64, at_ms: i64, payload: EventPayload) -> FleetEvent {
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

fn register() -> EventPayload {
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

fn heartbeat(rtt_ms: f64, loss_pct: f64, health: Health) -> EventPayload {
    EventPayload::Heartbeat(Heartbeat {
        rtt_ms: Some(rtt_ms),
        loss_pct: Some(loss_pct),
        bandwidth_kbps: None,
        backlog_messages: Some(3),
        health,
        uptime_s: Some(60),
    })
}

#[test]
fn register_then_heartbeats_walk_the_lifecycle_and_connectivity() {
    // (payload, expected phase, expected mode) after each event, in order.
    let steps = [
        (
            register(),
            LifecyclePhase::Enrolled,
            ConnectivityMode::Unknown,
        ),
        (
            heartbeat(45.0, 0.1, Health::Ok),
            LifecyclePhase::Active,
            ConnectivityMode::Live,
        ),
        (
            heartbeat(5_000.0, 0.1, Health::Ok),
            LifecyclePhase::Active,
            ConnectivityMode::Delayed,
        ),
        (
            heartbeat(40.0, 12.0, Health::Degraded),
            LifecyclePhase::Degraded,
            ConnectivityMode::Delayed,
        ),
        (
            heartbeat(40.0, 0.0, Health::Ok),
            LifecyclePhase::Active,
            ConnectivityMode::Live,
        ),
        (
            EventPayload::Link(Link {
                state: LinkState::Lost,
            }),
            LifecyclePhase::Active,
            ConnectivityMode::Autonomous,
        ),
        (
            EventPayload::Link(Link {
                state: LinkState::Detected,
            }),
            LifecyclePhase::Active,
            ConnectivityMode::Returning,
        ),
    ];
    let mut twin = None;
    for (i, (payload, phase, mode)) in steps.into_iter().enumerate() {
        let seq = i as i64 + 1;
        let at = 1_000 * seq;
        assert_eq!(apply(&mut twin, &event(seq, at, payload)), Applied::Updated);
        let node = twin.as_ref().unwrap();
        assert_eq!(node.lifecycle.phase, phase, "step {seq}");
        assert_eq!(node.connectivity.mode, mode, "step {seq}");
        assert_eq!(node.version, seq);
        assert_eq!(node.last_seq, seq);
        assert_eq!(node.updated_ms, at);
        assert_eq!(node.connectivity.last_seen_ms, Some(at));
    }
    let node = twin.unwrap();
    assert_eq!(node.region, "region-a");
    assert_eq!(node.connectivity.sync_debt.backlog_messages, 3);
    assert_eq!(node.lifecycle.reason.as_deref(), Some("recovery"));
}

#[test]
fn duplicates_and_older_events_do_not_move_state() {
    let mut twin = None;
    apply(
        &mut twin,
        &event(5, 5_000, heartbeat(45.0, 0.0, Health::Ok)),
    );
    let before = twin.clone();
    for stale_seq in [5, 4, 1] {
        let stale = event(stale_seq, 9_000, heartbeat(9_999.0, 50.0, Health::Failed));
        assert_eq!(apply(&mut twin, &stale), Applied::Stale);
    }
    assert_eq!(twin, before);
}

#[test]
fn snapshot_sets_actual_state_and_keeps_inventory_when_absent() {
    let mut twin = None;
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
        &mut twin,
        &event(1, 1_000, snapshot(Some(inventory.clone()))),
    );
    apply(&mut twin, &event(2, 2_000, snapshot(None)));
    let node = twin.unwrap();
    assert_eq!(node.actual_state.reported_version.as_deref(), Some("1.4.6"));
    assert_eq!(node.actual_state.config["rate_limit.max_cps"], "1500");
    assert_eq!(node.actual_state.inventory, Some(inventory));
    assert_eq!(node.supply_chain.firmware.version.as_deref(), Some("2.1.3"));
    assert_eq!(node.events_applied, 2);
}

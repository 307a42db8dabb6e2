//! The twin's place in the hierarchy and in the topology, through the per-node fold:
//! `domain_path` from the partition's control state (recomputed on control changes, a new twin
//! version only when it changed), `relay_path` from live `via`, `edges` from `edge` events and
//! `connectivity.last_sync_ms`. Pure.

use sxfleet_processors::control::{ControlState, NodeHome};
use sxfleet_processors::fold;
use sxfleet_processors::node::NodeState;
use sxfleet_processors::ProjectionConfig;
use sxfleet_schemas::{
    ControlEvent, ControlPayload, DomainDef, DomainLevel, EdgeDecl, EdgeRelation, EdgeState,
    EventPayload, FleetEvent, Health, Heartbeat, Link, LinkState, NodeKind, Register, Source,
};

const T0: i64 = 1_772_150_400_000;
const MIN: i64 = 60_000;

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

fn register(domain: &str) -> EventPayload {
    EventPayload::Register(Register {
        kind: NodeKind::Edge,
        domain_id: domain.to_owned(),
        region: "region-a".to_owned(),
        zone: domain.to_owned(),
        tags: Vec::new(),
        hardware: Default::default(),
        firmware: Default::default(),
        public_key: None,
    })
}

fn heartbeat(via: Option<&[&str]>) -> EventPayload {
    EventPayload::Heartbeat(Heartbeat {
        rtt_ms: Some(40.0),
        loss_pct: Some(0.0),
        health: Health::Ok,
        via: via.map(|v| v.iter().map(|s| (*s).to_owned()).collect()),
        ..Heartbeat::default()
    })
}

fn edge(peer: &str, relation: EdgeRelation, state: EdgeState) -> EventPayload {
    EventPayload::Edge(EdgeDecl {
        peer_id: peer.to_owned(),
        relation,
        state,
    })
}

fn domain(at_ms: i64, id: &str, parent: Option<&str>, version: i64) -> ControlEvent {
    ControlEvent {
        event_id: format!("c:{id}:{version}"),
        key: id.to_owned(),
        event_time_ms: at_ms,
        received_ms: at_ms,
        source: Source::KafkaRaw,
        payload: ControlPayload::Domain(DomainDef {
            domain_id: id.to_owned(),
            parent_id: parent.map(str::to_owned),
            level: DomainLevel::Zone,
            autonomy: None,
            version: Some(version),
            sync: None,
            utc_offset_minutes: None,
        }),
    }
}

/// Applies a control record and recomputes the node, as the processor does.
fn control(node: &mut NodeState, state: &mut ControlState, event: &ControlEvent) -> bool {
    let home = node.twin.domain_id.clone();
    state.apply(event, true, |_| NodeHome::Here(home));
    let config = ProjectionConfig::default();
    fold::on_control(node, state, event.event_time_ms, &config)
        .derived
        .changed
}

#[test]
fn the_domain_path_follows_the_control_state() {
    let config = ProjectionConfig::default();
    let mut node = NodeState::new("n1");
    let mut state = ControlState::default();
    // Without a domain: no path.
    fold::on_event(&mut node, &event(1, T0, heartbeat(None)), &state, &config);
    assert!(node.twin.domain_path.is_empty());
    // A domain nobody declared: the path is the domain alone.
    fold::on_event(
        &mut node,
        &event(2, T0 + 1, register("edge-zone-a1")),
        &state,
        &config,
    );
    assert_eq!(node.twin.domain_path, ["edge-zone-a1"]);
    // Declarations arrive: each one that changes the path makes a new twin version.
    let steps: &[(ControlEvent, bool, &[&str])] = &[
        (
            domain(T0 + 2, "edge-zone-a1", Some("region-a"), 1),
            true,
            &["region-a", "edge-zone-a1"],
        ),
        (
            domain(T0 + 3, "region-a", Some("global"), 1),
            true,
            &["global", "region-a", "edge-zone-a1"],
        ),
        (
            domain(T0 + 4, "global", None, 1),
            false,
            &["global", "region-a", "edge-zone-a1"],
        ),
        // An older version of the zone cannot move it back.
        (
            domain(T0 + 5, "edge-zone-a1", None, 0),
            false,
            &["global", "region-a", "edge-zone-a1"],
        ),
        // A parent cycle (global under the zone) ends the walk at the repeat, no loop.
        (
            domain(T0 + 6, "global", Some("edge-zone-a1"), 2),
            false,
            &["global", "region-a", "edge-zone-a1"],
        ),
    ];
    for (event, changed, path) in steps {
        let version = node.twin.version;
        assert_eq!(
            control(&mut node, &mut state, event),
            *changed,
            "{}",
            event.event_id
        );
        assert_eq!(node.twin.domain_path, *path, "{}", event.event_id);
        assert_eq!(
            node.twin.version,
            version + i64::from(*changed),
            "{}",
            event.event_id
        );
    }
}

#[test]
fn relay_path_from_live_via_and_edges_from_declarations() {
    let config = ProjectionConfig::default();
    let state = ControlState::default();
    let mut node = NodeState::new("n1");
    let step = |node: &mut NodeState, e: FleetEvent| {
        fold::on_event(node, &e, &state, &config);
    };
    step(
        &mut node,
        event(1, T0, heartbeat(Some(&["relay-7", "sat-link-2"]))),
    );
    assert_eq!(node.twin.relay_path, ["relay-7", "sat-link-2"]);
    assert_eq!(node.twin.connectivity.last_sync_ms, Some(T0));
    // No `via`: unchanged.
    step(&mut node, event(2, T0 + MIN, heartbeat(None)));
    assert_eq!(node.twin.relay_path, ["relay-7", "sat-link-2"]);
    // A link event re-routes.
    let link = EventPayload::Link(Link {
        state: LinkState::Detected,
        via: Some(vec!["relay-9".to_owned()]),
    });
    step(&mut node, event(3, T0 + 2 * MIN, link));
    assert_eq!(node.twin.relay_path, ["relay-9"]);
    // A replayed heartbeat tells where traffic went then: ignored.
    let mut old = event(4, T0 - 60 * MIN, heartbeat(Some(&["relay-1"])));
    old.replayed = true;
    step(&mut node, old);
    assert_eq!(node.twin.relay_path, ["relay-9"]);
    // `[]`: direct again.
    step(&mut node, event(5, T0 + 3 * MIN, heartbeat(Some(&[]))));
    assert!(node.twin.relay_path.is_empty());

    step(
        &mut node,
        event(
            6,
            T0 + 4 * MIN,
            edge("node-16", EdgeRelation::Media, EdgeState::Up),
        ),
    );
    step(
        &mut node,
        event(
            7,
            T0 + 5 * MIN,
            edge("node-02", EdgeRelation::Signaling, EdgeState::Up),
        ),
    );
    step(
        &mut node,
        event(
            8,
            T0 + 6 * MIN,
            edge("node-16", EdgeRelation::Media, EdgeState::Removed),
        ),
    );
    // A replayed older declaration of the same edge does not bring it back.
    let mut stale = event(
        6,
        T0 + 4 * MIN,
        edge("node-16", EdgeRelation::Media, EdgeState::Up),
    );
    stale.replayed = true;
    let version = node.twin.version;
    step(&mut node, stale);
    assert_eq!(node.twin.version, version);
    // A replayed declaration of a new edge (made while offline) counts, and moves the twin.
    let mut offline = event(
        5,
        T0 + 4 * MIN,
        edge("node-30", EdgeRelation::Bypass, EdgeState::Down),
    );
    offline.replayed = true;
    step(&mut node, offline);
    assert_eq!(node.twin.version, version + 1);
    let edges: Vec<(&str, &str, &str, i64)> = node
        .twin
        .edges
        .iter()
        .map(|e| {
            (
                e.peer_id.as_str(),
                e.relation.as_str(),
                e.state.as_str(),
                e.changed_ms,
            )
        })
        .collect();
    assert_eq!(
        edges,
        [
            ("node-02", "SIGNALING", "UP", T0 + 5 * MIN),
            ("node-16", "MEDIA", "REMOVED", T0 + 6 * MIN),
            ("node-30", "BYPASS", "DOWN", T0 + 4 * MIN),
        ]
    );
    // An edge declaration is the node speaking: a live contact.
    assert_eq!(node.twin.connectivity.last_seen_ms, Some(T0 + 6 * MIN));
}

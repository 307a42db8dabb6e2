//! Encode -> decode -> equal, for fully populated and minimal samples of every type.

mod common;

use common::*;
use sxfleet_schemas::*;

#[test]
fn fleet_event_every_kind_round_trips() {
    let events = fleet_events();
    assert_eq!(
        events.len(),
        18,
        "one full and one minimal sample per node-sent kind"
    );
    for (name, event) in &events {
        assert_round_trip(name, event);
    }
}

#[test]
fn fleet_event_decodes_into_the_wire_struct_with_one_payload_set() {
    for (name, event) in fleet_events() {
        let bytes = encode(&event).unwrap();
        let wire: FleetEventWire = decode(&bytes).unwrap();
        assert_eq!(wire.kind, event.kind(), "{name}");
        let set = [
            wire.register.is_some(),
            wire.heartbeat.is_some(),
            wire.link.is_some(),
            wire.snapshot.is_some(),
            wire.lifecycle.is_some(),
            wire.attestation.is_some(),
            wire.replay.is_some(),
            wire.trust_violation.is_some(),
            wire.edge.is_some(),
            wire.command_ack.is_some(),
        ];
        assert_eq!(set.iter().filter(|s| **s).count(), 1, "{name}");
        // The borrowed view and the owned wire struct encode to the same bytes.
        assert_eq!(
            encode(&FleetEventWire::from(event.clone())).unwrap(),
            bytes,
            "{name}"
        );
        assert_eq!(FleetEvent::try_from(wire).unwrap(), event, "{name}");
    }
}

#[test]
fn control_event_every_kind_round_trips() {
    let events = control_events();
    let kinds: Vec<_> = events.iter().map(|(_, e)| e.kind()).collect();
    for kind in [
        ControlKind::Domain,
        ControlKind::PolicyBundle,
        ControlKind::Assign,
        ControlKind::Authority,
        ControlKind::Sync,
        ControlKind::Command,
    ] {
        assert!(kinds.contains(&kind), "no sample of {kind}");
    }
    for (name, event) in &events {
        assert_round_trip(name, event);
        let wire_bytes = encode(&ControlEventWire::from(event.clone())).unwrap();
        assert_eq!(wire_bytes, encode(event).unwrap(), "{name}");
    }
}

#[test]
fn node_round_trips_full_and_new() {
    assert_round_trip("Node_full", &node_full());
    assert_round_trip("Node_new", &Node::new("edge-1"));
}

#[test]
fn node_new_starts_unknown_and_provisioning() {
    let node = Node::new("edge-1");
    assert_eq!(node.id, "edge-1");
    assert_eq!(node.kind, NodeKind::Unknown);
    assert_eq!(node.connectivity.mode, ConnectivityMode::Unknown);
    assert_eq!(node.lifecycle.phase, LifecyclePhase::Provisioning);
    assert_eq!(node.lifecycle.state, "PROVISIONING");
    assert_eq!(node.actual_state.runtime.health, Health::Unknown);
    assert_eq!((node.version, node.events_applied), (0, 0));
}

#[test]
fn dead_letter_round_trips_raw_bytes() {
    for (name, letter) in dead_letters() {
        assert_round_trip(name, &letter);
    }
    // `original` is Avro bytes (length-prefixed), not an array of ints: the encoded message
    // contains the raw input verbatim.
    let (_, full) = &dead_letters()[0];
    let bytes = encode(full).unwrap();
    assert!(bytes
        .windows(full.original.len())
        .any(|w| w == full.original.as_slice()));
}

#[test]
fn other_objects_round_trip() {
    for (name, v) in relays() {
        assert_round_trip(name, &v);
    }
    for (name, v) in domains() {
        assert_round_trip(name, &v);
    }
    for (name, v) in policy_bundles() {
        assert_round_trip(name, &v);
    }
    for (name, v) in bundle_versions() {
        assert_round_trip(name, &v);
    }
    for (name, v) in observations() {
        assert_round_trip(name, &v);
    }
    for (name, v) in commands() {
        assert_round_trip(name, &v);
    }
    for (name, v) in artifacts() {
        assert_round_trip(name, &v);
    }
    for (name, v) in timelines() {
        assert_round_trip(name, &v);
    }
}

#[test]
fn state_transition_round_trips_applied_and_violation() {
    let samples = state_transitions();
    assert!(samples.iter().any(|(_, t)| t.applied));
    assert!(samples
        .iter()
        .any(|(_, t)| !t.applied && t.to_state.is_empty()));
    for (name, v) in &samples {
        assert_round_trip(name, v);
    }
    // The topic and key contract the processors and the sink rely on.
    assert_eq!(StateTransition::SCHEMA_ID, 1019);
    assert_eq!(
        catalog::by_id(StateTransition::SCHEMA_ID).and_then(|e| e.topic),
        Some("fleet.transitions.v1")
    );
}

#[test]
fn encoding_is_deterministic() {
    for vector in all_vectors() {
        let again = all_vectors()
            .into_iter()
            .find(|v| v.name == vector.name)
            .unwrap();
        assert_eq!(vector.bytes, again.bytes, "{}", vector.name);
    }
}

#[test]
fn encode_into_appends_and_leaves_buffer_alone_on_error() {
    let (_, event) = fleet_events().remove(0);
    let mut buf = b"prefix".to_vec();
    encode_into(&event, &mut buf).unwrap();
    assert_eq!(&buf[..6], b"prefix");
    assert_eq!(buf[6..], encode(&event).unwrap()[..]);
    assert_eq!(decode::<FleetEvent>(&buf[6..]).unwrap(), event);
}

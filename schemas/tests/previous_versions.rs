//! Data of every released version still decodes (new readers, old data), and every released
//! reader decodes today's records (old readers, new data): the data-level side of
//! `compatibility.rs`, over every sample of `common`.

mod common;

use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::types::Value;
use apache_avro::writer::datum::GenericDatumWriter;
use apache_avro::Schema;
use common::*;
use serde::Serialize;
use sxfleet_schemas::catalog::{self, PreviousVersion, PREVIOUS};
use sxfleet_schemas::*;

fn previous_schema(previous: &PreviousVersion) -> Schema {
    Schema::parse_str(previous.avsc).unwrap()
}

/// Today's datum of `value` resolved to the old schema (the fields it lacks dropped).
fn old_datum<T: Canonical + Serialize>(previous: &PreviousVersion, value: &T) -> Value {
    apache_avro::to_value(value)
        .unwrap()
        .resolve(T::schema().unwrap())
        .unwrap()
        .resolve(&previous_schema(previous))
        .unwrap()
}

/// `value` as a writer of `previous` would have framed it, under the old id.
fn written_with<T: Canonical + Serialize>(previous: &PreviousVersion, value: &T) -> Vec<u8> {
    let schema = previous_schema(previous);
    let body = GenericDatumWriter::builder(&schema)
        .build()
        .unwrap()
        .write_value_to_vec(old_datum(previous, value))
        .unwrap();
    let mut bytes = vec![MAGIC];
    bytes.extend_from_slice(&previous.id.to_be_bytes());
    bytes.extend_from_slice(&body);
    bytes
}

/// The old datum as JSON (maps in key order, unlike the datum's hash maps).
fn old_json<T: Canonical + Serialize>(previous: &PreviousVersion, value: &T) -> serde_json::Value {
    serde_json::Value::try_from(old_datum(previous, value)).unwrap()
}

fn previous_of(name: &str) -> Vec<&'static PreviousVersion> {
    PREVIOUS.iter().filter(|p| p.name == name).collect()
}

/// Old bytes decode, and what they decode to carries exactly the old datum. `known` says whether the old version knows the
/// sample's payload kind; if not, decoding is an unknown-kind error.
fn check_old_data<T: Canonical + Serialize + std::fmt::Debug>(
    name: &str,
    value: &T,
    known: impl Fn(&PreviousVersion) -> bool,
) -> usize {
    let mut checked = 0;
    for previous in previous_of(T::ENTRY.name) {
        let old = written_with(previous, value);
        match decode::<T>(&old) {
            Ok(back) => {
                assert!(
                    known(previous),
                    "{name} v{}: decoded {back:?}",
                    previous.version
                );
                assert_eq!(
                    old_json(previous, &back),
                    old_json(previous, value),
                    "{name} v{}",
                    previous.version
                );
                checked += 1;
            }
            Err(CodecError::Payload(PayloadError::UnknownKind { .. })) => {
                assert!(
                    !known(previous),
                    "{name} v{}: unknown kind",
                    previous.version
                );
            }
            Err(other) => panic!("{name} v{}: {other}", previous.version),
        }
    }
    checked
}

#[test]
fn data_of_every_previous_version_decodes() {
    let mut checked = 0;
    for (name, event) in fleet_events() {
        checked += check_old_data(&name, &event, |p| match event.kind() {
            EventKind::CommandAck => false,
            EventKind::Edge => p.version >= 3,
            EventKind::TrustViolation => p.version >= 2,
            _ => true,
        });
    }
    for (name, event) in control_events() {
        checked += check_old_data(&name, &event, |p| match event.kind() {
            ControlKind::Command => false,
            ControlKind::Sync => p.version >= 2,
            _ => true,
        });
    }
    for (name, command) in commands() {
        checked += check_old_data(name, &command, |_| true);
    }
    for (name, node) in [("full", node_full()), ("new", Node::new("n"))] {
        checked += check_old_data(name, &node, |_| true);
    }
    for (name, domain) in domains() {
        checked += check_old_data(name, &domain, |_| true);
    }
    for (name, observation) in observations() {
        checked += check_old_data(name, &observation, |_| true);
    }
    for (name, transition) in state_transitions() {
        checked += check_old_data(name, &transition, |_| true);
    }
    assert!(checked > 40, "{checked}");
}

/// Old data takes the new fields' defaults.
#[test]
fn old_data_takes_the_defaults_of_the_new_fields() {
    let node_v2 = catalog::previous_by_id(catalog::ids::NODE_V2).unwrap();
    let back: Node = decode(&written_with(node_v2, &node_full())).unwrap();
    assert!(back.domain_path.is_empty() && back.relay_path.is_empty() && back.edges.is_empty());
    assert_eq!(back.connectivity.last_sync_ms, None);
    assert_eq!(back.attention, node_full().attention, "a v2 field is kept");

    let domain_v1 = catalog::previous_by_id(catalog::ids::DOMAIN_V1).unwrap();
    let (_, full) = domains().remove(0);
    let back: Domain = decode(&written_with(domain_v1, &full)).unwrap();
    assert_eq!(back.authority, full.authority);
    assert_eq!((back.version, back.revision), (0, 0));
    assert_eq!(back.authority_status, "DEGRADED");
    assert!(back.path.is_empty() && back.upstream_sync.is_none() && !back.split_brain);

    let heartbeat = fleet_event(
        1,
        EventPayload::Heartbeat(Heartbeat {
            health: Health::Ok,
            via: Some(vec!["relay-7".into()]),
            ..Heartbeat::default()
        }),
    );
    let fleet_v2 = catalog::previous_by_id(catalog::ids::FLEET_EVENT_V2).unwrap();
    let back: FleetEvent = decode(&written_with(fleet_v2, &heartbeat)).unwrap();
    let EventPayload::Heartbeat(hb) = back.payload else {
        panic!("{back:?}")
    };
    assert_eq!((hb.health, hb.via), (Health::Ok, None));

    let node_v3 = catalog::previous_by_id(catalog::ids::NODE_V3).unwrap();
    let back: Node = decode(&written_with(node_v3, &node_full())).unwrap();
    assert_eq!((back.commands_pending, back.commands_held), (0, 0));
    assert_eq!(back.lifecycle.maintenance, None);
    assert_eq!(
        back.domain_path,
        node_full().domain_path,
        "a v3 field is kept"
    );

    let battery = fleet_event(
        2,
        EventPayload::Heartbeat(Heartbeat {
            health: Health::Ok,
            battery_pct: Some(12.5),
            ..Heartbeat::default()
        }),
    );
    let fleet_v3 = catalog::previous_by_id(catalog::ids::FLEET_EVENT_V3).unwrap();
    let back: FleetEvent = decode(&written_with(fleet_v3, &battery)).unwrap();
    let EventPayload::Heartbeat(hb) = back.payload else {
        panic!("{back:?}")
    };
    assert_eq!(hb.battery_pct, None);

    let command_v1 = catalog::previous_by_id(catalog::ids::COMMAND_V1).unwrap();
    let (_, full) = commands().remove(0);
    let back: Command = decode(&written_with(command_v1, &full)).unwrap();
    assert_eq!(
        (back.kind, back.attempt, back.published_ms),
        (CommandKind::Unknown, 1, 0)
    );
    assert_eq!((back.domain_id.as_str(), back.rollout), ("", None));
    assert_eq!(back.action, full.action, "a v1 field is kept");
}

/// A released reader reads every record written today; kinds it does not know read as UNKNOWN.
#[test]
fn released_readers_decode_todays_records() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("avro/released");
    let mut read = 0;
    for vector in all_vectors() {
        let entry = catalog::by_id(vector.schema_id).unwrap();
        let writer = schema(entry.id).unwrap();
        for version in 1..entry.version {
            let path = dir.join(format!("{}.v{version}.avsc", entry.name));
            let released = Schema::parse_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let value = GenericDatumReader::builder(writer)
                .reader_schema(&released)
                .build()
                .unwrap()
                .read_value(&mut &vector.bytes[5..])
                .unwrap_or_else(|e| panic!("{} read as v{version}: {e}", vector.name));
            let Value::Record(fields) = value else {
                panic!("{}: not a record", vector.name)
            };
            let kind = fields.iter().find(|(n, _)| n == "kind").map(|(_, v)| v);
            let new_kind = vector.name.starts_with("FleetEvent_COMMAND_ACK")
                || vector.name.starts_with("ControlEvent_COMMAND")
                || (vector.name.starts_with("FleetEvent_EDGE") && version < 3)
                || (vector.name.starts_with("ControlEvent_SYNC") && version < 2);
            if new_kind {
                assert!(
                    matches!(kind, Some(Value::Enum(_, symbol)) if symbol == "UNKNOWN"),
                    "{}: {kind:?}",
                    vector.name
                );
            }
            read += 1;
        }
    }
    assert!(read > 30, "{read}");
}

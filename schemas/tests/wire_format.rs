//! The Confluent framing and every decode error variant.

mod common;

use common::*;
use proptest::prelude::*;
use serde::Serialize;
use sxfleet_schemas::*;

fn heartbeat_event() -> FleetEvent {
    fleet_event(
        1,
        EventPayload::Heartbeat(Heartbeat {
            health: Health::Ok,
            ..Heartbeat::default()
        }),
    )
}

#[test]
fn header_is_magic_zero_then_big_endian_schema_id() {
    let bytes = encode(&heartbeat_event()).unwrap();
    assert_eq!(&bytes[..5], &[0x00, 0x00, 0x00, 0x04, 0x03]); // 1027 (FleetEvent v4)
    let bytes = encode(&Node::new("n")).unwrap();
    assert_eq!(&bytes[..5], &[0x00, 0x00, 0x00, 0x04, 0x04]); // 1028 (Node v4)
    for vector in all_vectors() {
        assert_eq!(vector.bytes[0], MAGIC, "{}", vector.name);
        assert_eq!(peek_schema_id(&vector.bytes).unwrap(), vector.schema_id);
    }
}

#[test]
fn avro_body_starts_with_the_first_field() {
    // event_id "edge-42:1" (9 bytes): zigzag length 18 = 0x12, then the UTF-8 text.
    let bytes = encode(&heartbeat_event()).unwrap();
    assert_eq!(bytes[HEADER_LEN], 0x12);
    assert_eq!(&bytes[HEADER_LEN + 1..HEADER_LEN + 10], b"edge-42:1");
}

#[test]
fn peek_rejects_short_and_bad_magic() {
    assert!(matches!(
        peek_schema_id(&[0, 0, 0, 3]),
        Err(CodecError::TooShort { len: 4 })
    ));
    assert!(matches!(
        peek_schema_id(&[]),
        Err(CodecError::TooShort { len: 0 })
    ));
    assert!(matches!(
        peek_schema_id(&[1, 0, 0, 3, 0xE9]),
        Err(CodecError::BadMagic(1))
    ));
    assert_eq!(peek_schema_id(&[0, 0, 0, 3, 0xE9]).unwrap(), 1001);
}

#[test]
fn every_truncation_is_an_error() {
    let bytes = encode(&fleet_events()[3].1).unwrap(); // full snapshot
    for len in 0..bytes.len() {
        let err = decode::<FleetEvent>(&bytes[..len]).unwrap_err();
        if len < HEADER_LEN {
            assert!(
                matches!(err, CodecError::TooShort { len: l } if l == len),
                "{len}: {err:?}"
            );
        } else {
            assert!(
                matches!(
                    err,
                    CodecError::Decode {
                        schema: "FleetEvent",
                        ..
                    }
                ),
                "{len}: {err:?}"
            );
        }
        assert_eq!(err.class(), ErrorClass::BadData);
    }
}

#[test]
fn bad_magic_is_rejected() {
    let mut bytes = encode(&heartbeat_event()).unwrap();
    bytes[0] = 0x7B; // '{': somebody sent JSON
    assert!(matches!(
        decode::<FleetEvent>(&bytes),
        Err(CodecError::BadMagic(0x7B))
    ));
}

#[test]
fn another_types_schema_id_is_a_mismatch() {
    let bytes = encode(&Node::new("n")).unwrap();
    let err = decode::<FleetEvent>(&bytes).unwrap_err();
    assert!(
        matches!(
            err,
            CodecError::SchemaMismatch {
                expected: 1027,
                found: 1028
            }
        ),
        "{err:?}"
    );
}

#[test]
fn unknown_schema_id_is_rejected() {
    let mut bytes = encode(&heartbeat_event()).unwrap();
    bytes[1..5].copy_from_slice(&9999u32.to_be_bytes());
    assert!(matches!(
        decode::<FleetEvent>(&bytes),
        Err(CodecError::UnknownSchemaId(9999))
    ));
    assert!(matches!(
        schema(9999),
        Err(CodecError::UnknownSchemaId(9999))
    ));
}

#[test]
fn trailing_bytes_are_rejected() {
    let mut bytes = encode(&heartbeat_event()).unwrap();
    bytes.extend_from_slice(&[0, 0]);
    assert!(matches!(
        decode::<FleetEvent>(&bytes),
        Err(CodecError::TrailingBytes {
            schema: "FleetEvent",
            count: 2
        })
    ));
}

fn wire(kind: EventKind) -> FleetEventWire {
    let mut wire = FleetEventWire::from(heartbeat_event());
    wire.kind = kind;
    wire
}

#[test]
fn kind_and_payload_must_agree() {
    // HEARTBEAT payload under kind LINK: missing link payload and an unexpected heartbeat.
    let bytes = encode(&wire(EventKind::Link)).unwrap();
    let err = decode::<FleetEvent>(&bytes).unwrap_err();
    let unexpected = PayloadError::Unexpected {
        record: "FleetEvent",
        kind: "LINK",
        fields: vec!["heartbeat"],
    };
    assert!(
        matches!(&err, CodecError::Payload(e) if *e == unexpected),
        "{err:?}"
    );
    assert_eq!(err.class(), ErrorClass::BadData);
    // The unchecked wire type still decodes.
    assert_eq!(
        decode::<FleetEventWire>(&bytes).unwrap().kind,
        EventKind::Link
    );

    let mut none = wire(EventKind::Heartbeat);
    none.heartbeat = None;
    let err = decode::<FleetEvent>(&encode(&none).unwrap()).unwrap_err();
    assert!(
        matches!(
            err,
            CodecError::Payload(PayloadError::Missing {
                field: "heartbeat",
                ..
            })
        ),
        "{err:?}"
    );

    let mut two = wire(EventKind::Heartbeat);
    two.link = Some(Link {
        state: LinkState::Lost,
        via: None,
    });
    two.replay = Some(Replay {
        phase: ReplayPhase::End,
        session_id: None,
        chunk_seq: None,
        backlog_total: None,
        event_count: 0,
    });
    let err = FleetEvent::try_from(two).unwrap_err();
    assert_eq!(
        err,
        PayloadError::Unexpected {
            record: "FleetEvent",
            kind: "HEARTBEAT",
            fields: vec!["link", "replay"]
        }
    );

    let err = decode::<FleetEvent>(&encode(&wire(EventKind::Unknown)).unwrap()).unwrap_err();
    assert!(
        matches!(err, CodecError::Payload(PayloadError::UnknownKind { .. })),
        "{err:?}"
    );
}

#[test]
fn control_kind_and_payload_must_agree() {
    let (_, event) = control_events().remove(0); // DOMAIN
    let mut wire = ControlEventWire::from(event);
    wire.kind = ControlKind::Assign;
    let err = decode::<ControlEvent>(&encode(&wire).unwrap()).unwrap_err();
    let unexpected = PayloadError::Unexpected {
        record: "ControlEvent",
        kind: "ASSIGN",
        fields: vec!["domain"],
    };
    assert!(
        matches!(&err, CodecError::Payload(e) if *e == unexpected),
        "{err:?}"
    );
    wire.domain = None;
    let err = ControlEvent::try_from(wire).unwrap_err();
    assert!(
        matches!(
            err,
            PayloadError::Missing {
                field: "assign",
                ..
            }
        ),
        "{err:?}"
    );
}

/// A type that claims the FleetEvent schema but writes only one of its fields.
#[derive(Serialize)]
#[serde(rename = "FleetEvent")]
struct NotAFleetEvent {
    event_id: String,
}

impl Canonical for NotAFleetEvent {
    const ENTRY: &'static catalog::CatalogEntry = &catalog::FLEET_EVENT;
    type Wire = FleetEventWire;
    fn from_wire(_: FleetEventWire) -> Result<Self, PayloadError> {
        unreachable!("only encoded in this test")
    }
}

#[test]
fn encode_error_is_internal_and_leaves_the_buffer_alone() {
    let mut buf = b"keep".to_vec();
    let value = NotAFleetEvent {
        event_id: "x".into(),
    };
    let err = encode_into(&value, &mut buf).unwrap_err();
    assert!(
        matches!(
            err,
            CodecError::Encode {
                schema: "FleetEvent",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.class(), ErrorClass::Internal);
    assert_eq!(buf, b"keep");
}

#[test]
fn decode_error_keeps_the_avro_cause_as_source() {
    let bytes = encode(&heartbeat_event()).unwrap();
    let err = decode::<FleetEvent>(&bytes[..8]).unwrap_err();
    let source = std::error::Error::source(&err).expect("decode error has a source");
    assert!(!source.to_string().is_empty());
}

proptest! {
    /// Garbage after a valid header never panics and never decodes into an event silently
    /// unless it really is one.
    #[test]
    fn garbage_body_is_an_error_not_a_panic(body in proptest::collection::vec(any::<u8>(), 0..64)) {
        let mut bytes = vec![0, 0, 0, 0x04, 0x03];
        bytes.extend_from_slice(&body);
        if let Ok(event) = decode::<FleetEvent>(&bytes) {
            prop_assert_eq!(encode(&event).unwrap(), bytes);
        }
    }
}

/// Data written with FleetEvent v1 (id 1001, before `trust_violation`, `edge`, `command_ack`,
/// `via` and `battery_pct`) still decodes. A v1 heartbeat datum is today's without the null
/// branches of `via` and `battery_pct` (inside the heartbeat) and of the three payloads added at
/// the end.
#[test]
fn fleet_event_v1_bytes_still_decode() {
    let event = heartbeat_event();
    let v4 = encode(&event).unwrap();
    assert_eq!(
        &v4[v4.len() - 3..],
        &[0, 0, 0],
        "null branches of `trust_violation`, `edge`, `command_ack`"
    );
    let mut v1 = vec![0, 0, 0, 0x03, 0xE9]; // 1001
    v1.extend_from_slice(&v4[5..v4.len() - 3]);
    // The heartbeat's last fields (`via`, `battery_pct`) are null branches: the two bytes
    // before the null branches of link, snapshot, lifecycle, attestation and replay.
    for _ in 0..2 {
        let added_at = v1.len() - 6;
        assert_eq!(v1[added_at], 0);
        v1.remove(added_at);
    }
    assert_eq!(decode::<FleetEvent>(&v1).unwrap(), event);
    assert!(
        decode::<Node>(&v1).is_err(),
        "a v1 FleetEvent is not a twin"
    );
}

/// Twins written with Node v1 (id 1003) still decode: resolved to the current version, the
/// fields v2 added take their defaults.
#[test]
fn node_v1_bytes_decode_into_the_current_version() {
    use apache_avro::types::Value;
    let previous = catalog::previous_by_id(catalog::ids::NODE_V1).unwrap();
    let v1 = apache_avro::Schema::parse_str(previous.avsc).unwrap();
    let v2 = sxfleet_schemas::schema(catalog::ids::NODE).unwrap();
    let mut node = Node::new("n-old");
    node.version = 7;
    node.drift.score = 12.5;
    let value = apache_avro::to_value(&node).unwrap().resolve(v2).unwrap();
    let Value::Record(fields) = value else {
        panic!("not a record")
    };
    // Drop what v2 added, giving a v1 datum.
    let v1_fields: Vec<(String, Value)> = fields
        .into_iter()
        .filter(|(name, _)| {
            ![
                "trust",
                "attention",
                "domain_path",
                "relay_path",
                "edges",
                "commands_pending",
                "commands_held",
            ]
            .contains(&name.as_str())
        })
        .map(|(name, value)| match (name.as_str(), value) {
            ("drift", Value::Record(drift)) => {
                (name, Value::Record(drift.into_iter().take(3).collect()))
            }
            ("connectivity", Value::Record(conn)) => {
                (name, Value::Record(conn.into_iter().take(5).collect()))
            }
            ("lifecycle", Value::Record(lifecycle)) => {
                (name, Value::Record(lifecycle.into_iter().take(4).collect()))
            }
            (_, value) => (name, value),
        })
        .collect();
    let body = apache_avro::writer::datum::GenericDatumWriter::builder(&v1)
        .build()
        .unwrap()
        .write_value_to_vec(Value::Record(v1_fields))
        .unwrap();
    let mut bytes = vec![MAGIC];
    bytes.extend_from_slice(&catalog::ids::NODE_V1.to_be_bytes());
    bytes.extend_from_slice(&body);

    let back: Node = decode(&bytes).unwrap();
    assert_eq!(back.id, "n-old");
    assert_eq!(back.version, 7);
    assert_eq!(back.drift.score, 12.5);
    assert_eq!(back.drift.status, "UNASSIGNED", "v2 default");
    assert_eq!(back.trust.state, "UNVERIFIED", "v2 default");
    assert_eq!(back.attention, NodeAttention::default());
    // A v1 twin is not a FleetEvent.
    assert!(decode::<FleetEvent>(&bytes).is_err());
}

//! Property tests: any FleetEvent survives the codec; the envelope rule holds for any wire value.

use proptest::collection::{btree_map, vec};
use proptest::option::of;
use proptest::prelude::*;
use sxfleet_schemas::*;

fn text() -> impl Strategy<Value = String> {
    ".{0,12}"
}

fn opt_text() -> impl Strategy<Value = Option<String>> {
    of(text())
}

/// Finite doubles only: NaN != NaN would make equality fail for a correct codec.
fn finite() -> impl Strategy<Value = f64> {
    any::<f64>().prop_filter("finite", |f| f.is_finite())
}

fn pick<T: AvroEnum + std::fmt::Debug>() -> impl Strategy<Value = T> {
    proptest::sample::select(T::ALL)
}

fn string_map() -> impl Strategy<Value = StringMap> {
    btree_map(text(), text(), 0..4)
}

fn register() -> impl Strategy<Value = Register> {
    let hardware = (opt_text(), opt_text(), opt_text(), opt_text(), opt_text()).prop_map(
        |(serial, manufacturer, model, batch_id, origin)| Hardware {
            serial,
            manufacturer,
            model,
            batch_id,
            origin,
        },
    );
    let firmware =
        (opt_text(), opt_text()).prop_map(|(version, signature)| Firmware { version, signature });
    (
        pick::<NodeKind>(),
        text(),
        text(),
        text(),
        vec(text(), 0..3),
        hardware,
        firmware,
        opt_text(),
    )
        .prop_map(
            |(kind, domain_id, region, zone, tags, hardware, firmware, public_key)| Register {
                kind,
                domain_id,
                region,
                zone,
                tags,
                hardware,
                firmware,
                public_key,
            },
        )
}

fn via() -> impl Strategy<Value = Option<Vec<String>>> {
    of(vec(text(), 0..3))
}

fn heartbeat() -> impl Strategy<Value = Heartbeat> {
    (
        of(finite()),
        of(finite()),
        of(any::<i64>()),
        of(any::<i64>()),
        pick::<Health>(),
        of(any::<i64>()),
        via(),
        of(finite()),
    )
        .prop_map(
            |(
                rtt_ms,
                loss_pct,
                bandwidth_kbps,
                backlog_messages,
                health,
                uptime_s,
                via,
                battery_pct,
            )| {
                Heartbeat {
                    rtt_ms,
                    loss_pct,
                    bandwidth_kbps,
                    backlog_messages,
                    health,
                    uptime_s,
                    via,
                    battery_pct,
                }
            },
        )
}

fn snapshot() -> impl Strategy<Value = Snapshot> {
    let inventory = (opt_text(), of(finite()), of(finite()), vec(text(), 0..3)).prop_map(
        |(cpu, ram_gb, storage_gb, gpus)| Inventory {
            cpu,
            ram_gb,
            storage_gb,
            gpus,
        },
    );
    (
        opt_text(),
        opt_text(),
        string_map(),
        opt_text(),
        opt_text(),
        of(inventory),
    )
        .prop_map(
            |(reported_version, policy_version, config, firmware_version, sbom_hash, inventory)| {
                Snapshot {
                    reported_version,
                    policy_version,
                    config,
                    firmware_version,
                    sbom_hash,
                    inventory,
                }
            },
        )
}

fn payload() -> impl Strategy<Value = EventPayload> {
    prop_oneof![
        register().prop_map(EventPayload::Register),
        heartbeat().prop_map(EventPayload::Heartbeat),
        (pick::<LinkState>(), via())
            .prop_map(|(state, via)| EventPayload::Link(Link { state, via })),
        snapshot().prop_map(EventPayload::Snapshot),
        (text(), opt_text())
            .prop_map(|(event, reason)| EventPayload::Lifecycle(Lifecycle { event, reason })),
        (pick::<AttestationResult>(), opt_text(), of(any::<i64>())).prop_map(
            |(result, firmware_signature, cert_not_after_ms)| {
                EventPayload::Attestation(Attestation {
                    result,
                    firmware_signature,
                    cert_not_after_ms,
                })
            }
        ),
        (
            pick::<ReplayPhase>(),
            opt_text(),
            of(any::<i64>()),
            of(any::<i64>()),
            any::<i64>()
        )
            .prop_map(
                |(phase, session_id, chunk_seq, backlog_total, event_count)| {
                    EventPayload::Replay(Replay {
                        phase,
                        session_id,
                        chunk_seq,
                        backlog_total,
                        event_count,
                    })
                }
            ),
        (text(), text(), of(any::<i64>()), opt_text()).prop_map(
            |(reason, detail, offending_seq, offending_event_id)| {
                EventPayload::TrustViolation(TrustViolation {
                    reason,
                    detail,
                    offending_seq,
                    offending_event_id,
                })
            }
        ),
        (text(), pick::<EdgeRelation>(), pick::<EdgeState>()).prop_map(
            |(peer_id, relation, state)| {
                EventPayload::Edge(EdgeDecl {
                    peer_id,
                    relation,
                    state,
                })
            }
        ),
        (text(), pick::<AckStatus>(), opt_text(), opt_text()).prop_map(
            |(command_id, status, reason, reported_version)| {
                EventPayload::CommandAck(CommandAck {
                    command_id,
                    status,
                    reason,
                    reported_version,
                })
            }
        ),
    ]
}

fn fleet_event() -> impl Strategy<Value = FleetEvent> {
    (
        text(),
        text(),
        any::<i64>(),
        any::<i64>(),
        any::<i64>(),
        pick::<Source>(),
        any::<bool>(),
        payload(),
    )
        .prop_map(
            |(event_id, node_id, seq, event_time_ms, received_ms, source, replayed, payload)| {
                FleetEvent {
                    event_id,
                    node_id,
                    seq,
                    event_time_ms,
                    received_ms,
                    source,
                    replayed,
                    payload,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_fleet_event_round_trips(event in fleet_event()) {
        let bytes = encode(&event).unwrap();
        prop_assert_eq!(&bytes[..5], &[0, 0, 0, 0x04, 0x03][..]); // FleetEvent v4, id 1027
        let back: FleetEvent = decode(&bytes).unwrap();
        prop_assert_eq!(&back, &event);
        prop_assert_eq!(encode(&back).unwrap(), bytes);
    }

    #[test]
    fn wire_conversion_round_trips(event in fleet_event()) {
        let wire = FleetEventWire::from(event.clone());
        prop_assert_eq!(wire.kind, event.kind());
        prop_assert_eq!(FleetEvent::try_from(wire).unwrap(), event);
    }

    /// A wire value converts iff exactly the payload named by `kind` is set.
    #[test]
    fn envelope_rule(
        base in fleet_event(),
        kind in pick::<EventKind>(),
        extra in vec(payload(), 0..3),
    ) {
        let mut wire = FleetEventWire::from(base);
        wire.kind = kind;
        for p in extra {
            match p {
                EventPayload::Register(p) => wire.register = Some(p),
                EventPayload::Heartbeat(p) => wire.heartbeat = Some(p),
                EventPayload::Link(p) => wire.link = Some(p),
                EventPayload::Snapshot(p) => wire.snapshot = Some(p),
                EventPayload::Lifecycle(p) => wire.lifecycle = Some(p),
                EventPayload::Attestation(p) => wire.attestation = Some(p),
                EventPayload::Replay(p) => wire.replay = Some(p),
                EventPayload::TrustViolation(p) => wire.trust_violation = Some(p),
                EventPayload::Edge(p) => wire.edge = Some(p),
                EventPayload::CommandAck(p) => wire.command_ack = Some(p),
            }
        }
        let set: Vec<&str> = [
            ("register", wire.register.is_some()),
            ("heartbeat", wire.heartbeat.is_some()),
            ("link", wire.link.is_some()),
            ("snapshot", wire.snapshot.is_some()),
            ("lifecycle", wire.lifecycle.is_some()),
            ("attestation", wire.attestation.is_some()),
            ("replay", wire.replay.is_some()),
            ("trust_violation", wire.trust_violation.is_some()),
            ("edge", wire.edge.is_some()),
            ("command_ack", wire.command_ack.is_some()),
        ]
        .into_iter()
        .filter(|(_, s)| *s)
        .map(|(f, _)| f)
        .collect();
        let valid = kind.payload_field().is_some_and(|f| set == [f]);
        let bytes = encode(&wire).unwrap();
        match decode::<FleetEvent>(&bytes) {
            Ok(event) => {
                prop_assert!(valid, "accepted kind {} with payloads {:?}", kind, set);
                prop_assert_eq!(event.kind(), kind);
            }
            Err(CodecError::Payload(_)) => prop_assert!(!valid, "rejected a valid event"),
            Err(other) => prop_assert!(false, "unexpected error {:?}", other),
        }
    }
}

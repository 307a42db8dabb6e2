//! Row building: every column checked against the schema value it comes from.

use sxfleet_schemas::{AttestationResult, AvroEnum, ConnectivityMode, EventKind, Health};
use sxfleet_schemas::{LifecyclePhase, NodeKind, Source, TransitionMachine};

use crate::tables::dlq::dlq_row;
use crate::tables::enums as ddl;
use crate::tables::events::event_row;
use crate::tables::node_state::node_state_row;
use crate::tables::row::datetime;
use crate::tables::transitions::{transition_row, TransitionRow};
use crate::tables::{Coords, RowError};

use crate::samples;

use samples::T0;

const AT: Coords<'static> = Coords {
    topic: "t.events",
    partition: 3,
    offset: 41,
};

#[test]
fn heartbeat_event_row() {
    let row = event_row(&samples::heartbeat_event("edge-1", 5), AT).unwrap();
    assert_eq!(row.event_id, "edge-1:5");
    assert_eq!(row.node_id, "edge-1");
    assert_eq!(row.seq, 5);
    assert_eq!(row.kind, 2);
    assert_eq!(row.source, 2);
    assert_eq!(row.replayed, 1);
    assert_eq!(row.event_time, 1_772_000_005);
    assert_eq!(row.event_time_ms, T0 + 5_000);
    assert_eq!(row.received_ms, T0 + 5_250);
    assert_eq!(
        row.payload,
        r#"{"rtt_ms":42.5,"loss_pct":0.25,"bandwidth_kbps":5000,"backlog_messages":12,"health":"DEGRADED","uptime_s":3600,"via":["relay-7","sat-link-2"],"battery_pct":null}"#
    );
    assert_eq!(row.topic, "t.events");
    assert_eq!(row.partition, 3);
    assert_eq!(row.offset, 41);
}

#[test]
fn register_payload_is_compact_json_with_nulls() {
    let row = event_row(&samples::register_event("gw-1", 1), AT).unwrap();
    assert_eq!(row.kind, 1);
    assert_eq!(row.source, 1);
    assert_eq!(row.replayed, 0);
    let payload: serde_json::Value = serde_json::from_str(&row.payload).unwrap();
    assert_eq!(payload["kind"], "GATEWAY");
    assert_eq!(payload["tags"][1], "tier:gold");
    assert_eq!(payload["hardware"]["serial"], "SN-1");
    assert!(payload["hardware"]["model"].is_null());
    assert!(!row.payload.contains(' '), "{}", row.payload);
}

#[test]
fn negative_seq_is_an_error() {
    let mut event = samples::heartbeat_event("edge-1", 1);
    event.seq = -4;
    let err = event_row(&event, AT).unwrap_err();
    assert_eq!(
        err,
        RowError::Negative {
            field: "seq",
            value: -4
        }
    );
    assert_eq!(err.reason_code(), "out_of_range");
}

#[test]
fn node_state_row_maps_every_column() {
    let row = node_state_row(&samples::node("edge-7", 12), AT).unwrap();
    assert_eq!(row.node_id, "edge-7");
    assert_eq!(row.name, "edge-7 (name)");
    assert_eq!(row.kind, 1);
    assert_eq!(row.tags, vec!["a", "b c"]);
    assert_eq!(row.domain_id, "dom-eu");
    assert_eq!(row.region, "eu-west");
    assert_eq!(row.zone, "eu-west-1b");
    assert_eq!(row.authority_level, "REGION");
    assert_eq!(row.controller_ids, vec!["ctl-1", "ctl-2"]);
    assert_eq!(row.authority_updated_ms, T0 - 10);
    assert_eq!(row.connectivity, 7);
    assert_eq!(row.last_seen_ms, T0 - 20);
    assert_eq!(row.rtt_ms, Some(120.25));
    assert_eq!(row.loss_pct, Some(1.5));
    assert_eq!(row.bandwidth_kbps, Some(256));
    assert_eq!(row.seconds_behind, 90);
    assert_eq!(row.backlog_messages, 1_234);
    assert_eq!(row.replay_required, 1);
    assert_eq!(row.lifecycle_phase, 6);
    assert_eq!(row.lifecycle_state, "QUARANTINED_REPLAY_MISMATCH");
    assert_eq!(row.lifecycle_reason, "forged replay");
    assert_eq!(row.lifecycle_transition_ms, T0 - 60);
    assert_eq!(row.health, 3);
    assert_eq!(row.last_heartbeat_ms, T0 - 30);
    assert_eq!(row.uptime_s, Some(86_400));
    assert_eq!(row.reported_version, "2.3.1");
    assert_eq!(row.policy_version, "p-8");
    assert_eq!(row.desired_bundle_id, "bundle-7");
    assert_eq!(row.target_version, "2.4.0");
    assert_eq!(row.desired_policy_version, "p-9");
    assert_eq!(row.drift_score, 0.75);
    assert_eq!(row.drift_objects, 3);
    assert_eq!(row.drift_evaluated_ms, T0 - 40);
    assert_eq!(row.hw_serial, "SN-42");
    assert_eq!(row.hw_manufacturer, "Acme");
    assert_eq!(row.hw_model, "X1");
    assert_eq!(row.hw_batch_id, "B-2025-07");
    assert_eq!(row.hw_origin, "Lyon");
    assert_eq!(row.firmware_version, "fw-1.2");
    assert_eq!(row.firmware_signature, "sig:fw");
    assert_eq!(row.sbom_hash, "sha256:abc");
    assert_eq!(row.attestation, 1);
    assert_eq!(row.attested_ms, T0 - 50);
    assert_eq!(row.version, 12);
    assert_eq!(row.last_seq, 77);
    assert_eq!(row.last_event_id, "edge-7:77");
    assert_eq!(row.events_applied, 70);
    assert_eq!(row.updated_ms, T0);
    assert_eq!(row.updated_at, 1_772_000_000);
}

#[test]
fn fresh_twin_uses_empty_and_zero() {
    let row = node_state_row(&sxfleet_schemas::Node::new("n-0"), AT).unwrap();
    assert_eq!(row.name, "");
    assert_eq!(row.kind, 0);
    assert_eq!(row.authority_level, "");
    assert_eq!(row.connectivity, 0);
    assert_eq!(row.last_seen_ms, 0);
    assert_eq!(
        (row.rtt_ms, row.loss_pct, row.bandwidth_kbps),
        (None, None, None)
    );
    assert_eq!(row.uptime_s, None);
    assert_eq!(row.lifecycle_phase, 1);
    assert_eq!(row.lifecycle_state, "PROVISIONING");
    assert_eq!(row.health, 0);
    assert_eq!(row.attestation, 0);
    assert_eq!((row.attested_ms, row.updated_ms, row.updated_at), (0, 0, 0));
    assert_eq!(row.last_event_id, "");
}

#[test]
fn negative_twin_version_is_an_error() {
    let err = node_state_row(&samples::node("n", -1), AT).unwrap_err();
    assert_eq!(
        err,
        RowError::Negative {
            field: "version",
            value: -1
        }
    );
}

#[test]
fn dlq_row_maps_every_column() {
    let at = Coords {
        topic: "t.dlq",
        partition: 0,
        offset: 7,
    };
    let row = dlq_row(&samples::dead_letter(), at).unwrap();
    assert_eq!(row.received_ms, T0);
    assert_eq!(row.received_at, 1_772_000_000);
    assert_eq!(row.stage, "normalizer");
    assert_eq!(row.source, 1);
    assert_eq!(row.reason_code, "invalid_json");
    assert_eq!(row.detail, "EOF while parsing a value at line 1 column 31");
    assert_eq!(row.node_id, "edge-9");
    assert_eq!(row.source_topic, "fleet.raw.v1");
    assert_eq!(row.source_partition, 2);
    assert_eq!(row.source_offset, 991);
    assert_eq!(row.original, b"{\"type\":\"heartbeat\",\"node_id\":");
    assert_eq!(
        (row.dlq_topic.as_str(), row.dlq_partition, row.dlq_offset),
        ("t.dlq", 0, 7)
    );
}

#[test]
fn dlq_row_without_kafka_origin() {
    let mut dead = samples::dead_letter();
    dead.source_topic = None;
    dead.source_partition = None;
    dead.source_offset = None;
    dead.node_id = None;
    let row = dlq_row(&dead, AT).unwrap();
    assert_eq!(row.source_topic, "");
    assert_eq!((row.source_partition, row.source_offset), (-1, -1));
    assert_eq!(row.node_id, "");
}

#[test]
fn datetime_clamps() {
    assert_eq!(datetime(0), 0);
    assert_eq!(datetime(1_999), 1);
    assert_eq!(datetime(-1), 0);
    assert_eq!(datetime(i64::MAX), u32::MAX);
}

/// Every symbol of every schema enum that lands in an Enum8 column has a code there, so no
/// valid record can fail with `UnknownSymbol`.
#[test]
fn every_schema_symbol_has_an_enum8_code() {
    fn check<E: AvroEnum>(values: ddl::Enum8Values) {
        for variant in E::ALL {
            assert!(
                ddl::enum8_code(values, variant.symbol()).is_some(),
                "{} {}",
                E::AVRO_NAME,
                variant.symbol()
            );
        }
    }
    check::<EventKind>(ddl::EVENT_KIND);
    check::<Source>(ddl::SOURCE);
    check::<NodeKind>(ddl::NODE_KIND);
    check::<ConnectivityMode>(ddl::CONNECTIVITY);
    check::<LifecyclePhase>(ddl::LIFECYCLE_PHASE);
    check::<Health>(ddl::HEALTH);
    check::<AttestationResult>(ddl::ATTESTATION);
    check::<TransitionMachine>(ddl::TRANSITION_MACHINE);
}

#[test]
fn transition_row_maps_every_column() {
    let row = transition_row(&samples::connectivity_transition("edge-1", 7), AT).unwrap();
    let expected = TransitionRow {
        node_id: "edge-1".into(),
        domain_id: "region-a/a1".into(),
        machine: 1,
        at: 1_772_000_007,
        at_ms: T0 + 7_000,
        from_state: "live".into(),
        to_state: "delayed".into(),
        applied: 1,
        reason: "latency_threshold".into(),
        latency_ms: Some(812.5),
        backlog: Some(40),
        sync_interval_ms: Some(30_000),
        phase: "ACTIVE".into(),
        event_id: "edge-1:7".into(),
        seq: 7,
        topic: "t.events".into(),
        partition: 3,
        offset: 41,
    };
    assert_eq!(row, expected);
}

#[test]
fn violation_row_is_not_applied_with_empty_strings_and_nulls() {
    let row = transition_row(&samples::lifecycle_violation("edge-1", 2), AT).unwrap();
    assert_eq!((row.machine, row.applied), (2, 0));
    assert_eq!(
        (row.from_state.as_str(), row.to_state.as_str()),
        ("RETIRED", "")
    );
    assert_eq!((row.phase.as_str(), row.event_id.as_str()), ("", ""));
    assert_eq!(
        (row.latency_ms, row.backlog, row.sync_interval_ms),
        (None, None, None)
    );
    let mut unknown = samples::lifecycle_violation("edge-1", 2);
    unknown.machine = TransitionMachine::Unknown;
    assert_eq!(transition_row(&unknown, AT).unwrap().machine, 0);
}

#[test]
fn negative_transition_seq_is_an_error() {
    let entry = samples::lifecycle_violation("edge-1", -1);
    assert_eq!(
        transition_row(&entry, AT),
        Err(RowError::Negative {
            field: "seq",
            value: -1
        })
    );
}

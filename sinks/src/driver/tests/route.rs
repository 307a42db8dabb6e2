//! Unit tests of [`crate::driver::route`], on records encoded with the real codec.

use sxfleet_schemas::encode;

use sxfleet_schemas::{DeadLetter, Source};

use crate::dead_letters::UNDECODABLE;
use crate::driver::route::{route, Record, Routed};
use crate::tables::dlq::{dlq_row, Dlq};
use crate::tables::events::{event_row, Events};
use crate::tables::node_state::{node_state_row, NodeState};
use crate::tables::transitions::{transition_row, Transitions};
use crate::tables::{Coords, TableRow, TopicRole};

use crate::samples;

fn record<'a>(topic: &'a str, key: Option<&'a [u8]>, payload: Option<&'a [u8]>) -> Record<'a> {
    Record {
        coords: Coords {
            topic,
            partition: 2,
            offset: 17,
        },
        key,
        payload,
        timestamp_ms: Some(samples::T0),
        tick_ms: None,
    }
}

fn expect_dead_letter(routed: Routed) -> DeadLetter {
    match routed {
        Routed::DeadLetter(dead) => *dead,
        other => panic!("expected a dead letter, got {other:?}"),
    }
}

#[test]
fn event_becomes_an_events_row() {
    let event = samples::heartbeat_event("edge-1", 3);
    let bytes = encode(&event).unwrap();
    let rec = record("ev", Some(b"edge-1"), Some(&bytes));
    let expected = event_row(&event, rec.coords).unwrap();
    assert_eq!(
        route(TopicRole::Events, &rec),
        Routed::Row(TableRow::new::<Events>(expected))
    );
}

#[test]
fn twin_becomes_a_node_state_row() {
    let node = samples::node("edge-1", 4);
    let bytes = encode(&node).unwrap();
    let rec = record("twin", Some(b"edge-1"), Some(&bytes));
    let expected = node_state_row(&node, rec.coords).unwrap();
    assert_eq!(
        route(TopicRole::Twin, &rec),
        Routed::Row(TableRow::new::<NodeState>(expected))
    );
}

#[test]
fn dead_letter_becomes_a_dlq_row() {
    let dead = samples::dead_letter();
    let bytes = encode(&dead).unwrap();
    let rec = record("dlq", None, Some(&bytes));
    let expected = dlq_row(&dead, rec.coords).unwrap();
    assert_eq!(
        route(TopicRole::DeadLetters, &rec),
        Routed::Row(TableRow::new::<Dlq>(expected))
    );
}

#[test]
fn transition_becomes_a_transitions_row() {
    let entry = samples::connectivity_transition("edge-1", 3);
    let bytes = encode(&entry).unwrap();
    let rec = record("tr", Some(b"edge-1"), Some(&bytes));
    let expected = transition_row(&entry, rec.coords).unwrap();
    assert_eq!(
        route(TopicRole::Transitions, &rec),
        Routed::Row(TableRow::new::<Transitions>(expected))
    );
    // An event on the transitions topic is not a ledger entry.
    let event = encode(&samples::heartbeat_event("edge-1", 3)).unwrap();
    let rec = record("tr", Some(b"edge-1"), Some(&event));
    let dead = expect_dead_letter(route(TopicRole::Transitions, &rec));
    assert_eq!(dead.reason_code, UNDECODABLE);
    assert_eq!(dead.source_topic.as_deref(), Some("tr"));
    // A negative seq does not fit the UInt64 column.
    let bytes = encode(&samples::lifecycle_violation("edge-1", -2)).unwrap();
    let rec = record("tr", Some(b"edge-1"), Some(&bytes));
    let dead = expect_dead_letter(route(TopicRole::Transitions, &rec));
    assert_eq!(dead.reason_code, "out_of_range");
}

#[test]
fn garbage_event_is_dead_lettered_with_its_bytes_and_coordinates() {
    let rec = record("ev", Some(b"edge-9"), Some(b"{not avro"));
    let dead = expect_dead_letter(route(TopicRole::Events, &rec));
    assert_eq!(dead.original, b"{not avro");
    assert_eq!(dead.source, Source::Unknown);
    assert_eq!(dead.source_topic.as_deref(), Some("ev"));
    assert_eq!(dead.source_partition, Some(2));
    assert_eq!(dead.source_offset, Some(17));
    assert_eq!(dead.node_id.as_deref(), Some("edge-9"));
    assert_eq!(dead.reason_code, UNDECODABLE);
    assert_eq!(dead.stage, "sink");
    assert_eq!(dead.received_ms, samples::T0);
    assert!(dead.detail.contains("magic"), "{}", dead.detail);
}

#[test]
fn a_twin_on_the_events_topic_is_dead_lettered() {
    let bytes = encode(&samples::node("n", 1)).unwrap();
    let rec = record("ev", Some(&[0xff, 0xfe]), Some(&bytes));
    let dead = expect_dead_letter(route(TopicRole::Events, &rec));
    assert_eq!(dead.reason_code, UNDECODABLE);
    assert_eq!(dead.node_id, None, "a key that is not UTF-8 is no node id");
    assert_eq!(dead.original, bytes);
}

#[test]
fn negative_seq_is_dead_lettered_as_out_of_range() {
    let mut event = samples::heartbeat_event("edge-1", 1);
    event.seq = -1;
    let bytes = encode(&event).unwrap();
    let dead = expect_dead_letter(route(TopicRole::Events, &record("ev", None, Some(&bytes))));
    assert_eq!(dead.reason_code, "out_of_range");
    assert_eq!(dead.detail, "seq is negative (-1)");
}

#[test]
fn tombstones() {
    assert_eq!(
        route(TopicRole::Twin, &record("twin", Some(b"n"), None)),
        Routed::Tombstone
    );
    let tick = Record {
        tick_ms: Some(samples::T0),
        ..record("ev", Some(sxfleet_runtime::tick::TICK_KEY), None)
    };
    assert_eq!(
        route(TopicRole::Events, &tick),
        Routed::Tick,
        "a processor's tick record is skipped, not dead-lettered"
    );
    let dead = expect_dead_letter(route(TopicRole::Events, &record("ev", Some(b"n"), None)));
    assert!(dead.original.is_empty());
    assert_eq!(dead.detail, "record has no value");
    let dead = expect_dead_letter(route(
        TopicRole::Transitions,
        &record("tr", Some(b"n"), None),
    ));
    assert_eq!(dead.detail, "record has no value");
    assert!(matches!(
        route(TopicRole::DeadLetters, &record("dlq", None, None)),
        Routed::UnreadableDeadLetter { .. }
    ));
}

#[test]
fn an_unreadable_dead_letter_is_not_dead_lettered_again() {
    let routed = route(
        TopicRole::DeadLetters,
        &record("dlq", None, Some(b"\0\0\0")),
    );
    match routed {
        Routed::UnreadableDeadLetter { detail } => assert!(detail.contains("shorter"), "{detail}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn control_copies_on_the_events_topic_are_skipped() {
    use sxfleet_schemas::{ControlEvent, ControlPayload, DomainDef, DomainLevel, Source};
    let control = ControlEvent {
        event_id: "e1".to_owned(),
        key: "d".to_owned(),
        event_time_ms: 1,
        received_ms: 2,
        source: Source::KafkaRaw,
        payload: ControlPayload::Domain(DomainDef {
            domain_id: "d".to_owned(),
            parent_id: None,
            level: DomainLevel::Zone,
            autonomy: None,
            version: None,
            sync: None,
            utc_offset_minutes: None,
        }),
    };
    let payload = sxfleet_schemas::encode(&control).expect("encodes");
    assert_eq!(
        route(TopicRole::Events, &record("ev", Some(b"d"), Some(&payload))),
        Routed::ControlCopy
    );
}

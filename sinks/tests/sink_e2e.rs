//! End to end against the real Kafka and ClickHouse: Avro records on fresh topics, the sink
//! run until they land, exact rows checked, then a second run that must not insert again what
//! the first one committed.

mod common;

use std::time::Duration;

use common::kafka::{start, wait_for, TestTopics};
use common::{samples, tsv, TestDb};
use sxfleet_runtime::Shutdown;
use sxfleet_schemas::{encode, FleetEvent};
use sxfleet_sinks::tables::ddl::table;
use sxfleet_sinks::tables::dlq::dlq_row;
use sxfleet_sinks::tables::dlq::DlqRow;
use sxfleet_sinks::tables::events::event_row;
use sxfleet_sinks::tables::events::EventRow;
use sxfleet_sinks::tables::node_state::node_state_row;
use sxfleet_sinks::tables::node_state::NodeStateRow;
use sxfleet_sinks::tables::transitions::transition_row;
use sxfleet_sinks::tables::transitions::TransitionRow;
use sxfleet_sinks::tables::Coords;

const GARBAGE_EVENT: &[u8] = b"{\"type\":\"heartbeat\"}";
const GARBAGE_DLQ: &[u8] = b"\x00\x00";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sink_lands_records_once() {
    let db = TestDb::new();
    let ch = db.connect().await;
    let kafka = TestTopics::create().await;
    let topics = kafka.topics.clone();

    // 12 events over 3 nodes, 3 twin versions over 2 nodes plus a tombstone, one dead letter,
    // a record of garbage on the events topic and on the DLQ topic, and 3 ledger entries with
    // one of them sent twice.
    let mut events: Vec<FleetEvent> = Vec::new();
    for seq in 1..=4 {
        for node in ["edge-a", "edge-b", "gw-c"] {
            events.push(samples::heartbeat_event(node, seq));
        }
    }
    for event in &events {
        let bytes = encode(event).expect("encode");
        kafka
            .produce(&topics.events, &event.node_id, Some(&bytes))
            .await;
    }
    let twins = [
        samples::node("edge-a", 1),
        samples::node("edge-a", 2),
        samples::node("edge-b", 1),
    ];
    for twin in &twins {
        let bytes = encode(twin).expect("encode");
        kafka.produce(&topics.twin, &twin.id, Some(&bytes)).await;
    }
    kafka.produce(&topics.twin, "gone", None).await;
    let dead = samples::dead_letter();
    let bytes = encode(&dead).expect("encode");
    kafka.produce(&topics.dlq, "edge-9", Some(&bytes)).await;
    kafka
        .produce(&topics.events, "edge-x", Some(GARBAGE_EVENT))
        .await;
    kafka
        .produce(&topics.dlq, "edge-y", Some(GARBAGE_DLQ))
        .await;
    let transitions = [
        samples::connectivity_transition("edge-a", 1),
        samples::connectivity_transition("edge-a", 2),
        samples::lifecycle_violation("gw-c", 3),
    ];
    for entry in transitions.iter().chain([&transitions[1]]) {
        let bytes = encode(entry).expect("encode");
        kafka
            .produce(&topics.transitions, &entry.node_id, Some(&bytes))
            .await;
    }

    // First run: everything lands.
    let config = kafka.sink_config(&db);
    let shutdown = Shutdown::new();
    let run = start(&config, &shutdown);
    let q = |sql: &str| sql.replace("DB", &db.name);
    wait_for(&ch, &q("SELECT count() FROM DB.events"), 12).await;
    wait_for(&ch, &q("SELECT count() FROM DB.node_state"), 3).await;
    wait_for(&ch, &q("SELECT count() FROM DB.dlq"), 2).await;
    wait_for(&ch, &q("SELECT count() FROM DB.transitions"), 4).await;
    shutdown.trigger();
    let stats = run.await.expect("join");
    assert_eq!(stats.inserted(table::EVENTS), 12, "{stats:?}");
    assert_eq!(stats.inserted(table::NODE_STATE), 3, "{stats:?}");
    assert_eq!(stats.inserted(table::DLQ), 2, "{stats:?}");
    assert_eq!(stats.dead_lettered, 1, "{stats:?}");
    assert_eq!(stats.unreadable_dead_letters, 1, "{stats:?}");
    assert_eq!(stats.tombstones, 1, "{stats:?}");
    assert_eq!(stats.inserted(table::TRANSITIONS), 4, "{stats:?}");
    assert_eq!(stats.records, 24, "{stats:?}");
    assert_eq!(
        (stats.commit_failures, stats.abandoned_rows),
        (0, 0),
        "{stats:?}"
    );
    assert!(stats.commits >= 1, "{stats:?}");

    let client = ch.client();
    // Every events row equals the row built from the event it came from, at its coordinates.
    let rows: Vec<EventRow> = client
        .query("SELECT ?fields FROM events ORDER BY node_id, seq")
        .fetch_all()
        .await
        .expect("events");
    assert_eq!(rows.len(), 12);
    for row in &rows {
        assert_eq!(row.topic, topics.events);
        assert!((0..4).contains(&row.partition), "{row:?}");
        let event = events
            .iter()
            .find(|e| e.node_id == row.node_id && e.seq as u64 == row.seq)
            .expect("source event");
        let at = Coords {
            topic: &topics.events,
            partition: row.partition,
            offset: row.offset,
        };
        assert_eq!(row, &event_row(event, at).expect("row"));
    }
    let text = tsv(
        &ch,
        &q("SELECT uniqExact(partition, offset) FROM DB.events"),
    )
    .await;
    assert_eq!(text, "12\n");

    // node_state: the newest version of each twin.
    let rows: Vec<NodeStateRow> = client
        .query("SELECT ?fields FROM node_state FINAL ORDER BY node_id")
        .fetch_all()
        .await
        .expect("node_state");
    let expected: Vec<NodeStateRow> = [&twins[1], &twins[2]]
        .into_iter()
        .zip(&rows)
        .map(|(n, row)| {
            assert_eq!(row.topic, topics.twin);
            let at = Coords {
                topic: &topics.twin,
                partition: row.partition,
                offset: row.offset,
            };
            node_state_row(n, at).expect("row")
        })
        .collect();
    assert_eq!(rows, expected);

    // dlq: the dead letter as produced, and the sink's own one for the garbage event.
    let rows: Vec<DlqRow> = client
        .query("SELECT ?fields FROM dlq ORDER BY reason_code")
        .fetch_all()
        .await
        .expect("dlq");
    assert_eq!(rows.len(), 2);
    let at = Coords {
        topic: &topics.dlq,
        partition: rows[0].dlq_partition,
        offset: rows[0].dlq_offset,
    };
    assert_eq!(rows[0], dlq_row(&dead, at).expect("row"));
    let own = &rows[1];
    assert_eq!(own.reason_code, "undecodable");
    assert_eq!(own.stage, "sink");
    assert_eq!(own.original, GARBAGE_EVENT);
    assert_eq!(own.node_id, "edge-x");
    assert_eq!(own.source_topic, topics.events);
    assert!(own.source_offset >= 0 && own.received_ms > 0, "{own:?}");
    assert_eq!(own.dlq_topic, topics.dlq);

    // transitions: under FINAL the entry sent twice is one row; each row equals the row built
    // from its entry at its own coordinates.
    let rows: Vec<TransitionRow> = client
        .query("SELECT ?fields FROM transitions FINAL ORDER BY node_id, machine, seq")
        .fetch_all()
        .await
        .expect("transitions");
    assert_eq!(rows.len(), 3, "{rows:?}");
    for (row, entry) in rows.iter().zip(&transitions) {
        assert_eq!(row.topic, topics.transitions);
        let at = Coords {
            topic: &topics.transitions,
            partition: row.partition,
            offset: row.offset,
        };
        assert_eq!(row, &transition_row(entry, at).expect("row"));
    }
    let sql = q(
        "SELECT machine, applied, to_state, event_id, latency_ms FROM DB.transitions \
                 FINAL WHERE node_id = 'gw-c'",
    );
    assert_eq!(tsv(&ch, &sql).await, "LIFECYCLE\t0\t\t\t\\N\n");

    // Second run, same group: only the new records are read; nothing committed comes back.
    let more: Vec<FleetEvent> = (5..=7)
        .map(|seq| samples::heartbeat_event("edge-a", seq))
        .collect();
    for event in &more {
        let bytes = encode(event).expect("encode");
        kafka
            .produce(&topics.events, &event.node_id, Some(&bytes))
            .await;
    }
    let shutdown = Shutdown::new();
    let run = start(&config, &shutdown);
    wait_for(&ch, &q("SELECT count() FROM DB.events"), 15).await;
    // Give a wrongly re-read backlog time to show up before stopping.
    tokio::time::sleep(Duration::from_secs(2)).await;
    shutdown.trigger();
    let stats = run.await.expect("join");
    assert_eq!(stats.records, 3, "{stats:?}");
    assert_eq!(stats.inserted(table::EVENTS), 3, "{stats:?}");
    assert_eq!(
        (
            stats.inserted(table::NODE_STATE),
            stats.inserted(table::DLQ),
            stats.inserted(table::TRANSITIONS)
        ),
        (0, 0, 0),
        "{stats:?}"
    );
    let sql = q("SELECT count(), uniqExact(topic, partition, offset) FROM DB.events");
    assert_eq!(tsv(&ch, &sql).await, "15\t15\n");
    assert_eq!(tsv(&ch, &q("SELECT count() FROM DB.dlq")).await, "2\n");
    let sql = q("SELECT count() FROM DB.transitions");
    assert_eq!(tsv(&ch, &sql).await, "4\n");

    kafka.delete().await;
}

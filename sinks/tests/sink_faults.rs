//! Faults of the effectively-once sink against the real Kafka and ClickHouse: rows that landed
//! before a crash (but were never committed) are not inserted again; a row the server rejects
//! goes to the DLQ with the server's message while the rest of its partition lands; columns
//! added to a table while the sink runs do not stop it.

mod common;

use common::kafka::{start, wait_for, TestTopics};
use common::{samples, tsv, TestDb};
use sxfleet_runtime::Shutdown;
use sxfleet_schemas::encode;
use sxfleet_sinks::backend::clickhouse::insert::insert_rows;
use sxfleet_sinks::migrate::migrate;
use sxfleet_sinks::tables::ddl::table;
use sxfleet_sinks::tables::events::event_row;
use sxfleet_sinks::tables::Coords;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_landed_before_a_crash_are_not_inserted_again() {
    let db = TestDb::new();
    let ch = db.connect().await;
    migrate(&ch).await.expect("migrate");
    let kafka = TestTopics::create().await;
    let topic = kafka.topics.events.clone();

    // Six events of one node (one partition); a sink that "crashed" had inserted the first,
    // second and fourth row (three rows of two inserts, in any order) but committed nothing.
    let mut rows = Vec::new();
    for seq in 1..=6 {
        let event = samples::heartbeat_event("edge-c", seq);
        let bytes = encode(&event).expect("encode");
        let (partition, offset) = kafka.produce(&topic, &event.node_id, Some(&bytes)).await;
        let at = Coords {
            topic: &topic,
            partition,
            offset,
        };
        rows.push(event_row(&event, at).expect("row"));
    }
    let client = ch.client();
    for landed in [&rows[..2], &rows[3..4]] {
        insert_rows(&client, "events", landed, None)
            .await
            .expect("insert");
    }

    let shutdown = Shutdown::new();
    let run = start(&kafka.sink_config(&db), &shutdown);
    let q = |sql: &str| sql.replace("DB", &db.name);
    wait_for(&ch, &q("SELECT count() FROM DB.events"), 6).await;
    shutdown.trigger();
    let stats = run.await.expect("join");
    assert_eq!(stats.records, 6, "{stats:?}");
    assert_eq!(stats.already_landed, 3, "{stats:?}");
    assert_eq!(stats.inserted(table::EVENTS), 3, "{stats:?}");
    let sql = q("SELECT count(), uniqExact(offset), min(seq), max(seq) FROM DB.events");
    assert_eq!(tsv(&ch, &sql).await, "6\t6\t1\t6\n");

    kafka.delete().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_rows_are_dead_lettered_and_added_columns_are_fine() {
    let db = TestDb::new();
    let ch = db.connect().await;
    let kafka = TestTopics::create().await;
    let topic = kafka.topics.events.clone();
    let q = |sql: &str| sql.replace("DB", &db.name);
    let shutdown = Shutdown::new();
    let run = start(&kafka.sink_config(&db), &shutdown);

    let produce = |seqs: std::ops::RangeInclusive<i64>| {
        let (kafka, topic) = (&kafka, &topic);
        async move {
            let mut offsets = Vec::new();
            for seq in seqs {
                let event = samples::heartbeat_event("edge-f", seq);
                let bytes = encode(&event).expect("encode");
                offsets.push(kafka.produce(topic, &event.node_id, Some(&bytes)).await);
            }
            offsets
        }
    };
    produce(1..=10).await;
    wait_for(&ch, &q("SELECT count() FROM DB.events"), 10).await;

    // Schema changes while the sink runs: a column with a default it does not know, and one
    // whose default refuses seq 13 (standing in for any row the server rejects as bad data).
    tsv(
        &ch,
        &q("ALTER TABLE DB.events ADD COLUMN note String DEFAULT 'added'"),
    )
    .await;
    tsv(
        &ch,
        &q("ALTER TABLE DB.events ADD COLUMN guard UInt8 DEFAULT throwIf(seq = 13)"),
    )
    .await;
    let offsets = produce(11..=20).await;
    wait_for(&ch, &q("SELECT count() FROM DB.events"), 19).await;
    wait_for(&ch, &q("SELECT count() FROM DB.dlq"), 1).await;
    shutdown.trigger();
    let stats = run.await.expect("join");
    assert_eq!(stats.rejected_rows, 1, "{stats:?}");
    assert_eq!(stats.dead_lettered, 1, "{stats:?}");
    assert_eq!(stats.inserted(table::EVENTS), 19, "{stats:?}");

    let sql = q("SELECT countIf(seq = 13), uniqExact(seq), countIf(note = 'added') FROM DB.events");
    assert_eq!(tsv(&ch, &sql).await, "0\t19\t19\n");
    let (partition, offset) = offsets[2];
    let sql = q(
        "SELECT reason_code, stage, node_id, source_topic, source_partition, \
         source_offset, position(detail, 'Code: 395') > 0, \
         position(original, '\"seq\":13') > 0 FROM DB.dlq",
    );
    assert_eq!(
        tsv(&ch, &sql).await,
        format!("rejected_by_clickhouse\tsink\tedge-f\t{topic}\t{partition}\t{offset}\t1\t1\n")
    );

    kafka.delete().await;
}

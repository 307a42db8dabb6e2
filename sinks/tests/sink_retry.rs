//! The sink against a ClickHouse that refuses queries and inserts (the `events` table
//! detached): it retries with back-off, never commits offsets of rows it did not insert, and a
//! later run (or the same run, once the table is back) lands every row exactly once.

mod common;

use std::time::Duration;

use common::kafka::{start, wait_for, TestTopics};
use common::{blocking_sql, samples, tsv, TestDb};
use sxfleet_runtime::Shutdown;
use sxfleet_schemas::encode;
use sxfleet_sinks::migrate::migrate;
use sxfleet_sinks::tables::ddl::table;

/// Re-attaches the detached table when the test ends, even by a panic: 18.16 cannot drop a
/// database that still holds a detached table.
struct Reattach(String);

impl Drop for Reattach {
    fn drop(&mut self) {
        // Fails harmlessly ("already exists") when the test attached it itself.
        let _ = blocking_sql(&format!("ATTACH TABLE `{}`.events", self.0));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_inserts_are_retried_and_never_committed() {
    let db = TestDb::new();
    let ch = db.connect().await;
    migrate(&ch).await.expect("migrate");
    let kafka = TestTopics::create().await;
    let events_topic = kafka.topics.events.clone();
    let config = kafka.sink_config(&db);
    let q = |sql: &str| sql.replace("DB", &db.name);
    let produce = |from: i64, to: i64| {
        let kafka = &kafka;
        let topic = &events_topic;
        async move {
            for seq in from..=to {
                let event = samples::heartbeat_event("edge-r", seq);
                let bytes = encode(&event).expect("encode");
                kafka.produce(topic, &event.node_id, Some(&bytes)).await;
            }
        }
    };

    // 1. The table is gone until shutdown: the sink cannot learn what of the partitions
    //    already landed, so it reads no further than each partition's first record; nothing
    //    inserted, nothing committed.
    tsv(&ch, &q("DETACH TABLE DB.events")).await;
    let _reattach = Reattach(db.name.clone());
    produce(1, 5).await;
    let shutdown = Shutdown::new();
    let run = start(&config, &shutdown);
    tokio::time::sleep(Duration::from_secs(4)).await;
    shutdown.trigger();
    let stats = run.await.expect("join");
    assert_eq!(stats.records, 0, "{stats:?}");
    assert_eq!(stats.inserted(table::EVENTS), 0, "{stats:?}");
    assert_eq!(stats.commits, 0, "{stats:?}");
    assert!(stats.retries >= 2, "{stats:?}");

    // 2. The table comes back while the sink retries: the same run lands the rows, once.
    produce(6, 7).await;
    let shutdown = Shutdown::new();
    let run = start(&config, &shutdown);
    tokio::time::sleep(Duration::from_secs(2)).await;
    tsv(&ch, &q("ATTACH TABLE DB.events")).await;
    wait_for(&ch, &q("SELECT count() FROM DB.events"), 7).await;
    shutdown.trigger();
    let stats = run.await.expect("join");
    assert_eq!(
        stats.records, 7,
        "uncommitted records are read again: {stats:?}"
    );
    assert_eq!(stats.inserted(table::EVENTS), 7, "{stats:?}");
    assert!(stats.retries >= 1, "{stats:?}");
    assert_eq!(stats.commit_failures, 0, "{stats:?}");

    // 3. A run with nothing new inserts nothing.
    let shutdown = Shutdown::new();
    let run = start(&config, &shutdown);
    tokio::time::sleep(Duration::from_secs(3)).await;
    shutdown.trigger();
    let stats = run.await.expect("join");
    assert_eq!(
        (stats.records, stats.inserted(table::EVENTS)),
        (0, 0),
        "{stats:?}"
    );
    let sql = q("SELECT count(), uniqExact(partition, offset), min(seq), max(seq) FROM DB.events");
    assert_eq!(tsv(&ch, &sql).await, "7\t7\t1\t7\n");

    kafka.delete().await;
}

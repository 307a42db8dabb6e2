//! Commands and rollouts end to end against the real Kafka and ClickHouse 18.16, and on the
//! Parquet backend: the hand-built ledger of `samples::commands` (a command held, published,
//! re-sent twice and applied; an at-most-once one lost; a domain-level rejection; a rollout
//! with converged, pending, held, failed and cancelled nodes in three zones) produced to fresh
//! topics and landed by the sink; `commands` rows, the `command_latest` and `rollouts` views,
//! the Node v4 columns of `node_state` and the cookbook's command queries checked value by
//! value — the same answers on both backends. And a batch retried after an outage, part of
//! which had landed, lands every record once.

mod common;

use std::time::Duration;

use common::commands::{expected, key, produce, twin_answer, twin_query, view_checks};
use common::kafka::{land_in_parquet, start, wait_for, TestTopics};
use common::tree::{df_tsv, query};
use common::{blocking_sql, tsv, TestDb};
use sxfleet_runtime::Shutdown;
use sxfleet_schemas::encode;
use sxfleet_sinks::backend::clickhouse::insert::insert_rows;
use sxfleet_sinks::cookbook::Dialect;
use sxfleet_sinks::migrate::migrate;
use sxfleet_sinks::samples::commands::statuses;
use sxfleet_sinks::tables::commands::{command_row, CommandRow};
use sxfleet_sinks::tables::ddl::table;
use sxfleet_sinks::tables::Coords;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_land_and_answer_on_clickhouse_and_parquet() {
    let db = TestDb::new();
    let ch = db.connect().await;
    let kafka = TestTopics::create().await;
    let records = produce(&kafka).await;
    assert_eq!(records, 66);

    // ClickHouse 18.16.
    let config = kafka.sink_config(&db);
    let shutdown = Shutdown::new();
    let sink = start(&config, &shutdown);
    let q = |sql: &str| sql.replace("DB", &db.name);
    wait_for(&ch, &q("SELECT count() FROM DB.commands"), records).await;
    wait_for(&ch, &q("SELECT count() FROM DB.node_state"), 15).await;
    shutdown.trigger();
    let stats = sink.await.expect("join");
    assert_eq!(stats.inserted(table::COMMANDS), records, "{stats:?}");

    // One row as it landed, Enum8 columns by name.
    let rows: Vec<CommandRow> = ch
        .client()
        .query("SELECT ?fields FROM commands FINAL WHERE command_id = 'cmd-8' ORDER BY seq")
        .fetch_all()
        .await
        .expect("rows");
    assert_eq!(rows.len(), 3);
    // Every column reads back as the row built from the record where it was read.
    let lost = statuses()
        .into_iter()
        .find(|s| s.command_id == "cmd-8" && s.seq == 3)
        .expect("lost");
    let at = Coords {
        topic: &kafka.topics.command_status,
        partition: rows[2].partition,
        offset: rows[2].offset,
    };
    assert_eq!(rows[2], command_row(&lost, at).expect("row"));
    let lost = tsv(
        &ch,
        &q(
            "SELECT target_kind, kind, delivery, status, reason, at, expires_ms > issued_ms \
            FROM DB.commands WHERE command_id = 'cmd-8' AND status = 'LOST'",
        ),
    )
    .await;
    assert_eq!(
        lost,
        "NODE\tRESTART\tAT_MOST_ONCE\tLOST\tno_ack\t2026-02-25 06:18:30\t1\n"
    );
    let ch_answer = |sql: String| {
        let ch = &ch;
        async move {
            let mut cursor = ch
                .client()
                .query(&sql)
                .fetch_bytes("TabSeparated")
                .expect(&sql);
            String::from_utf8(cursor.collect().await.expect(&sql).to_vec()).expect("utf-8")
        }
    };
    for (sql, want) in view_checks() {
        assert_eq!(ch_answer(sql.to_owned()).await, want, "{sql} on ClickHouse");
    }
    assert_eq!(
        ch_answer(twin_query(Dialect::ClickHouse)).await,
        twin_answer()
    );
    for (name, params, want) in expected() {
        let got = ch_answer(query(name, Dialect::ClickHouse).bind(&params)).await;
        assert_eq!(got, want, "{name} {params:?} on ClickHouse");
    }

    // The same records on the Parquet backend, read by DataFusion.
    let dir = tempfile::tempdir().expect("tempdir");
    let counts = "SELECT (SELECT count(*) FROM commands) + (SELECT count(*) FROM node_state)";
    let ctx = land_in_parquet(&kafka.sink_config(&db), dir.path(), counts, records + 15).await;
    for (sql, want) in view_checks() {
        assert_eq!(df_tsv(&ctx, sql).await, want, "{sql} on DataFusion");
    }
    assert_eq!(
        df_tsv(&ctx, &twin_query(Dialect::DataFusion)).await,
        twin_answer()
    );
    for (name, params, want) in expected() {
        let got = df_tsv(&ctx, &query(name, Dialect::DataFusion).bind(&params)).await;
        assert_eq!(got, want, "{name} {params:?} on DataFusion");
    }
    kafka.delete().await;
}

/// Re-attaches the detached table when the test ends, even by a panic: 18.16 cannot drop a
/// database that still holds a detached table.
struct Reattach(String);

impl Drop for Reattach {
    fn drop(&mut self) {
        // Fails harmlessly ("already exists") when the test attached it itself.
        let _ = blocking_sql(&format!("ATTACH TABLE `{}`.commands", self.0));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_batch_lands_each_status_record_once() {
    let db = TestDb::new();
    let ch = db.connect().await;
    migrate(&ch).await.expect("migrate");
    let kafka = TestTopics::create().await;
    let topic = kafka.topics.command_status.clone();
    let q = |sql: &str| sql.replace("DB", &db.name);

    // Every record produced; the first ten also land directly, with their coordinates, as a
    // sink that died after its insert and before its commit left them.
    let records = statuses();
    let mut landed_before = Vec::new();
    for (i, status) in records.iter().enumerate() {
        let bytes = encode(status).expect("encode");
        let (partition, offset) = kafka.produce(&topic, key(status), Some(&bytes)).await;
        if i < 10 {
            let at = Coords {
                topic: &topic,
                partition,
                offset,
            };
            landed_before.push(command_row(status, at).expect("row"));
        }
    }
    insert_rows(&ch.client(), table::COMMANDS, &landed_before, None)
        .await
        .expect("insert");

    // The table is away while the sink starts: it retries, then lands the rest once.
    tsv(&ch, &q("DETACH TABLE DB.commands")).await;
    let _reattach = Reattach(db.name.clone());
    let config = kafka.sink_config(&db);
    let shutdown = Shutdown::new();
    let run = start(&config, &shutdown);
    tokio::time::sleep(Duration::from_secs(3)).await;
    tsv(&ch, &q("ATTACH TABLE DB.commands")).await;
    let total = records.len() as u64;
    wait_for(&ch, &q("SELECT count() FROM DB.commands"), total).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    shutdown.trigger();
    let stats = run.await.expect("join");
    assert!(stats.retries >= 1, "{stats:?}");
    assert_eq!(stats.inserted(table::COMMANDS), total - 10, "{stats:?}");

    // A second run finds everything committed and inserts nothing.
    let shutdown = Shutdown::new();
    let run = start(&config, &shutdown);
    tokio::time::sleep(Duration::from_secs(3)).await;
    shutdown.trigger();
    let stats = run.await.expect("join");
    assert_eq!(stats.inserted(table::COMMANDS), 0, "{stats:?}");
    let sql = q(
        "SELECT count(), uniqExact(partition, offset), uniqExact(node_id, command_id, seq, \
                 status) FROM DB.commands",
    );
    assert_eq!(tsv(&ch, &sql).await, format!("{total}\t{total}\t{total}\n"));
    kafka.delete().await;
}

//! Tests of [`super`] and of the landed-offset skip, on a temporary directory: one file per
//! table and input partition, atomic names, what a restart skips, and DataFusion reading it.

use std::sync::Arc;

use super::*;
use crate::samples;
use crate::tables::events::{event_row, Events};
use crate::tables::node_state::{node_state_row, NodeState};
use crate::tables::TableRow;

fn at(topic: &str, partition: i32, offset: i64) -> Coords<'_> {
    Coords {
        topic,
        partition,
        offset,
    }
}

/// Events at offsets 5..=7 of partition 0 and 2..=3 of partition 1, twins of two nodes (three
/// versions) at offsets 10..=12 of the twin topic's partition 0, and a tombstone at 13.
fn sample_batch() -> Batch {
    let mut batch = Batch::new();
    for (partition, offset) in [(0, 5), (1, 2), (0, 6), (1, 3), (0, 7)] {
        let event = samples::heartbeat_event("edge-1", offset);
        let row = event_row(&event, at("ev", partition, offset)).unwrap();
        batch.push(
            "ev",
            partition,
            offset,
            Some(TableRow::new::<Events>(row)),
            10,
        );
    }
    for (offset, (node, version)) in [(10, ("a", 1)), (11, ("b", 1)), (12, ("a", 2))] {
        let at = Coords {
            topic: "tw",
            partition: 0,
            offset,
        };
        let row = node_state_row(&samples::node(node, version), at).unwrap();
        batch.push("tw", 0, offset, Some(TableRow::new::<NodeState>(row)), 10);
    }
    batch.push("tw", 0, 13, None, 0);
    batch
}

#[test]
fn a_batch_gives_one_file_per_table_and_input_partition() {
    let files = encode(&sample_batch()).unwrap();
    let summary: Vec<(&str, String, usize)> = files
        .iter()
        .map(|f| (f.table, f.range.file_name(), f.data.num_rows()))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("events", "part-ev-0-5-7.parquet".to_owned(), 3),
            ("events", "part-ev-1-2-3.parquet".to_owned(), 2),
            ("node_state", "part-tw-0-10-13.parquet".to_owned(), 3),
        ]
    );
}

#[tokio::test]
async fn files_land_atomically_and_a_restart_skips_what_landed() {
    let dir = tempfile::tempdir().unwrap();
    let mut sink = ParquetBackend::open(dir.path()).unwrap();
    assert!(!sink.has_landed(at("ev", 0, 0)));
    // A leftover of a write interrupted by a crash.
    let leftover = dir.path().join("events/.part-ev-0-8-9.parquet.tmp");
    std::fs::write(&leftover, b"half a file").unwrap();

    let files = Arc::new(encode(&sample_batch()).unwrap());
    sink.store().write(files.clone()).await.unwrap();
    sink.mark_landed(&files);
    assert!(sink.has_landed(at("ev", 0, 7)));
    assert!(!sink.has_landed(at("ev", 0, 8)));

    let restarted = ParquetBackend::open(dir.path()).unwrap();
    assert!(
        !leftover.exists(),
        "leftover temporary file removed at start"
    );
    for (topic, partition, landed_up_to) in [("ev", 0, 7), ("ev", 1, 3), ("tw", 0, 13)] {
        assert!(restarted.has_landed(at(topic, partition, landed_up_to)));
        assert!(!restarted.has_landed(at(topic, partition, landed_up_to + 1)));
    }
    assert!(!restarted.has_landed(at("other", 0, 0)));
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("events"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["part-ev-0-5-7.parquet", "part-ev-1-2-3.parquet"]);

    // Writing the same batch again (a retry) replaces the files with the same rows.
    sink.store().write(files).await.unwrap();
    let ctx = query::session(dir.path()).await.unwrap();
    let counts = |sql: &'static str| {
        let ctx = ctx.clone();
        async move {
            let batches = query::run(&ctx, sql).await.unwrap();
            query::labelled_counts(&batches, false).unwrap()[0].1
        }
    };
    assert_eq!(counts("SELECT count(*) FROM events").await, 5);
    assert_eq!(counts("SELECT count(*) FROM node_state").await, 3);
    assert_eq!(counts("SELECT count(*) FROM node_state_final").await, 2);
    assert_eq!(
        counts("SELECT max(version) FROM node_state_final WHERE node_id = 'a'").await,
        2
    );
    assert_eq!(counts("SELECT count(*) FROM transitions_final").await, 0);
    let summary = query::fleet_summary(&ctx).await.unwrap();
    assert_eq!(summary.total_nodes, 2);
    let by_phase: u64 = summary.by_lifecycle_phase.iter().map(|(_, n)| n).sum();
    assert_eq!(by_phase, 2);
}

/// A temporary directory with `batch` landed in it.
async fn landed(batch: &Batch) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let sink = ParquetBackend::open(dir.path()).unwrap();
    sink.store()
        .write(Arc::new(encode(batch).unwrap()))
        .await
        .unwrap();
    dir
}

#[tokio::test]
async fn rendering_a_result_as_table_csv_and_json() {
    let dir = landed(&sample_batch()).await;
    let ctx = query::session(dir.path()).await.unwrap();
    let sql = "SELECT \"partition\", count(*) AS n FROM events GROUP BY \"partition\" ORDER BY 1";
    let batches = query::run(&ctx, sql).await.unwrap();
    let csv = query::render(&batches, query::Format::Csv).unwrap();
    assert_eq!(csv, "partition,n\n0,3\n1,2\n");
    let json = query::render(&batches, query::Format::Json).unwrap();
    assert_eq!(json, r#"[{"partition":0,"n":3},{"partition":1,"n":2}]"#);
    let table = query::render(&batches, query::Format::Table).unwrap();
    assert!(table.contains("| partition | n |"), "{table}");
    let missing = query::session(&dir.path().join("missing")).await;
    assert!(matches!(missing, Err(query::QueryError::NoTables(_))));
}

#[tokio::test]
async fn the_overview_orders_enum_breakdowns_by_code_like_clickhouse() {
    use sxfleet_schemas::ConnectivityMode;
    let dir = tempfile::tempdir().unwrap();
    let sink = ParquetBackend::open(dir.path()).unwrap();
    let mut batch = Batch::new();
    let modes = [
        ("a", ConnectivityMode::Replaying),
        ("b", ConnectivityMode::Live),
        ("c", ConnectivityMode::Autonomous),
        ("d", ConnectivityMode::Live),
    ];
    for (offset, (id, mode)) in modes.into_iter().enumerate() {
        let mut node = samples::node(id, 1);
        node.connectivity.mode = mode;
        let offset = offset as i64;
        let at = Coords {
            topic: "tw",
            partition: 0,
            offset,
        };
        let row = node_state_row(&node, at).unwrap();
        batch.push("tw", 0, offset, Some(TableRow::new::<NodeState>(row)), 1);
    }
    sink.store()
        .write(Arc::new(encode(&batch).unwrap()))
        .await
        .unwrap();
    let ctx = query::session(dir.path()).await.unwrap();
    let summary = query::fleet_summary(&ctx).await.unwrap();
    let by_connectivity: Vec<(&str, u64)> = summary
        .by_connectivity
        .iter()
        .map(|(label, n)| (label.as_str(), *n))
        .collect();
    // Spectrum order (Enum8 codes), not alphabetical.
    assert_eq!(
        by_connectivity,
        [("LIVE", 2), ("AUTONOMOUS", 1), ("REPLAYING", 1)]
    );
    assert_eq!(summary.total_nodes, 4);
}

/// A raise read twice with different scores (a re-sent record) and its resolve, at offsets
/// 0..=2 of the alert topic's partition 2; node a replaying, b disconnected and then live
/// (two versions), at offsets 0..=2 of the twin topic's partition 0.
fn analytics_batch() -> Batch {
    use crate::tables::alerts::alert_row;
    use sxfleet_schemas::{Alert, ConnectivityMode};
    let mut batch = Batch::new();
    let alert = |action: &str, score: f64| Alert {
        alert_id: "ATTENTION:a:1".to_owned(),
        kind: "ATTENTION".to_owned(),
        action: action.to_owned(),
        subject_kind: "NODE".to_owned(),
        subject_id: "a".to_owned(),
        domain_id: "dom-eu".to_owned(),
        at_ms: 1_772_150_400_000,
        score,
        reasons: vec!["drift".to_owned()],
        detail: String::new(),
    };
    for (offset, (action, score)) in [("RAISE", 40.0), ("RAISE", 41.0), ("RESOLVE", 0.0)]
        .into_iter()
        .enumerate()
    {
        let offset = offset as i64;
        let row = alert_row(&alert(action, score), at("al", 2, offset)).unwrap();
        batch.push(
            "al",
            2,
            offset,
            Some(TableRow::new::<crate::tables::alerts::Alerts>(row)),
            1,
        );
    }
    for (offset, (id, version, mode)) in [
        ("a", 1, ConnectivityMode::Replaying),
        ("b", 1, ConnectivityMode::Disconnected),
        ("b", 2, ConnectivityMode::Live),
    ]
    .into_iter()
    .enumerate()
    {
        let mut node = samples::node(id, version);
        node.connectivity.mode = mode;
        let offset = offset as i64;
        let row = node_state_row(&node, at("tw", 0, offset)).unwrap();
        batch.push("tw", 0, offset, Some(TableRow::new::<NodeState>(row)), 1);
    }
    batch
}

async fn analytics_session() -> (tempfile::TempDir, datafusion::prelude::SessionContext) {
    let dir = landed(&analytics_batch()).await;
    let ctx = query::session(dir.path()).await.unwrap();
    (dir, ctx)
}

#[tokio::test]
async fn the_final_views_keep_the_last_row_read_per_key_and_the_rollups_answer() {
    let (_dir, ctx) = analytics_session().await;
    let sql = "SELECT action, CAST(score AS BIGINT) FROM alerts_final ORDER BY action";
    let alerts = query::labelled_counts(&query::run(&ctx, sql).await.unwrap(), true).unwrap();
    assert_eq!(
        alerts,
        [("RAISE".to_owned(), 41), ("RESOLVE".to_owned(), 0)]
    );
    let sql = "SELECT domain_id, nodes, excluded, covered, live, replaying FROM domain_rollup";
    let batches = query::run(&ctx, sql).await.unwrap();
    let table = query::render(&batches, query::Format::Csv).unwrap();
    assert_eq!(
        table,
        "domain_id,nodes,excluded,covered,live,replaying\ndom-eu,2,1,1,1,1\n"
    );
    for view in [
        "rollout_status",
        "attention_queue",
        "transitions_final",
        "drift_evaluations_final",
        "authority_audit_final",
    ] {
        let sql = format!("SELECT count(*) FROM {view}");
        query::run(&ctx, &sql).await.unwrap();
    }
}

/// Every DataFusion query of `docs/sql-cookbook.md` plans and runs on the embedded backend
/// (`tests/embedded.rs` compares their answers with ClickHouse's).
#[tokio::test]
async fn every_datafusion_cookbook_query_runs() {
    use crate::analytics::cookbook::{self, Dialect};
    let (_dir, ctx) = analytics_session().await;
    let queries = cookbook::queries(cookbook::DOCUMENT, Dialect::DataFusion);
    assert!(!queries.is_empty());
    for query in queries {
        let sql = query.for_node("b");
        if let Err(error) = query::run(&ctx, &sql).await {
            panic!("{}: {error:?}\n{sql}", query.name);
        }
    }
    let sql = cookbook::queries(cookbook::DOCUMENT, Dialect::DataFusion)
        .into_iter()
        .find(|q| q.name == "fleet_connectivity")
        .unwrap()
        .sql;
    let modes = query::labelled_counts(&query::run(&ctx, &sql).await.unwrap(), true).unwrap();
    // Spectrum order (Enum8 codes), not alphabetical.
    assert_eq!(modes, [("LIVE".to_owned(), 1), ("REPLAYING".to_owned(), 1)]);
}

#[tokio::test]
async fn a_quoted_node_id_reads_back_as_itself_in_datafusion() {
    use crate::analytics::cookbook::{Dialect, Query};
    let (_dir, ctx) = analytics_session().await;
    let query = Query {
        name: "q".to_owned(),
        dialect: Dialect::DataFusion,
        sql: "SELECT {node_id} AS label, 1".to_owned(),
    };
    let id = "it's a\\b";
    let batches = query::run(&ctx, &query.for_node(id)).await.unwrap();
    let got = query::labelled_counts(&batches, true).unwrap();
    assert_eq!(got, [(id.to_owned(), 1)]);
}

/// Each `<table>_final` and every cookbook query, as text with sorted lines, from `ctx`.
async fn answers(ctx: &datafusion::prelude::SessionContext) -> Vec<(String, Vec<String>)> {
    use crate::analytics::cookbook::{self, Dialect};
    let mut sqls: Vec<(String, String)> = crate::tables::landed()
        .iter()
        .filter_map(|table| table.replacing.as_ref())
        .map(|replacing| {
            let table = Dialect::DataFusion.final_table(replacing.table);
            (table.clone(), format!("SELECT * FROM {table}"))
        })
        .collect();
    for query in cookbook::queries(cookbook::DOCUMENT, Dialect::DataFusion) {
        sqls.push((query.name.clone(), query.for_node("b")));
    }
    let mut out = Vec::new();
    for (name, sql) in sqls {
        let batches = query::run(ctx, &sql).await.unwrap();
        let text = query::render(&batches, query::Format::TabSeparated).unwrap();
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        lines.sort();
        out.push((name, lines));
    }
    out
}

#[tokio::test]
async fn a_snapshot_answers_as_the_views_and_folds_added_files_into_its_winners() {
    use snapshot::Snapshots;
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let sink = ParquetBackend::open(dir.path()).unwrap();
    let snapshots = Snapshots::of(dir.path(), crate::tables::landed(), Duration::ZERO);
    let kept = Snapshots::of(
        dir.path(),
        crate::tables::landed(),
        Duration::from_secs(3600),
    );
    // Twins a v1, b v1, a v2 at offsets 10..=12 first; then b v2 at offset 2 and alerts.
    for batch in [sample_batch(), analytics_batch()] {
        sink.store()
            .write(Arc::new(encode(&batch).unwrap()))
            .await
            .unwrap();
        let folded = answers(&snapshots.session().await.unwrap()).await;
        let viewed = answers(&query::session(dir.path()).await.unwrap()).await;
        assert_eq!(folded.len(), viewed.len());
        for (folded, viewed) in folded.iter().zip(&viewed) {
            assert_eq!(folded, viewed);
        }
        kept.session().await.unwrap();
    }
    // The winners: a at version 2 (offset 12, the first file), b at version 2 (the second).
    let ctx = snapshots.session().await.unwrap();
    let sql = "SELECT node_id, CAST(version AS BIGINT) FROM node_state_final ORDER BY node_id";
    let versions = query::labelled_counts(&query::run(&ctx, sql).await.unwrap(), true).unwrap();
    assert_eq!(versions, [("a".to_owned(), 2), ("b".to_owned(), 2)]);
    // A snapshot reused for an hour still shows the first file only: no alerts yet.
    let ctx = kept.session().await.unwrap();
    let sql = "SELECT count(*) FROM alerts_final";
    let alerts = query::labelled_counts(&query::run(&ctx, sql).await.unwrap(), false).unwrap();
    assert_eq!(alerts, [(String::new(), 0)]);
}

#[tokio::test]
async fn files_with_node_ids_carry_a_bloom_filter_of_them() {
    use datafusion::parquet::file::properties::ReaderProperties;
    use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
    use datafusion::parquet::file::serialized_reader::ReadOptionsBuilder;
    let dir = landed(&sample_batch()).await;
    let path = dir.path().join("events").join("part-ev-0-5-7.parquet");
    let properties = ReaderProperties::builder()
        .set_read_bloom_filter(true)
        .build();
    let options = ReadOptionsBuilder::new()
        .with_reader_properties(properties)
        .build();
    let file = std::fs::File::open(path).unwrap();
    let reader = SerializedFileReader::new_with_options(file, options).unwrap();
    let group = reader.get_row_group(0).unwrap();
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    let column = (0..schema.num_columns())
        .find(|&i| schema.column(i).name() == "node_id")
        .unwrap();
    let filter = group
        .get_column_bloom_filter(column)
        .expect("a bloom filter");
    assert!(filter.check(&"edge-1"));
    assert!(!filter.check(&"no-such-node-at-all"));
}

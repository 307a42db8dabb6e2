//! The fleet overview against hand-built `node_state` rows on the real ClickHouse.

mod common;

use common::{fleet, TestDb, TWIN_AT};
use sxfleet_sinks::backend::clickhouse::insert::insert_rows;
use sxfleet_sinks::migrate::migrate;
use sxfleet_sinks::tables::node_state::node_state_row;
use sxfleet_sinks::{fleet_summary, Summary};

#[tokio::test]
async fn summary_counts_latest_versions_only() {
    let db = TestDb::new();
    let ch = db.connect().await;
    migrate(&ch).await.expect("migrate");
    let client = ch.client();

    // Two inserts, so the two versions of d live in different parts until a merge.
    let rows: Vec<_> = fleet::twins()
        .iter()
        .map(|n| node_state_row(n, TWIN_AT).unwrap())
        .collect();
    insert_rows(&client, "node_state", &rows[..4], None)
        .await
        .expect("insert");
    insert_rows(&client, "node_state", &rows[4..], None)
        .await
        .expect("insert");

    let summary = fleet_summary(&client, &db.name).await.expect("summary");
    assert_eq!(summary, fleet::expected_summary());
    let text = summary.to_string();
    assert!(text.starts_with("Fleet: 5 nodes\n"), "{text}");
    assert!(text.contains("  (unregistered)         1\n"), "{text}");
}

#[tokio::test]
async fn summary_of_an_empty_fleet() {
    let db = TestDb::new();
    let ch = db.connect().await;
    migrate(&ch).await.expect("migrate");
    let summary = fleet_summary(&ch.client(), &db.name)
        .await
        .expect("summary");
    assert_eq!(summary, Summary::default());
}

#[tokio::test]
async fn summary_rejects_a_bad_database_name() {
    let db = TestDb::new();
    let ch = db.connect().await;
    let err = fleet_summary(ch.server_client(), "x`; DROP")
        .await
        .unwrap_err();
    assert!(
        matches!(err, sxfleet_sinks::ClickHouseError::BadDatabaseName(_)),
        "{err:?}"
    );
}

//! Migrations against the real ClickHouse: fresh database, then idempotent re-application.

mod common;

use common::{tsv, TestDb};
use sxfleet_sinks::migrate::{migrate, MIGRATIONS};

/// Everything that describes the schema: each table's CREATE statement and its columns.
async fn schema_snapshot(ch: &sxfleet_sinks::ClickHouse) -> String {
    let db = ch.database();
    let mut out = tsv(
        ch,
        &format!("SELECT name, engine FROM system.tables WHERE database = '{db}' ORDER BY name"),
    )
    .await;
    for table in [
        "schema_migrations",
        "events",
        "node_state",
        "dlq",
        "transitions",
    ] {
        out.push_str(&tsv(ch, &format!("SHOW CREATE TABLE `{db}`.`{table}`")).await);
    }
    out.push_str(
        &tsv(
            ch,
            &format!(
                "SELECT table, name, type, default_kind, default_expression FROM system.columns \
                 WHERE database = '{db}' ORDER BY table, name"
            ),
        )
        .await,
    );
    out
}

#[tokio::test]
async fn migrations_apply_once_and_are_idempotent() {
    let db = TestDb::new();
    let ch = db.connect().await;

    let first = migrate(&ch).await.expect("first migrate");
    let all: Vec<u32> = MIGRATIONS.iter().map(|m| m.version).collect();
    assert_eq!(first.applied, all);
    assert!(first.already_applied.is_empty());
    let before = schema_snapshot(&ch).await;
    assert!(before.contains("ReplacingMergeTree"), "{before}");
    let engines = tsv(
        &ch,
        &format!(
            "SELECT name, engine FROM system.tables WHERE database = '{}' ORDER BY name",
            db.name
        ),
    )
    .await;
    assert_eq!(
        engines,
        "alerts\tReplacingMergeTree\nattention_queue\tView\n\
         authority_audit\tReplacingMergeTree\ndlq\tMergeTree\ndomain_rollup\tView\n\
         drift_evaluations\tReplacingMergeTree\nevents\tMergeTree\n\
         node_state\tReplacingMergeTree\nrollout_status\tView\n\
         schema_migrations\tReplacingMergeTree\ntransitions\tReplacingMergeTree\n"
    );

    let second = migrate(&ch).await.expect("second migrate");
    assert!(second.applied.is_empty());
    assert_eq!(second.already_applied, all);
    let after = schema_snapshot(&ch).await;
    assert_eq!(before, after);

    // A run cut short before its ledger rows were written runs every migration again,
    // including the column additions, which 18.16 cannot guard with IF NOT EXISTS.
    tsv(&ch, &format!("DROP TABLE `{}`.schema_migrations", db.name)).await;
    let again = migrate(&ch).await.expect("migrate without a ledger");
    assert_eq!(again.applied, all);
    assert_eq!(schema_snapshot(&ch).await, after);

    let ledger = tsv(
        &ch,
        &format!(
            "SELECT version, description, count() FROM `{}`.schema_migrations \
             GROUP BY version, description ORDER BY version",
            db.name
        ),
    )
    .await;
    let expected: String = MIGRATIONS
        .iter()
        .map(|m| format!("{}\t{}\t1\n", m.version, m.description))
        .collect();
    assert_eq!(ledger, expected);
}

#[tokio::test]
async fn applied_at_is_recent() {
    let db = TestDb::new();
    let ch = db.connect().await;
    migrate(&ch).await.expect("migrate");
    let age = tsv(
        &ch,
        &format!(
            "SELECT max(abs(toInt64(now()) - toInt64(applied_at))) FROM `{}`.schema_migrations",
            db.name
        ),
    )
    .await;
    let age: i64 = age.trim().parse().expect("number");
    assert!(age < 120, "applied_at is {age}s away from now");
}

//! Migrations against the real ClickHouse: fresh database, then idempotent re-application.

mod common;

use common::{samples, tsv, TestDb};
use sxfleet_sinks::backend::clickhouse::insert::insert_rows;
use sxfleet_sinks::migrate::{migrate, MIGRATIONS};
use sxfleet_sinks::tables::transitions::{transition_row, TransitionRow};
use sxfleet_sinks::tables::Coords;

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
        "alerts\tReplacingMergeTree\nassignments\tView\nattention_queue\tView\n\
         authority_audit\tReplacingMergeTree\ncommand_latest\tView\n\
         commands\tReplacingMergeTree\ndlq\tMergeTree\ndomain_authority\tView\n\
         domain_minute\tSummingMergeTree\ndomain_minute_alerts_mv\tMaterializedView\n\
         domain_minute_drift_mv\tMaterializedView\n\
         domain_minute_transitions_mv\tMaterializedView\ndomain_rollup\tView\n\
         domain_tree_rollup\tView\ndomains\tReplacingMergeTree\n\
         drift_evaluations\tReplacingMergeTree\nedges\tView\nevents\tMergeTree\n\
         masters_of_record\tView\nnode_state\tReplacingMergeTree\n\
         policy_bundles\tReplacingMergeTree\nrelay_health\tView\nrelay_paths\tView\n\
         rollout_status\tView\nrollouts\tView\nschema_migrations\tReplacingMergeTree\n\
         transitions\tReplacingMergeTree\n"
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

/// Per domain and minute: (ledger entries, entered DELAYED, lifecycle violations).
async fn rollup(ch: &sxfleet_sinks::ClickHouse) -> String {
    tsv(
        ch,
        &format!(
            "SELECT domain_id, minute, sum(transitions), sum(entered_delayed), \
             sum(lifecycle_violations) FROM `{}`.domain_minute \
             GROUP BY domain_id, minute ORDER BY domain_id, minute",
            ch.database()
        ),
    )
    .await
}

#[tokio::test]
async fn the_rollup_follows_inserts_and_a_backfill_adds_what_landed_before_it_once() {
    let db = TestDb::new();
    let ch = db.connect().await;
    migrate(&ch).await.expect("migrate");
    // Two domains; ledger seq n is at T0 + n s (2026-02-25 06:13:20 UTC), so entries 1-39
    // fall in minute 06:13 and 40-99 in 06:14. Every third entry is a violation.
    let rows: Vec<TransitionRow> = (1..=99)
        .map(|seq| {
            let mut entry = if seq % 3 == 0 {
                samples::lifecycle_violation("edge-1", seq)
            } else {
                samples::connectivity_transition("edge-1", seq)
            };
            entry.domain_id = format!("d{}", seq % 2);
            let at = Coords {
                topic: "t.transitions",
                partition: 0,
                offset: seq,
            };
            transition_row(&entry, at).unwrap()
        })
        .collect();
    insert_rows(&ch.client(), "transitions", &rows, None)
        .await
        .expect("insert");
    let expected = "d0\t2026-02-25 06:13:00\t19\t13\t6\n\
                    d0\t2026-02-25 06:14:00\t30\t20\t10\n\
                    d1\t2026-02-25 06:13:00\t20\t13\t7\n\
                    d1\t2026-02-25 06:14:00\t30\t20\t10\n";
    assert_eq!(rollup(&ch).await, expected, "fed by the view");

    // A database whose rows landed before the rollup existed: migration 11 backfills them.
    for table in ["domain_minute", "schema_migrations"] {
        tsv(&ch, &format!("DROP TABLE `{}`.{table}", db.name)).await;
    }
    migrate(&ch).await.expect("migrate again");
    assert_eq!(rollup(&ch).await, expected, "backfilled");
    // Run again (a cut-short migration): the backfill sees its rows and adds nothing.
    tsv(&ch, &format!("DROP TABLE `{}`.schema_migrations", db.name)).await;
    migrate(&ch).await.expect("migrate a third time");
    assert_eq!(rollup(&ch).await, expected, "backfilled once");
}

/// Migration 16 on a `node_state` that holds rows (run again, as after a cut-short run): the
/// widened `lifecycle_phase` keeps every phase, MAINTENANCE included, and the Node v4 columns.
#[tokio::test]
async fn the_widened_phase_keeps_landed_twins() {
    use sxfleet_sinks::samples::commands::{twins, MAINTENANCE_SINCE};
    use sxfleet_sinks::tables::node_state::node_state_row;

    let db = TestDb::new();
    let ch = db.connect().await;
    migrate(&ch).await.expect("migrate");
    let rows: Vec<_> = twins()
        .iter()
        .filter(|t| t.id.starts_with("edge-"))
        .map(|t| node_state_row(t, common::TWIN_AT).unwrap())
        .collect();
    insert_rows(&ch.client(), "node_state", &rows, None)
        .await
        .expect("insert");
    tsv(&ch, &format!("DROP TABLE `{}`.schema_migrations", db.name)).await;
    migrate(&ch).await.expect("migrate again");
    let sql = format!(
        "SELECT node_id, lifecycle_phase, commands_pending, commands_held, maintenance_since_ms \
         FROM `{}`.node_state FINAL ORDER BY node_id",
        db.name
    );
    assert_eq!(
        tsv(&ch, &sql).await,
        format!("edge-1\tQUARANTINED\t0\t0\t0\nedge-2\tMAINTENANCE\t1\t1\t{MAINTENANCE_SINCE}\n")
    );
}

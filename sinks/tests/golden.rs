//! The shipped migration texts, byte for byte: every step of every migration as this build
//! renders it for ClickHouse 18.16 and for a current server, against the texts recorded in
//! `tests/golden/`. A shipped migration must never change (databases that applied it would not
//! see the change); a new migration appends its steps to both files.
//!
//! To record a new migration's steps, run this test with `SXFLEET_BLESS=1` once and review the
//! diff: it may only add lines at the end.

use std::path::PathBuf;

use sxfleet_sinks::migrate::{Step, MIGRATIONS};
use sxfleet_sinks::ServerCaps;

/// Every step of every migration for `version`, with what guards it.
fn rendered(version: &str) -> String {
    let caps = ServerCaps::from_version(version).expect("known version");
    let mut out = String::new();
    for migration in MIGRATIONS {
        for (i, step) in (migration.steps)("fleet", &caps).iter().enumerate() {
            let guard = match step {
                Step::Sql(_) => "sql".to_owned(),
                Step::AddColumn { table, column, .. } => format!("add column {table}.{column}"),
                Step::Backfill { table, marker, .. } => format!("backfill {table} unless {marker}"),
            };
            out.push_str(&format!(
                "-- migration {} step {} ({guard}): {}\n{};\n\n",
                migration.version,
                i + 1,
                migration.description,
                step.sql("fleet", &caps)
            ));
        }
    }
    out
}

fn check(version: &str, file: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(file);
    let now = rendered(version);
    if std::env::var_os("SXFLEET_BLESS").is_some() {
        std::fs::write(&path, &now).expect("write golden file");
    }
    let shipped = std::fs::read_to_string(&path).expect("golden file");
    assert!(
        now == shipped,
        "migration texts for {version} differ from {}; a shipped migration must not change",
        path.display()
    );
}

#[test]
fn migrations_for_18_16_are_as_shipped() {
    check("18.16.1", "migrations-18.16.sql");
}

#[test]
fn migrations_for_a_current_server_are_as_shipped() {
    check("24.8.4.13", "migrations-24.8.sql");
}

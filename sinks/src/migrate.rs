//! Versioned schema migrations, applied idempotently at start-up.
//!
//! The ledger `schema_migrations(version, description, applied_at)` records each applied
//! version. On start-up the sink creates the database and the ledger if needed, reads the
//! applied versions, and runs every newer migration in order, recording each one after all its
//! statements succeeded. Statements are themselves idempotent, so a migration cut short (the
//! ledger row never written) is simply run again on the next start.
//!
//! To change the schema, append a migration with the next version; never edit one that has
//! shipped (databases that applied it would not see the change).

use tracing::{info, warn};

use crate::caps::ServerCaps;
use crate::client::ClickHouse;
use crate::ddl;
use crate::error::ClickHouseError;

/// One schema change.
#[derive(Clone, Copy)]
pub struct Migration {
    /// Position in the sequence; versions start at 1 and increase by 1.
    pub version: u32,
    /// What the migration does, recorded in the ledger.
    pub description: &'static str,
    /// The statements for a database name and a server.
    pub statements: fn(&str, &ServerCaps) -> Vec<String>,
}

impl std::fmt::Debug for Migration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Migration")
            .field("version", &self.version)
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

/// Every migration this build knows, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "events: one row per canonical event",
        statements: |db, caps| vec![ddl::events(db, caps)],
    },
    Migration {
        version: 2,
        description: "node_state: flattened twin, ReplacingMergeTree by version",
        statements: |db, caps| vec![ddl::node_state(db, caps)],
    },
    Migration {
        version: 3,
        description: "dlq: dead letters with original bytes and reason",
        statements: |db, caps| vec![ddl::dlq(db, caps)],
    },
    Migration {
        version: 4,
        description: "transitions: connectivity/lifecycle ledger, ReplacingMergeTree by entry",
        statements: |db, caps| vec![ddl::transitions(db, caps)],
    },
    Migration {
        version: 5,
        description: "node_state: drift verdict, trust and attention columns (Node v2)",
        statements: ddl::analytics::node_state_v2_columns,
    },
    Migration {
        version: 6,
        description: "drift_evaluations, alerts, authority_audit",
        statements: |db, caps| {
            vec![
                ddl::analytics::drift_evaluations(db, caps),
                ddl::analytics::alerts(db, caps),
                ddl::analytics::authority_audit(db, caps),
            ]
        },
    },
    Migration {
        version: 7,
        description: "rollup views: domain_rollup, rollout_status, attention_queue",
        statements: |db, _| ddl::analytics::rollup_views(db),
    },
    Migration {
        version: 8,
        description: "events.kind: TRUST_VIOLATION (FleetEvent v2)",
        statements: |db, _| vec![ddl::events_kind_widened(db)],
    },
];

/// What [`migrate`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MigrationReport {
    /// Versions applied by this call.
    pub applied: Vec<u32>,
    /// Versions found already applied.
    pub already_applied: Vec<u32>,
}

/// Creates the database and the ledger if needed and applies every migration not yet
/// recorded, in version order.
///
/// # Errors
/// [`ClickHouseError::Request`] when a statement or the ledger update fails; migrations before
/// it stay applied and recorded, and the next call resumes with the failed one.
pub async fn migrate(ch: &ClickHouse) -> Result<MigrationReport, ClickHouseError> {
    let db = ch.database();
    let server = ch.server_client();
    execute(ch, &ddl::create_database(db), "create database").await?;
    execute(ch, &ddl::schema_migrations(db), "create schema_migrations").await?;
    let ledger = ddl::qualified(db, ddl::table::SCHEMA_MIGRATIONS);
    let known: Vec<u32> = server
        .query(&format!(
            "SELECT DISTINCT version FROM {ledger} ORDER BY version"
        ))
        .fetch_all()
        .await
        .map_err(ClickHouseError::request("read schema_migrations"))?;
    let latest = MIGRATIONS.last().map_or(0, |m| m.version);
    if let Some(newer) = known.iter().find(|v| **v > latest) {
        warn!(
            database = db,
            version = newer,
            latest,
            "database has migrations this build does not know; a newer sink ran here"
        );
    }
    let mut report = MigrationReport::default();
    for migration in MIGRATIONS {
        if known.contains(&migration.version) {
            report.already_applied.push(migration.version);
            continue;
        }
        for statement in (migration.statements)(db, ch.caps()) {
            let what = format!("migration {}", migration.version);
            match execute(ch, &statement, &what).await {
                Err(error) if is_added_column(&statement) && already_exists(&error) => {}
                other => other?,
            }
        }
        server
            .query(&format!(
                "INSERT INTO {ledger} (version, description, applied_at) VALUES (?, ?, now())"
            ))
            .bind(migration.version)
            .bind(migration.description)
            .execute()
            .await
            .map_err(ClickHouseError::request("record migration"))?;
        info!(
            database = db,
            version = migration.version,
            description = migration.description,
            "applied migration"
        );
        report.applied.push(migration.version);
    }
    Ok(report)
}

/// `ALTER TABLE ... ADD COLUMN` without `IF NOT EXISTS` (which 18.16 lacks).
fn is_added_column(sql: &str) -> bool {
    sql.starts_with("ALTER TABLE") && sql.contains(" ADD COLUMN ") && !sql.contains("IF NOT EXISTS")
}

/// The server refused because the column is already there (code 44): a migration cut short
/// after this statement is being run again.
fn already_exists(error: &ClickHouseError) -> bool {
    let text = sxfleet_runtime::driver::error_chain(error);
    text.contains("Code: 44") && text.contains("already exists")
}

/// Runs one statement verbatim (no client-side `?` binding).
async fn execute(ch: &ClickHouse, sql: &str, what: &str) -> Result<(), ClickHouseError> {
    ch.server_client()
        .query_raw(sql)
        .execute()
        .await
        .map_err(ClickHouseError::request(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_start_at_one_and_are_consecutive() {
        for (i, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(migration.version as usize, i + 1, "{migration:?}");
        }
    }

    #[test]
    fn every_statement_is_idempotent() {
        for caps in ["18.16.1", "24.8.4.13"] {
            let caps = ServerCaps::from_version(caps).unwrap();
            for migration in MIGRATIONS {
                for sql in (migration.statements)("db", &caps) {
                    // Setting a column's type again to the same type changes nothing.
                    let modified =
                        sql.starts_with("ALTER TABLE") && sql.contains(" MODIFY COLUMN ");
                    assert!(
                        sql.contains("IF NOT EXISTS") || is_added_column(&sql) || modified,
                        "{sql}"
                    );
                }
            }
        }
    }
}

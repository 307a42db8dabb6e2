//! Versioned schema migrations, applied idempotently at start-up.
//!
//! The ledger `schema_migrations(version, description, applied_at)` records each applied
//! version. On start-up the sink creates the database and the ledger if needed, reads the
//! applied versions, and runs every newer migration in order, recording each one after all its
//! statements succeeded. Statements are themselves idempotent, so a migration cut short (the
//! ledger row never written) is simply run again on the next start.
//!
//! To change the schema, append a migration with the next version; never edit one that has
//! shipped (databases that applied it would not see the change; `tests/golden.rs` holds every
//! shipped text). A new table is a [`Step::Sql`] with its [`Table::create`] (the one
//! definition, in its file under `src/tables/`); a new column is a [`Step::AddColumn`] with a
//! `DEFAULT`, so sinks built before it keep inserting (they name their columns).

use tracing::{info, warn};

use super::client::ClickHouse;
use crate::analytics::dialect::Dialect;
use crate::analytics::{commands as command_views, domain_minute, hierarchy, rollups, topology};
use crate::caps::ServerCaps;
use crate::error::ClickHouseError;
pub use crate::tables::ddl::Step;
use crate::tables::{
    alerts, authority_audit, commands, dlq, domains, drift_evaluations, events, node_state,
    policy_bundles, transitions, Table,
};
use crate::tables::{ddl, enums};

/// One schema change.
#[derive(Clone, Copy)]
pub struct Migration {
    /// Position in the sequence; versions start at 1 and increase by 1.
    pub version: u32,
    /// What the migration does, recorded in the ledger.
    pub description: &'static str,
    /// The steps for a database name and a server.
    pub steps: fn(&str, &ServerCaps) -> Vec<Step>,
}

fn sql(statement: String) -> Vec<Step> {
    vec![Step::Sql(statement)]
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
        steps: |db, caps| sql(events::Events::create(db, caps)),
    },
    Migration {
        version: 2,
        description: "node_state: flattened twin, ReplacingMergeTree by version",
        steps: |db, caps| sql(node_state::NodeState::create(db, caps)),
    },
    Migration {
        version: 3,
        description: "dlq: dead letters with original bytes and reason",
        steps: |db, caps| sql(dlq::Dlq::create(db, caps)),
    },
    Migration {
        version: 4,
        description: "transitions: connectivity/lifecycle ledger, ReplacingMergeTree by entry",
        steps: |db, caps| sql(transitions::Transitions::create(db, caps)),
    },
    Migration {
        version: 5,
        description: "node_state: drift verdict, trust, attention and replay columns (Node v2)",
        steps: |_, caps| node_state::node_state_v2_columns(caps),
    },
    Migration {
        version: 6,
        description: "drift_evaluations, alerts, authority_audit",
        steps: |db, caps| {
            vec![
                Step::Sql(drift_evaluations::DriftEvaluations::create(db, caps)),
                Step::Sql(alerts::Alerts::create(db, caps)),
                Step::Sql(authority_audit::AuthorityAudit::create(db, caps)),
            ]
        },
    },
    Migration {
        version: 7,
        description: "rollup views: domain_rollup, rollout_status, attention_queue",
        steps: |db, _| {
            rollups::rollup_views(db)
                .into_iter()
                .map(Step::Sql)
                .collect()
        },
    },
    Migration {
        version: 8,
        description: "events.kind: TRUST_VIOLATION (FleetEvent v2)",
        steps: |db, _| sql(events::events_kind_widened(db, enums::EVENT_KIND_V2)),
    },
    Migration {
        version: 9,
        description: "node_state: Kafka coordinates of each twin row (effectively-once)",
        steps: |_, caps| node_state::node_state_coordinates(caps),
    },
    Migration {
        version: 10,
        description: "transitions.domain_id (StateTransition v2)",
        steps: |_, caps| vec![transitions::transitions_domain(caps)],
    },
    Migration {
        version: 11,
        description: "domain_minute: rollup per domain and minute, fed by materialized views",
        steps: domain_minute::domain_minute,
    },
    Migration {
        version: 12,
        description: "node_state: domain path, relay path, last sync and edges (Node v3)",
        steps: |_, _| node_state::node_state_v3_columns(),
    },
    Migration {
        version: 13,
        description: "domains (Domain v2) and policy_bundles (BundleVersion)",
        steps: |db, caps| {
            vec![
                Step::Sql(domains::Domains::create(db, caps)),
                Step::Sql(policy_bundles::PolicyBundles::create(db, caps)),
            ]
        },
    },
    Migration {
        version: 14,
        description: "hierarchy and topology views: domain_tree_rollup, domain_authority, \
                      masters_of_record, assignments, relay_paths, edges, relay_health",
        steps: |db, _| {
            let selects = hierarchy::selects(Dialect::ClickHouse, db)
                .into_iter()
                .chain(topology::selects(Dialect::ClickHouse, db));
            selects
                .map(|(view, select)| Step::Sql(rollups::create_view(db, view, &select)))
                .collect()
        },
    },
    Migration {
        version: 15,
        description: "events.kind: EDGE (FleetEvent v3)",
        steps: |db, _| sql(events::events_kind_widened(db, enums::EVENT_KIND_V3)),
    },
    Migration {
        version: 16,
        description: "events.kind: COMMAND_ACK (FleetEvent v4)",
        steps: |db, _| sql(events::events_kind_widened(db, enums::EVENT_KIND)),
    },
    Migration {
        version: 17,
        description: "node_state: MAINTENANCE phase, open and held commands, maintenance start \
                      (Node v4)",
        steps: |db, _| node_state::node_state_v4_columns(db),
    },
    Migration {
        version: 18,
        description: "commands: the status ledger of every command (CommandStatus)",
        steps: |db, caps| sql(commands::Commands::create(db, caps)),
    },
    Migration {
        version: 19,
        description: "command views: command_latest, rollouts",
        steps: |db, _| {
            command_views::selects(Dialect::ClickHouse, db)
                .into_iter()
                .map(|(view, select)| Step::Sql(rollups::create_view(db, view, &select)))
                .collect()
        },
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
        for step in (migration.steps)(db, ch.caps()) {
            let what = format!("migration {}", migration.version);
            let done = match &step {
                Step::AddColumn { table, column, .. } => has_column(ch, table, column).await?,
                Step::Backfill { table, marker, .. } => has_marked_rows(ch, table, marker).await?,
                Step::Sql(_) => false,
            };
            if done {
                continue;
            }
            execute(ch, &step.sql(db, ch.caps()), &what).await?;
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

/// True when `table` of the sink's database has `column`.
async fn has_column(ch: &ClickHouse, table: &str, column: &str) -> Result<bool, ClickHouseError> {
    let found: u64 = ch
        .server_client()
        .query("SELECT count() FROM system.columns WHERE database = ? AND table = ? AND name = ?")
        .bind(ch.database())
        .bind(table)
        .bind(column)
        .fetch_one()
        .await
        .map_err(ClickHouseError::request("read system.columns"))?;
    Ok(found > 0)
}

/// True when `table` of the sink's database has a row with `marker` above 0.
async fn has_marked_rows(
    ch: &ClickHouse,
    table: &str,
    marker: &str,
) -> Result<bool, ClickHouseError> {
    let table = ddl::qualified(ch.database(), table);
    let found: u64 = ch
        .server_client()
        .query(&format!(
            "SELECT count() FROM (SELECT 1 FROM {table} WHERE {marker} > 0 LIMIT 1)"
        ))
        .fetch_one()
        .await
        .map_err(ClickHouseError::request("read rollup"))?;
    Ok(found > 0)
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
    fn every_step_is_idempotent() {
        for version in ["18.16.1", "24.8.4.13"] {
            let caps = ServerCaps::from_version(version).unwrap();
            for migration in MIGRATIONS {
                for step in (migration.steps)("db", &caps) {
                    let sql = step.sql("db", &caps);
                    match step {
                        // Guarded by the system.columns check on every server.
                        Step::AddColumn { .. } => {
                            assert!(sql.contains(" DEFAULT "), "{sql}");
                            assert_eq!(sql.contains("IF NOT EXISTS"), version != "18.16.1");
                        }
                        // Setting a column's type again to the same type changes nothing.
                        Step::Sql(_) if sql.contains(" MODIFY COLUMN ") => {}
                        Step::Sql(_) => assert!(sql.contains("IF NOT EXISTS"), "{sql}"),
                        // Guarded by the marker check.
                        Step::Backfill { .. } => assert!(sql.starts_with("INSERT INTO"), "{sql}"),
                    }
                }
            }
        }
    }
}

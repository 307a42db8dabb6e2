//! The SQL pieces every table definition shares: names, quoting, the column types that depend
//! on the server, the migrations ledger, and the kinds of migration step.
//!
//! Every statement runs on ClickHouse 18.16 and on current releases: Enum8 for fixed sets,
//! `DateTime('UTC')` next to Int64 epoch-millisecond columns, the `ENGINE = MergeTree()
//! PARTITION BY ... ORDER BY ...` syntax, no Nullable column in a sorting key. Newer features
//! appear only when [`ServerCaps`] says the server has them; the column *types seen by a
//! RowBinary insert* never depend on the caps (`LowCardinality(String)` and `String` take the
//! same bytes; a codec changes storage only), so one row struct serves every server.
//!
//! Every statement is idempotent (`IF NOT EXISTS`), so a migration interrupted half-way can
//! simply run again.

use crate::caps::ServerCaps;

/// Names of the sink's tables.
pub mod table {
    /// Applied migrations.
    pub const SCHEMA_MIGRATIONS: &str = "schema_migrations";
    /// One row per canonical event.
    pub const EVENTS: &str = "events";
    /// The flattened digital twin, one live row per node under `FINAL`.
    pub const NODE_STATE: &str = "node_state";
    /// Dead letters.
    pub const DLQ: &str = "dlq";
    /// Connectivity and lifecycle ledger entries, one live row per entry under `FINAL`.
    pub const TRANSITIONS: &str = "transitions";
    /// Drift reports, one live row per `(node_id, seq)` under `FINAL`.
    pub const DRIFT_EVALUATIONS: &str = "drift_evaluations";
    /// Attention-queue and split-brain alerts.
    pub const ALERTS: &str = "alerts";
    /// Authority decisions.
    pub const AUTHORITY_AUDIT: &str = "authority_audit";
    /// View: connectivity, drift and alerts per domain.
    pub const DOMAIN_ROLLUP: &str = "domain_rollup";
    /// View: rollout status per policy bundle.
    pub const ROLLOUT_STATUS: &str = "rollout_status";
    /// View: nodes with a positive attention score.
    pub const ATTENTION_QUEUE: &str = "attention_queue";
    /// Rollup per domain and minute, fed by materialized views.
    pub const DOMAIN_MINUTE: &str = "domain_minute";
    /// Domains (`Domain` v2), one live row per domain under `FINAL`.
    pub const DOMAINS: &str = "domains";
    /// Policy bundle versions (`BundleVersion`), one live row per `(bundle_id, version)`.
    pub const POLICY_BUNDLES: &str = "policy_bundles";
    /// View: the master of record of each domain.
    pub const MASTERS_OF_RECORD: &str = "masters_of_record";
    /// View: accepted and rejected bundle assignments.
    pub const ASSIGNMENTS: &str = "assignments";
    /// View: one row per node and relay hop of its path.
    pub const RELAY_PATHS: &str = "relay_paths";
    /// View: one row per declared edge of a node.
    pub const EDGES: &str = "edges";
    /// View: per relay, its downstream nodes and how many of them are degraded.
    pub const RELAY_HEALTH: &str = "relay_health";
    /// View: per domain, the rollup of its whole subtree, with its status.
    pub const DOMAIN_TREE_ROLLUP: &str = "domain_tree_rollup";
    /// View: per domain, its authority status, upstream sync and subtree sync debt.
    pub const DOMAIN_AUTHORITY: &str = "domain_authority";
    /// Every status record of every command (`CommandStatus`), one live row per record under
    /// `FINAL`.
    pub const COMMANDS: &str = "commands";
    /// View: the latest status of each command of each node.
    pub const COMMAND_LATEST: &str = "command_latest";
    /// View: the latest status of each rollout update, with its bundle, version and state.
    pub const ROLLOUTS: &str = "rollouts";
}

/// How a ReplacingMergeTree table of the sink collapses under `FINAL`: rows with equal sorting
/// `key` are one row, the one with the highest `version`, or without a version column the one
/// inserted last. The DDL writes the table's engine and `ORDER BY` from this, and the embedded
/// backend's `<table>_final` views read the Parquet tables the same way
/// ([`crate::backend::parquet::query::session`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Replacing {
    /// Table name (one of [`table`]).
    pub table: &'static str,
    /// The columns of the sorting key.
    pub key: &'static [&'static str],
    /// The version column, if any.
    pub version: Option<&'static str>,
}

impl Replacing {
    /// The engine: `ReplacingMergeTree(version)` or `ReplacingMergeTree()`.
    pub fn engine(&self) -> String {
        format!("ReplacingMergeTree({})", self.version.unwrap_or(""))
    }

    /// The `ORDER BY` expression: the key column, or the tuple of key columns.
    pub fn sorting_key(&self) -> String {
        match self.key {
            [column] => (*column).to_owned(),
            columns => format!("({})", columns.join(", ")),
        }
    }
}

/// True when `name` is a plain identifier (`[A-Za-z_][A-Za-z0-9_]*`), the only database names
/// the sink accepts, so names can be spliced into SQL without escaping.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `` `db`.`table` ``. The caller has checked `db` with [`is_identifier`]; table names are
/// this module's constants.
pub fn qualified(database: &str, table: &str) -> String {
    format!("`{database}`.`{table}`")
}

/// Column type of a string with few distinct values (region, zone, versions...).
pub fn low_cardinality_string(caps: &ServerCaps) -> &'static str {
    if caps.low_cardinality {
        "LowCardinality(String)"
    } else {
        "String"
    }
}

/// Codec clause for a mostly increasing Int64 timestamp column, empty without codec support.
pub fn delta_codec(caps: &ServerCaps) -> &'static str {
    if caps.codecs {
        " CODEC(Delta(8), LZ4)"
    } else {
        ""
    }
}

/// `CREATE DATABASE IF NOT EXISTS`.
pub fn create_database(database: &str) -> String {
    format!("CREATE DATABASE IF NOT EXISTS `{database}`")
}

/// The migrations ledger. ReplacingMergeTree so that two sinks migrating at the same moment
/// (both insert the same version) still read back one row per version under `FINAL`.
pub fn schema_migrations(database: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {}
(
    version UInt32,
    description String,
    applied_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(applied_at)
ORDER BY version",
        qualified(database, table::SCHEMA_MIGRATIONS)
    )
}

/// One idempotent step of a migration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// A statement that is idempotent by itself (`CREATE ... IF NOT EXISTS`).
    Sql(String),
    /// Adds `column` with `definition` (type and `DEFAULT`) to `table` unless it has it.
    /// 18.16 knows no `ADD COLUMN IF NOT EXISTS`, so the migrator looks in `system.columns`
    /// first; [`Step::sql`] still uses `IF NOT EXISTS` where the server has it.
    AddColumn {
        /// Table name (one of [`table`]).
        table: &'static str,
        /// Column name.
        column: &'static str,
        /// Type and default, e.g. `Int64 DEFAULT -1`.
        definition: String,
    },
    /// Fills a rollup with what landed before its materialized view existed: runs `sql` (an
    /// `INSERT ... SELECT`) unless `table` already has a row with `marker` above 0, i.e. unless
    /// this source is in (from an earlier run of the step, or from its view).
    Backfill {
        /// The rollup table (one of [`table`]).
        table: &'static str,
        /// A column that counts the source's rows.
        marker: &'static str,
        /// The `INSERT ... SELECT`.
        sql: String,
    },
}

impl Step {
    /// The statement of this step for database `db` on a server with `caps`.
    pub fn sql(&self, db: &str, caps: &ServerCaps) -> String {
        match self {
            Step::Sql(sql) | Step::Backfill { sql, .. } => sql.clone(),
            Step::AddColumn {
                table,
                column,
                definition,
            } => {
                let guard = if caps.add_column_if_not_exists {
                    "IF NOT EXISTS "
                } else {
                    ""
                };
                format!(
                    "ALTER TABLE {} ADD COLUMN {guard}`{column}` {definition}",
                    qualified(db, table)
                )
            }
        }
    }
}

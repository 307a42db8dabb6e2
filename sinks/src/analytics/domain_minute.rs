//! `domain_minute`: what happened per domain and minute of event time, kept up to date by
//! materialized views on the tables the sink lands, so a dashboard's time series reads a few
//! rows per domain and minute instead of scanning the ledgers.
//!
//! Three views feed one `SummingMergeTree` table, each from the rows of one insert into its
//! source: connectivity and lifecycle transitions, drift evaluations and alerts. Rows of one
//! `(domain_id, minute)` are summed when parts merge, so a query sums again with `GROUP BY`
//! (the cookbook's `domain_minutes` does). Each source also counts its rows (`transitions`,
//! `drift_evaluations`, `alerts`), which is how a backfill knows whether a source is in.
//!
//! Exactness: a view sees every inserted row once. The sink never inserts a landed row again
//! (effectively-once), so the rollup equals the aggregate of the source tables — unless the
//! server dies inside an insert between the source table and a view. The backfill reads the
//! sources with `FINAL`, so dropping `domain_minute` and the migration ledger and restarting
//! the sink rebuilds it exactly (`docs/sql-cookbook.md`).

use super::dialect::Dialect;
use crate::caps::ServerCaps;
use crate::tables::ddl::{low_cardinality_string, qualified, table, Step};

/// Connectivity modes counted as `entered_<column>`, with the label the connectivity machine
/// writes in the ledger for each (seed 003's spelling: `processors::connectivity::ledger_label`).
const ENTERED: &[(&str, &str)] = &[
    ("live", "live"),
    ("delayed", "delayed"),
    ("edge_cached", "edge-cached"),
    ("autonomous", "autonomous"),
    ("disconnected", "disconnected"),
    ("returning", "returning"),
    ("replaying", "replaying"),
];

/// One source of the rollup: a landed table, its view, the column that counts its rows, and
/// the aggregate it contributes per `(domain_id, minute)`.
struct Source {
    table: &'static str,
    view: &'static str,
    rows_column: &'static str,
    /// `(column, aggregate in the dialect)` pairs after `domain_id` and `minute`.
    columns: fn(Dialect) -> Vec<(String, String)>,
    /// The source's `DateTime` column that gives the minute.
    time: &'static str,
}

const SOURCES: &[Source] = &[
    Source {
        table: table::TRANSITIONS,
        view: "domain_minute_transitions_mv",
        rows_column: "transitions",
        columns: transition_columns,
        time: "at",
    },
    Source {
        table: table::DRIFT_EVALUATIONS,
        view: "domain_minute_drift_mv",
        rows_column: "drift_evaluations",
        columns: drift_columns,
        time: "evaluated",
    },
    Source {
        table: table::ALERTS,
        view: "domain_minute_alerts_mv",
        rows_column: "alerts",
        columns: alert_columns,
        time: "at",
    },
];

fn transition_columns(dialect: Dialect) -> Vec<(String, String)> {
    let counted = |condition: &str| dialect.count_if(condition);
    let applied = |machine: &str, to: &str| {
        counted(&format!(
            "machine = '{machine}' AND applied = 1 AND to_state = '{to}'"
        ))
    };
    let mut columns = vec![("transitions".to_owned(), dialect.count().to_owned())];
    columns.extend(
        ENTERED
            .iter()
            .map(|(column, label)| (format!("entered_{column}"), applied("CONNECTIVITY", label))),
    );
    columns.extend([
        (
            "lifecycle_transitions".to_owned(),
            counted("machine = 'LIFECYCLE' AND applied = 1"),
        ),
        (
            "entered_degraded".to_owned(),
            applied("LIFECYCLE", "DEGRADED"),
        ),
        (
            "entered_quarantined".to_owned(),
            applied("LIFECYCLE", "QUARANTINED"),
        ),
        (
            "lifecycle_violations".to_owned(),
            counted("machine = 'LIFECYCLE' AND applied = 0"),
        ),
    ]);
    columns
}

fn drift_columns(dialect: Dialect) -> Vec<(String, String)> {
    vec![
        ("drift_evaluations".to_owned(), dialect.count().to_owned()),
        ("drifted".to_owned(), dialect.count_if("status = 'DRIFTED'")),
        (
            "drift_unknown".to_owned(),
            dialect.count_if("status = 'UNKNOWN'"),
        ),
        ("drift_score_sum".to_owned(), "sum(score)".to_owned()),
    ]
}

fn alert_columns(dialect: Dialect) -> Vec<(String, String)> {
    vec![
        ("alerts".to_owned(), dialect.count().to_owned()),
        (
            "alerts_raised".to_owned(),
            dialect.count_if("action = 'RAISE'"),
        ),
        (
            "alerts_resolved".to_owned(),
            dialect.count_if("action = 'RESOLVE'"),
        ),
    ]
}

/// The summed columns of `domain_minute`, in table order, with their types.
pub fn measures() -> Vec<(String, &'static str)> {
    SOURCES
        .iter()
        .flat_map(|source| (source.columns)(Dialect::ClickHouse))
        .map(|(column, _)| {
            let kind = if column.ends_with("_sum") {
                "Float64"
            } else {
                "UInt64"
            };
            (column, kind)
        })
        .collect()
}

/// `CREATE TABLE domain_minute`.
fn rollup_table(database: &str, caps: &ServerCaps) -> String {
    let columns: Vec<String> = measures()
        .into_iter()
        .map(|(column, kind)| format!("    {column} {kind}"))
        .collect();
    format!(
        "CREATE TABLE IF NOT EXISTS {table}
(
    domain_id {lc},
    minute DateTime('UTC'),
{columns}
)
ENGINE = SummingMergeTree()
PARTITION BY toYYYYMM(minute)
ORDER BY (domain_id, minute)",
        table = qualified(database, table::DOMAIN_MINUTE),
        lc = low_cardinality_string(caps),
        columns = columns.join(",\n"),
    )
}

/// What `source` contributes to the rollup, as a `SELECT` over `from` grouped by domain and
/// `minute` (of the source's time column, in `dialect`). Every column
/// of the rollup is there, 0 where the source has none: a view on 18.16 must name them all,
/// and the embedded backend's `UNION ALL` of the sources needs the branches to line up.
fn select(source: &Source, from: &str, dialect: Dialect) -> String {
    let minute = dialect.start_of_minute(source.time);
    let own = (source.columns)(dialect);
    let columns: Vec<String> = measures()
        .into_iter()
        .map(|(column, kind)| {
            let value = own.iter().find(|(name, _)| *name == column).map_or_else(
                || dialect.zero(kind).to_owned(),
                |(_, aggregate)| aggregate.clone(),
            );
            format!("    {value} AS {column}")
        })
        .collect();
    format!(
        "SELECT
    domain_id,
    {minute} AS minute,
{columns}
FROM {from}
GROUP BY domain_id, {minute}",
        columns = columns.join(",\n"),
    )
}

/// The migration steps: the table, one view per source, and a backfill per source of the rows
/// landed before the views existed.
pub fn domain_minute(database: &str, caps: &ServerCaps) -> Vec<Step> {
    let rollup = qualified(database, table::DOMAIN_MINUTE);
    let mut steps = vec![Step::Sql(rollup_table(database, caps))];
    for source in SOURCES {
        let from = qualified(database, source.table);
        steps.push(Step::Sql(format!(
            "CREATE MATERIALIZED VIEW IF NOT EXISTS {view} TO {rollup} AS\n{select}",
            view = qualified(database, source.view),
            select = select(source, &from, Dialect::ClickHouse),
        )));
    }
    for source in SOURCES {
        // The tables as queried: a row landed twice (the server died inside an insert) counts
        // once, so a rebuild is exact even where the views were not.
        let from = Dialect::ClickHouse.final_table(&qualified(database, source.table));
        steps.push(Step::Backfill {
            table: table::DOMAIN_MINUTE,
            marker: source.rows_column,
            sql: format!(
                "INSERT INTO {rollup}\n{select}",
                select = select(source, &from, Dialect::ClickHouse),
            ),
        });
    }
    steps
}

/// The rollup's rows as one `SELECT` over the source tables — what the embedded backend
/// registers as `domain_minute`: the same aggregates per source as the views. A query sums
/// the branches per `(domain_id, minute)` as it does on ClickHouse.
pub fn union_select(dialect: Dialect) -> String {
    let branches: Vec<String> = SOURCES
        .iter()
        .map(|source| select(source, source.table, dialect))
        .collect();
    branches.join("\nUNION ALL\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_source_counts_its_rows_and_columns_are_unique() {
        let mut names: Vec<String> = measures().into_iter().map(|(name, _)| name).collect();
        for source in SOURCES {
            let own = (source.columns)(Dialect::DataFusion);
            assert_eq!(
                own[0],
                (source.rows_column.to_owned(), "count(*)".to_owned())
            );
        }
        let all = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all, "a column named twice");
    }

    #[test]
    fn the_embedded_rollup_uses_no_clickhouse_function() {
        let sql = union_select(Dialect::DataFusion);
        assert_eq!(sql.matches("UNION ALL").count(), SOURCES.len() - 1);
        for clickhouse_only in ["countIf", "toStartOfMinute", "toUInt64", "count()"] {
            assert!(!sql.contains(clickhouse_only), "{clickhouse_only} in {sql}");
        }
    }
}

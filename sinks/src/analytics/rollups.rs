//! The rollup views over `node_state` read as `FINAL` — `domain_rollup`, `rollout_status`,
//! `attention_queue` — written once and rendered in either [`Dialect`]: ClickHouse creates
//! them in migration 7 ([`rollup_views`]), the embedded backend in its DataFusion session
//! ([`crate::backend::parquet::query::session`]). Same columns, same rows.
//!
//! Each row says how many nodes it covers, how many it excludes as DISCONNECTED or REPLAYING
//! (their state is not current), and the worst sync debt among them.

use super::dialect::Dialect;
use crate::tables::ddl::{qualified, table};

/// Nodes whose state is not current: counted, but left out of the drift figures (also in the
/// hierarchical rollup, [`super::hierarchy`]).
pub const EXCLUDED: &str = "connectivity IN ('DISCONNECTED', 'REPLAYING')";

/// An expression longer than this gets its alias on a line of its own.
const LONG_EXPRESSION: usize = 100;

/// The `CREATE VIEW` statements of the rollup views in ClickHouse database `database`
/// (migration 7; its text must not change, see [`mod@crate::backend::clickhouse::migrate`]).
pub fn rollup_views(database: &str) -> Vec<String> {
    let node_state = qualified(database, table::NODE_STATE);
    rollup_selects(Dialect::ClickHouse, &node_state)
        .into_iter()
        .map(|(view, select)| create_view(database, view, &select))
        .collect()
}

/// `CREATE VIEW IF NOT EXISTS` of ClickHouse view `view` in `database` as `select`.
pub fn create_view(database: &str, view: &str, select: &str) -> String {
    format!(
        "CREATE VIEW IF NOT EXISTS {} AS\n{select}",
        qualified(database, view)
    )
}

/// Each rollup view's name and its `SELECT` in `dialect`, over `node_state` (the table's name
/// as `dialect` writes it, e.g. qualified for ClickHouse) read as `FINAL`.
pub fn rollup_selects(dialect: Dialect, node_state: &str) -> Vec<(&'static str, String)> {
    let from = dialect.final_table(node_state);
    let current = |condition: &str| format!("{condition} AND NOT {EXCLUDED}");

    let mut domain = Columns::new(dialect);
    domain.add("domain_id", "domain_id");
    domain.add("nodes", dialect.count());
    domain.add("excluded", dialect.count_if(EXCLUDED));
    domain.add(
        "covered",
        format!("{} - {}", domain.get("nodes"), domain.get("excluded")),
    );
    for (column, mode) in [
        ("live", "LIVE"),
        ("delayed", "DELAYED"),
        ("edge_cached", "EDGE_CACHED"),
        ("autonomous", "AUTONOMOUS"),
        ("disconnected", "DISCONNECTED"),
        ("returning", "RETURNING"),
        ("replaying", "REPLAYING"),
    ] {
        domain.add(
            column,
            dialect.count_if(&format!("connectivity = '{mode}'")),
        );
    }
    let drifted = current("drift_status = 'DRIFTED'");
    domain.add("drifted", dialect.count_if(&drifted));
    domain.add(
        "drift_unknown",
        dialect.count_if(&current("drift_status = 'UNKNOWN'")),
    );
    let avg_drifted = format!("round({}, 2)", dialect.avg_if("drift_score", &drifted));
    domain.add(
        "avg_drift_score",
        dialect.if_then(&format!("{} = 0", domain.get("drifted")), "0", &avg_drifted),
    );
    domain.add("max_drift_score", "max(drift_score)");
    domain.add("open_alerts", dialect.count_if("alert_open = 1"));
    domain.add("worst_sync_debt_s", "max(seconds_behind)");

    let mut rollout = Columns::new(dialect);
    rollout.add("bundle_id", "desired_bundle_id");
    rollout.add("target_version", "target_version");
    rollout.add("nodes", dialect.count());
    rollout.add("excluded", dialect.count_if(EXCLUDED));
    rollout.add(
        "covered",
        format!("{} - {}", rollout.get("nodes"), rollout.get("excluded")),
    );
    for (column, status) in [
        ("in_spec", "IN_SPEC"),
        ("drifted", "DRIFTED"),
        ("unknown", "UNKNOWN"),
    ] {
        let condition = current(&format!("drift_status = '{status}'"));
        rollout.add(column, dialect.count_if(&condition));
    }
    rollout.add("worst_sync_debt_s", "max(seconds_behind)");

    let mut queue = Columns::new(dialect);
    for column in [
        "node_id",
        "domain_id",
        "attention_score",
        "attention_reasons",
        "alert_open",
        "connectivity",
        "lifecycle_state",
        "drift_status",
        "drift_score",
        "trust_state",
        "seconds_behind",
    ] {
        queue.add(column, column);
    }

    vec![
        (
            table::DOMAIN_ROLLUP,
            format!(
                "SELECT\n{}\nFROM {from}\nGROUP BY domain_id",
                domain.render()
            ),
        ),
        (
            table::ROLLOUT_STATUS,
            format!(
                "SELECT\n{}\nFROM {from}\nWHERE desired_bundle_id != ''\n\
                 GROUP BY desired_bundle_id, target_version",
                rollout.render()
            ),
        ),
        (
            table::ATTENTION_QUEUE,
            format!(
                "SELECT\n{}\nFROM {from}\nWHERE attention_score > 0",
                queue.render()
            ),
        ),
    ]
}

/// The `SELECT` list of a view being written in one dialect.
struct Columns {
    dialect: Dialect,
    /// `(alias, expression)`, in order; a plain column is its own expression.
    columns: Vec<(&'static str, String)>,
}

impl Columns {
    fn new(dialect: Dialect) -> Self {
        Self {
            dialect,
            columns: Vec::new(),
        }
    }

    /// Adds column `alias`, computed as `expression`.
    fn add(&mut self, alias: &'static str, expression: impl Into<String>) {
        self.columns.push((alias, expression.into()));
    }

    /// Column `alias` (added before) inside a later expression: ClickHouse refers to it by its
    /// alias; DataFusion cannot refer to an alias of the same `SELECT`, so it gets the
    /// expression itself.
    fn get(&self, alias: &str) -> String {
        let expression = self
            .columns
            .iter()
            .find(|(name, _)| *name == alias)
            .map(|(_, expression)| expression.as_str());
        match (self.dialect, expression) {
            (Dialect::DataFusion, Some(expression)) if expression != alias => {
                format!("({expression})")
            }
            _ => alias.to_owned(),
        }
    }

    /// One column a line, indented.
    fn render(&self) -> String {
        let lines: Vec<String> = self
            .columns
            .iter()
            .map(|(alias, expression)| {
                if expression == alias {
                    format!("    {alias}")
                } else if expression.len() > LONG_EXPRESSION {
                    format!("    {expression}\n        AS {alias}")
                } else {
                    format!("    {expression} AS {alias}")
                }
            })
            .collect();
        lines.join(",\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Migration 7 as it shipped: the ClickHouse rendering must not change by a byte.
    const SHIPPED: [&str; 3] = [
        "CREATE VIEW IF NOT EXISTS `db`.`domain_rollup` AS
SELECT
    domain_id,
    count() AS nodes,
    countIf(connectivity IN ('DISCONNECTED', 'REPLAYING')) AS excluded,
    nodes - excluded AS covered,
    countIf(connectivity = 'LIVE') AS live,
    countIf(connectivity = 'DELAYED') AS delayed,
    countIf(connectivity = 'EDGE_CACHED') AS edge_cached,
    countIf(connectivity = 'AUTONOMOUS') AS autonomous,
    countIf(connectivity = 'DISCONNECTED') AS disconnected,
    countIf(connectivity = 'RETURNING') AS returning,
    countIf(connectivity = 'REPLAYING') AS replaying,
    countIf(drift_status = 'DRIFTED' AND NOT connectivity IN ('DISCONNECTED', 'REPLAYING')) AS drifted,
    countIf(drift_status = 'UNKNOWN' AND NOT connectivity IN ('DISCONNECTED', 'REPLAYING')) AS drift_unknown,
    if(drifted = 0, 0, round(avgIf(drift_score, drift_status = 'DRIFTED' AND NOT connectivity IN ('DISCONNECTED', 'REPLAYING')), 2))
        AS avg_drift_score,
    max(drift_score) AS max_drift_score,
    countIf(alert_open = 1) AS open_alerts,
    max(seconds_behind) AS worst_sync_debt_s
FROM `db`.`node_state` FINAL
GROUP BY domain_id",
        "CREATE VIEW IF NOT EXISTS `db`.`rollout_status` AS
SELECT
    desired_bundle_id AS bundle_id,
    target_version,
    count() AS nodes,
    countIf(connectivity IN ('DISCONNECTED', 'REPLAYING')) AS excluded,
    nodes - excluded AS covered,
    countIf(drift_status = 'IN_SPEC' AND NOT connectivity IN ('DISCONNECTED', 'REPLAYING')) AS in_spec,
    countIf(drift_status = 'DRIFTED' AND NOT connectivity IN ('DISCONNECTED', 'REPLAYING')) AS drifted,
    countIf(drift_status = 'UNKNOWN' AND NOT connectivity IN ('DISCONNECTED', 'REPLAYING')) AS unknown,
    max(seconds_behind) AS worst_sync_debt_s
FROM `db`.`node_state` FINAL
WHERE desired_bundle_id != ''
GROUP BY desired_bundle_id, target_version",
        "CREATE VIEW IF NOT EXISTS `db`.`attention_queue` AS
SELECT
    node_id,
    domain_id,
    attention_score,
    attention_reasons,
    alert_open,
    connectivity,
    lifecycle_state,
    drift_status,
    drift_score,
    trust_state,
    seconds_behind
FROM `db`.`node_state` FINAL
WHERE attention_score > 0",
    ];

    #[test]
    fn clickhouse_views_are_the_shipped_migration() {
        assert_eq!(rollup_views("db"), SHIPPED);
    }

    #[test]
    fn datafusion_views_repeat_expressions_instead_of_aliases() {
        let views = rollup_selects(Dialect::DataFusion, table::NODE_STATE);
        let names: Vec<&str> = views.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            names,
            [
                table::DOMAIN_ROLLUP,
                table::ROLLOUT_STATUS,
                table::ATTENTION_QUEUE
            ]
        );
        let domain = &views[0].1;
        assert!(domain.contains("FROM node_state_final\n"), "{domain}");
        assert!(
            domain.contains(
                "    (count(*)) - (sum(CASE WHEN connectivity IN \
                 ('DISCONNECTED', 'REPLAYING') THEN 1 ELSE 0 END)) AS covered,"
            ),
            "{domain}"
        );
        assert!(!domain.contains("countIf"), "{domain}");
        assert!(!domain.contains("FINAL"), "{domain}");
    }
}

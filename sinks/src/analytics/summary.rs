//! The demo's fleet overview: node counts from `node_state FINAL` by region, connectivity mode,
//! lifecycle phase, reported version, drift status and trust (seed 004, layer 0 "global fleet
//! overview"), and the domain tree of seed 000's "Global Fleet View" (the cookbook's
//! `fleet_tree`, as of the latest twin update).

use std::fmt;

use clickhouse::Client;

use super::cookbook::{self, Dialect, Params};
use crate::error::ClickHouseError;
use crate::tables::ddl;

/// Node counts of the whole fleet, each breakdown summing to [`Summary::total_nodes`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Nodes in `node_state` (latest version of each).
    pub total_nodes: u64,
    /// Nodes per region, sorted by region; `""` are nodes that have not registered.
    pub by_region: Vec<(String, u64)>,
    /// Nodes per connectivity mode, in spectrum order (LIVE first, UNKNOWN before it).
    pub by_connectivity: Vec<(String, u64)>,
    /// Nodes per lifecycle phase, in state-machine order (PROVISIONING first).
    pub by_lifecycle_phase: Vec<(String, u64)>,
    /// Nodes per reported software version, sorted by version text; `""` means no snapshot yet.
    pub by_reported_version: Vec<(String, u64)>,
    /// Nodes per drift status against their desired bundle (UNASSIGNED first).
    pub by_drift_status: Vec<(String, u64)>,
    /// Nodes per trust verdict (UNVERIFIED first).
    pub by_trust: Vec<(String, u64)>,
    /// The domain tree, in tree order (empty while no twin has a domain path).
    pub tree: Vec<TreeLine>,
}

/// One domain of the tree: a row of the cookbook's `fleet_tree` over the whole fleet.
#[derive(Clone, Debug, Default, PartialEq, Eq, clickhouse::Row, serde::Deserialize)]
pub struct TreeLine {
    /// Domain id.
    pub domain_id: String,
    /// 0 for the root, 1 for its children, ...
    pub depth: i64,
    /// The domain's level (`''` when `domains` does not know it).
    pub level: String,
    /// Nodes of its subtree.
    pub nodes: u64,
    /// Its status, or for a Healthy zone its connectivity summary.
    pub shown_status: String,
    /// Drift objects out of spec in its subtree.
    pub drift_objects: i64,
    /// Level of its master of record.
    pub authority: String,
    /// Worst sync debt of its subtree as of the latest twin update, in hours (2 decimals).
    #[serde(deserialize_with = "hours")]
    pub sync_debt_h: String,
}

/// Hours as [`TreeLine::sync_debt_h`] writes them: the float's shortest form (`0`, `3.75`).
pub fn hours_text(hours: f64) -> String {
    hours.to_string()
}

fn hours<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    <f64 as serde::Deserialize>::deserialize(deserializer).map(hours_text)
}

/// The tree's query in `dialect`: the cookbook's `fleet_tree` for `global`, as of the latest
/// twin update; `None` if the cookbook lost it (a test checks it has it).
pub fn tree_sql(dialect: Dialect) -> Option<String> {
    cookbook::queries(cookbook::DOCUMENT, dialect)
        .into_iter()
        .find(|query| query.name == TREE_QUERY)
        .map(|query| query.bind(&Params::default()))
}

/// The cookbook query behind [`Summary::tree`].
pub const TREE_QUERY: &str = "fleet_tree";

/// The overview's SQL: the total count and the four breakdowns, each `SELECT label, count()`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SummarySql {
    /// `SELECT count() FROM <db>.node_state FINAL`.
    pub total: String,
    /// By region, connectivity, lifecycle phase, reported version, drift status, trust (the
    /// order of [`Summary`]).
    pub breakdowns: [String; 6],
}

/// The overview queries for `database` (a plain identifier, see [`ddl::is_identifier`]).
///
/// Enum columns are grouped by value and ordered by their Enum8 code, so the spectrum and the
/// state machine read in their natural order; the free-text columns are ordered by name.
pub fn summary_sql(database: &str) -> SummarySql {
    let table = format!("{} FINAL", ddl::qualified(database, ddl::table::NODE_STATE));
    let breakdown = |label: &str, column: &str| {
        format!(
            "SELECT {label} AS label, count() AS nodes FROM {table} \
             GROUP BY {column} ORDER BY {column}"
        )
    };
    SummarySql {
        total: format!("SELECT count() FROM {table}"),
        breakdowns: [
            breakdown("region", "region"),
            breakdown("toString(connectivity)", "connectivity"),
            breakdown("toString(lifecycle_phase)", "lifecycle_phase"),
            breakdown("reported_version", "reported_version"),
            breakdown("toString(drift_status)", "drift_status"),
            breakdown("toString(trust_state)", "trust_state"),
        ],
    }
}

/// Runs the overview queries ([`summary_sql`]) against `database.node_state FINAL`.
///
/// # Errors
/// [`ClickHouseError::BadDatabaseName`] for a database name that is not a plain identifier;
/// [`ClickHouseError::Request`] when a query fails (server unreachable, table missing).
pub async fn fleet_summary(client: &Client, database: &str) -> Result<Summary, ClickHouseError> {
    if !ddl::is_identifier(database) {
        return Err(ClickHouseError::BadDatabaseName(database.to_owned()));
    }
    let sql = summary_sql(database);
    let total_nodes: u64 = client
        .query(&sql.total)
        .fetch_one()
        .await
        .map_err(ClickHouseError::request("count nodes"))?;
    let [region, connectivity, phase, version, drift, trust] = &sql.breakdowns;
    Ok(Summary {
        total_nodes,
        by_region: breakdown(client, region, "region").await?,
        by_connectivity: breakdown(client, connectivity, "connectivity").await?,
        by_lifecycle_phase: breakdown(client, phase, "lifecycle phase").await?,
        by_reported_version: breakdown(client, version, "reported version").await?,
        by_drift_status: breakdown(client, drift, "drift status").await?,
        by_trust: breakdown(client, trust, "trust").await?,
        tree: match tree_sql(Dialect::ClickHouse) {
            Some(sql) => client
                .clone()
                .with_database(database)
                .query(&sql)
                .fetch_all::<TreeLine>()
                .await
                .map_err(ClickHouseError::request("domain tree"))?,
            None => Vec::new(),
        },
    })
}

async fn breakdown(
    client: &Client,
    sql: &str,
    what: &str,
) -> Result<Vec<(String, u64)>, ClickHouseError> {
    client
        .query(sql)
        .fetch_all::<(String, u64)>()
        .await
        .map_err(ClickHouseError::request(format!("nodes by {what}")))
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Fleet: {} nodes", self.total_nodes)?;
        let sections = [
            ("By region", &self.by_region, "(unregistered)"),
            ("By connectivity", &self.by_connectivity, "(none)"),
            ("By lifecycle phase", &self.by_lifecycle_phase, "(none)"),
            (
                "By reported version",
                &self.by_reported_version,
                "(not reported)",
            ),
            ("By drift status", &self.by_drift_status, "(none)"),
            ("By trust", &self.by_trust, "(none)"),
        ];
        for (title, rows, empty_label) in sections {
            write_section(f, title, rows, empty_label)?;
        }
        if !self.tree.is_empty() {
            writeln!(f, "Domains:")?;
        }
        for line in &self.tree {
            let indent = "  ".repeat(usize::try_from(line.depth).unwrap_or(0) + 1);
            let authority = if line.authority.is_empty() {
                "none"
            } else {
                &line.authority
            };
            writeln!(
                f,
                "{indent}{}: {} nodes, {}, {} drift objects, authority {authority}, \
                 sync debt {} h",
                line.domain_id, line.nodes, line.shown_status, line.drift_objects, line.sync_debt_h
            )?;
        }
        Ok(())
    }
}

/// One breakdown: its title, then a line per label (`empty_label` for `''`).
fn write_section(
    f: &mut fmt::Formatter<'_>,
    title: &str,
    rows: &[(String, u64)],
    empty_label: &str,
) -> fmt::Result {
    writeln!(f, "{title}:")?;
    if rows.is_empty() {
        writeln!(f, "  -")?;
    }
    let width = rows
        .iter()
        .map(|(label, _)| label.chars().count().max(1))
        .max()
        .unwrap_or(0)
        .max(empty_label.len());
    for (label, count) in rows {
        let label = if label.is_empty() { empty_label } else { label };
        writeln!(f, "  {label:<width$}  {count:>8}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_lists_every_breakdown() {
        let summary = Summary {
            total_nodes: 3,
            by_region: vec![("".into(), 1), ("eu-west".into(), 2)],
            by_connectivity: vec![("LIVE".into(), 2), ("REPLAYING".into(), 1)],
            by_lifecycle_phase: vec![("ACTIVE".into(), 3)],
            by_reported_version: vec![],
            by_drift_status: vec![("DRIFTED".into(), 1), ("IN_SPEC".into(), 2)],
            by_trust: vec![("TRUSTED".into(), 3)],
            tree: vec![
                TreeLine {
                    domain_id: "global".into(),
                    depth: 0,
                    level: "GLOBAL".into(),
                    nodes: 3,
                    shown_status: "Healthy".into(),
                    drift_objects: 2,
                    authority: "GLOBAL".into(),
                    sync_debt_h: hours_text(0.0),
                },
                TreeLine {
                    domain_id: "zone-c".into(),
                    depth: 1,
                    level: "ZONE".into(),
                    nodes: 1,
                    shown_status: "Autonomous".into(),
                    drift_objects: 0,
                    authority: String::new(),
                    sync_debt_h: hours_text(3.75),
                },
            ],
        };
        let text = summary.to_string();
        let expected = "\
Fleet: 3 nodes
By region:
  (unregistered)         1
  eu-west                2
By connectivity:
  LIVE              2
  REPLAYING         1
By lifecycle phase:
  ACTIVE         3
By reported version:
  -
By drift status:
  DRIFTED         1
  IN_SPEC         2
By trust:
  TRUSTED         3
Domains:
  global: 3 nodes, Healthy, 2 drift objects, authority GLOBAL, sync debt 0 h
    zone-c: 1 nodes, Autonomous, 0 drift objects, authority none, sync debt 3.75 h
";
        assert_eq!(text, expected);
    }

    #[test]
    fn the_tree_is_the_cookbooks_fleet_tree_for_the_whole_fleet() {
        for dialect in Dialect::ALL {
            let sql = tree_sql(dialect).unwrap();
            assert!(sql.contains("concat('%/', 'global', '/%')"), "{sql}");
            assert!(
                sql.contains("(SELECT max(updated_ms) FROM node_state"),
                "{sql}"
            );
        }
    }
}

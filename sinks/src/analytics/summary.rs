//! The demo's fleet overview: node counts from `node_state FINAL` by region, connectivity mode,
//! lifecycle phase, reported version, drift status and trust (seed 004, layer 0 "global fleet
//! overview").

use std::fmt;

use clickhouse::Client;

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
}

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
        }
        Ok(())
    }
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
";
        assert_eq!(text, expected);
    }
}

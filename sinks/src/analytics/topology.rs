//! The fleet as a graph: views over `node_state`'s relay path and declared edges, written once
//! per [`Dialect`] with the same columns and rows (ClickHouse migration 14, the embedded
//! backend's DataFusion session).
//!
//! - `relay_paths`: one row per node and hop of its relay path (`hop` 1 is the nearest), with
//!   the node's mode and health.
//! - `edges`: one row per declared edge of a node (`REMOVED` ones included, with that state).
//! - `relay_health`: per relay named in any path, its own mode and health when it is a node
//!   (`''` otherwise), its downstream nodes, how many of them are degraded (DELAYED or worse:
//!   [`DEGRADED`]), their share, and `status` FAILING when at least half of its downstream
//!   nodes, and at least [`FAILING_MIN_DEGRADED`], are degraded, or the relay itself is
//!   AUTONOMOUS, DISCONNECTED or FAILED; else OK. A relay's downstream nodes live on every
//!   partition of the processor, so this is a view, not processor state.

use super::dialect::Dialect;
use crate::tables::ddl::table;

/// A downstream node (of `relay_paths`, its `mode` and `health`) that is degraded: DELAYED or
/// worse, or failed.
pub const DEGRADED: &str = "(mode IN ('DELAYED', 'AUTONOMOUS', 'DISCONNECTED', 'RETURNING', \
                            'REPLAYING') OR health = 'FAILED')";

/// A relay with a majority of degraded downstream nodes fails only with at least this many.
pub const FAILING_MIN_DEGRADED: u32 = 2;

/// Each view's name and its `SELECT` in `dialect`, over the tables of ClickHouse database
/// `database` (ignored by DataFusion), in creation order.
pub fn selects(dialect: Dialect, database: &str) -> Vec<(&'static str, String)> {
    let node_state = dialect.final_table(&dialect.table(database, table::NODE_STATE));
    let edges = [
        ("edge_peers", "peer_id"),
        ("edge_relations", "relation"),
        ("edge_states", "state"),
        ("edge_changed_ms", "changed_ms"),
    ];
    let (relay_paths, edge_rows) = match dialect {
        Dialect::ClickHouse => {
            let joined: Vec<String> = edges.iter().map(|(a, c)| format!("{a} AS {c}")).collect();
            (
                format!(
                    "SELECT node_id, domain_id, toInt64(hop_number) AS hop, relay_id, \
                     connectivity AS mode, health\nFROM {node_state}\n\
                     ARRAY JOIN relay_path AS relay_id, arrayEnumerate(relay_path) AS hop_number"
                ),
                format!(
                    "SELECT node_id, domain_id, peer_id, relation, state, changed_ms\n\
                     FROM {node_state}\nARRAY JOIN {}",
                    joined.join(", ")
                ),
            )
        }
        Dialect::DataFusion => {
            let unnested: Vec<String> = edges
                .iter()
                .map(|(a, c)| format!("unnest({a}) AS {c}"))
                .collect();
            (
                format!(
                    "SELECT node_id, domain_id, CAST(hop AS BIGINT) AS hop, relay_id, mode, health\n\
                     FROM (SELECT node_id, domain_id, connectivity AS mode, health, \
                     unnest(relay_path) AS relay_id, \
                     unnest(range(1, CAST(cardinality(relay_path) AS BIGINT) + 1)) AS hop\n\
                     FROM {node_state} WHERE cardinality(relay_path) > 0)"
                ),
                format!(
                    "SELECT node_id, domain_id, peer_id, relation, state, changed_ms\n\
                     FROM (SELECT node_id, domain_id, {}\n\
                     FROM {node_state} WHERE cardinality(edge_peers) > 0)",
                    unnested.join(", ")
                ),
            )
        }
    };
    vec![
        (table::RELAY_PATHS, relay_paths),
        (table::EDGES, edge_rows),
        (
            table::RELAY_HEALTH,
            relay_health(
                dialect,
                &dialect.table(database, table::RELAY_PATHS),
                &node_state,
            ),
        ),
    ]
}

/// `relay_health` over the `relay_paths` view and `node_state` (as `FINAL` reads it, for the
/// relays that are nodes themselves).
fn relay_health(dialect: Dialect, relay_paths: &str, node_state: &str) -> String {
    let d = dialect;
    let per_relay = format!(
        "SELECT relay_id, {} AS downstream, {} AS degraded FROM {relay_paths} GROUP BY relay_id",
        d.count(),
        d.count_if(DEGRADED),
    );
    let own = format!(
        "SELECT node_id AS relay_id, {} AS relay_mode, {} AS relay_health FROM {node_state}",
        as_text(d, "connectivity"),
        as_text(d, "health"),
    );
    let joined = match d {
        Dialect::ClickHouse => {
            format!(
                "(\n    {per_relay}\n) AS r\nANY LEFT JOIN\n(\n    {own}\n) AS o USING relay_id"
            )
        }
        Dialect::DataFusion => format!(
            "(SELECT r.relay_id AS relay_id, r.downstream AS downstream, r.degraded AS degraded, \
             coalesce(o.relay_mode, '') AS relay_mode, coalesce(o.relay_health, '') \
             AS relay_health\nFROM (\n    {per_relay}\n) AS r\nLEFT JOIN ({own}) AS o \
             ON r.relay_id = o.relay_id)"
        ),
    };
    let share = match d {
        Dialect::ClickHouse => "round(degraded / downstream, 3)",
        Dialect::DataFusion => "round(CAST(degraded AS DOUBLE) / downstream, 3)",
    };
    format!(
        "SELECT relay_id, relay_mode, relay_health, downstream, degraded, {share} AS \
         degraded_share,\n    CASE WHEN (degraded * 2 >= downstream AND degraded >= \
         {FAILING_MIN_DEGRADED}) OR relay_mode IN ('AUTONOMOUS', 'DISCONNECTED') \
         OR relay_health = 'FAILED' THEN 'FAILING' ELSE 'OK' END AS status\nFROM {joined}"
    )
}

/// An Enum8 column as text (DataFusion reads it as text already).
fn as_text(dialect: Dialect, column: &str) -> String {
    match dialect {
        Dialect::ClickHouse => format!("toString({column})"),
        Dialect::DataFusion => column.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_dialects_name_the_same_views() {
        let names = |d| -> Vec<&str> { selects(d, "db").into_iter().map(|(n, _)| n).collect() };
        assert_eq!(
            names(Dialect::ClickHouse),
            [table::RELAY_PATHS, table::EDGES, table::RELAY_HEALTH]
        );
        assert_eq!(names(Dialect::DataFusion), names(Dialect::ClickHouse));
        let (_, health) = &selects(Dialect::ClickHouse, "db")[2];
        assert!(
            health.contains("FROM `db`.`relay_paths` GROUP BY relay_id"),
            "{health}"
        );
        assert!(health.contains("degraded * 2 >= downstream AND degraded >= 2"));
    }
}

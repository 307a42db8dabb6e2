//! The fleet as a hierarchy: the views over `node_state`, `domains` and `authority_audit` that
//! answer above a node's own domain, written once per [`Dialect`] with the same columns and
//! rows. ClickHouse creates them in migration 14 ([`crate::backend::clickhouse::migrate`]), the
//! embedded backend in its DataFusion session.
//!
//! - `domain_tree_rollup`: per domain, every node whose `domain_path` contains it (a region
//!   covers its zones, `global` everything): per-mode counts, coverage, impaired and drifted
//!   nodes, drift objects, open alerts, worst sync debt and the oldest last sync (for sync debt
//!   "as of" a time), joined with the domain's level, master and authority status, and its
//!   [`super::status`] and connectivity summary. ClickHouse 18.16 has no recursive CTE: each
//!   node is counted once under every domain of its path (`ARRAY JOIN`, `unnest`).
//! - `domain_authority`: per domain of `domains`, its authority status and reason, master,
//!   upstream sync (debt, overdue) and the subtree's nodes and worst sync debt.
//! - `masters_of_record`: the master of record of each domain, from `domains`.
//! - `assignments`: accepted and rejected bundle assignments, from `authority_audit`.

use super::dialect::Dialect;
use super::rollups::EXCLUDED;
use super::status::{impaired_sql, status_sql, summary_sql, MODES};
use crate::tables::ddl::table;

/// Each view's name and its `SELECT` in `dialect`, over the tables of ClickHouse database
/// `database` (ignored by DataFusion), in creation order.
pub fn selects(dialect: Dialect, database: &str) -> Vec<(&'static str, String)> {
    let name = |t: &str| dialect.table(database, t);
    let final_of = |t: &str| dialect.final_table(&name(t));
    vec![
        (
            table::DOMAIN_TREE_ROLLUP,
            tree_rollup(
                dialect,
                &final_of(table::NODE_STATE),
                &final_of(table::DOMAINS),
            ),
        ),
        (
            table::DOMAIN_AUTHORITY,
            authority(
                dialect,
                &final_of(table::DOMAINS),
                &name(table::DOMAIN_TREE_ROLLUP),
            ),
        ),
        (
            table::MASTERS_OF_RECORD,
            format!(
                "SELECT domain_id, level, master_controller_id AS controller_id, master_level, \
                 master_epoch AS epoch, master_since_ms AS since_ms, split_brain, contenders, \
                 authority_status, authority_reason\nFROM {}",
                final_of(table::DOMAINS)
            ),
        ),
        (
            table::ASSIGNMENTS,
            format!(
                "SELECT at_ms, domain_id, decision, controller_id, level, epoch, target_kind, \
                 target_id, bundle_id, rule, reason, detail, \"partition\", \"offset\"\nFROM {}\n\
                 WHERE subject = 'ASSIGNMENT' AND decision IN ('ACCEPTED', 'REJECTED')",
                final_of(table::AUTHORITY_AUDIT)
            ),
        ),
    ]
}

/// `domain_tree_rollup` over `node_state` and `domains` (both as `FINAL` reads them).
fn tree_rollup(dialect: Dialect, node_state: &str, domains: &str) -> String {
    let d = dialect;
    let current = |condition: &str| format!("{condition} AND NOT {EXCLUDED}");
    let mut per_node: Vec<String> = vec![
        "subtree_id".to_owned(),
        format!("max({}) AS tree_path", path_to(d)),
        format!("{} - 1 AS depth", depth(d)),
        format!("{} AS nodes", d.count()),
        format!("{} AS direct_nodes", d.count_if("domain_id = subtree_id")),
        format!("{} AS excluded", d.count_if(EXCLUDED)),
        format!("{} - {} AS covered", d.count(), d.count_if(EXCLUDED)),
    ];
    for (mode, column, _) in MODES {
        per_node.push(format!(
            "{} AS {column}",
            d.count_if(&format!("connectivity = '{mode}'"))
        ));
    }
    per_node.extend([
        format!("{} AS impaired", d.count_if(&impaired_sql())),
        format!(
            "{} AS drifted",
            d.count_if(&current("drift_status = 'DRIFTED'"))
        ),
        format!("{} AS drift_objects_total", sum_if_current(d)),
        format!("{} AS open_alerts", d.count_if("alert_open = 1")),
        "max(seconds_behind) AS worst_sync_debt_s".to_owned(),
        format!("{} AS oldest_sync_ms", oldest_sync(d)),
    ]);
    let per_node = per_node.join(",\n        ");
    let domain_columns = [
        ("level", "''"),
        ("parent_id", "''"),
        ("master_controller_id", "''"),
        ("authority_level", "''"),
        ("authority_status", "''"),
        ("authority_reason", "''"),
    ];
    let (nodes, joined) = match d {
        Dialect::ClickHouse => (
            format!(
                "SELECT\n        {per_node}\n    FROM {node_state}\n    \
                 ARRAY JOIN domain_path AS subtree_id\n    GROUP BY subtree_id"
            ),
            String::new(),
        ),
        Dialect::DataFusion => {
            let coalesced: Vec<String> = domain_columns
                .iter()
                .map(|(column, absent)| format!("coalesce(d.{column}, {absent}) AS {column}"))
                .collect();
            (
                format!(
                    "SELECT\n        {per_node}\n    FROM (SELECT node_id, domain_id, \
                     domain_path, connectivity, health, lifecycle_phase, drift_status, \
                     drift_objects, alert_open, seconds_behind, last_sync_ms, \
                     unnest(domain_path) AS subtree_id FROM {node_state})\n    \
                     GROUP BY subtree_id"
                ),
                coalesced.join(", "),
            )
        }
    };
    let domain_side = format!(
        "SELECT domain_id AS subtree_id, level, parent_id, master_controller_id, \
         master_level AS authority_level, authority_status, authority_reason FROM {domains}"
    );
    let from = match d {
        Dialect::ClickHouse => {
            format!(
                "(\n    {nodes}\n) AS n\nANY LEFT JOIN\n(\n    {domain_side}\n) AS d USING subtree_id"
            )
        }
        Dialect::DataFusion => format!(
            "(SELECT n.*, {joined}\nFROM (\n    {nodes}\n) AS n\nLEFT JOIN ({domain_side}) AS d \
             ON n.subtree_id = d.subtree_id)"
        ),
    };
    let modes: Vec<&str> = MODES.iter().map(|(_, column, _)| *column).collect();
    format!(
        "SELECT\n    subtree_id AS domain_id, tree_path, depth, level, parent_id, nodes, \
         direct_nodes, excluded, covered,\n    {},\n    impaired, drifted, \
         drift_objects_total AS drift_objects, open_alerts, worst_sync_debt_s, oldest_sync_ms,\n    \
         master_controller_id, authority_level, authority_status, authority_reason,\n    \
         {} AS status,\n    {}\n        AS connectivity_summary\nFROM {from}",
        modes.join(", "),
        status_sql(),
        summary_sql(d),
    )
}

/// The domain's own path (`global/region-a/edge-zone-a1`), cut from a node's `domain_path`.
fn path_to(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::ClickHouse => {
            "arrayStringConcat(arraySlice(domain_path, 1, indexOf(domain_path, subtree_id)), '/')"
        }
        Dialect::DataFusion => {
            "array_to_string(array_slice(domain_path, 1, \
             CAST(array_position(domain_path, subtree_id) AS BIGINT)), '/')"
        }
    }
}

/// The domain's position in the nodes' paths (1 for the root).
fn depth(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::ClickHouse => "toInt64(max(indexOf(domain_path, subtree_id)))",
        Dialect::DataFusion => "max(CAST(array_position(domain_path, subtree_id) AS BIGINT))",
    }
}

/// Drift objects of the current nodes.
fn sum_if_current(dialect: Dialect) -> String {
    match dialect {
        Dialect::ClickHouse => format!("sumIf(toInt64(drift_objects), NOT {EXCLUDED})"),
        Dialect::DataFusion => {
            format!("sum(CASE WHEN NOT {EXCLUDED} THEN CAST(drift_objects AS BIGINT) ELSE 0 END)")
        }
    }
}

/// The oldest last sync among nodes that ever synced, 0 when none did.
fn oldest_sync(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::ClickHouse => "minIf(last_sync_ms, last_sync_ms > 0)",
        Dialect::DataFusion => "coalesce(min(CASE WHEN last_sync_ms > 0 THEN last_sync_ms END), 0)",
    }
}

/// `domain_authority` over `domains` (as `FINAL` reads it) and `domain_tree_rollup`.
fn authority(dialect: Dialect, domains: &str, rollup: &str) -> String {
    let columns = "domain_id, level, parent_id, master_controller_id, master_level, \
                   master_epoch, split_brain, authority_status, authority_reason, \
                   can_operate_isolated, upstream_peer, upstream_last_sync_ms, \
                   upstream_frequency_ms, upstream_sync_debt_s, upstream_overdue";
    let subtree = "nodes, worst_sync_debt_s, oldest_sync_ms";
    match dialect {
        Dialect::ClickHouse => format!(
            "SELECT {columns}, arrayStringConcat(path, '/') AS tree_path, {subtree}\n\
             FROM (SELECT * FROM {domains}) AS a\n\
             ANY LEFT JOIN (SELECT domain_id, {subtree} FROM {rollup}) AS r USING domain_id"
        ),
        Dialect::DataFusion => {
            let left: Vec<String> = columns.split(", ").map(|c| format!("a.{c}")).collect();
            format!(
                "SELECT {}, array_to_string(a.path, '/') AS tree_path, \
                 coalesce(r.nodes, 0) AS nodes, coalesce(r.worst_sync_debt_s, 0) \
                 AS worst_sync_debt_s, coalesce(r.oldest_sync_ms, 0) AS oldest_sync_ms\n\
                 FROM {domains} AS a\nLEFT JOIN {rollup} AS r ON a.domain_id = r.domain_id",
                left.join(", ")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_view_is_written_for_both_dialects_with_the_same_names() {
        let names = |d| -> Vec<&str> { selects(d, "db").into_iter().map(|(n, _)| n).collect() };
        assert_eq!(names(Dialect::ClickHouse), names(Dialect::DataFusion));
        for (view, sql) in selects(Dialect::ClickHouse, "db") {
            assert!(!sql.contains("_final"), "{view}: {sql}");
            assert!(sql.contains("FINAL"), "{view}: {sql}");
        }
        for (view, sql) in selects(Dialect::DataFusion, "db") {
            assert!(
                !sql.contains("FINAL") && !sql.contains("`db`"),
                "{view}: {sql}"
            );
            assert!(
                !sql.contains("countIf") && !sql.contains("ARRAY JOIN"),
                "{view}"
            );
        }
    }

    #[test]
    fn the_tree_rollup_covers_each_domain_of_a_nodes_path() {
        let (_, ch) = &selects(Dialect::ClickHouse, "db")[0];
        assert!(
            ch.contains("FROM `db`.`node_state` FINAL\n    ARRAY JOIN domain_path AS subtree_id"),
            "{ch}"
        );
        assert!(ch.contains("ANY LEFT JOIN"), "{ch}");
        assert!(ch.contains(&status_sql()), "{ch}");
        let (_, df) = &selects(Dialect::DataFusion, "db")[0];
        assert!(df.contains("unnest(domain_path) AS subtree_id FROM node_state_final"));
        assert!(df.contains("coalesce(d.authority_status, '') AS authority_status"));
    }
}

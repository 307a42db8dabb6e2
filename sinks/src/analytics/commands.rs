//! Commands and rollouts: the views over `commands` (every `CommandStatus` record, read as
//! `FINAL`), written once per [`Dialect`] with the same columns and rows. ClickHouse creates
//! them in migration 19 ([`crate::backend::clickhouse::migrate`]), the embedded backend in its
//! DataFusion session.
//!
//! - `command_latest`: per `(node_id, command_id)`, its latest status record by `(seq, at_ms)`
//!   (then the Kafka offset: a domain-level rejection has `seq` 0), with `first_ms` (its first
//!   status), `resent` (how many `RESENT` records), `published_times` (how many times it was
//!   sent: `PUBLISHED` and `RESENT` records) and `last_published_ms` (`0`: never sent).
//! - `rollouts`: the latest status of every rollout update (`rollout` set), with `bundle_id`
//!   and `version` split at the last `@` of `<bundle_id>@<version>` and its `state`
//!   ([`ROLLOUT_STATE`]).
//!
//! The cookbook's `safe_to_advance` reads `rollouts` per bundle version and domain subtree;
//! [`SAFE_CONVERGED_PCT`] is its rule.

use super::dialect::Dialect;
use crate::tables::ddl::table;

/// A rollout's share of converged nodes (percent of its non-cancelled nodes) at or above which,
/// with no failed node, the cookbook's `safe_to_advance` calls it safe to advance.
pub const SAFE_CONVERGED_PCT: u32 = 90;

/// A rollout update's `state` from its latest `status`: `converged` (APPLIED), `failed`
/// (FAILED, and EXPIRED, LOST or REJECTED: it did not get there and will not without an
/// operator), `held` (HELD), `cancelled` (CANCELLED: superseded by a newer version, or the node
/// retired), else `pending` (accepted, published, re-sent or received, not yet applied).
pub const ROLLOUT_STATE: &str = "CASE WHEN status = 'APPLIED' THEN 'converged' \
     WHEN status IN ('FAILED', 'EXPIRED', 'LOST', 'REJECTED') THEN 'failed' \
     WHEN status = 'HELD' THEN 'held' WHEN status = 'CANCELLED' THEN 'cancelled' \
     ELSE 'pending' END";

/// The statuses after which a command changes no more.
pub const TERMINAL: &str = "('APPLIED', 'FAILED', 'EXPIRED', 'LOST', 'REJECTED', 'CANCELLED')";

/// The columns of a command that `command_latest` takes from its latest record.
const LATEST: [&str; 12] = [
    "idempotency_key",
    "domain_id",
    "target_kind",
    "target_id",
    "kind",
    "delivery",
    "reason",
    "attempts",
    "issued_ms",
    "expires_ms",
    "controller_id",
    "rollout",
];

/// Each view's name and its `SELECT` in `dialect`, over the tables of ClickHouse database
/// `database` (ignored by DataFusion), in creation order.
pub fn selects(dialect: Dialect, database: &str) -> Vec<(&'static str, String)> {
    let commands = dialect.final_table(&dialect.table(database, table::COMMANDS));
    let latest = dialect.table(database, table::COMMAND_LATEST);
    vec![
        (table::COMMAND_LATEST, command_latest(dialect, &commands)),
        (table::ROLLOUTS, rollouts(dialect, &latest)),
    ]
}

/// `command_latest` over `commands` (as `FINAL` reads it).
fn command_latest(dialect: Dialect, commands: &str) -> String {
    let d = dialect;
    // ClickHouse resolves a name to a SELECT alias first, so the aggregates of `status`,
    // `at_ms` and `seq` get other names inside and their own outside.
    let order = "seq, at_ms, \"offset\"";
    let last = |column: &str| match d {
        Dialect::ClickHouse => format!("argMax({column}, ({order}))"),
        Dialect::DataFusion => format!("last_value({column} ORDER BY {order})"),
    };
    let mut inner: Vec<String> = LATEST
        .iter()
        .map(|column| format!("{} AS {column}", last(column)))
        .collect();
    inner.extend([
        format!("{} AS last_status", last("status")),
        format!("{} AS last_at_ms", last("at_ms")),
        "max(seq) AS last_seq".to_owned(),
        "min(at_ms) AS first_ms".to_owned(),
        format!("{} AS resent", d.count_if("status = 'RESENT'")),
        format!("{} AS published_times", d.count_if(SENT)),
        format!("{} AS last_published_ms", last_sent(d)),
    ]);
    format!(
        "SELECT node_id, command_id, {}, last_status AS status, last_at_ms AS at_ms, \
         last_seq AS seq, first_ms, resent, published_times, last_published_ms\nFROM\n(\n    \
         SELECT node_id, command_id,\n        {}\n    FROM {commands}\n    \
         GROUP BY node_id, command_id\n)",
        LATEST.join(", "),
        inner.join(",\n        "),
    )
}

/// A status record that sent the command to its node.
const SENT: &str = "status IN ('PUBLISHED', 'RESENT')";

/// When the command was last sent, `0` when never.
fn last_sent(dialect: Dialect) -> String {
    match dialect {
        Dialect::ClickHouse => format!("maxIf(at_ms, {SENT})"),
        Dialect::DataFusion => format!("coalesce(max(CASE WHEN {SENT} THEN at_ms END), 0)"),
    }
}

/// `rollouts` over `command_latest`.
fn rollouts(dialect: Dialect, latest: &str) -> String {
    let (bundle_id, version) = match dialect {
        Dialect::ClickHouse => (
            "arrayStringConcat(arrayPopBack(splitByChar('@', rollout)), '@')",
            "arrayElement(splitByChar('@', rollout), -1)",
        ),
        Dialect::DataFusion => (
            "array_to_string(array_pop_back(string_to_array(rollout, '@')), '@')",
            "array_element(string_to_array(rollout, '@'), -1)",
        ),
    };
    format!(
        "SELECT {bundle_id} AS bundle_id, {version} AS version, rollout, node_id, domain_id, \
         command_id, status, {ROLLOUT_STATE} AS state, reason, attempts, issued_ms, at_ms, \
         published_times\nFROM {latest}\nWHERE rollout != ''"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_view_is_written_for_both_dialects_with_the_same_names() {
        let names = |d| -> Vec<&str> { selects(d, "db").into_iter().map(|(n, _)| n).collect() };
        assert_eq!(names(Dialect::ClickHouse), names(Dialect::DataFusion));
        let ch = selects(Dialect::ClickHouse, "db");
        assert!(
            ch[0].1.contains("FROM `db`.`commands` FINAL"),
            "{}",
            ch[0].1
        );
        assert!(
            ch[1].1.contains("FROM `db`.`command_latest`"),
            "{}",
            ch[1].1
        );
        for (view, sql) in selects(Dialect::DataFusion, "db") {
            assert!(!sql.contains("FINAL") && !sql.contains("`db`"), "{view}");
            assert!(
                !sql.contains("countIf") && !sql.contains("argMax"),
                "{view}"
            );
        }
    }
}

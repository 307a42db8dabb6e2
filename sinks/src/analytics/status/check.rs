//! Sample rows of the status rule and the SQL that evaluates the rule over them, so tests on
//! every backend (DataFusion here, ClickHouse 18.16 and chDB in `tests/`) check that the SQL
//! says what [`super::status`] and [`super::connectivity_summary`] say.

use super::{connectivity_summary, status, status_sql, summary_sql, Status, MODES};
use crate::analytics::dialect::Dialect;

/// Sample rows: name, authority status, nodes per mode (order of [`MODES`]), impaired nodes,
/// and the status and summary the rule gives. The first six are seed 000's fleet views.
pub type Sample = (
    &'static str,
    &'static str,
    [u64; 8],
    u64,
    Status,
    &'static str,
);

const LIVE_ONLY_25: [u64; 8] = [0, 25, 0, 0, 0, 0, 0, 0];

pub const SAMPLES: &[Sample] = &[
    (
        "global",
        "AUTHORITATIVE",
        [0, 88, 2, 0, 15, 0, 0, 0],
        2,
        Status::Healthy,
        "Live (88/105), Delayed (2/105), Autonomous (15/105)",
    ),
    (
        "region-a",
        "AUTHORITATIVE",
        [0, 48, 2, 0, 0, 0, 0, 0],
        2,
        Status::Healthy,
        "Live (48/50), Delayed (2/50)",
    ),
    (
        "edge-zone-a1",
        "AUTHORITATIVE",
        LIVE_ONLY_25,
        0,
        Status::Healthy,
        "Live",
    ),
    (
        "edge-zone-a2",
        "AUTHORITATIVE",
        [0, 23, 2, 0, 0, 0, 0, 0],
        2,
        Status::Healthy,
        "Live (23/25), Delayed (2/25)",
    ),
    (
        "region-b",
        "AUTHORITATIVE",
        [0, 40, 0, 0, 0, 0, 0, 0],
        0,
        Status::Healthy,
        "Live",
    ),
    (
        "edge-zone-c",
        "AUTONOMOUS",
        [0, 0, 0, 0, 15, 0, 0, 0],
        0,
        Status::Autonomous,
        "Autonomous",
    ),
    // Exactly 10 % impaired is still Healthy; one more node is not.
    (
        "ten-percent",
        "AUTHORITATIVE",
        [0, 9, 1, 0, 0, 0, 0, 0],
        1,
        Status::Healthy,
        "Live (9/10), Delayed (1/10)",
    ),
    (
        "eleven-percent",
        "AUTHORITATIVE",
        [0, 8, 1, 0, 0, 1, 0, 0],
        2,
        Status::Degraded,
        "Live (8/10), Delayed (1/10), Disconnected (1/10)",
    ),
    // Degraded authority wins over healthy nodes; an unknown domain is judged by its nodes.
    (
        "overdue",
        "DEGRADED",
        LIVE_ONLY_25,
        0,
        Status::Degraded,
        "Live",
    ),
    ("unknown", "", LIVE_ONLY_25, 0, Status::Healthy, "Live"),
    // Quarantined LIVE nodes are impaired (counted by the caller), edge-cached ones are not.
    (
        "quarantined",
        "",
        [0, 3, 0, 0, 0, 0, 0, 0],
        1,
        Status::Degraded,
        "Live",
    ),
    (
        "cached",
        "AUTHORITATIVE",
        [1, 2, 0, 7, 0, 0, 1, 1],
        0,
        Status::Healthy,
        "Unknown (1/12), Live (2/12), Edge cached (7/12), Returning (1/12), Replaying (1/12)",
    ),
];

/// Nodes of a sample: the sum of its per-mode counts.
pub fn nodes(counts: &[u64; 8]) -> u64 {
    counts.iter().sum()
}

/// The rule's SQL in `dialect` over the samples, as `name`, `status`, `summary`, ordered by
/// name: what [`rule_in_rust`] gives.
pub fn rule_check_sql(dialect: Dialect) -> String {
    let count = |value: u64| match dialect {
        Dialect::ClickHouse => format!("toUInt64({value})"),
        Dialect::DataFusion => format!("CAST({value} AS BIGINT UNSIGNED)"),
    };
    let rows: Vec<String> = SAMPLES
        .iter()
        .map(|(name, authority, counts, impaired, _, _)| {
            let modes: Vec<String> = (MODES.iter().zip(counts))
                .map(|((_, column, _), value)| format!("{} AS {column}", count(*value)))
                .collect();
            format!(
                "SELECT '{name}' AS name, '{authority}' AS authority_status, {} AS nodes, \
                 {} AS impaired, {}",
                count(nodes(counts)),
                count(*impaired),
                modes.join(", ")
            )
        })
        .collect();
    format!(
        "SELECT name, {} AS status, {} AS summary FROM ({}) AS samples ORDER BY name",
        status_sql(),
        summary_sql(dialect),
        rows.join(" UNION ALL ")
    )
}

/// What the Rust rule says for the samples: `name\tstatus\tsummary` lines ordered by name
/// (TabSeparated, as ClickHouse answers [`rule_check_sql`]).
pub fn rule_in_rust() -> String {
    let mut lines: Vec<String> = SAMPLES
        .iter()
        .map(|(name, authority, counts, impaired, _, _)| {
            let total = nodes(counts);
            format!(
                "{name}\t{}\t{}\n",
                status(authority, total, *impaired).as_str(),
                connectivity_summary(counts, total)
            )
        })
        .collect();
    lines.sort();
    lines.concat()
}

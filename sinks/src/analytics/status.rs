//! The status rule of a domain's rollup row (`domain_tree_rollup.status`) and its
//! `connectivity_summary`, once as pure Rust ([`status`], [`connectivity_summary`]) and once as
//! the SQL that computes the same in either [`Dialect`] ([`status_sql`], [`summary_sql`]), both
//! written from the same constants. `docs/contracts.md` ("ClickHouse tables") states the rule.
//!
//! - `Autonomous` when the domain's authority status is `AUTONOMOUS` (its master acts without an
//!   upstream: its nodes being cut off is expected);
//! - else `Degraded` when the authority status is `DEGRADED`, or more than 10 % of the subtree's
//!   nodes are impaired: DELAYED, DISCONNECTED, health FAILED or lifecycle QUARANTINED
//!   (EDGE_CACHED, AUTONOMOUS, RETURNING and REPLAYING are expected intermittent modes);
//! - else `Healthy`. A domain without a `domains` row (authority status unknown) is judged by
//!   its nodes alone.
//!
//! The summary lists the modes with nodes in spectrum order, `Live (23/25), Delayed (2/25)`;
//! when every node is in one mode, just that mode's name (`Live`).

use super::dialect::Dialect;

/// A domain's status, in the words of seed 000's fleet views.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Authoritative control and few impaired nodes.
    Healthy,
    /// Degraded authority, or more than [`IMPAIRED_PERCENT`] % of the nodes impaired.
    Degraded,
    /// Under an autonomous master of record.
    Autonomous,
}

impl Status {
    /// The word shown for the status.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Healthy => "Healthy",
            Status::Degraded => "Degraded",
            Status::Autonomous => "Autonomous",
        }
    }
}

/// Above this share of impaired nodes (in percent) a domain is `Degraded`.
pub const IMPAIRED_PERCENT: u64 = 10;

/// Connectivity modes that impair a node.
pub const IMPAIRED_MODES: [&str; 2] = ["DELAYED", "DISCONNECTED"];
/// The health that impairs a node.
pub const IMPAIRED_HEALTH: &str = "FAILED";
/// The lifecycle phase that impairs a node.
pub const IMPAIRED_PHASE: &str = "QUARANTINED";

/// The connectivity modes in spectrum order: Enum8 symbol, rollup column, display name.
pub const MODES: [(&str, &str, &str); 8] = [
    ("UNKNOWN", "unknown_mode", "Unknown"),
    ("LIVE", "live", "Live"),
    ("DELAYED", "delayed", "Delayed"),
    ("EDGE_CACHED", "edge_cached", "Edge cached"),
    ("AUTONOMOUS", "autonomous", "Autonomous"),
    ("DISCONNECTED", "disconnected", "Disconnected"),
    ("RETURNING", "returning", "Returning"),
    ("REPLAYING", "replaying", "Replaying"),
];

/// True for a node whose mode, health or lifecycle phase impairs it.
pub fn is_impaired(mode: &str, health: &str, phase: &str) -> bool {
    IMPAIRED_MODES.contains(&mode) || health == IMPAIRED_HEALTH || phase == IMPAIRED_PHASE
}

/// The status of a domain with `authority_status` (`''` when unknown) whose subtree has
/// `nodes` nodes, `impaired` of them impaired.
pub fn status(authority_status: &str, nodes: u64, impaired: u64) -> Status {
    if authority_status == "AUTONOMOUS" {
        Status::Autonomous
    } else if authority_status == "DEGRADED" || impaired * 100 > nodes * IMPAIRED_PERCENT {
        Status::Degraded
    } else {
        Status::Healthy
    }
}

/// The summary of `counts` (nodes per mode, in the order of [`MODES`]) out of `nodes`.
pub fn connectivity_summary(counts: &[u64; 8], nodes: u64) -> String {
    if let Some(position) = counts.iter().position(|count| *count == nodes && nodes > 0) {
        return MODES[position].2.to_owned();
    }
    let parts: Vec<String> = (MODES.iter().zip(counts))
        .filter(|(_, count)| **count > 0)
        .map(|((_, _, label), count)| format!("{label} ({count}/{nodes})"))
        .collect();
    parts.join(", ")
}

/// The condition for an impaired node, over `node_state`'s columns.
pub fn impaired_sql() -> String {
    let modes: Vec<String> = IMPAIRED_MODES.iter().map(|m| format!("'{m}'")).collect();
    format!(
        "(connectivity IN ({}) OR health = '{IMPAIRED_HEALTH}' OR lifecycle_phase = \
         '{IMPAIRED_PHASE}')",
        modes.join(", ")
    )
}

/// [`status`] in SQL (the same in both dialects), over columns `authority_status` (a string,
/// `''` when unknown), `nodes` and `impaired`.
pub fn status_sql() -> String {
    format!(
        "CASE WHEN authority_status = 'AUTONOMOUS' THEN '{autonomous}' \
         WHEN authority_status = 'DEGRADED' OR impaired * 100 > nodes * {IMPAIRED_PERCENT} \
         THEN '{degraded}' ELSE '{healthy}' END",
        autonomous = Status::Autonomous.as_str(),
        degraded = Status::Degraded.as_str(),
        healthy = Status::Healthy.as_str(),
    )
}

/// [`connectivity_summary`] in `dialect`, over columns `nodes` and the mode columns of
/// [`MODES`].
pub fn summary_sql(dialect: Dialect) -> String {
    let single: String = MODES
        .iter()
        .map(|(_, column, label)| format!("WHEN {column} = nodes THEN '{label}' "))
        .collect();
    let part = |column: &str, label: &str| match dialect {
        Dialect::ClickHouse => format!(
            "if({column} > 0, concat('{label} (', toString({column}), '/', toString(nodes), \
             ')'), '')"
        ),
        Dialect::DataFusion => format!(
            "CASE WHEN {column} > 0 THEN concat('{label} (', CAST({column} AS VARCHAR), '/', \
             CAST(nodes AS VARCHAR), ')') END"
        ),
    };
    let parts: Vec<String> = MODES
        .iter()
        .map(|(_, column, label)| part(column, label))
        .collect();
    let joined = match dialect {
        Dialect::ClickHouse => format!(
            "arrayStringConcat(arrayFilter(part -> part != '', [{}]), ', ')",
            parts.join(", ")
        ),
        // concat_ws skips NULL arguments.
        Dialect::DataFusion => format!("concat_ws(', ', {})", parts.join(", ")),
    };
    format!("CASE WHEN nodes = 0 THEN '' {single}ELSE {joined} END")
}

#[cfg(any(test, feature = "samples"))]
pub mod check;
#[cfg(test)]
mod tests;

//! Layer 1, one domain (`/domains/{id}`): its subtree as a collapsible hierarchy with masters
//! of record and autonomy badges, the subtree's rollup, the per-minute changes and the sync
//! debt as it landed (sparklines), its anomalies, relays, rollouts safe to advance, and one
//! page of its node table, filtered and sorted.

use serde::Serialize;
use sxfleet_sinks::cookbook::{NodePage, NodeSort};

use super::cells::{first, rows, Row, ShapeError};
use super::overview::Attention;
use super::{share, Answers, Freshness};
use crate::html::url_segment;

/// The cookbook queries of the page, in loading order.
pub const QUERIES: [&str; 10] = [
    "freshness",
    "domain_summary",
    "domain_subtree",
    "domain_minutes_of",
    "domain_lateness",
    "domain_attention",
    "domain_relays",
    "safe_to_advance",
    "domain_nodes",
    "domain_nodes_count",
];

/// The summed columns of `domain_minutes_of` drawn as sparklines: column, label.
pub const SERIES: [(&str, &str); 10] = [
    ("ledger_entries", "ledger entries"),
    ("to_live", "entered LIVE"),
    ("to_delayed", "entered DELAYED"),
    ("to_autonomous", "entered AUTONOMOUS"),
    ("to_disconnected", "entered DISCONNECTED"),
    ("to_replaying", "entered REPLAYING"),
    ("to_quarantined", "entered QUARANTINED"),
    ("drifted_evaluations", "drifted evaluations"),
    ("raised", "alerts raised"),
    ("resolved", "alerts resolved"),
];

/// The domain page (and its JSON).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DomainPage {
    /// `domain`.
    pub page: &'static str,
    /// The cookbook queries the figures come from.
    pub queries: Vec<&'static str>,
    /// How fresh the figures are.
    pub freshness: Freshness,
    /// The domain.
    pub domain_id: String,
    /// The rollup of its subtree (`domain_summary`); none while no node is in it.
    pub summary: Option<Summary>,
    /// Its subtree in tree order (`domain_subtree`).
    pub tree: Vec<TreeDomain>,
    /// Changes per minute (`domain_minutes_of`).
    pub minutes: Vec<Minute>,
    /// Sync debt as it landed, per minute (`domain_lateness`).
    pub lateness: Vec<Lateness>,
    /// The subtree's top anomalies (`domain_attention`).
    pub anomalies: Vec<Attention>,
    /// The subtree's relays (`domain_relays`).
    pub relays: Vec<Relay>,
    /// The rollouts in this domain and whether they are safe to advance (`safe_to_advance`).
    pub rollouts: Vec<SafeRollout>,
    /// One page of the node table (`domain_nodes`, `domain_nodes_count`).
    pub nodes: NodeTable,
}

/// A row of `domain_summary`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    pub level: String,
    pub nodes: i64,
    pub covered: i64,
    pub excluded: i64,
    /// `covered / nodes`.
    pub coverage: f64,
    /// Nodes per connectivity mode (rollup column names: `live`, `delayed`, ...).
    pub modes: Vec<(String, i64)>,
    pub impaired: i64,
    pub drifted: i64,
    pub drift_objects: i64,
    pub open_alerts: i64,
    pub worst_sync_debt_s: i64,
    pub oldest_sync_ms: i64,
    pub master_controller_id: String,
    pub authority_status: String,
    pub status: String,
    pub connectivity_summary: String,
}

/// A row of `domain_subtree`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TreeDomain {
    pub domain_id: String,
    pub parent_id: String,
    pub level: String,
    pub autonomy: String,
    pub depth: i64,
    pub master_controller_id: String,
    pub master_level: String,
    pub authority_status: String,
    pub authority_reason: String,
    pub split_brain: bool,
    pub nodes: i64,
    pub covered: i64,
    pub excluded: i64,
    pub drifted: i64,
    pub open_alerts: i64,
    pub worst_sync_debt_s: i64,
    pub status: String,
}

/// A row of `domain_minutes_of`: the minute, then each series of [`SERIES`] in order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Minute {
    pub minute: String,
    pub counts: Vec<i64>,
}

/// A row of `domain_lateness`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Lateness {
    pub minute_ms: i64,
    pub events: i64,
    pub replayed: i64,
    pub worst_lateness_ms: i64,
}

/// A row of `domain_relays`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Relay {
    pub relay_id: String,
    pub relay_mode: String,
    pub relay_health: String,
    pub downstream: i64,
    pub degraded: i64,
    pub degraded_share: f64,
    pub status: String,
}

/// A row of `safe_to_advance` for this domain.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SafeRollout {
    pub bundle_id: String,
    pub version: String,
    pub converged: i64,
    pub pending: i64,
    pub held: i64,
    pub failed: i64,
    pub cancelled: i64,
    pub total: i64,
    pub safe: bool,
}

/// One page of the node table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodeTable {
    /// The connectivity mode filter, if any.
    pub mode: Option<&'static str>,
    /// The lifecycle phase filter, if any.
    pub phase: Option<&'static str>,
    /// The drift status filter, if any.
    pub drift: Option<&'static str>,
    /// The order's name (`attention`, `drift`, `sync_debt`, `last_seen`, `node_id`).
    pub sort: &'static str,
    /// Rows per page.
    pub limit: u32,
    /// Rows skipped.
    pub offset: u64,
    /// Nodes the filter matches (`domain_nodes_count`).
    pub matching: i64,
    /// The rows of this page.
    pub rows: Vec<NodeRow>,
    /// The previous page, if any.
    pub previous: Option<String>,
    /// The next page, if any.
    pub next: Option<String>,
}

/// A row of `domain_nodes`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodeRow {
    pub node_id: String,
    pub domain_id: String,
    pub kind: String,
    pub mode: String,
    pub phase: String,
    pub lifecycle_state: String,
    pub health: String,
    pub drift: String,
    pub drift_score: f64,
    pub drift_objects: i64,
    pub attention_score: f64,
    pub seconds_behind: i64,
    pub backlog_messages: i64,
    pub last_seen_ms: i64,
}

/// Whether the answers know the domain at all: a domain record or a node in its subtree.
///
/// # Errors
/// [`ShapeError`] when the page's answers were not loaded.
pub fn exists(answers: &Answers) -> Result<bool, ShapeError> {
    Ok(!answers.get("domain_subtree")?.rows.is_empty()
        || !answers.get("domain_summary")?.rows.is_empty())
}

/// The path of `domain_id`'s page with `page`'s filters, order and offset.
pub fn page_href(domain_id: &str, page: &NodePage) -> String {
    let mut query = Vec::new();
    for (key, value) in [
        ("mode", page.mode),
        ("phase", page.phase),
        ("drift", page.drift),
    ] {
        if let Some(symbol) = value {
            query.push(format!("{key}={}", symbol.as_str()));
        }
    }
    if page.sort != NodeSort::default() {
        query.push(format!("sort={}", page.sort.name()));
    }
    if page.limit != NodePage::DEFAULT_LIMIT {
        query.push(format!("limit={}", page.limit));
    }
    if page.offset > 0 {
        query.push(format!("offset={}", page.offset));
    }
    let path = format!("/domains/{}", url_segment(domain_id));
    if query.is_empty() {
        path
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// The page model from its answers, for `domain_id` and the node table's `page`.
///
/// # Errors
/// [`ShapeError`] when an answer lacks a column the page reads.
pub fn model(
    answers: &Answers,
    freshness: Freshness,
    domain_id: &str,
    page: &NodePage,
) -> Result<DomainPage, ShapeError> {
    let summary = first("domain_summary", answers.get("domain_summary")?)
        .map(summary)
        .transpose()?;
    let tree = rows("domain_subtree", answers.get("domain_subtree")?)
        .map(tree_domain)
        .collect::<Result<_, _>>()?;
    let mut minutes = Vec::new();
    for row in rows("domain_minutes_of", answers.get("domain_minutes_of")?) {
        let counts = SERIES
            .iter()
            .map(|(column, _)| row.int(column))
            .collect::<Result<_, _>>()?;
        minutes.push(Minute {
            minute: row.string("minute")?,
            counts,
        });
    }
    let mut lateness = Vec::new();
    for row in rows("domain_lateness", answers.get("domain_lateness")?) {
        lateness.push(Lateness {
            minute_ms: row.int("minute_ms")?,
            events: row.int("events")?,
            replayed: row.int("replayed")?,
            worst_lateness_ms: row.int("worst_lateness_ms")?,
        });
    }
    let mut anomalies = Vec::new();
    for row in rows("domain_attention", answers.get("domain_attention")?) {
        anomalies.push(Attention {
            node_id: row.string("node_id")?,
            domain_id: row.string("domain_id")?,
            attention_score: row.float("attention_score")?,
            attention_reasons: row.list("attention_reasons")?,
            alert_open: row.flag("alert_open")?,
        });
    }
    let mut relays = Vec::new();
    for row in rows("domain_relays", answers.get("domain_relays")?) {
        relays.push(Relay {
            relay_id: row.string("relay_id")?,
            relay_mode: row.string("relay_mode")?,
            relay_health: row.string("relay_health")?,
            downstream: row.int("downstream")?,
            degraded: row.int("degraded")?,
            degraded_share: row.float("degraded_share")?,
            status: row.string("status")?,
        });
    }
    let mut rollouts = Vec::new();
    for row in rows("safe_to_advance", answers.get("safe_to_advance")?) {
        if row.text("domain_id")? != domain_id {
            continue;
        }
        rollouts.push(SafeRollout {
            bundle_id: row.string("bundle_id")?,
            version: row.string("version")?,
            converged: row.int("converged")?,
            pending: row.int("pending")?,
            held: row.int("held")?,
            failed: row.int("failed")?,
            cancelled: row.int("cancelled")?,
            total: row.int("total")?,
            safe: row.flag("safe")?,
        });
    }
    let matching = first("domain_nodes_count", answers.get("domain_nodes_count")?)
        .map(|row| row.int("nodes"))
        .transpose()?
        .unwrap_or(0);
    let node_rows = rows("domain_nodes", answers.get("domain_nodes")?)
        .map(node_row)
        .collect::<Result<_, _>>()?;
    let limit = u64::from(page.limit);
    let previous = (page.offset > 0).then(|| {
        let offset = page.offset.saturating_sub(limit);
        page_href(domain_id, &NodePage { offset, ..*page })
    });
    let next_offset = page.offset + limit;
    let next = (i64::try_from(next_offset).unwrap_or(i64::MAX) < matching).then(|| {
        page_href(
            domain_id,
            &NodePage {
                offset: next_offset,
                ..*page
            },
        )
    });
    Ok(DomainPage {
        page: "domain",
        queries: QUERIES.to_vec(),
        freshness,
        domain_id: domain_id.to_owned(),
        summary,
        tree,
        minutes,
        lateness,
        anomalies,
        relays,
        rollouts,
        nodes: NodeTable {
            mode: page.mode.map(|s| s.as_str()),
            phase: page.phase.map(|s| s.as_str()),
            drift: page.drift.map(|s| s.as_str()),
            sort: page.sort.name(),
            limit: page.limit,
            offset: page.offset,
            matching,
            rows: node_rows,
            previous,
            next,
        },
    })
}

fn summary(row: Row<'_>) -> Result<Summary, ShapeError> {
    let nodes = row.int("nodes")?;
    let covered = row.int("covered")?;
    let modes = sxfleet_sinks::analytics::status::MODES
        .iter()
        .map(|(_, column, _)| Ok(((*column).to_owned(), row.int(column)?)))
        .collect::<Result<_, ShapeError>>()?;
    Ok(Summary {
        level: row.string("level")?,
        nodes,
        covered,
        excluded: row.int("excluded")?,
        coverage: share(covered, nodes),
        modes,
        impaired: row.int("impaired")?,
        drifted: row.int("drifted")?,
        drift_objects: row.int("drift_objects")?,
        open_alerts: row.int("open_alerts")?,
        worst_sync_debt_s: row.int("worst_sync_debt_s")?,
        oldest_sync_ms: row.int("oldest_sync_ms")?,
        master_controller_id: row.string("master_controller_id")?,
        authority_status: row.string("authority_status")?,
        status: row.string("status")?,
        connectivity_summary: row.string("connectivity_summary")?,
    })
}

fn tree_domain(row: Row<'_>) -> Result<TreeDomain, ShapeError> {
    Ok(TreeDomain {
        domain_id: row.string("domain_id")?,
        parent_id: row.string("parent_id")?,
        level: row.string("level")?,
        autonomy: row.string("autonomy")?,
        depth: row.int("depth")?,
        master_controller_id: row.string("master_controller_id")?,
        master_level: row.string("master_level")?,
        authority_status: row.string("authority_status")?,
        authority_reason: row.string("authority_reason")?,
        split_brain: row.flag("split_brain")?,
        nodes: row.int("nodes")?,
        covered: row.int("covered")?,
        excluded: row.int("excluded")?,
        drifted: row.int("drifted")?,
        open_alerts: row.int("open_alerts")?,
        worst_sync_debt_s: row.int("worst_sync_debt_s")?,
        status: row.string("status")?,
    })
}

fn node_row(row: Row<'_>) -> Result<NodeRow, ShapeError> {
    Ok(NodeRow {
        node_id: row.string("node_id")?,
        domain_id: row.string("domain_id")?,
        kind: row.string("kind")?,
        mode: row.string("mode")?,
        phase: row.string("phase")?,
        lifecycle_state: row.string("lifecycle_state")?,
        health: row.string("health")?,
        drift: row.string("drift")?,
        drift_score: row.float("drift_score")?,
        drift_objects: row.int("drift_objects")?,
        attention_score: row.float("attention_score")?,
        seconds_behind: row.int("seconds_behind")?,
        backlog_messages: row.int("backlog_messages")?,
        last_seen_ms: row.int("last_seen_ms")?,
    })
}

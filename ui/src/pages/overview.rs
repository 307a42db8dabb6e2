//! Layer 0, the global overview (`/`): the connectivity spectrum as one stacked bar, the drift
//! heat map by domain, rollout status by bundle, the attention queue, where the control plane
//! is authoritative or degraded, open alerts, and every domain with its coverage.

use serde::Serialize;

use super::cells::{rows, ShapeError};
use super::{share, Answers, Freshness, MODE_COLOURS};

/// The cookbook queries of the page, in loading order.
pub const QUERIES: [&str; 8] = [
    "freshness",
    "fleet_connectivity",
    "connectivity_by_domain",
    "drift_by_domain",
    "rollout_status",
    "attention_top",
    "domain_authority_status",
    "open_alerts",
];

/// The overview page (and its JSON).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Overview {
    /// `overview`.
    pub page: &'static str,
    /// The cookbook queries the figures come from.
    pub queries: Vec<&'static str>,
    /// How fresh the figures are.
    pub freshness: Freshness,
    /// The connectivity spectrum (`fleet_connectivity`).
    pub connectivity: Connectivity,
    /// The drift heat map's rows (`drift_by_domain`, most drifted first).
    pub drift: Vec<DomainDrift>,
    /// Rollout status per bundle (`rollout_status`).
    pub rollouts: Vec<Rollout>,
    /// The attention queue's top entries (`attention_top`).
    pub attention: Vec<Attention>,
    /// Each domain's authority status (`domain_authority_status`).
    pub authority: Vec<DomainAuthority>,
    /// Open alerts (`open_alerts`).
    pub alerts: Vec<OpenAlert>,
    /// Each domain's coverage (`connectivity_by_domain`).
    pub domains: Vec<DomainCoverage>,
}

/// The fleet per connectivity mode.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Connectivity {
    /// Nodes in all.
    pub total: i64,
    /// Nodes the rollups exclude (DISCONNECTED and REPLAYING).
    pub excluded: i64,
    /// `excluded / total`.
    pub excluded_share: f64,
    /// Every mode in spectrum order, with zeros.
    pub modes: Vec<ModeCount>,
}

/// One connectivity mode's nodes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModeCount {
    /// The Enum8 symbol (`LIVE`, ...).
    pub mode: String,
    /// Nodes in it.
    pub nodes: i64,
    /// `nodes / total`.
    pub share: f64,
    /// The seed's colour for it.
    pub colour: &'static str,
}

/// A row of `drift_by_domain`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DomainDrift {
    pub domain_id: String,
    pub covered: i64,
    pub drifted: i64,
    pub drift_unknown: i64,
    pub drifted_share: f64,
    pub avg_drift_score: Option<f64>,
    pub max_drift_score: Option<f64>,
}

/// A row of `rollout_status`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rollout {
    pub bundle_id: String,
    pub target_version: String,
    pub nodes: i64,
    pub covered: i64,
    pub excluded: i64,
    pub in_spec: i64,
    pub drifted: i64,
    pub unknown: i64,
    pub done_share: f64,
}

/// A row of `attention_top`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Attention {
    pub node_id: String,
    pub domain_id: String,
    pub attention_score: f64,
    pub attention_reasons: Vec<String>,
    pub alert_open: bool,
}

/// A row of `domain_authority_status`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DomainAuthority {
    pub domain_id: String,
    pub level: String,
    pub master_controller_id: String,
    pub master_level: String,
    pub authority_status: String,
    pub authority_reason: String,
    pub upstream_debt_s: i64,
    pub upstream_overdue: bool,
    pub nodes: i64,
    pub subtree_debt_s: i64,
}

/// A row of `open_alerts`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OpenAlert {
    pub alert_id: String,
    pub kind: String,
    pub subject_id: String,
    pub raised_ms: i64,
}

/// A row of `connectivity_by_domain`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DomainCoverage {
    pub domain_id: String,
    pub nodes: i64,
    pub covered: i64,
    pub excluded: i64,
    pub worst_sync_debt_s: i64,
}

/// The page model from its answers.
///
/// # Errors
/// [`ShapeError`] when an answer lacks a column the page reads.
pub fn model(answers: &Answers, freshness: Freshness) -> Result<Overview, ShapeError> {
    let mut counts = Vec::new();
    for row in rows("fleet_connectivity", answers.get("fleet_connectivity")?) {
        counts.push((row.string("mode")?, row.int("nodes")?));
    }
    let total: i64 = counts.iter().map(|(_, n)| n).sum();
    let count_of = |mode: &str| {
        counts
            .iter()
            .filter(|(m, _)| m == mode)
            .map(|(_, n)| *n)
            .sum::<i64>()
    };
    let excluded = count_of("DISCONNECTED") + count_of("REPLAYING");
    let modes = MODE_COLOURS
        .iter()
        .map(|(mode, _, colour)| ModeCount {
            mode: (*mode).to_owned(),
            nodes: count_of(mode),
            share: share(count_of(mode), total),
            colour,
        })
        .collect();
    let mut drift = Vec::new();
    for row in rows("drift_by_domain", answers.get("drift_by_domain")?) {
        drift.push(DomainDrift {
            domain_id: row.string("domain_id")?,
            covered: row.int("covered")?,
            drifted: row.int("drifted")?,
            drift_unknown: row.int("drift_unknown")?,
            drifted_share: row.float("drifted_share")?,
            avg_drift_score: row.opt_float("avg_drift_score")?,
            max_drift_score: row.opt_float("max_drift_score")?,
        });
    }
    let mut rollouts = Vec::new();
    for row in rows("rollout_status", answers.get("rollout_status")?) {
        rollouts.push(Rollout {
            bundle_id: row.string("bundle_id")?,
            target_version: row.string("target_version")?,
            nodes: row.int("nodes")?,
            covered: row.int("covered")?,
            excluded: row.int("excluded")?,
            in_spec: row.int("in_spec")?,
            drifted: row.int("drifted")?,
            unknown: row.int("unknown")?,
            done_share: row.float("done_share")?,
        });
    }
    let mut attention = Vec::new();
    for row in rows("attention_top", answers.get("attention_top")?) {
        attention.push(Attention {
            node_id: row.string("node_id")?,
            domain_id: row.string("domain_id")?,
            attention_score: row.float("attention_score")?,
            attention_reasons: row.list("attention_reasons")?,
            alert_open: row.flag("alert_open")?,
        });
    }
    let mut authority = Vec::new();
    for row in rows(
        "domain_authority_status",
        answers.get("domain_authority_status")?,
    ) {
        authority.push(DomainAuthority {
            domain_id: row.string("domain_id")?,
            level: row.string("level")?,
            master_controller_id: row.string("master_controller_id")?,
            master_level: row.string("master_level")?,
            authority_status: row.string("authority_status")?,
            authority_reason: row.string("authority_reason")?,
            upstream_debt_s: row.int("upstream_debt_s")?,
            upstream_overdue: row.flag("upstream_overdue")?,
            nodes: row.int("nodes")?,
            subtree_debt_s: row.int("subtree_debt_s")?,
        });
    }
    let mut alerts = Vec::new();
    for row in rows("open_alerts", answers.get("open_alerts")?) {
        alerts.push(OpenAlert {
            alert_id: row.string("alert_id")?,
            kind: row.string("kind")?,
            subject_id: row.string("subject_id")?,
            raised_ms: row.int("raised_ms")?,
        });
    }
    let mut domains = Vec::new();
    for row in rows(
        "connectivity_by_domain",
        answers.get("connectivity_by_domain")?,
    ) {
        domains.push(DomainCoverage {
            domain_id: row.string("domain_id")?,
            nodes: row.int("nodes")?,
            covered: row.int("covered")?,
            excluded: row.int("excluded")?,
            worst_sync_debt_s: row.int("worst_sync_debt_s")?,
        });
    }
    Ok(Overview {
        page: "overview",
        queries: QUERIES.to_vec(),
        freshness,
        connectivity: Connectivity {
            total,
            excluded,
            excluded_share: share(excluded, total),
            modes,
        },
        drift,
        rollouts,
        attention,
        authority,
        alerts,
        domains,
    })
}

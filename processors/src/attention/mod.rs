//! The operator attention queue (seed 004, 2B): one score per node from drift, sync debt,
//! authority, health and supply chain, and alerts raised and resolved with hysteresis. Pure.
//! Formula and thresholds in `docs/projections.md` ("Attention queue").

use serde::{Deserialize, Serialize};
use sxfleet_schemas::{Alert, EpochMillis, Health};

/// Tunables of the attention score and its alerts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AttentionConfig {
    /// Points for a drift score of 100 (scaled linearly).
    pub drift_points: f64,
    /// Points for a sync debt of `sync_debt_full_s` or more (scaled linearly).
    pub sync_debt_points: f64,
    /// Sync debt (seconds behind) that earns all the sync-debt points.
    pub sync_debt_full_s: i64,
    /// Points for an authority mismatch: the node's domain is contested (split brain).
    pub split_brain_points: f64,
    /// Points when no controller is master of record anywhere on the node's domain chain.
    pub no_master_points: f64,
    /// Points for health DEGRADED.
    pub degraded_points: f64,
    /// Points for health FAILED.
    pub failed_points: f64,
    /// Points for an outstanding supply-chain (trust) violation.
    pub supply_chain_points: f64,
    /// An alert is raised when the score reaches this.
    pub raise_at: f64,
    /// A raised alert is resolved when the score falls below this (hysteresis: below
    /// `raise_at`, so a score hovering at the threshold does not flap).
    pub resolve_below: f64,
}

impl Default for AttentionConfig {
    fn default() -> Self {
        AttentionConfig {
            drift_points: 30.0,
            sync_debt_points: 20.0,
            sync_debt_full_s: 4 * 3600,
            split_brain_points: 15.0,
            no_master_points: 5.0,
            degraded_points: 10.0,
            failed_points: 20.0,
            supply_chain_points: 45.0,
            raise_at: 40.0,
            resolve_below: 25.0,
        }
    }
}

/// What the score is computed from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttentionInputs {
    /// Drift score 0..100 (0 when unknown or unassigned).
    pub drift_score: f64,
    /// Seconds behind.
    pub seconds_behind: i64,
    /// The node's domain chain has a contested master epoch.
    pub split_brain: bool,
    /// No master of record on the node's domain chain.
    pub no_master: bool,
    /// Last reported health.
    pub health: Health,
    /// An unremediated trust violation.
    pub supply_chain_violation: bool,
}

/// Score 0..100 and the contributing factors, largest first (ties in a fixed order).
pub fn score(inputs: &AttentionInputs, config: &AttentionConfig) -> (f64, Vec<String>) {
    let debt_share = if config.sync_debt_full_s > 0 {
        (inputs.seconds_behind.max(0) as f64 / config.sync_debt_full_s as f64).min(1.0)
    } else {
        0.0
    };
    let health = match inputs.health {
        Health::Degraded => config.degraded_points,
        Health::Failed => config.failed_points,
        Health::Ok | Health::Unknown => 0.0,
    };
    let authority = if inputs.split_brain {
        config.split_brain_points
    } else if inputs.no_master {
        config.no_master_points
    } else {
        0.0
    };
    let parts = [
        (
            "supply_chain",
            if inputs.supply_chain_violation {
                config.supply_chain_points
            } else {
                0.0
            },
        ),
        (
            "drift",
            config.drift_points * (inputs.drift_score / 100.0).clamp(0.0, 1.0),
        ),
        ("sync_debt", config.sync_debt_points * debt_share),
        ("health", health),
        ("authority", authority),
    ];
    let total: f64 = parts.iter().map(|(_, points)| points).sum();
    let mut reasons: Vec<(&str, f64)> = parts.into_iter().filter(|(_, p)| *p > 0.0).collect();
    reasons.sort_by(|a, b| b.1.total_cmp(&a.1));
    let score = (total.min(100.0) * 100.0).round() / 100.0;
    (
        score,
        reasons.into_iter().map(|(r, _)| r.to_owned()).collect(),
    )
}

/// A node's (or domain's) place in the queue.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AttentionState {
    /// Last score.
    pub score: f64,
    /// Last contributing factors.
    pub reasons: Vec<String>,
    /// An alert is raised and not resolved.
    pub open: bool,
    /// Alerts raised so far (numbers the alert ids).
    pub raised: u32,
}

/// Who an alert is about.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// `ATTENTION` or `SPLIT_BRAIN`.
    pub kind: &'a str,
    /// `NODE` or `DOMAIN`.
    pub subject_kind: &'a str,
    /// Node or domain id.
    pub id: &'a str,
    /// Domain of the subject.
    pub domain_id: &'a str,
}

/// Sets the new score and returns the alert it raises or resolves, if any: raised when the
/// score reaches `raise_at` with no alert open, resolved when it falls below `resolve_below`.
pub fn update(
    state: &mut AttentionState,
    subject: Subject<'_>,
    (score, reasons): (f64, Vec<String>),
    at_ms: EpochMillis,
    config: &AttentionConfig,
) -> Option<Alert> {
    state.score = score;
    state.reasons = reasons;
    let action = if !state.open && score >= config.raise_at {
        state.open = true;
        state.raised += 1;
        "RAISE"
    } else if state.open && score < config.resolve_below {
        state.open = false;
        "RESOLVE"
    } else {
        return None;
    };
    let detail = format!(
        "attention score {score} ({}); raise at {}, resolve below {}",
        state.reasons.join(", "),
        config.raise_at,
        config.resolve_below
    );
    Some(alert(state, subject, action, at_ms, detail))
}

/// An alert about `subject` for the state's current alert number.
pub fn alert(
    state: &AttentionState,
    subject: Subject<'_>,
    action: &str,
    at_ms: EpochMillis,
    detail: String,
) -> Alert {
    Alert {
        alert_id: format!("{}:{}:{}", subject.kind, subject.id, state.raised),
        kind: subject.kind.to_owned(),
        action: action.to_owned(),
        subject_kind: subject.subject_kind.to_owned(),
        subject_id: subject.id.to_owned(),
        domain_id: subject.domain_id.to_owned(),
        at_ms,
        score: state.score,
        reasons: state.reasons.clone(),
        detail,
    }
}

#[cfg(test)]
mod tests;

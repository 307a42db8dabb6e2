//! The drift projection: desired state (the policy bundle assigned to a node) against actual
//! state (the node's latest snapshot).
//!
//! Pure and deterministic: [`evaluate`] depends only on its arguments. Time arrives as `now_ms`
//! (an event time or an explicit tick), so re-evaluating the same stored inputs always gives the
//! same [`DriftEvaluation`]. Drift is never primary truth: it is recomputed from the stored
//! bundle, assignments and snapshot whenever either side changes. Every rule, threshold and
//! formula is documented in `docs/projections.md` (section "Drift").

use serde::{Deserialize, Serialize};
use sxfleet_schemas::{EpochMillis, Snapshot, StringMap};

pub use resolve::{DesiredResolver, DesiredSource, Resolution, ResolvedDesired};
pub use version::{compare_versions, version_order, ParsedVersion, Severity, VersionGap};
pub use versioned::{decide, Offer, Verdict, VersionRule};

mod resolve;
mod version;
mod versioned;

/// Tunables of the drift evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DriftConfig {
    /// A snapshot older than this (evaluation time minus snapshot time) is too stale to judge:
    /// the status is `unknown` instead of `drifted` or `in_spec`.
    pub stale_after_ms: i64,
    /// Weight of the version component in the drift score.
    pub version_weight: f64,
    /// Weight of the config component in the drift score.
    pub config_weight: f64,
    /// Weight of the policy component in the drift score.
    pub policy_weight: f64,
    /// Config keys starting with one of these prefixes are policy rules: an out-of-spec policy
    /// key counts as a policy violation (seed 001: STIR, topology hiding, emergency routing).
    pub policy_key_prefixes: Vec<String>,
}

impl Default for DriftConfig {
    fn default() -> Self {
        DriftConfig {
            stale_after_ms: 60 * 60 * 1000,
            version_weight: 0.4,
            config_weight: 0.3,
            policy_weight: 0.3,
            policy_key_prefixes: ["stir.", "policy.", "topology_hiding.", "emergency_routing."]
                .map(String::from)
                .to_vec(),
        }
    }
}

/// Overall verdict of one evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftStatus {
    /// No bundle is assigned to the node: nothing to compare.
    Unassigned,
    /// Actual matches desired.
    InSpec,
    /// Actual differs from desired.
    Drifted,
    /// No snapshot yet, or the last one is older than [`DriftConfig::stale_after_ms`].
    Unknown,
}

/// What the node reports it runs (from its latest snapshot).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActualSnapshot {
    /// Software version running.
    pub reported_version: Option<String>,
    /// Policy version applied.
    pub policy_version: Option<String>,
    /// Reported configuration.
    pub config: StringMap,
    /// Event time of the snapshot.
    pub snapshot_ms: EpochMillis,
}

impl ActualSnapshot {
    /// The comparable part of a snapshot taken at `snapshot_ms`.
    pub fn from_snapshot(snapshot: &Snapshot, snapshot_ms: EpochMillis) -> Self {
        ActualSnapshot {
            reported_version: snapshot.reported_version.clone(),
            policy_version: snapshot.policy_version.clone(),
            config: snapshot.config.clone(),
            snapshot_ms,
        }
    }
}

/// Version drift of the node's component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionDrift {
    /// Component name, from a `name-1.2.3` version string.
    pub component: Option<String>,
    /// Desired version (without the component prefix).
    pub desired: String,
    /// Reported version (without the component prefix); `None` when not reported.
    pub actual: Option<String>,
    /// Which part of the version differs.
    pub gap: VersionGap,
    /// How bad it is.
    pub severity: Severity,
    /// What it means for the operator, e.g. `missing_security_patch`.
    pub impact: String,
}

/// One desired config key that is out of spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigFieldDrift {
    /// Config key.
    pub field: String,
    /// Desired value.
    pub desired: String,
    /// Reported value; `None` when the key is missing from the snapshot.
    pub actual: Option<String>,
}

/// Config drift: the desired keys whose reported value differs or is missing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigDrift {
    /// Out-of-spec keys (`details.len()`).
    pub objects: u32,
    /// Keys in the bundle's config.
    pub desired_keys: u32,
    /// One entry per out-of-spec key, in key order.
    pub details: Vec<ConfigFieldDrift>,
}

/// Policy drift: policy version and compliance with the bundle's config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyDrift {
    /// Desired policy version.
    pub policy_version: String,
    /// Applied policy version; `None` when not reported.
    pub actual_version: Option<String>,
    /// Share of the bundle's config keys in spec (1.0 for a bundle without config keys).
    pub compliance_score: f64,
    /// Out-of-spec keys that are policy rules (see [`DriftConfig::policy_key_prefixes`]).
    pub violations: u32,
}

/// Result of one drift evaluation of one node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftEvaluation {
    /// Evaluation time.
    pub evaluated_ms: EpochMillis,
    /// Verdict.
    pub status: DriftStatus,
    /// Bundle compared against.
    pub bundle_id: Option<String>,
    /// Version drift; `None` when in spec or nothing to compare.
    pub version_drift: Option<VersionDrift>,
    /// Config drift.
    pub config_drift: ConfigDrift,
    /// Policy drift; `None` without a desired bundle.
    pub policy_drift: Option<PolicyDrift>,
    /// Weighted drift score, 0 (in spec) to 100.
    pub score: f64,
    /// Out-of-spec objects: config keys, plus 1 for the version, plus 1 for the policy version.
    pub objects_out_of_spec: u32,
    /// Event time of the snapshot compared against ("last_sync").
    pub last_sync_ms: Option<EpochMillis>,
    /// Evaluation time minus snapshot time.
    pub stale_by_ms: Option<i64>,
    /// Since when the node has been continuously out of spec; `None` when in spec.
    pub first_out_of_spec_ms: Option<EpochMillis>,
    /// Evaluation time minus `first_out_of_spec_ms`.
    pub drift_age_ms: Option<i64>,
}

/// Evaluates `actual` against `desired` at `now_ms`; `previous` is the node's last evaluation
/// (it carries the drift age across evaluations).
pub fn evaluate(
    desired: Option<&ResolvedDesired>,
    actual: Option<&ActualSnapshot>,
    previous: Option<&DriftEvaluation>,
    now_ms: EpochMillis,
    config: &DriftConfig,
) -> DriftEvaluation {
    let mut eval = DriftEvaluation {
        evaluated_ms: now_ms,
        status: DriftStatus::Unassigned,
        bundle_id: desired.map(|d| d.bundle.bundle_id.clone()),
        version_drift: None,
        config_drift: ConfigDrift::default(),
        policy_drift: None,
        score: 0.0,
        objects_out_of_spec: 0,
        last_sync_ms: actual.map(|a| a.snapshot_ms),
        stale_by_ms: actual.map(|a| now_ms.saturating_sub(a.snapshot_ms).max(0)),
        first_out_of_spec_ms: None,
        drift_age_ms: None,
    };
    let Some(desired) = desired else {
        return eval;
    };
    let Some(seen) = actual else {
        // Nothing reported yet: nothing to compare, so no score either; a drift age carried
        // from an earlier evaluation keeps running.
        eval.status = DriftStatus::Unknown;
        eval.first_out_of_spec_ms = previous
            .filter(|p| matches!(p.status, DriftStatus::Drifted | DriftStatus::Unknown))
            .and_then(|p| p.first_out_of_spec_ms);
        eval.drift_age_ms = eval
            .first_out_of_spec_ms
            .map(|t| now_ms.saturating_sub(t).max(0));
        return eval;
    };
    let bundle = &desired.bundle;

    eval.version_drift = version_drift(&bundle.target_version, seen.reported_version.as_deref());
    eval.config_drift = config_drift(&bundle.config, &seen.config);
    let violations = eval
        .config_drift
        .details
        .iter()
        .filter(|d| {
            config
                .policy_key_prefixes
                .iter()
                .any(|p| d.field.starts_with(p.as_str()))
        })
        .count();
    let desired_keys = eval.config_drift.desired_keys;
    let compliance = if desired_keys == 0 {
        1.0
    } else {
        f64::from(desired_keys - eval.config_drift.objects) / f64::from(desired_keys)
    };
    let policy = PolicyDrift {
        policy_version: bundle.policy_version.clone(),
        actual_version: seen.policy_version.clone(),
        compliance_score: round_to(compliance, 4),
        violations: u32::try_from(violations).unwrap_or(u32::MAX),
    };
    let policy_version_off =
        policy.actual_version.as_deref() != Some(bundle.policy_version.as_str());

    let version_points = eval
        .version_drift
        .as_ref()
        .map_or(0.0, |v| v.severity.points());
    let config_points = 1.0 - compliance;
    let policy_points =
        (if policy_version_off { 0.5 } else { 0.0 } + 0.25 * f64::from(policy.violations)).min(1.0);
    let weights = config.version_weight + config.config_weight + config.policy_weight;
    eval.score = if weights > 0.0 {
        let weighted = config.version_weight * version_points
            + config.config_weight * config_points
            + config.policy_weight * policy_points;
        round_to(100.0 * weighted / weights, 2)
    } else {
        0.0
    };
    eval.objects_out_of_spec = eval.config_drift.objects
        + u32::from(eval.version_drift.is_some())
        + u32::from(policy_version_off);
    eval.policy_drift = Some(policy);

    let out_of_spec = eval.objects_out_of_spec > 0;
    let stale = eval.stale_by_ms.is_none_or(|s| s > config.stale_after_ms);
    let carried = previous
        .filter(|p| matches!(p.status, DriftStatus::Drifted | DriftStatus::Unknown))
        .and_then(|p| p.first_out_of_spec_ms);
    (eval.status, eval.first_out_of_spec_ms) = match (stale, out_of_spec) {
        // Too stale to judge: keep the drift age running, since nothing shows it recovered.
        (true, _) => (DriftStatus::Unknown, carried),
        (false, false) => (DriftStatus::InSpec, None),
        // Out of spec since the later of the two inputs that disagree, unless it already was.
        (false, true) => (
            DriftStatus::Drifted,
            Some(carried.unwrap_or(seen.snapshot_ms.max(desired.assigned_ms))),
        ),
    };
    eval.drift_age_ms = eval
        .first_out_of_spec_ms
        .map(|t| now_ms.saturating_sub(t).max(0));
    eval
}

fn version_drift(desired: &str, actual: Option<&str>) -> Option<VersionDrift> {
    let want = ParsedVersion::parse(desired);
    let (component, desired_text) = match &want {
        Some(v) => (v.component.clone(), v.text()),
        None => (None, desired.to_owned()),
    };
    let Some(actual) = actual else {
        return Some(VersionDrift {
            component,
            desired: desired_text,
            actual: None,
            gap: VersionGap::NotReported,
            severity: Severity::High,
            impact: VersionGap::NotReported.impact().to_owned(),
        });
    };
    let have = ParsedVersion::parse(actual);
    let actual_text = have
        .as_ref()
        .map_or_else(|| actual.to_owned(), ParsedVersion::text);
    let gap = compare_versions(desired, actual)?;
    Some(VersionDrift {
        component: component.or_else(|| have.and_then(|h| h.component)),
        desired: desired_text,
        actual: Some(actual_text),
        gap,
        severity: gap.severity(),
        impact: gap.impact().to_owned(),
    })
}

fn config_drift(desired: &StringMap, actual: &StringMap) -> ConfigDrift {
    let details: Vec<ConfigFieldDrift> = desired
        .iter()
        .filter(|(key, want)| {
            !actual
                .get(*key)
                .is_some_and(|have| values_equal(want, have))
        })
        .map(|(key, want)| ConfigFieldDrift {
            field: key.clone(),
            desired: want.clone(),
            actual: actual.get(key).cloned(),
        })
        .collect();
    ConfigDrift {
        objects: u32::try_from(details.len()).unwrap_or(u32::MAX),
        desired_keys: u32::try_from(desired.len()).unwrap_or(u32::MAX),
        details,
    }
}

/// Config values are JSON values rendered as text: equal when the text is equal, or when both
/// are finite numbers with the same value (`2000` and `2000.0`).
pub fn values_equal(desired: &str, actual: &str) -> bool {
    if desired == actual {
        return true;
    }
    match (desired.trim().parse::<f64>(), actual.trim().parse::<f64>()) {
        (Ok(a), Ok(b)) => a.is_finite() && a == b,
        _ => false,
    }
}

fn round_to(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

/// Renders a duration in ms as the seeds do: `15m`, `3h45m`, `17h`, `2d4h`, `30s`.
pub fn format_duration(ms: i64) -> String {
    let secs = ms.max(0) / 1000;
    let (d, h, m, s) = (
        secs / 86_400,
        secs % 86_400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    );
    let parts = [(d, "d"), (h, "h"), (m, "m"), (s, "s")];
    let text: String = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect();
    if text.is_empty() {
        "0m".to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests;

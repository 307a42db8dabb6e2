//! What a node's state implies once the control plane is taken into account: its place in the
//! domain hierarchy (`domain_path`), desired state, drift evaluation, authority and attention
//! score. Recomputed from stored inputs (the
//! node's snapshot and the partition's [`ControlState`]) whenever either side changes; never
//! primary truth. Pure.

use sxfleet_schemas::{
    Alert, ConfigFieldDiff, DesiredState, DriftReport, EpochMillis, NodeAttention, NodeAuthority,
    NodeDrift,
};

use crate::attention::{self, AttentionInputs, Subject};
use crate::config::ProjectionConfig;
use crate::control::ControlState;
use crate::drift::{self, ActualSnapshot, DesiredSource, DriftEvaluation, DriftStatus, Resolution};
use crate::node::NodeState;

/// What a refresh produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Derived {
    /// A drift report, when the verdict, score or out-of-spec objects changed.
    pub report: Option<DriftReport>,
    /// An attention alert raised or resolved.
    pub alert: Option<Alert>,
    /// The published twin changed (desired state, drift, authority or attention).
    pub changed: bool,
}

/// Recomputes the node's desired state, drift, authority and attention at `now_ms`.
pub fn refresh(
    state: &mut NodeState,
    control: &ControlState,
    now_ms: EpochMillis,
    config: &ProjectionConfig,
) -> Derived {
    let path_before = std::mem::take(&mut state.twin.domain_path);
    let before = (
        state.twin.drift.clone(),
        state.twin.authority.clone(),
        state.twin.attention.clone(),
    );
    let node_id = state.twin.id.clone();
    let domain_id = state.twin.domain_id.clone();
    let domain = (!domain_id.is_empty()).then_some(domain_id.as_str());
    state.twin.domain_path = domain.map_or_else(Vec::new, |d| control.authority.path(d));

    let resolved = match control.desired.resolve(&node_id, domain) {
        Resolution::Resolved(desired) => Some(desired),
        Resolution::Unassigned | Resolution::MissingBundle { .. } => None,
    };
    // Compared in place: most events leave the desired state as it was, and building it again
    // (its config maps) costs more than the comparison.
    let desired = &state.twin.desired_state;
    let desired_changed = match resolved.as_ref() {
        Some(d) => {
            desired.policy_bundle_id.as_deref() != Some(d.bundle.bundle_id.as_str())
                || desired.target_version.as_deref() != Some(d.bundle.target_version.as_str())
                || desired.policy_version.as_deref() != Some(d.bundle.policy_version.as_str())
                || desired.config != d.bundle.config
                || desired.constraints != d.bundle.constraints
                || desired.assigned_ms != Some(d.assigned_ms)
        }
        None => *desired != DesiredState::default(),
    };
    if desired_changed {
        state.twin.desired_state =
            resolved
                .as_ref()
                .map_or_else(DesiredState::default, |d| DesiredState {
                    policy_bundle_id: Some(d.bundle.bundle_id.clone()),
                    target_version: Some(d.bundle.target_version.clone()),
                    policy_version: Some(d.bundle.policy_version.clone()),
                    config: d.bundle.config.clone(),
                    constraints: d.bundle.constraints.clone(),
                    assigned_ms: Some(d.assigned_ms),
                });
    }
    let actual = state
        .twin
        .actual_state
        .last_snapshot_ms
        .map(|at| ActualSnapshot {
            reported_version: state.twin.actual_state.reported_version.clone(),
            policy_version: state.twin.actual_state.policy_version.clone(),
            config: state.twin.actual_state.config.clone(),
            snapshot_ms: at,
        });
    let eval = drift::evaluate(
        resolved.as_ref(),
        actual.as_ref(),
        state.drift.as_ref(),
        now_ms,
        &config.drift,
    );
    let mut derived = Derived::default();
    let news = match &state.drift {
        Some(last) => differs(last, &eval),
        // A node nobody assigned a bundle to has nothing to report yet.
        None => eval.status != DriftStatus::Unassigned,
    };
    if news {
        state.drift_seq += 1;
        let source = resolved.as_ref().map(|d| match &d.source {
            DesiredSource::Node => "node".to_owned(),
            DesiredSource::Domain { domain_id } => format!("domain:{domain_id}"),
        });
        derived.report = Some(report(&node_id, &domain_id, &eval, source, state.drift_seq));
    }
    state.twin.drift = NodeDrift {
        score: eval.score,
        objects_out_of_spec: i32::try_from(eval.objects_out_of_spec).unwrap_or(i32::MAX),
        last_evaluated_ms: Some(eval.evaluated_ms),
        status: status(eval.status).to_owned(),
        bundle_id: eval.bundle_id.clone(),
        stale_by_ms: eval.stale_by_ms,
        drift_age_ms: eval.drift_age_ms,
    };
    let drift_score = if eval.status == DriftStatus::Drifted {
        eval.score
    } else {
        0.0
    };
    state.drift = Some(eval);

    let master = domain.and_then(|d| control.authority.effective_master(d));
    let split_brain = domain.is_some_and(|d| {
        control
            .authority
            .effective_master(d)
            .is_some_and(|(owner, _)| control.authority.contested(&owner))
    });
    let no_master = master.is_none();
    state.twin.authority = master.map_or_else(NodeAuthority::default, |(_, stamp)| NodeAuthority {
        master_of_record: Some(stamp.level),
        controller_ids: vec![stamp.controller_id.clone()],
        epoch: Some(stamp.epoch),
        last_authoritative_update_ms: state.twin.desired_state.assigned_ms,
    });

    let inputs = AttentionInputs {
        drift_score,
        seconds_behind: state.twin.connectivity.sync_debt.seconds_behind,
        split_brain,
        no_master,
        health: state.twin.actual_state.runtime.health,
        supply_chain_violation: !crate::trust::trusted(&state.trust),
    };
    let subject = Subject {
        kind: "ATTENTION",
        subject_kind: "NODE",
        id: &node_id,
        domain_id: &domain_id,
    };
    let scored = attention::score(&inputs, &config.attention);
    derived.alert = attention::update(
        &mut state.attention,
        subject,
        scored,
        now_ms,
        &config.attention,
    );
    state.twin.attention = NodeAttention {
        score: state.attention.score,
        alert_open: state.attention.open,
        reasons: state.attention.reasons.clone(),
    };
    let after = (
        &state.twin.drift,
        &state.twin.authority,
        &state.twin.attention,
    );
    // Staleness and drift age move with every evaluation; they alone do not make a change.
    let mut drift_then = before.0;
    drift_then.last_evaluated_ms = after.0.last_evaluated_ms;
    drift_then.stale_by_ms = after.0.stale_by_ms;
    drift_then.drift_age_ms = after.0.drift_age_ms;
    derived.changed = path_before != state.twin.domain_path
        || desired_changed
        || drift_then != *after.0
        || before.1 != *after.1
        || before.2 != *after.2;
    derived
}

/// Whether a new evaluation says something the last one did not (time fields aside).
fn differs(last: &DriftEvaluation, new: &DriftEvaluation) -> bool {
    last.status != new.status
        || last.score != new.score
        || last.bundle_id != new.bundle_id
        || last.objects_out_of_spec != new.objects_out_of_spec
        || last.version_drift != new.version_drift
        || last.config_drift != new.config_drift
        || last.first_out_of_spec_ms != new.first_out_of_spec_ms
}

fn status(status: DriftStatus) -> &'static str {
    match status {
        DriftStatus::Unassigned => "UNASSIGNED",
        DriftStatus::InSpec => "IN_SPEC",
        DriftStatus::Drifted => "DRIFTED",
        DriftStatus::Unknown => "UNKNOWN",
    }
}

fn report(
    node_id: &str,
    domain_id: &str,
    eval: &DriftEvaluation,
    desired_source: Option<String>,
    seq: i64,
) -> DriftReport {
    let version = eval.version_drift.as_ref();
    let policy = eval.policy_drift.as_ref();
    DriftReport {
        node_id: node_id.to_owned(),
        domain_id: domain_id.to_owned(),
        evaluated_ms: eval.evaluated_ms,
        status: status(eval.status).to_owned(),
        bundle_id: eval.bundle_id.clone(),
        desired_source,
        version_desired: version.map(|v| v.desired.clone()),
        version_actual: version.and_then(|v| v.actual.clone()),
        version_severity: version.map(|v| format!("{:?}", v.severity).to_uppercase()),
        version_impact: version.map(|v| v.impact.clone()),
        config_fields: eval
            .config_drift
            .details
            .iter()
            .map(|d| ConfigFieldDiff {
                field: d.field.clone(),
                desired: d.desired.clone(),
                actual: d.actual.clone(),
            })
            .collect(),
        config_desired_keys: i32::try_from(eval.config_drift.desired_keys).unwrap_or(i32::MAX),
        policy_version: policy.map(|p| p.policy_version.clone()),
        policy_actual_version: policy.and_then(|p| p.actual_version.clone()),
        compliance_score: policy.map(|p| p.compliance_score),
        policy_violations: policy.map_or(0, |p| i32::try_from(p.violations).unwrap_or(i32::MAX)),
        score: eval.score,
        objects_out_of_spec: i32::try_from(eval.objects_out_of_spec).unwrap_or(i32::MAX),
        last_sync_ms: eval.last_sync_ms,
        stale_by_ms: eval.stale_by_ms,
        first_out_of_spec_ms: eval.first_out_of_spec_ms,
        drift_age_ms: eval.drift_age_ms,
        seq,
    }
}

#[cfg(test)]
mod tests;

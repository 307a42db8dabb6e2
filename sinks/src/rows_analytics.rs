//! Rows of the processor's analytic outputs: `drift_evaluations` (a `DriftReport`), `alerts`
//! (an `Alert`) and `authority_audit` (an `AuthorityDecision`), each with the Kafka coordinates
//! it was read from.

use serde::{Deserialize, Serialize};
use sxfleet_schemas::{Alert, AuthorityDecision, DriftReport};

use super::{code, datetime, unsigned, Coords, RowError};
use crate::ddl;

/// A row of `drift_evaluations`. See [`crate::ddl::analytics::drift_evaluations`].
#[derive(Debug, Clone, PartialEq, clickhouse::Row, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct DriftRow {
    pub node_id: String,
    pub domain_id: String,
    pub evaluated: u32,
    pub evaluated_ms: i64,
    /// Enum8 code from [`ddl::DRIFT_STATUS`].
    pub status: i8,
    pub bundle_id: String,
    pub desired_source: String,
    pub version_desired: String,
    pub version_actual: String,
    pub version_severity: String,
    pub version_impact: String,
    pub config_fields: Vec<String>,
    pub config_desired: Vec<String>,
    pub config_actual: Vec<String>,
    pub config_missing: Vec<u8>,
    pub config_desired_keys: i32,
    pub policy_version: String,
    pub policy_actual_version: String,
    pub compliance_score: Option<f64>,
    pub policy_violations: i32,
    pub score: f64,
    pub objects_out_of_spec: i32,
    pub last_sync_ms: i64,
    pub stale_by_ms: Option<i64>,
    pub first_out_of_spec_ms: i64,
    pub drift_age_ms: Option<i64>,
    pub seq: u64,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// The `drift_evaluations` row of a drift report read at `at`.
///
/// # Errors
/// [`RowError::UnknownSymbol`] for a status without an Enum8 code; [`RowError::Negative`] for a
/// negative `seq`.
pub fn drift_row(report: &DriftReport, at: Coords<'_>) -> Result<DriftRow, RowError> {
    let fields = &report.config_fields;
    Ok(DriftRow {
        node_id: report.node_id.clone(),
        domain_id: report.domain_id.clone(),
        evaluated: datetime(report.evaluated_ms),
        evaluated_ms: report.evaluated_ms,
        status: code("status", ddl::DRIFT_STATUS, &report.status)?,
        bundle_id: report.bundle_id.clone().unwrap_or_default(),
        desired_source: report.desired_source.clone().unwrap_or_default(),
        version_desired: report.version_desired.clone().unwrap_or_default(),
        version_actual: report.version_actual.clone().unwrap_or_default(),
        version_severity: report.version_severity.clone().unwrap_or_default(),
        version_impact: report.version_impact.clone().unwrap_or_default(),
        config_fields: fields.iter().map(|f| f.field.clone()).collect(),
        config_desired: fields.iter().map(|f| f.desired.clone()).collect(),
        config_actual: fields
            .iter()
            .map(|f| f.actual.clone().unwrap_or_default())
            .collect(),
        config_missing: fields
            .iter()
            .map(|f| u8::from(f.actual.is_none()))
            .collect(),
        config_desired_keys: report.config_desired_keys,
        policy_version: report.policy_version.clone().unwrap_or_default(),
        policy_actual_version: report.policy_actual_version.clone().unwrap_or_default(),
        compliance_score: report.compliance_score,
        policy_violations: report.policy_violations,
        score: report.score,
        objects_out_of_spec: report.objects_out_of_spec,
        last_sync_ms: report.last_sync_ms.unwrap_or(0),
        stale_by_ms: report.stale_by_ms,
        first_out_of_spec_ms: report.first_out_of_spec_ms.unwrap_or(0),
        drift_age_ms: report.drift_age_ms,
        seq: unsigned("seq", report.seq)?,
        topic: at.topic.to_owned(),
        partition: at.partition,
        offset: at.offset,
    })
}

/// A row of `alerts`. See [`crate::ddl::analytics::alerts`].
#[derive(Debug, Clone, PartialEq, clickhouse::Row, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct AlertRow {
    pub alert_id: String,
    /// Enum8 code from [`ddl::ALERT_KIND`].
    pub kind: i8,
    /// Enum8 code from [`ddl::ALERT_ACTION`].
    pub action: i8,
    /// Enum8 code from [`ddl::SUBJECT_KIND`].
    pub subject_kind: i8,
    pub subject_id: String,
    pub domain_id: String,
    pub at: u32,
    pub at_ms: i64,
    pub score: f64,
    pub reasons: Vec<String>,
    pub detail: String,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// The `alerts` row of an alert read at `at`.
///
/// # Errors
/// [`RowError::UnknownSymbol`] for a kind, action or subject kind without an Enum8 code.
pub fn alert_row(alert: &Alert, at: Coords<'_>) -> Result<AlertRow, RowError> {
    Ok(AlertRow {
        alert_id: alert.alert_id.clone(),
        kind: code("kind", ddl::ALERT_KIND, &alert.kind)?,
        action: code("action", ddl::ALERT_ACTION, &alert.action)?,
        subject_kind: code("subject_kind", ddl::SUBJECT_KIND, &alert.subject_kind)?,
        subject_id: alert.subject_id.clone(),
        domain_id: alert.domain_id.clone(),
        at: datetime(alert.at_ms),
        at_ms: alert.at_ms,
        score: alert.score,
        reasons: alert.reasons.clone(),
        detail: alert.detail.clone(),
        topic: at.topic.to_owned(),
        partition: at.partition,
        offset: at.offset,
    })
}

/// A row of `authority_audit`. See [`crate::ddl::analytics::authority_audit`].
#[derive(Debug, Clone, PartialEq, clickhouse::Row, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct AuthorityRow {
    pub at: u32,
    pub at_ms: i64,
    pub domain_id: String,
    /// Enum8 code from [`ddl::DECISION`].
    pub decision: i8,
    pub subject: String,
    pub target_kind: String,
    pub target_id: String,
    pub controller_id: String,
    pub epoch: i64,
    pub level: String,
    pub bundle_id: String,
    pub loser_controller_id: String,
    pub loser_epoch: Option<i64>,
    pub loser_at_ms: i64,
    pub rule: String,
    pub reason: String,
    pub controllers: Vec<String>,
    pub detail: String,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// The `authority_audit` row of a decision read at `at`.
///
/// # Errors
/// [`RowError::UnknownSymbol`] for a decision without an Enum8 code.
pub fn authority_row(d: &AuthorityDecision, at: Coords<'_>) -> Result<AuthorityRow, RowError> {
    Ok(AuthorityRow {
        at: datetime(d.at_ms),
        at_ms: d.at_ms,
        domain_id: d.domain_id.clone(),
        decision: code("decision", ddl::DECISION, &d.decision)?,
        subject: d.subject.clone(),
        target_kind: d.target_kind.clone().unwrap_or_default(),
        target_id: d.target_id.clone().unwrap_or_default(),
        controller_id: d.controller_id.clone(),
        epoch: d.epoch,
        level: d.level.clone(),
        bundle_id: d.bundle_id.clone().unwrap_or_default(),
        loser_controller_id: d.loser_controller_id.clone().unwrap_or_default(),
        loser_epoch: d.loser_epoch,
        loser_at_ms: d.loser_at_ms.unwrap_or(0),
        rule: d.rule.clone().unwrap_or_default(),
        reason: d.reason.clone().unwrap_or_default(),
        controllers: d.controllers.clone(),
        detail: d.detail.clone(),
        topic: at.topic.to_owned(),
        partition: at.partition,
        offset: at.offset,
    })
}

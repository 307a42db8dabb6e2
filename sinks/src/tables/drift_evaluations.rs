//! `drift_evaluations`: one row per drift report (`DriftReport`) of the fleet processor, with
//! the Kafka coordinates it was read from.

use serde::{Deserialize, Serialize};
use sxfleet_schemas::DriftReport;

use super::arrow::{col, Column, Kind};
use super::ddl::{delta_codec, low_cardinality_string, qualified, table, Replacing};
use super::enums::{self, enum8, DRIFT_STATUS};
use super::role::TopicRole;
use super::row::{code, datetime, plain_source_row, unsigned, Coords, RowError};
use super::table::Table;
use crate::caps::ServerCaps;

/// The `drift_evaluations` table.
#[derive(Clone, Copy, Debug)]
pub struct DriftEvaluations;

impl Table for DriftEvaluations {
    const NAME: &'static str = table::DRIFT_EVALUATIONS;
    const ROLE: TopicRole = TopicRole::Drift;
    const REPLACING: Option<Replacing> = Some(REPLACING);
    type Record = DriftReport;
    type Row = DriftRow;

    fn row(record: &DriftReport, at: Coords<'_>) -> Result<DriftRow, RowError> {
        drift_row(record, at)
    }

    fn create(database: &str, caps: &ServerCaps) -> String {
        create(database, caps)
    }

    fn columns() -> Vec<Column<DriftRow>> {
        vec![
            col("node_id", Kind::Str(|r| &r.node_id)),
            col("domain_id", Kind::Str(|r| &r.domain_id)),
            col("evaluated", Kind::DateTime(|r| r.evaluated)),
            col("evaluated_ms", Kind::I64(|r| r.evaluated_ms)),
            col("status", Kind::Enum(enums::DRIFT_STATUS, |r| r.status)),
            col("bundle_id", Kind::Str(|r| &r.bundle_id)),
            col("desired_source", Kind::Str(|r| &r.desired_source)),
            col("version_desired", Kind::Str(|r| &r.version_desired)),
            col("version_actual", Kind::Str(|r| &r.version_actual)),
            col("version_severity", Kind::Str(|r| &r.version_severity)),
            col("version_impact", Kind::Str(|r| &r.version_impact)),
            col("config_fields", Kind::Strings(|r| &r.config_fields)),
            col("config_desired", Kind::Strings(|r| &r.config_desired)),
            col("config_actual", Kind::Strings(|r| &r.config_actual)),
            col("config_missing", Kind::Flags(|r| &r.config_missing)),
            col("config_desired_keys", Kind::I32(|r| r.config_desired_keys)),
            col("policy_version", Kind::Str(|r| &r.policy_version)),
            col(
                "policy_actual_version",
                Kind::Str(|r| &r.policy_actual_version),
            ),
            col("compliance_score", Kind::OptF64(|r| r.compliance_score)),
            col("policy_violations", Kind::I32(|r| r.policy_violations)),
            col("score", Kind::F64(|r| r.score)),
            col("objects_out_of_spec", Kind::I32(|r| r.objects_out_of_spec)),
            col("last_sync_ms", Kind::I64(|r| r.last_sync_ms)),
            col("stale_by_ms", Kind::OptI64(|r| r.stale_by_ms)),
            col(
                "first_out_of_spec_ms",
                Kind::I64(|r| r.first_out_of_spec_ms),
            ),
            col("drift_age_ms", Kind::OptI64(|r| r.drift_age_ms)),
            col("seq", Kind::U64(|r| r.seq)),
            col("topic", Kind::Str(|r| &r.topic)),
            col("partition", Kind::I32(|r| r.partition)),
            col("offset", Kind::I64(|r| r.offset)),
        ]
    }
}

/// One live row per drift report of a node.
pub const REPLACING: Replacing = Replacing {
    table: table::DRIFT_EVALUATIONS,
    key: &["node_id", "seq"],
    version: None,
};

/// A row of `drift_evaluations`. See [`create`].
#[derive(Debug, Clone, PartialEq, clickhouse::Row, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct DriftRow {
    pub node_id: String,
    pub domain_id: String,
    pub evaluated: u32,
    pub evaluated_ms: i64,
    /// Enum8 code from [`enums::DRIFT_STATUS`].
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
        status: code("status", enums::DRIFT_STATUS, &report.status)?,
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

plain_source_row!(DriftRow, node_id);

/// `drift_evaluations`: one row per drift report, the per-field config differences as
/// parallel arrays (`config_actual` is `''` where `config_missing` is 1). One row per
/// `(node_id, seq)` under `FINAL`.
pub fn create(database: &str, caps: &ServerCaps) -> String {
    let lc = low_cardinality_string(caps);
    format!(
        "CREATE TABLE IF NOT EXISTS {table}
(
    node_id String,
    domain_id {lc},
    evaluated DateTime('UTC'),
    evaluated_ms Int64{codec},
    status {status},
    bundle_id {lc},
    desired_source {lc},
    version_desired {lc},
    version_actual {lc},
    version_severity {lc},
    version_impact {lc},
    config_fields Array(String),
    config_desired Array(String),
    config_actual Array(String),
    config_missing Array(UInt8),
    config_desired_keys Int32,
    policy_version {lc},
    policy_actual_version {lc},
    compliance_score Nullable(Float64),
    policy_violations Int32,
    score Float64,
    objects_out_of_spec Int32,
    last_sync_ms Int64,
    stale_by_ms Nullable(Int64),
    first_out_of_spec_ms Int64,
    drift_age_ms Nullable(Int64),
    seq UInt64,
    topic {lc},
    partition Int32,
    offset Int64
)
ENGINE = {engine}
PARTITION BY toYYYYMM(evaluated)
ORDER BY {key}",
        table = qualified(database, table::DRIFT_EVALUATIONS),
        engine = REPLACING.engine(),
        key = REPLACING.sorting_key(),
        status = enum8(DRIFT_STATUS),
        codec = delta_codec(caps),
    )
}

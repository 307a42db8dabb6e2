//! `authority_audit`: every authority decision (`AuthorityDecision`), with the Kafka
//! coordinates it was read from.

use serde::{Deserialize, Serialize};
use sxfleet_schemas::AuthorityDecision;

use super::arrow::{col, Column, Kind};
use super::ddl::{delta_codec, low_cardinality_string, qualified, table, Replacing};
use super::enums::{self, enum8, DECISION};
use super::role::TopicRole;
use super::row::{code, datetime, plain_source_row, Coords, RowError};
use super::table::Table;
use crate::caps::ServerCaps;

/// The `authority_audit` table.
#[derive(Clone, Copy, Debug)]
pub struct AuthorityAudit;

impl Table for AuthorityAudit {
    const NAME: &'static str = table::AUTHORITY_AUDIT;
    const ROLE: TopicRole = TopicRole::Authority;
    const REPLACING: Option<Replacing> = Some(REPLACING);
    type Record = AuthorityDecision;
    type Row = AuthorityRow;

    fn row(record: &AuthorityDecision, at: Coords<'_>) -> Result<AuthorityRow, RowError> {
        authority_row(record, at)
    }

    fn create(database: &str, caps: &ServerCaps) -> String {
        create(database, caps)
    }

    fn columns() -> Vec<Column<AuthorityRow>> {
        vec![
            col("at", Kind::DateTime(|r| r.at)),
            col("at_ms", Kind::I64(|r| r.at_ms)),
            col("domain_id", Kind::Str(|r| &r.domain_id)),
            col("decision", Kind::Enum(enums::DECISION, |r| r.decision)),
            col("subject", Kind::Str(|r| &r.subject)),
            col("target_kind", Kind::Str(|r| &r.target_kind)),
            col("target_id", Kind::Str(|r| &r.target_id)),
            col("controller_id", Kind::Str(|r| &r.controller_id)),
            col("epoch", Kind::I64(|r| r.epoch)),
            col("level", Kind::Str(|r| &r.level)),
            col("bundle_id", Kind::Str(|r| &r.bundle_id)),
            col("loser_controller_id", Kind::Str(|r| &r.loser_controller_id)),
            col("loser_epoch", Kind::OptI64(|r| r.loser_epoch)),
            col("loser_at_ms", Kind::I64(|r| r.loser_at_ms)),
            col("rule", Kind::Str(|r| &r.rule)),
            col("reason", Kind::Str(|r| &r.reason)),
            col("controllers", Kind::Strings(|r| &r.controllers)),
            col("detail", Kind::Str(|r| &r.detail)),
            col("topic", Kind::Str(|r| &r.topic)),
            col("partition", Kind::I32(|r| r.partition)),
            col("offset", Kind::I64(|r| r.offset)),
        ]
    }
}

/// One live row per decision record (decisions have no natural key).
pub const REPLACING: Replacing = Replacing {
    table: table::AUTHORITY_AUDIT,
    key: &["domain_id", "partition", "offset"],
    version: None,
};

/// A row of `authority_audit`. See [`create`].
#[derive(Debug, Clone, PartialEq, clickhouse::Row, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct AuthorityRow {
    pub at: u32,
    pub at_ms: i64,
    pub domain_id: String,
    /// Enum8 code from [`enums::DECISION`].
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
        decision: code("decision", enums::DECISION, &d.decision)?,
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

// Authority decisions are about domains: none.
plain_source_row!(AuthorityRow);

/// `authority_audit`: every authority decision (LWW audits, master changes, split brains,
/// accepted and rejected assignments). Decisions have no natural key, so a row is identified by
/// its Kafka coordinates: `(domain_id, partition, offset)` under `FINAL`.
pub fn create(database: &str, caps: &ServerCaps) -> String {
    let lc = low_cardinality_string(caps);
    format!(
        "CREATE TABLE IF NOT EXISTS {table}
(
    at DateTime('UTC'),
    at_ms Int64{codec},
    domain_id String,
    decision {decision},
    subject {lc},
    target_kind {lc},
    target_id String,
    controller_id {lc},
    epoch Int64,
    level {lc},
    bundle_id {lc},
    loser_controller_id {lc},
    loser_epoch Nullable(Int64),
    loser_at_ms Int64,
    rule {lc},
    reason {lc},
    controllers Array(String),
    detail String,
    topic {lc},
    partition Int32,
    offset Int64
)
ENGINE = {engine}
PARTITION BY toYYYYMM(at)
ORDER BY {key}",
        table = qualified(database, table::AUTHORITY_AUDIT),
        engine = REPLACING.engine(),
        key = REPLACING.sorting_key(),
        decision = enum8(DECISION),
        codec = delta_codec(caps),
    )
}

//! `alerts`: attention-queue and split-brain alerts (`Alert`), one row per raise and per
//! resolve, with the Kafka coordinates they were read from.

use serde::{Deserialize, Serialize};
use sxfleet_schemas::Alert;

use super::arrow::{col, Column, Kind};
use super::ddl::{delta_codec, low_cardinality_string, qualified, table, Replacing};
use super::enums::{self, enum8, ALERT_ACTION, ALERT_KIND, SUBJECT_KIND};
use super::role::TopicRole;
use super::row::{code, datetime, plain_source_row, Coords, RowError};
use super::table::Table;
use crate::caps::ServerCaps;

/// The `alerts` table.
#[derive(Clone, Copy, Debug)]
pub struct Alerts;

impl Table for Alerts {
    const NAME: &'static str = table::ALERTS;
    const ROLE: TopicRole = TopicRole::Alerts;
    const REPLACING: Option<Replacing> = Some(REPLACING);
    type Record = Alert;
    type Row = AlertRow;

    fn row(record: &Alert, at: Coords<'_>) -> Result<AlertRow, RowError> {
        alert_row(record, at)
    }

    fn create(database: &str, caps: &ServerCaps) -> String {
        create(database, caps)
    }

    fn columns() -> Vec<Column<AlertRow>> {
        vec![
            col("alert_id", Kind::Str(|r| &r.alert_id)),
            col("kind", Kind::Enum(enums::ALERT_KIND, |r| r.kind)),
            col("action", Kind::Enum(enums::ALERT_ACTION, |r| r.action)),
            col(
                "subject_kind",
                Kind::Enum(enums::SUBJECT_KIND, |r| r.subject_kind),
            ),
            col("subject_id", Kind::Str(|r| &r.subject_id)),
            col("domain_id", Kind::Str(|r| &r.domain_id)),
            col("at", Kind::DateTime(|r| r.at)),
            col("at_ms", Kind::I64(|r| r.at_ms)),
            col("score", Kind::F64(|r| r.score)),
            col("reasons", Kind::Strings(|r| &r.reasons)),
            col("detail", Kind::Str(|r| &r.detail)),
            col("topic", Kind::Str(|r| &r.topic)),
            col("partition", Kind::I32(|r| r.partition)),
            col("offset", Kind::I64(|r| r.offset)),
        ]
    }
}

/// One live row per raise and per resolve of an alert.
pub const REPLACING: Replacing = Replacing {
    table: table::ALERTS,
    key: &["alert_id", "action"],
    version: None,
};

/// A row of `alerts`. See [`create`].
#[derive(Debug, Clone, PartialEq, clickhouse::Row, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct AlertRow {
    pub alert_id: String,
    /// Enum8 code from [`enums::ALERT_KIND`].
    pub kind: i8,
    /// Enum8 code from [`enums::ALERT_ACTION`].
    pub action: i8,
    /// Enum8 code from [`enums::SUBJECT_KIND`].
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
        kind: code("kind", enums::ALERT_KIND, &alert.kind)?,
        action: code("action", enums::ALERT_ACTION, &alert.action)?,
        subject_kind: code("subject_kind", enums::SUBJECT_KIND, &alert.subject_kind)?,
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

// The alert's subject: a node id, or a domain id for a split brain.
plain_source_row!(AlertRow, subject_id);

/// `alerts`: attention-queue and split-brain alerts, one row per raise and per resolve
/// (`(alert_id, action)` under `FINAL`).
pub fn create(database: &str, caps: &ServerCaps) -> String {
    let lc = low_cardinality_string(caps);
    format!(
        "CREATE TABLE IF NOT EXISTS {table}
(
    alert_id String,
    kind {kind},
    action {action},
    subject_kind {subject},
    subject_id String,
    domain_id {lc},
    at DateTime('UTC'),
    at_ms Int64{codec},
    score Float64,
    reasons Array(String),
    detail String,
    topic {lc},
    partition Int32,
    offset Int64
)
ENGINE = {engine}
PARTITION BY toYYYYMM(at)
ORDER BY {key}",
        table = qualified(database, table::ALERTS),
        engine = REPLACING.engine(),
        key = REPLACING.sorting_key(),
        kind = enum8(ALERT_KIND),
        action = enum8(ALERT_ACTION),
        subject = enum8(SUBJECT_KIND),
        codec = delta_codec(caps),
    )
}

//! `domains`: every domain as the processor publishes it (`Domain` v2 on `fleet.domains.v1`),
//! flattened, one live row per domain under `FINAL` (the highest `revision`), with the Kafka
//! coordinates of the record.

use serde::{Deserialize, Serialize};
use sxfleet_schemas::Domain;

use super::arrow::{col, Column, Kind};
use super::ddl::{low_cardinality_string, qualified, table, Replacing};
use super::role::TopicRole;
use super::row::{datetime, plain_source_row, unsigned, Coords, RowError};
use super::table::Table;
use crate::caps::ServerCaps;

/// The `domains` table.
#[derive(Clone, Copy, Debug)]
pub struct Domains;

impl Table for Domains {
    const NAME: &'static str = table::DOMAINS;
    const ROLE: TopicRole = TopicRole::Domains;
    const REPLACING: Option<Replacing> = Some(REPLACING);
    type Record = Domain;
    type Row = DomainRow;

    fn row(record: &Domain, at: Coords<'_>) -> Result<DomainRow, RowError> {
        domain_row(record, at)
    }

    fn create(database: &str, caps: &ServerCaps) -> String {
        create(database, caps)
    }

    fn columns() -> Vec<Column<DomainRow>> {
        vec![
            col("domain_id", Kind::Str(|r| &r.domain_id)),
            col("name", Kind::Str(|r| &r.name)),
            col("parent_id", Kind::Str(|r| &r.parent_id)),
            col("level", Kind::Str(|r| &r.level)),
            col("autonomy", Kind::Str(|r| &r.autonomy)),
            col("path", Kind::Strings(|r| &r.path)),
            col("version", Kind::U64(|r| r.version)),
            col(
                "master_controller_id",
                Kind::Str(|r| &r.master_controller_id),
            ),
            col("master_level", Kind::Str(|r| &r.master_level)),
            col("master_epoch", Kind::I64(|r| r.master_epoch)),
            col("master_since_ms", Kind::I64(|r| r.master_since_ms)),
            col("split_brain", Kind::U8(|r| r.split_brain)),
            col("contenders", Kind::Strings(|r| &r.contenders)),
            col("sync_upstream", Kind::Str(|r| &r.sync_upstream)),
            col("sync_frequency_ms", Kind::I64(|r| r.sync_frequency_ms)),
            col("sync_mode", Kind::Str(|r| &r.sync_mode)),
            col("can_operate_isolated", Kind::U8(|r| r.can_operate_isolated)),
            col(
                "upstream_controller_id",
                Kind::Str(|r| &r.upstream_controller_id),
            ),
            col("upstream_peer", Kind::Str(|r| &r.upstream_peer)),
            col(
                "upstream_last_sync_ms",
                Kind::I64(|r| r.upstream_last_sync_ms),
            ),
            col(
                "upstream_frequency_ms",
                Kind::I64(|r| r.upstream_frequency_ms),
            ),
            col("upstream_mode", Kind::Str(|r| &r.upstream_mode)),
            col(
                "upstream_pending_changes",
                Kind::I64(|r| r.upstream_pending_changes),
            ),
            col(
                "upstream_sync_debt_s",
                Kind::I64(|r| r.upstream_sync_debt_s),
            ),
            col("upstream_overdue", Kind::U8(|r| r.upstream_overdue)),
            col("authority_status", Kind::Str(|r| &r.authority_status)),
            col("authority_reason", Kind::Str(|r| &r.authority_reason)),
            col("updated_ms", Kind::I64(|r| r.updated_ms)),
            col("updated_at", Kind::DateTime(|r| r.updated_at)),
            col("revision", Kind::U64(|r| r.revision)),
            col("topic", Kind::Str(|r| &r.topic)),
            col("partition", Kind::I32(|r| r.partition)),
            col("offset", Kind::I64(|r| r.offset)),
        ]
    }
}

/// One live row per domain: the highest revision.
pub const REPLACING: Replacing = Replacing {
    table: table::DOMAINS,
    key: &["domain_id"],
    version: Some("revision"),
};

/// A row of `domains`. See [`create`].
#[derive(Debug, Clone, PartialEq, clickhouse::Row, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct DomainRow {
    pub domain_id: String,
    pub name: String,
    pub parent_id: String,
    pub level: String,
    pub autonomy: String,
    pub path: Vec<String>,
    pub version: u64,
    pub master_controller_id: String,
    pub master_level: String,
    pub master_epoch: i64,
    pub master_since_ms: i64,
    pub split_brain: u8,
    pub contenders: Vec<String>,
    pub sync_upstream: String,
    /// `0` when the domain's settings name no frequency.
    pub sync_frequency_ms: i64,
    pub sync_mode: String,
    pub can_operate_isolated: u8,
    /// `''` (and zeros below) when no upstream sync was ever reported.
    pub upstream_controller_id: String,
    pub upstream_peer: String,
    pub upstream_last_sync_ms: i64,
    pub upstream_frequency_ms: i64,
    pub upstream_mode: String,
    pub upstream_pending_changes: i64,
    pub upstream_sync_debt_s: i64,
    pub upstream_overdue: u8,
    pub authority_status: String,
    pub authority_reason: String,
    pub updated_ms: i64,
    pub updated_at: u32,
    pub revision: u64,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// The `domains` row of a domain read at `at`.
///
/// # Errors
/// [`RowError::Negative`] for a negative `version` or `revision`.
pub fn domain_row(d: &Domain, at: Coords<'_>) -> Result<DomainRow, RowError> {
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let master = d.authority.as_ref();
    let sync = d.sync.as_ref();
    let upstream = d.upstream_sync.as_ref();
    Ok(DomainRow {
        domain_id: d.domain_id.clone(),
        name: text(&d.name),
        parent_id: text(&d.parent_id),
        level: d.level.as_str().to_owned(),
        autonomy: text(&d.autonomy),
        path: d.path.clone(),
        version: unsigned("version", d.version)?,
        master_controller_id: master.map_or_else(String::new, |m| m.controller_id.clone()),
        master_level: master.map_or_else(String::new, |m| m.level.as_str().to_owned()),
        master_epoch: master.map_or(0, |m| m.epoch),
        master_since_ms: d.master_since_ms.unwrap_or(0),
        split_brain: u8::from(d.split_brain),
        contenders: d.contenders.clone(),
        sync_upstream: sync.and_then(|s| s.upstream.clone()).unwrap_or_default(),
        sync_frequency_ms: sync.and_then(|s| s.frequency_ms).unwrap_or(0),
        sync_mode: sync.and_then(|s| s.mode.clone()).unwrap_or_default(),
        can_operate_isolated: u8::from(d.can_operate_isolated),
        upstream_controller_id: upstream.map_or_else(String::new, |u| u.controller_id.clone()),
        upstream_peer: upstream.map_or_else(String::new, |u| u.peer.clone()),
        upstream_last_sync_ms: upstream.map_or(0, |u| u.last_sync_ms),
        upstream_frequency_ms: upstream.and_then(|u| u.frequency_ms).unwrap_or(0),
        upstream_mode: upstream.and_then(|u| u.mode.clone()).unwrap_or_default(),
        upstream_pending_changes: upstream.map_or(0, |u| u.pending_changes),
        upstream_sync_debt_s: upstream.map_or(0, |u| u.sync_debt_s),
        upstream_overdue: u8::from(upstream.is_some_and(|u| u.overdue)),
        authority_status: d.authority_status.clone(),
        authority_reason: text(&d.authority_reason),
        updated_ms: d.updated_ms,
        updated_at: datetime(d.updated_ms),
        revision: unsigned("revision", d.revision)?,
        topic: at.topic.to_owned(),
        partition: at.partition,
        offset: at.offset,
    })
}

// Domains are not about a node: none.
plain_source_row!(DomainRow);

/// `domains`: the domain tree with each domain's master of record, federation sync and
/// authority status, deduplicated by `revision` and read with `FINAL`. Absent strings are `''`,
/// absent times and frequencies `0`.
pub fn create(database: &str, caps: &ServerCaps) -> String {
    let lc = low_cardinality_string(caps);
    format!(
        "CREATE TABLE IF NOT EXISTS {table}
(
    domain_id String,
    name String,
    parent_id String,
    level {lc},
    autonomy {lc},
    path Array(String),
    version UInt64,
    master_controller_id {lc},
    master_level {lc},
    master_epoch Int64,
    master_since_ms Int64,
    split_brain UInt8,
    contenders Array(String),
    sync_upstream {lc},
    sync_frequency_ms Int64,
    sync_mode {lc},
    can_operate_isolated UInt8,
    upstream_controller_id {lc},
    upstream_peer {lc},
    upstream_last_sync_ms Int64,
    upstream_frequency_ms Int64,
    upstream_mode {lc},
    upstream_pending_changes Int64,
    upstream_sync_debt_s Int64,
    upstream_overdue UInt8,
    authority_status {lc},
    authority_reason {lc},
    updated_ms Int64,
    updated_at DateTime('UTC'),
    revision UInt64,
    topic {lc},
    partition Int32,
    offset Int64
)
ENGINE = {engine}
ORDER BY {key}",
        table = qualified(database, table::DOMAINS),
        engine = REPLACING.engine(),
        key = REPLACING.sorting_key(),
    )
}

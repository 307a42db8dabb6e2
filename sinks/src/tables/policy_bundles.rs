//! `policy_bundles`: every version of every policy bundle with the processor's decision about
//! it (`BundleVersion` on `fleet.bundles.v1`), one live row per `(bundle_id, version)` under
//! `FINAL` (the highest `revision`), with the Kafka coordinates of the record.

use serde::{Deserialize, Serialize};
use sxfleet_schemas::BundleVersion;

use super::arrow::{col, Column, Kind};
use super::ddl::{low_cardinality_string, qualified, table, Replacing};
use super::role::TopicRole;
use super::row::{datetime, plain_source_row, unsigned, Coords, RowError};
use super::table::Table;
use crate::caps::ServerCaps;

/// The `policy_bundles` table.
#[derive(Clone, Copy, Debug)]
pub struct PolicyBundles;

impl Table for PolicyBundles {
    const NAME: &'static str = table::POLICY_BUNDLES;
    const ROLE: TopicRole = TopicRole::Bundles;
    const REPLACING: Option<Replacing> = Some(REPLACING);
    type Record = BundleVersion;
    type Row = BundleRow;

    fn row(record: &BundleVersion, at: Coords<'_>) -> Result<BundleRow, RowError> {
        bundle_row(record, at)
    }

    fn create(database: &str, caps: &ServerCaps) -> String {
        create(database, caps)
    }

    fn columns() -> Vec<Column<BundleRow>> {
        vec![
            col("bundle_id", Kind::Str(|r| &r.bundle_id)),
            col("version", Kind::Str(|r| &r.version)),
            col("target_version", Kind::Str(|r| &r.target_version)),
            col("policy_version", Kind::Str(|r| &r.policy_version)),
            col("config_keys", Kind::Strings(|r| &r.config_keys)),
            col("config_values", Kind::Strings(|r| &r.config_values)),
            col("constraint_keys", Kind::Strings(|r| &r.constraint_keys)),
            col("constraint_values", Kind::Strings(|r| &r.constraint_values)),
            col("status", Kind::Str(|r| &r.status)),
            col("event_time_ms", Kind::I64(|r| r.event_time_ms)),
            col("decided_ms", Kind::I64(|r| r.decided_ms)),
            col("decided_at", Kind::DateTime(|r| r.decided_at)),
            col("superseded_by", Kind::Str(|r| &r.superseded_by)),
            col("revision", Kind::U64(|r| r.revision)),
            col("topic", Kind::Str(|r| &r.topic)),
            col("partition", Kind::I32(|r| r.partition)),
            col("offset", Kind::I64(|r| r.offset)),
        ]
    }
}

/// One live row per bundle version: the latest decision about it.
pub const REPLACING: Replacing = Replacing {
    table: table::POLICY_BUNDLES,
    key: &["bundle_id", "version"],
    version: Some("revision"),
};

/// A row of `policy_bundles`. See [`create`].
#[derive(Debug, Clone, PartialEq, clickhouse::Row, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct BundleRow {
    pub bundle_id: String,
    pub version: String,
    pub target_version: String,
    pub policy_version: String,
    /// The desired configuration as parallel arrays, sorted by key.
    pub config_keys: Vec<String>,
    pub config_values: Vec<String>,
    /// The rollout constraints as parallel arrays, sorted by key.
    pub constraint_keys: Vec<String>,
    pub constraint_values: Vec<String>,
    /// `IN_FORCE`, `SUPERSEDED` or `STALE`.
    pub status: String,
    pub event_time_ms: i64,
    pub decided_ms: i64,
    pub decided_at: u32,
    /// `''` unless superseded.
    pub superseded_by: String,
    pub revision: u64,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// The `policy_bundles` row of a bundle version read at `at`.
///
/// # Errors
/// [`RowError::Negative`] for a negative `revision`.
pub fn bundle_row(b: &BundleVersion, at: Coords<'_>) -> Result<BundleRow, RowError> {
    let bundle = &b.bundle;
    let keys = |map: &sxfleet_schemas::StringMap| map.keys().cloned().collect::<Vec<_>>();
    let values = |map: &sxfleet_schemas::StringMap| map.values().cloned().collect::<Vec<_>>();
    Ok(BundleRow {
        bundle_id: bundle.bundle_id.clone(),
        version: bundle.version.clone(),
        target_version: bundle.target_version.clone(),
        policy_version: bundle.policy_version.clone(),
        config_keys: keys(&bundle.config),
        config_values: values(&bundle.config),
        constraint_keys: keys(&bundle.constraints),
        constraint_values: values(&bundle.constraints),
        status: b.status.clone(),
        event_time_ms: b.event_time_ms,
        decided_ms: b.decided_ms,
        decided_at: datetime(b.decided_ms),
        superseded_by: b.superseded_by.clone().unwrap_or_default(),
        revision: unsigned("revision", b.revision)?,
        topic: at.topic.to_owned(),
        partition: at.partition,
        offset: at.offset,
    })
}

// Bundles are not about a node: none.
plain_source_row!(BundleRow);

/// `policy_bundles`: every bundle version and its status (IN_FORCE, SUPERSEDED, STALE),
/// deduplicated by `revision` and read with `FINAL`.
pub fn create(database: &str, caps: &ServerCaps) -> String {
    let lc = low_cardinality_string(caps);
    format!(
        "CREATE TABLE IF NOT EXISTS {table}
(
    bundle_id String,
    version String,
    target_version {lc},
    policy_version {lc},
    config_keys Array(String),
    config_values Array(String),
    constraint_keys Array(String),
    constraint_values Array(String),
    status {lc},
    event_time_ms Int64,
    decided_ms Int64,
    decided_at DateTime('UTC'),
    superseded_by String,
    revision UInt64,
    topic {lc},
    partition Int32,
    offset Int64
)
ENGINE = {engine}
ORDER BY {key}",
        table = qualified(database, table::POLICY_BUNDLES),
        engine = REPLACING.engine(),
        key = REPLACING.sorting_key(),
    )
}

//! `commands`: the status ledger of every command, one row per `CommandStatus` record of
//! `fleet.command-status.v1` (accepted, held, published, re-sent, acknowledged, applied,
//! failed, expired, lost, rejected, cancelled), with the Kafka coordinates it was read from.

use serde::{Deserialize, Serialize};
use sxfleet_schemas::CommandStatus;

use super::arrow::{col, Column, Kind};
use super::ddl::{delta_codec, low_cardinality_string, qualified, table, Replacing};
use super::enums::{self, enum8};
use super::role::TopicRole;
use super::row::{code, datetime, plain_source_row, unsigned, Coords, RowError};
use super::table::Table;
use crate::caps::ServerCaps;

/// The `commands` table.
#[derive(Clone, Copy, Debug)]
pub struct Commands;

impl Table for Commands {
    const NAME: &'static str = table::COMMANDS;
    const ROLE: TopicRole = TopicRole::CommandStatus;
    const REPLACING: Option<Replacing> = Some(REPLACING);
    type Record = CommandStatus;
    type Row = CommandRow;

    fn row(record: &CommandStatus, at: Coords<'_>) -> Result<CommandRow, RowError> {
        command_row(record, at)
    }

    fn create(database: &str, caps: &ServerCaps) -> String {
        create(database, caps)
    }

    fn columns() -> Vec<Column<CommandRow>> {
        vec![
            col("command_id", Kind::Str(|r| &r.command_id)),
            col("idempotency_key", Kind::Str(|r| &r.idempotency_key)),
            col("node_id", Kind::Str(|r| &r.node_id)),
            col("domain_id", Kind::Str(|r| &r.domain_id)),
            col(
                "target_kind",
                Kind::Enum(enums::COMMAND_TARGET, |r| r.target_kind),
            ),
            col("target_id", Kind::Str(|r| &r.target_id)),
            col("kind", Kind::Enum(enums::COMMAND_KIND, |r| r.kind)),
            col("delivery", Kind::Enum(enums::DELIVERY, |r| r.delivery)),
            col("status", Kind::Enum(enums::COMMAND_STATE, |r| r.status)),
            col("reason", Kind::Str(|r| &r.reason)),
            col("at", Kind::DateTime(|r| r.at)),
            col("at_ms", Kind::I64(|r| r.at_ms)),
            col("attempts", Kind::I32(|r| r.attempts)),
            col("issued_ms", Kind::I64(|r| r.issued_ms)),
            col("expires_ms", Kind::I64(|r| r.expires_ms)),
            col("controller_id", Kind::Str(|r| &r.controller_id)),
            col("rollout", Kind::Str(|r| &r.rollout)),
            col("seq", Kind::U64(|r| r.seq)),
            col("topic", Kind::Str(|r| &r.topic)),
            col("partition", Kind::I32(|r| r.partition)),
            col("offset", Kind::I64(|r| r.offset)),
        ]
    }
}

/// One live row per status record: a node's status records have increasing `seq`s; a
/// domain-level rejection (`node_id` `''`, `seq` 0) is one per `(command_id, status)`.
pub const REPLACING: Replacing = Replacing {
    table: table::COMMANDS,
    key: &["node_id", "command_id", "seq", "status"],
    version: None,
};

/// A row of `commands`. See [`create`] for the columns.
#[derive(Debug, Clone, PartialEq, clickhouse::Row, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct CommandRow {
    pub command_id: String,
    pub idempotency_key: String,
    /// `''` for a domain-level rejection.
    pub node_id: String,
    pub domain_id: String,
    /// Enum8 code from [`enums::COMMAND_TARGET`].
    pub target_kind: i8,
    pub target_id: String,
    /// Enum8 code from [`enums::COMMAND_KIND`].
    pub kind: i8,
    /// Enum8 code from [`enums::DELIVERY`].
    pub delivery: i8,
    /// Enum8 code from [`enums::COMMAND_STATE`].
    pub status: i8,
    /// `''` without a reason.
    pub reason: String,
    /// Seconds since the epoch (`DateTime('UTC')`) of `at_ms`.
    pub at: u32,
    pub at_ms: i64,
    pub attempts: i32,
    pub issued_ms: i64,
    /// `0`: never expires.
    pub expires_ms: i64,
    pub controller_id: String,
    /// `<bundle_id>@<version>` for a rollout's update, else `''`.
    pub rollout: String,
    pub seq: u64,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// The `commands` row for a status record, read at `at`.
///
/// # Errors
/// [`RowError::Negative`] for a negative `seq`; [`RowError::UnknownSymbol`] for an enum symbol
/// without an Enum8 code.
pub fn command_row(status: &CommandStatus, at: Coords<'_>) -> Result<CommandRow, RowError> {
    Ok(CommandRow {
        command_id: status.command_id.clone(),
        idempotency_key: status.idempotency_key.clone(),
        node_id: status.node_id.clone(),
        domain_id: status.domain_id.clone(),
        target_kind: code(
            "target_kind",
            enums::COMMAND_TARGET,
            status.target_kind.as_str(),
        )?,
        target_id: status.target_id.clone(),
        kind: code("kind", enums::COMMAND_KIND, status.kind.as_str())?,
        delivery: code("delivery", enums::DELIVERY, status.delivery.as_str())?,
        status: code("status", enums::COMMAND_STATE, status.status.as_str())?,
        reason: status.reason.clone().unwrap_or_default(),
        at: datetime(status.at_ms),
        at_ms: status.at_ms,
        attempts: status.attempts,
        issued_ms: status.issued_ms,
        expires_ms: status.expires_ms.unwrap_or(0),
        controller_id: status.controller_id.clone(),
        rollout: status.rollout.clone().unwrap_or_default(),
        seq: unsigned("seq", status.seq)?,
        topic: at.topic.to_owned(),
        partition: at.partition,
        offset: at.offset,
    })
}

plain_source_row!(CommandRow, node_id);

/// `commands`: every status record of every command (`CommandStatus`), with the Kafka
/// coordinates it was read from.
///
/// ReplacingMergeTree ordered by `(node_id, command_id, seq, status)` ([`REPLACING`]): the sink
/// lands each record once, and a record the processor wrote twice (its at-least-once mode)
/// still counts once under `FINAL`. Rows of one record share `at` and so the monthly
/// partition. `reason` and `rollout` are `''` when absent, `expires_ms` `0` for a command that
/// never expires.
pub fn create(database: &str, caps: &ServerCaps) -> String {
    let lc = low_cardinality_string(caps);
    format!(
        "CREATE TABLE IF NOT EXISTS {table}
(
    command_id String,
    idempotency_key String,
    node_id String,
    domain_id {lc},
    target_kind {target_kind},
    target_id String,
    kind {kind},
    delivery {delivery},
    status {status},
    reason {lc},
    at DateTime('UTC'),
    at_ms Int64{codec},
    attempts Int32,
    issued_ms Int64,
    expires_ms Int64,
    controller_id {lc},
    rollout {lc},
    seq UInt64,
    topic {lc},
    partition Int32,
    offset Int64
)
ENGINE = {engine}
PARTITION BY toYYYYMM(at)
ORDER BY {key}",
        table = qualified(database, table::COMMANDS),
        engine = REPLACING.engine(),
        key = REPLACING.sorting_key(),
        target_kind = enum8(enums::COMMAND_TARGET),
        kind = enum8(enums::COMMAND_KIND),
        delivery = enum8(enums::DELIVERY),
        status = enum8(enums::COMMAND_STATE),
        codec = delta_codec(caps),
    )
}

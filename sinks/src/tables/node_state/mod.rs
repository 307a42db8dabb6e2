//! `node_state`: the digital twin (`Node`) flattened, one live row per node under `FINAL`, with
//! the Kafka coordinates of the twin record.

use serde::{Deserialize, Serialize};
use sxfleet_schemas::Node;

use super::arrow::{col, Column, Kind};
use super::ddl::{low_cardinality_string, qualified, table, Replacing};
use super::enums::{self, enum8, ATTESTATION, CONNECTIVITY, HEALTH, NODE_KIND};
use super::role::TopicRole;
use super::row::{code, datetime, plain_source_row, unsigned, Coords, RowError};
use super::table::Table;
use crate::caps::ServerCaps;

mod added;

pub use self::added::{
    node_state_coordinates, node_state_v2_columns, node_state_v3_columns, node_state_v4_columns,
};

/// The `node_state` table.
#[derive(Clone, Copy, Debug)]
pub struct NodeState;

impl Table for NodeState {
    const NAME: &'static str = table::NODE_STATE;
    const ROLE: TopicRole = TopicRole::Twin;
    const REPLACING: Option<Replacing> = Some(REPLACING);
    type Record = Node;
    type Row = NodeStateRow;

    fn row(record: &Node, at: Coords<'_>) -> Result<NodeStateRow, RowError> {
        node_state_row(record, at)
    }

    fn create(database: &str, caps: &ServerCaps) -> String {
        create(database, caps)
    }

    fn columns() -> Vec<Column<NodeStateRow>> {
        vec![
            col("node_id", Kind::Str(|r| &r.node_id)),
            col("name", Kind::Str(|r| &r.name)),
            col("kind", Kind::Enum(enums::NODE_KIND, |r| r.kind)),
            col("tags", Kind::Strings(|r| &r.tags)),
            col("domain_id", Kind::Str(|r| &r.domain_id)),
            col("region", Kind::Str(|r| &r.region)),
            col("zone", Kind::Str(|r| &r.zone)),
            col("authority_level", Kind::Str(|r| &r.authority_level)),
            col("controller_ids", Kind::Strings(|r| &r.controller_ids)),
            col(
                "authority_updated_ms",
                Kind::I64(|r| r.authority_updated_ms),
            ),
            col(
                "connectivity",
                Kind::Enum(enums::CONNECTIVITY, |r| r.connectivity),
            ),
            col("last_seen_ms", Kind::I64(|r| r.last_seen_ms)),
            col("rtt_ms", Kind::OptF64(|r| r.rtt_ms)),
            col("loss_pct", Kind::OptF64(|r| r.loss_pct)),
            col("bandwidth_kbps", Kind::OptI64(|r| r.bandwidth_kbps)),
            col("seconds_behind", Kind::I64(|r| r.seconds_behind)),
            col("backlog_messages", Kind::I64(|r| r.backlog_messages)),
            col("replay_required", Kind::U8(|r| r.replay_required)),
            col(
                "lifecycle_phase",
                Kind::Enum(enums::LIFECYCLE_PHASE, |r| r.lifecycle_phase),
            ),
            col("lifecycle_state", Kind::Str(|r| &r.lifecycle_state)),
            col("lifecycle_reason", Kind::Str(|r| &r.lifecycle_reason)),
            col(
                "lifecycle_transition_ms",
                Kind::I64(|r| r.lifecycle_transition_ms),
            ),
            col("health", Kind::Enum(enums::HEALTH, |r| r.health)),
            col("last_heartbeat_ms", Kind::I64(|r| r.last_heartbeat_ms)),
            col("uptime_s", Kind::OptI64(|r| r.uptime_s)),
            col("reported_version", Kind::Str(|r| &r.reported_version)),
            col("policy_version", Kind::Str(|r| &r.policy_version)),
            col("desired_bundle_id", Kind::Str(|r| &r.desired_bundle_id)),
            col("target_version", Kind::Str(|r| &r.target_version)),
            col(
                "desired_policy_version",
                Kind::Str(|r| &r.desired_policy_version),
            ),
            col("drift_score", Kind::F64(|r| r.drift_score)),
            col("drift_objects", Kind::I32(|r| r.drift_objects)),
            col("drift_evaluated_ms", Kind::I64(|r| r.drift_evaluated_ms)),
            col("hw_serial", Kind::Str(|r| &r.hw_serial)),
            col("hw_manufacturer", Kind::Str(|r| &r.hw_manufacturer)),
            col("hw_model", Kind::Str(|r| &r.hw_model)),
            col("hw_batch_id", Kind::Str(|r| &r.hw_batch_id)),
            col("hw_origin", Kind::Str(|r| &r.hw_origin)),
            col("firmware_version", Kind::Str(|r| &r.firmware_version)),
            col("firmware_signature", Kind::Str(|r| &r.firmware_signature)),
            col("sbom_hash", Kind::Str(|r| &r.sbom_hash)),
            col(
                "attestation",
                Kind::Enum(enums::ATTESTATION, |r| r.attestation),
            ),
            col("attested_ms", Kind::I64(|r| r.attested_ms)),
            col("version", Kind::U64(|r| r.version)),
            col("last_seq", Kind::U64(|r| r.last_seq)),
            col("last_event_id", Kind::Str(|r| &r.last_event_id)),
            col("events_applied", Kind::U64(|r| r.events_applied)),
            col("updated_ms", Kind::I64(|r| r.updated_ms)),
            col("updated_at", Kind::DateTime(|r| r.updated_at)),
            col(
                "drift_status",
                Kind::Enum(enums::DRIFT_STATUS, |r| r.drift_status),
            ),
            col("drift_stale_by_ms", Kind::OptI64(|r| r.drift_stale_by_ms)),
            col("drift_age_ms", Kind::OptI64(|r| r.drift_age_ms)),
            col(
                "trust_state",
                Kind::Enum(enums::TRUST_STATE, |r| r.trust_state),
            ),
            col("trust_violations", Kind::U64(|r| r.trust_violations)),
            col("last_violation", Kind::Str(|r| &r.last_violation)),
            col("last_violation_ms", Kind::I64(|r| r.last_violation_ms)),
            col("attention_score", Kind::F64(|r| r.attention_score)),
            col("alert_open", Kind::U8(|r| r.alert_open)),
            col("attention_reasons", Kind::Strings(|r| &r.attention_reasons)),
            col("replay_session", Kind::Str(|r| &r.replay_session)),
            col("replay_started_ms", Kind::I64(|r| r.replay_started_ms)),
            col("replay_chunks", Kind::I64(|r| r.replay_chunks)),
            col("replay_events", Kind::I64(|r| r.replay_events)),
            col(
                "replay_backlog_total",
                Kind::OptI64(|r| r.replay_backlog_total),
            ),
            col("topic", Kind::Str(|r| &r.topic)),
            col("partition", Kind::I32(|r| r.partition)),
            col("offset", Kind::I64(|r| r.offset)),
            col("domain_path", Kind::Strings(|r| &r.domain_path)),
            col("relay_path", Kind::Strings(|r| &r.relay_path)),
            col("last_sync_ms", Kind::I64(|r| r.last_sync_ms)),
            col("edge_peers", Kind::Strings(|r| &r.edge_peers)),
            col("edge_relations", Kind::Strings(|r| &r.edge_relations)),
            col("edge_states", Kind::Strings(|r| &r.edge_states)),
            col("edge_changed_ms", Kind::I64s(|r| &r.edge_changed_ms)),
            col("commands_pending", Kind::I32(|r| r.commands_pending)),
            col("commands_held", Kind::I32(|r| r.commands_held)),
            col(
                "maintenance_since_ms",
                Kind::I64(|r| r.maintenance_since_ms),
            ),
        ]
    }
}

/// One live row per node: the highest twin version.
pub const REPLACING: Replacing = Replacing {
    table: table::NODE_STATE,
    key: &["node_id"],
    version: Some("version"),
};

/// A row of `node_state`: the twin flattened. See [`create`] for the columns.
#[derive(Debug, Clone, PartialEq, clickhouse::Row, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct NodeStateRow {
    pub node_id: String,
    pub name: String,
    pub kind: i8,
    pub tags: Vec<String>,
    pub domain_id: String,
    pub region: String,
    pub zone: String,
    pub authority_level: String,
    pub controller_ids: Vec<String>,
    pub authority_updated_ms: i64,
    pub connectivity: i8,
    pub last_seen_ms: i64,
    pub rtt_ms: Option<f64>,
    pub loss_pct: Option<f64>,
    pub bandwidth_kbps: Option<i64>,
    pub seconds_behind: i64,
    pub backlog_messages: i64,
    pub replay_required: u8,
    pub lifecycle_phase: i8,
    pub lifecycle_state: String,
    pub lifecycle_reason: String,
    pub lifecycle_transition_ms: i64,
    pub health: i8,
    pub last_heartbeat_ms: i64,
    pub uptime_s: Option<i64>,
    pub reported_version: String,
    pub policy_version: String,
    pub desired_bundle_id: String,
    pub target_version: String,
    pub desired_policy_version: String,
    pub drift_score: f64,
    pub drift_objects: i32,
    pub drift_evaluated_ms: i64,
    pub hw_serial: String,
    pub hw_manufacturer: String,
    pub hw_model: String,
    pub hw_batch_id: String,
    pub hw_origin: String,
    pub firmware_version: String,
    pub firmware_signature: String,
    pub sbom_hash: String,
    pub attestation: i8,
    pub attested_ms: i64,
    pub version: u64,
    pub last_seq: u64,
    pub last_event_id: String,
    pub events_applied: u64,
    pub updated_ms: i64,
    pub updated_at: u32,
    /// Enum8 code from [`enums::DRIFT_STATUS`].
    pub drift_status: i8,
    pub drift_stale_by_ms: Option<i64>,
    pub drift_age_ms: Option<i64>,
    /// Enum8 code from [`enums::TRUST_STATE`].
    pub trust_state: i8,
    pub trust_violations: u64,
    pub last_violation: String,
    pub last_violation_ms: i64,
    pub attention_score: f64,
    pub alert_open: u8,
    pub attention_reasons: Vec<String>,
    /// `''` when no replay is in flight.
    pub replay_session: String,
    pub replay_started_ms: i64,
    pub replay_chunks: i64,
    pub replay_events: i64,
    pub replay_backlog_total: Option<i64>,
    /// Where the twin record was read (migration 9).
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// Domains from the root to the node's own (migration 12, Node v3).
    pub domain_path: Vec<String>,
    /// Relays the node's traffic takes, nearest first.
    pub relay_path: Vec<String>,
    /// Last synchronisation with the control plane; `0` = never.
    pub last_sync_ms: i64,
    /// The node's declared edges, one element per edge in each array, sorted by
    /// `(peer, relation)`.
    pub edge_peers: Vec<String>,
    pub edge_relations: Vec<String>,
    pub edge_states: Vec<String>,
    pub edge_changed_ms: Vec<i64>,
    /// Commands accepted and not yet ended, and those of them held (migration 17, Node v4).
    pub commands_pending: i32,
    pub commands_held: i32,
    /// When the node's maintenance began; `0` = not in maintenance.
    pub maintenance_since_ms: i64,
}

/// The `node_state` row for a twin, read at `at`.
///
/// # Errors
/// [`RowError::Negative`] for a negative `version`, `last_seq` or `events_applied`;
/// [`RowError::UnknownSymbol`] for an enum symbol without an Enum8 code.
pub fn node_state_row(node: &Node, at: Coords<'_>) -> Result<NodeStateRow, RowError> {
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let conn = &node.connectivity;
    let actual = &node.actual_state;
    let desired = &node.desired_state;
    let chain = &node.supply_chain;
    let attestation = chain.attestation.as_ref();
    let replay = conn.replay.as_ref();
    Ok(NodeStateRow {
        node_id: node.id.clone(),
        name: text(&node.name),
        kind: code("kind", enums::NODE_KIND, node.kind.as_str())?,
        tags: node.tags.clone(),
        domain_id: node.domain_id.clone(),
        region: node.region.clone(),
        zone: node.zone.clone(),
        authority_level: node
            .authority
            .master_of_record
            .map_or_else(String::new, |level| level.as_str().to_owned()),
        controller_ids: node.authority.controller_ids.clone(),
        authority_updated_ms: node.authority.last_authoritative_update_ms.unwrap_or(0),
        connectivity: code("connectivity", enums::CONNECTIVITY, conn.mode.as_str())?,
        last_seen_ms: conn.last_seen_ms.unwrap_or(0),
        rtt_ms: conn.link_quality.rtt_ms,
        loss_pct: conn.link_quality.loss_pct,
        bandwidth_kbps: conn.link_quality.bandwidth_kbps,
        seconds_behind: conn.sync_debt.seconds_behind,
        backlog_messages: conn.sync_debt.backlog_messages,
        replay_required: u8::from(conn.sync_debt.replay_required),
        lifecycle_phase: code("lifecycle_phase", enums::LIFECYCLE_PHASE, phase(node))?,
        lifecycle_state: node.lifecycle.state.clone(),
        lifecycle_reason: text(&node.lifecycle.reason),
        lifecycle_transition_ms: node.lifecycle.last_transition_ms.unwrap_or(0),
        health: code("health", enums::HEALTH, actual.runtime.health.as_str())?,
        last_heartbeat_ms: actual.runtime.last_heartbeat_ms.unwrap_or(0),
        uptime_s: actual.runtime.uptime_s,
        reported_version: text(&actual.reported_version),
        policy_version: text(&actual.policy_version),
        desired_bundle_id: text(&desired.policy_bundle_id),
        target_version: text(&desired.target_version),
        desired_policy_version: text(&desired.policy_version),
        drift_score: node.drift.score,
        drift_objects: node.drift.objects_out_of_spec,
        drift_evaluated_ms: node.drift.last_evaluated_ms.unwrap_or(0),
        hw_serial: text(&chain.hardware.serial),
        hw_manufacturer: text(&chain.hardware.manufacturer),
        hw_model: text(&chain.hardware.model),
        hw_batch_id: text(&chain.hardware.batch_id),
        hw_origin: text(&chain.hardware.origin),
        firmware_version: text(&chain.firmware.version),
        firmware_signature: text(&chain.firmware.signature),
        sbom_hash: text(&actual.sbom_hash),
        attestation: match attestation {
            Some(status) => code("attestation", enums::ATTESTATION, status.result.as_str())?,
            None => 0,
        },
        attested_ms: attestation.map_or(0, |status| status.at_ms),
        version: unsigned("version", node.version)?,
        last_seq: unsigned("last_seq", node.last_seq)?,
        last_event_id: text(&node.last_event_id),
        events_applied: unsigned("events_applied", node.events_applied)?,
        updated_ms: node.updated_ms,
        updated_at: datetime(node.updated_ms),
        drift_status: code("drift_status", enums::DRIFT_STATUS, &node.drift.status)?,
        drift_stale_by_ms: node.drift.stale_by_ms,
        drift_age_ms: node.drift.drift_age_ms,
        trust_state: code("trust_state", enums::TRUST_STATE, &node.trust.state)?,
        trust_violations: unsigned("trust.violations", node.trust.violations)?,
        last_violation: text(&node.trust.last_violation),
        last_violation_ms: node.trust.last_violation_ms.unwrap_or(0),
        attention_score: node.attention.score,
        alert_open: u8::from(node.attention.alert_open),
        attention_reasons: node.attention.reasons.clone(),
        replay_session: replay
            .and_then(|r| r.session_id.clone())
            .unwrap_or_default(),
        replay_started_ms: replay.map_or(0, |r| r.started_ms),
        replay_chunks: replay.map_or(0, |r| r.chunks_received),
        replay_events: replay.map_or(0, |r| r.events_received),
        replay_backlog_total: replay.and_then(|r| r.backlog_total),
        topic: at.topic.to_owned(),
        partition: at.partition,
        offset: at.offset,
        domain_path: node.domain_path.clone(),
        relay_path: node.relay_path.clone(),
        last_sync_ms: conn.last_sync_ms.unwrap_or(0),
        edge_peers: node.edges.iter().map(|e| e.peer_id.clone()).collect(),
        edge_relations: node.edges.iter().map(|e| e.relation.clone()).collect(),
        edge_states: node.edges.iter().map(|e| e.state.clone()).collect(),
        edge_changed_ms: node.edges.iter().map(|e| e.changed_ms).collect(),
        commands_pending: node.commands_pending,
        commands_held: node.commands_held,
        maintenance_since_ms: node
            .lifecycle
            .maintenance
            .as_ref()
            .map_or(0, |m| m.since_ms),
    })
}

/// The precise state that `lifecycle_phase` names itself although the Avro phase, a closed
/// set, reads `UPDATING` there for old readers (Node v4).
pub const MAINTENANCE: &str = "MAINTENANCE";

/// The twin's `lifecycle_phase`: [`MAINTENANCE`] in that precise state, else its Avro phase.
fn phase(node: &Node) -> &'static str {
    if node.lifecycle.state == MAINTENANCE {
        MAINTENANCE
    } else {
        node.lifecycle.phase.as_str()
    }
}

plain_source_row!(NodeStateRow, node_id);

/// `node_state`: the flattened twin, deduplicated by `version` (ReplacingMergeTree keeps the
/// row with the highest version per node) and read with `FINAL`.
///
/// Absent values: strings are `''` and timestamps (`*_ms`) are `0` ("never"; no real
/// observation is at the epoch). The link-quality measurements and uptime are Nullable instead,
/// because `0` is a real measurement there and `avg()`/`quantile()` must skip nodes that never
/// reported one; they are not part of the sorting key, which 18.16 requires.
pub fn create(database: &str, caps: &ServerCaps) -> String {
    let lc = low_cardinality_string(caps);
    format!(
        "CREATE TABLE IF NOT EXISTS {table}
(
    node_id String,
    name String,
    kind {kind},
    tags Array(String),
    domain_id {lc},
    region {lc},
    zone {lc},
    authority_level {lc},
    controller_ids Array(String),
    authority_updated_ms Int64,
    connectivity {connectivity},
    last_seen_ms Int64,
    rtt_ms Nullable(Float64),
    loss_pct Nullable(Float64),
    bandwidth_kbps Nullable(Int64),
    seconds_behind Int64,
    backlog_messages Int64,
    replay_required UInt8,
    lifecycle_phase {phase},
    lifecycle_state String,
    lifecycle_reason String,
    lifecycle_transition_ms Int64,
    health {health},
    last_heartbeat_ms Int64,
    uptime_s Nullable(Int64),
    reported_version {lc},
    policy_version {lc},
    desired_bundle_id {lc},
    target_version {lc},
    desired_policy_version {lc},
    drift_score Float64,
    drift_objects Int32,
    drift_evaluated_ms Int64,
    hw_serial String,
    hw_manufacturer {lc},
    hw_model {lc},
    hw_batch_id String,
    hw_origin {lc},
    firmware_version {lc},
    firmware_signature String,
    sbom_hash String,
    attestation {attestation},
    attested_ms Int64,
    version UInt64,
    last_seq UInt64,
    last_event_id String,
    events_applied UInt64,
    updated_ms Int64,
    updated_at DateTime('UTC')
)
ENGINE = {engine}
ORDER BY {key}",
        table = qualified(database, table::NODE_STATE),
        engine = REPLACING.engine(),
        key = REPLACING.sorting_key(),
        kind = enum8(NODE_KIND),
        connectivity = enum8(CONNECTIVITY),
        // Created with the phases of its shipped text; migration 17 adds MAINTENANCE.
        phase = enum8(enums::LIFECYCLE_PHASE_V1),
        health = enum8(HEALTH),
        attestation = enum8(ATTESTATION),
    )
}

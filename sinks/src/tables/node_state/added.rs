//! The columns `node_state` gained after its first definition, as `ADD COLUMN` migration steps
//! (migrations 5, 9, 12 and 17), and the widening of `lifecycle_phase` (migration 17); the
//! table's first definition is [`super::create`].

use crate::caps::ServerCaps;
use crate::tables::ddl::{low_cardinality_string, qualified, table, Step};
use crate::tables::enums::{enum8, DRIFT_STATUS, LIFECYCLE_PHASE, TRUST_STATE};

/// One `ADD COLUMN` step on `node_state`.
fn column(column: &'static str, definition: String) -> Step {
    Step::AddColumn {
        table: table::NODE_STATE,
        column,
        definition,
    }
}

/// The `node_state` columns of Node v2 (drift verdict, trust, attention) and of the replay in
/// flight (session, start, chunks and events received, announced backlog). Each has a default,
/// so sinks built before them keep inserting (they name their columns).
pub fn node_state_v2_columns(caps: &ServerCaps) -> Vec<Step> {
    let lc = low_cardinality_string(caps);
    vec![
        column(
            "drift_status",
            format!("{} DEFAULT 'UNASSIGNED'", enum8(DRIFT_STATUS)),
        ),
        column(
            "drift_stale_by_ms",
            "Nullable(Int64) DEFAULT NULL".to_owned(),
        ),
        column("drift_age_ms", "Nullable(Int64) DEFAULT NULL".to_owned()),
        column(
            "trust_state",
            format!("{} DEFAULT 'UNVERIFIED'", enum8(TRUST_STATE)),
        ),
        column("trust_violations", "UInt64 DEFAULT 0".to_owned()),
        column("last_violation", format!("{lc} DEFAULT ''")),
        column("last_violation_ms", "Int64 DEFAULT 0".to_owned()),
        column("attention_score", "Float64 DEFAULT 0".to_owned()),
        column("alert_open", "UInt8 DEFAULT 0".to_owned()),
        column("attention_reasons", "Array(String) DEFAULT []".to_owned()),
        column("replay_session", format!("{lc} DEFAULT ''")),
        column("replay_started_ms", "Int64 DEFAULT 0".to_owned()),
        column("replay_chunks", "Int64 DEFAULT 0".to_owned()),
        column("replay_events", "Int64 DEFAULT 0".to_owned()),
        column(
            "replay_backlog_total",
            "Nullable(Int64) DEFAULT NULL".to_owned(),
        ),
    ]
}

/// Migration 9: the Kafka coordinates of each `node_state` row, so a replayed twin record
/// is recognised as landed (see [`crate::backend::clickhouse::landed`]). Rows written before
/// have `''`/`-1`/`-1`.
pub fn node_state_coordinates(caps: &ServerCaps) -> Vec<Step> {
    vec![
        column(
            "topic",
            format!("{} DEFAULT ''", low_cardinality_string(caps)),
        ),
        column("partition", "Int32 DEFAULT -1".to_owned()),
        column("offset", "Int64 DEFAULT -1".to_owned()),
    ]
}

/// Migration 12: the hierarchy and topology of Node v3: the domain path, the relay path, the
/// last sync and the declared edges (parallel arrays). Rows written before have `[]` and `0`.
pub fn node_state_v3_columns() -> Vec<Step> {
    let strings = || "Array(String) DEFAULT []".to_owned();
    vec![
        column("domain_path", strings()),
        column("relay_path", strings()),
        column("last_sync_ms", "Int64 DEFAULT 0".to_owned()),
        column("edge_peers", strings()),
        column("edge_relations", strings()),
        column("edge_states", strings()),
        column("edge_changed_ms", "Array(Int64) DEFAULT []".to_owned()),
    ]
}

/// Migration 17 (Node v4): `lifecycle_phase` gains `MAINTENANCE` (adding an Enum8 value changes
/// only metadata, on 18.16 too; running it again changes nothing), and the twin's open and held
/// commands and the start of its maintenance (`0`: not in maintenance). Rows written before
/// have `0`.
pub fn node_state_v4_columns(database: &str) -> Vec<Step> {
    let widened = format!(
        "ALTER TABLE {} MODIFY COLUMN lifecycle_phase {}",
        qualified(database, table::NODE_STATE),
        enum8(LIFECYCLE_PHASE)
    );
    vec![
        Step::Sql(widened),
        column("commands_pending", "Int32 DEFAULT 0".to_owned()),
        column("commands_held", "Int32 DEFAULT 0".to_owned()),
        column("maintenance_since_ms", "Int64 DEFAULT 0".to_owned()),
    ]
}

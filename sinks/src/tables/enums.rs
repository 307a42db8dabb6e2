//! The Enum8 value tables: the contract between the DDL and the rows. A row carries the `i8`
//! code, and the tests check each schema enum variant maps to the entry with its own name.
//! Codes are stable forever; new symbols get new codes. `UNKNOWN` is `0` wherever the Avro enum
//! has it as its resolution default, so a record written with a newer schema still inserts.

use std::fmt::Write as _;

/// A fixed set of names and their Enum8 codes.
pub type Enum8Values = &'static [(&'static str, i8)];

/// `events.kind`: the canonical event kinds (Avro `EventKind`, FleetEvent v3).
pub const EVENT_KIND: Enum8Values = &[
    ("UNKNOWN", 0),
    ("REGISTER", 1),
    ("HEARTBEAT", 2),
    ("LINK", 3),
    ("SNAPSHOT", 4),
    ("LIFECYCLE", 5),
    ("ATTESTATION", 6),
    ("REPLAY", 7),
    ("TRUST_VIOLATION", 8),
    ("EDGE", 9),
    ("COMMAND_ACK", 10),
];

/// `events.kind` before FleetEvent v4 (migration 15 widened the column to it; migration 16
/// to [`EVENT_KIND`]).
pub const EVENT_KIND_V3: Enum8Values = &[
    ("UNKNOWN", 0),
    ("REGISTER", 1),
    ("HEARTBEAT", 2),
    ("LINK", 3),
    ("SNAPSHOT", 4),
    ("LIFECYCLE", 5),
    ("ATTESTATION", 6),
    ("REPLAY", 7),
    ("TRUST_VIOLATION", 8),
    ("EDGE", 9),
];

/// `events.kind` as FleetEvent v2 knew it: the type of the shipped texts of migrations 1
/// (`CREATE TABLE events`) and 8, which must not change; migration 15 widens it to
/// [`EVENT_KIND`].
pub const EVENT_KIND_V2: Enum8Values = &[
    ("UNKNOWN", 0),
    ("REGISTER", 1),
    ("HEARTBEAT", 2),
    ("LINK", 3),
    ("SNAPSHOT", 4),
    ("LIFECYCLE", 5),
    ("ATTESTATION", 6),
    ("REPLAY", 7),
    ("TRUST_VIOLATION", 8),
];

/// `events.source`, `dlq.source`: how a record entered the pipeline (Avro `Source`).
pub const SOURCE: Enum8Values = &[("UNKNOWN", 0), ("KAFKA_RAW", 1), ("HTTP", 2), ("REPLAY", 3)];

/// `node_state.kind` (Avro `NodeKind`).
pub const NODE_KIND: Enum8Values = &[
    ("UNKNOWN", 0),
    ("EDGE", 1),
    ("DC", 2),
    ("GATEWAY", 3),
    ("RELAY", 4),
    ("VIRTUAL", 5),
];

/// `node_state.connectivity`: the connectivity spectrum (Avro `ConnectivityMode`), in
/// spectrum order so `ORDER BY connectivity` reads from best to worst.
pub const CONNECTIVITY: Enum8Values = &[
    ("UNKNOWN", 0),
    ("LIVE", 1),
    ("DELAYED", 2),
    ("EDGE_CACHED", 3),
    ("AUTONOMOUS", 4),
    ("DISCONNECTED", 5),
    ("RETURNING", 6),
    ("REPLAYING", 7),
];

/// `node_state.lifecycle_phase`: the Avro `LifecyclePhase` (a closed set, in state-machine
/// order) and `MAINTENANCE`, which the twin's phase reads as `UPDATING` for old readers and the
/// row writes when the precise state is `MAINTENANCE` (Node v4; migration 17 widens the column).
pub const LIFECYCLE_PHASE: Enum8Values = &[
    ("PROVISIONING", 1),
    ("ENROLLED", 2),
    ("ACTIVE", 3),
    ("UPDATING", 4),
    ("DEGRADED", 5),
    ("QUARANTINED", 6),
    ("DECOMMISSIONING", 7),
    ("RETIRED", 8),
    ("MAINTENANCE", 9),
];

/// `node_state.lifecycle_phase` before Node v4: the type of the shipped text of migration 2
/// (`CREATE TABLE node_state`), which must not change; migration 17 widens it to
/// [`LIFECYCLE_PHASE`].
pub const LIFECYCLE_PHASE_V1: Enum8Values = &[
    ("PROVISIONING", 1),
    ("ENROLLED", 2),
    ("ACTIVE", 3),
    ("UPDATING", 4),
    ("DEGRADED", 5),
    ("QUARANTINED", 6),
    ("DECOMMISSIONING", 7),
    ("RETIRED", 8),
];

/// `node_state.health` (Avro `Health`).
pub const HEALTH: Enum8Values = &[("UNKNOWN", 0), ("OK", 1), ("DEGRADED", 2), ("FAILED", 3)];

/// `node_state.attestation`: the last attestation result (Avro `AttestationResult`), `NONE`
/// when the node was never attested.
pub const ATTESTATION: Enum8Values = &[("NONE", 0), ("VERIFIED", 1), ("FAILED", 2)];

/// `transitions.machine`: the state machine of a ledger entry (Avro `TransitionMachine`).
pub const TRANSITION_MACHINE: Enum8Values =
    &[("UNKNOWN", 0), ("CONNECTIVITY", 1), ("LIFECYCLE", 2)];

/// The code of `name` in `values`, if it is one of them.
pub fn enum8_code(values: Enum8Values, name: &str) -> Option<i8> {
    values
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, code)| *code)
}

/// Renders `Enum8('A' = 1, 'B' = 2)`. Names are plain upper-case identifiers, so they need no
/// escaping.
pub fn enum8(values: Enum8Values) -> String {
    let mut sql = String::from("Enum8(");
    for (i, (name, code)) in values.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        // Writing to a String cannot fail.
        let _ = write!(sql, "'{name}' = {code}");
    }
    sql.push(')');
    sql
}

/// `drift_evaluations.status` and `node_state.drift_status`.
pub const DRIFT_STATUS: Enum8Values = &[
    ("UNASSIGNED", 0),
    ("IN_SPEC", 1),
    ("DRIFTED", 2),
    ("UNKNOWN", 3),
];

/// `node_state.trust_state`.
pub const TRUST_STATE: Enum8Values = &[("UNVERIFIED", 0), ("TRUSTED", 1), ("VIOLATED", 2)];

/// `alerts.kind`.
pub const ALERT_KIND: Enum8Values = &[("ATTENTION", 1), ("SPLIT_BRAIN", 2)];

/// `alerts.action`.
pub const ALERT_ACTION: Enum8Values = &[("RAISE", 1), ("RESOLVE", 2)];

/// `alerts.subject_kind`.
pub const SUBJECT_KIND: Enum8Values = &[("NODE", 1), ("DOMAIN", 2)];

/// `authority_audit.decision`.
pub const DECISION: Enum8Values = &[
    ("AUDIT", 1),
    ("MASTER_CHANGED", 2),
    ("SPLIT_BRAIN", 3),
    ("SPLIT_BRAIN_RESOLVED", 4),
    ("ACCEPTED", 5),
    ("REJECTED", 6),
];

/// `commands.target_kind` (Avro `CommandTarget`).
pub const COMMAND_TARGET: Enum8Values = &[("NODE", 1), ("DOMAIN", 2)];

/// `commands.kind` (Avro `CommandKind`).
pub const COMMAND_KIND: Enum8Values = &[
    ("UNKNOWN", 0),
    ("APPLY_BUNDLE", 1),
    ("UPDATE", 2),
    ("RESTART", 3),
    ("REMEDIATE", 4),
    ("DECOMMISSION", 5),
    ("MAINTENANCE_START", 6),
    ("MAINTENANCE_END", 7),
    ("ROTATE_CERTIFICATE", 8),
    ("CUSTOM", 9),
];

/// `commands.delivery` (Avro `Delivery`, a closed set).
pub const DELIVERY: Enum8Values = &[("AT_MOST_ONCE", 1), ("AT_LEAST_ONCE", 2)];

/// `commands.status`: a command's status (Avro `CommandState`), in the order a command meets
/// them; `APPLIED` and later are terminal.
pub const COMMAND_STATE: Enum8Values = &[
    ("UNKNOWN", 0),
    ("ACCEPTED", 1),
    ("HELD", 2),
    ("PUBLISHED", 3),
    ("RESENT", 4),
    ("RECEIVED", 5),
    ("APPLIED", 6),
    ("FAILED", 7),
    ("EXPIRED", 8),
    ("LOST", 9),
    ("REJECTED", 10),
    ("CANCELLED", 11),
];

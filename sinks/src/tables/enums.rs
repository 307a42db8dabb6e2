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

/// `node_state.lifecycle_phase` (Avro `LifecyclePhase`, a closed set), in state-machine order.
pub const LIFECYCLE_PHASE: Enum8Values = &[
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

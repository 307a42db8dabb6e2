//! `StateTransition` (topic `fleet.transitions.v1`, key node id): one ledger entry of a node's
//! connectivity or lifecycle state machine, or a recorded lifecycle violation.
//!
//! The Avro record is named `StateTransition` because `Transition` is already taken in the
//! namespace by the entry type of [`crate::Timeline`], whose schema is released and cannot
//! change.

use serde::{Deserialize, Serialize};

use super::{avro_enum, EpochMillis};
use crate::catalog;
use crate::codec::plain_canonical;

avro_enum! {
    /// State machine a [`StateTransition`] belongs to.
    pub enum TransitionMachine {
        /// The connectivity spectrum (LIVE, DELAYED, EDGE_CACHED, ...).
        Connectivity = "CONNECTIVITY",
        /// The lifecycle machine (precise states such as LIVE_OK, QUARANTINED).
        Lifecycle = "LIFECYCLE",
        /// A machine added after this schema version (Avro resolution default).
        Unknown = "UNKNOWN",
    }
}

/// One ledger entry: a transition taken (`applied`) or a violation recorded and not applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateTransition {
    /// Node whose machine changed (also the message key).
    pub node_id: String,
    /// Domain the node belonged to when the entry was made (`""` when it had not registered
    /// one); version 1 entries read as `""`.
    pub domain_id: String,
    /// Machine that produced the entry.
    pub machine: TransitionMachine,
    /// Event time of the transition, or the instant a timer fired.
    pub at_ms: EpochMillis,
    /// State left (for a violation: the state the node stays in), in the machine's spelling.
    pub from_state: String,
    /// State entered; for a violation the requested state, or `""` when none was named.
    pub to_state: String,
    /// False for a violation that was recorded and not applied.
    pub applied: bool,
    /// Why, e.g. `"latency_threshold"`, `"connection_lost"`, `"backlog_upload"`, or the
    /// violation's reason.
    pub reason: String,
    /// Round-trip time (ms, a duration) explaining a connectivity change.
    pub latency_ms: Option<f64>,
    /// Backlog announced (messages), on a change to REPLAYING.
    pub backlog: Option<i64>,
    /// Observed silence between syncs (ms, a duration), on a change to EDGE_CACHED.
    pub sync_interval_ms: Option<i64>,
    /// Lifecycle phase after the transition (a `LifecyclePhase` symbol), when known.
    pub phase: Option<String>,
    /// Causing event; `None` for a timer firing.
    pub event_id: Option<String>,
    /// Per-node sequence number of ledger entries; `(node_id, machine, seq)` identifies an
    /// entry, so a replayed one can be deduplicated.
    pub seq: i64,
}

plain_canonical!(StateTransition => catalog::STATE_TRANSITION);

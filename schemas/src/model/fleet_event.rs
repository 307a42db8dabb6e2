//! `FleetEvent` (topic `fleet.events.v1`): the canonical node event and its payloads.
//!
//! [`FleetEvent`] is the ergonomic domain type: its payload is an enum, so kind and payload
//! cannot disagree. [`FleetEventWire`] mirrors the Avro record field by field (one nullable
//! field per payload). Encoding a `FleetEvent` writes the wire record directly from borrowed
//! fields; decoding reads a `FleetEventWire` and checks it, see [`TryFrom<FleetEventWire>`].

use serde::{Deserialize, Serialize};

use super::command::CommandAck;
use super::common::{AttestationResult, EventKind, Firmware, Hardware, Health, Inventory};
use super::common::{NodeKind, Source};
use super::payload_union::payload_union;
use super::{avro_enum, EpochMillis, StringMap};
use crate::catalog;

/// A canonical node event.
///
/// Serde (Avro, and also JSON) sees it as the wire record; see the module docs.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "FleetEventWire")]
pub struct FleetEvent {
    /// Event id from the source, else `"<node_id>:<seq>"` (see [`FleetEvent::derived_event_id`]).
    pub event_id: String,
    /// Immutable node id.
    pub node_id: String,
    /// Per-node monotonic sequence number.
    pub seq: i64,
    /// Event time.
    pub event_time_ms: EpochMillis,
    /// Ingest time: raw Kafka message timestamp or HTTP receive time, never a processor clock.
    pub received_ms: EpochMillis,
    /// How the event entered the pipeline.
    pub source: Source,
    /// True when the event arrived inside a replay chunk.
    pub replayed: bool,
    /// What happened.
    pub payload: EventPayload,
}

impl FleetEvent {
    /// The event id used when the source gives none: `"<node_id>:<seq>"`.
    pub fn derived_event_id(node_id: &str, seq: i64) -> String {
        format!("{node_id}:{seq}")
    }
}

payload_union! {
    event: FleetEvent,
    record: "FleetEvent",
    entry: catalog::FLEET_EVENT,
    kind: EventKind,
    view: FleetEventView,
    fields {
        event_id: String,
        node_id: String,
        seq: i64,
        event_time_ms: EpochMillis,
        received_ms: EpochMillis,
        source: Source,
        replayed: bool,
    }
    /// `FleetEvent` exactly as the Avro record: one nullable field per payload.
    ///
    /// Any combination can be decoded; [`FleetEvent::try_from`] checks that exactly the payload
    /// named by `kind` is set.
    pub struct FleetEventWire;
    /// Payload of a [`FleetEvent`], one variant per [`EventKind`] (except `Unknown`).
    pub enum EventPayload {
        /// Identity declaration.
        Register(Register) => register,
        /// Liveness and link report.
        Heartbeat(Heartbeat) => heartbeat,
        /// Control link lost or detected.
        Link(Link) => link,
        /// Reported actual state.
        Snapshot(Snapshot) => snapshot,
        /// Lifecycle signal.
        Lifecycle(Lifecycle) => lifecycle,
        /// Attestation result.
        Attestation(Attestation) => attestation,
        /// Replay progress marker.
        Replay(Replay) => replay,
        // `default`: the field was added in FleetEvent v2 (schema id 1017).
        /// Input claiming to be from the node failed verification (emitted by the normalizer).
        TrustViolation(TrustViolation) => #[serde(default)] trust_violation,
        // `default`: the field was added in FleetEvent v3 (schema id 1021).
        /// A declared relationship to a peer node.
        Edge(EdgeDecl) => #[serde(default)] edge,
        // `default`: the field was added in FleetEvent v4.
        /// The node's acknowledgement of a command.
        CommandAck(CommandAck) => #[serde(default)] command_ack,
    }
}

/// Identity declaration of a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Register {
    /// Kind of node.
    pub kind: NodeKind,
    /// Domain the node belongs to.
    pub domain_id: String,
    /// Region.
    pub region: String,
    /// Zone within the region.
    pub zone: String,
    /// Free-form tags.
    pub tags: Vec<String>,
    /// Hardware identity.
    pub hardware: Hardware,
    /// Firmware identity.
    pub firmware: Firmware,
    /// Public key for signature verification.
    pub public_key: Option<String>,
}

/// Periodic liveness and link report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// Round-trip time in ms.
    pub rtt_ms: Option<f64>,
    /// Packet loss in percent.
    pub loss_pct: Option<f64>,
    /// Bandwidth in kbit/s.
    pub bandwidth_kbps: Option<i64>,
    /// Messages buffered on the node.
    pub backlog_messages: Option<i64>,
    /// Self-reported health.
    pub health: Health,
    /// Seconds since boot.
    pub uptime_s: Option<i64>,
    /// Relays the traffic takes, nearest hop first; `None`: unchanged, empty: direct.
    pub via: Option<Vec<String>>,
    /// Battery charge in percent, when the node runs on one.
    pub battery_pct: Option<f64>,
}

avro_enum! {
    /// Link transition.
    pub enum LinkState {
        /// The link dropped.
        Lost = "LOST",
        /// The link came back.
        Detected = "DETECTED",
    }
}

/// Control link lost or detected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// The transition.
    pub state: LinkState,
    /// Relays the traffic takes, nearest hop first; `None`: unchanged, empty: direct.
    pub via: Option<Vec<String>>,
}

/// Reported actual state of a node.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Software version running.
    pub reported_version: Option<String>,
    /// Policy version applied.
    pub policy_version: Option<String>,
    /// Reported configuration; values are JSON values rendered as text (see [`StringMap`]).
    pub config: StringMap,
    /// Firmware version running.
    pub firmware_version: Option<String>,
    /// Hash of the running SBOM.
    pub sbom_hash: Option<String>,
    /// Hardware inventory, when reported.
    pub inventory: Option<Inventory>,
}

/// Lifecycle signal; the lifecycle projection decides whether it is a valid transition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifecycle {
    /// Event name, e.g. `"enrollment_complete"`, `"activate"`, `"update_start"`.
    pub event: String,
    /// Free-text reason.
    pub reason: Option<String>,
}

/// Result of a remote attestation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attestation {
    /// Outcome.
    pub result: AttestationResult,
    /// Firmware signature measured.
    pub firmware_signature: Option<String>,
    /// Certificate expiry.
    pub cert_not_after_ms: Option<EpochMillis>,
}

avro_enum! {
    /// Replay protocol step.
    pub enum ReplayPhase {
        /// Session starts.
        Begin = "BEGIN",
        /// A chunk of backlog events.
        Chunk = "CHUNK",
        /// Session ends.
        End = "END",
    }
}

/// Replay progress marker; the events a chunk carries become their own FleetEvents with
/// `replayed = true`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replay {
    /// Protocol step.
    pub phase: ReplayPhase,
    /// Session id, when given.
    pub session_id: Option<String>,
    /// Chunk number within the session.
    pub chunk_seq: Option<i64>,
    /// Total backlog announced.
    pub backlog_total: Option<i64>,
    /// Events carried in this chunk.
    pub event_count: i64,
}

/// Input claiming to come from a node failed verification: unsigned or forged while the node has
/// a registered key, or a registration trying to replace that key. The normalizer emits it next
/// to the DLQ record of the offending input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustViolation {
    /// DLQ reason code of the offending input (`unsigned`, `bad_signature`, `key_conflict`).
    pub reason: String,
    /// Human-readable detail.
    pub detail: String,
    /// `seq` of the offending message, when readable.
    pub offending_seq: Option<i64>,
    /// `event_id` of the offending message, when readable.
    pub offending_event_id: Option<String>,
}

avro_enum! {
    /// What a node-to-node relationship carries.
    pub enum EdgeRelation {
        /// Signalling traffic.
        Signaling = "SIGNALING",
        /// Media traffic.
        Media = "MEDIA",
        /// Control traffic.
        Control = "CONTROL",
        /// A bypass path around the usual route.
        Bypass = "BYPASS",
        /// A relation added after this schema version.
        Unknown = "UNKNOWN",
    }
}

avro_enum! {
    /// State of a node-to-node relationship.
    pub enum EdgeState {
        /// Working.
        Up = "UP",
        /// Declared but not working.
        Down = "DOWN",
        /// No longer declared.
        Removed = "REMOVED",
        /// A state added after this schema version.
        Unknown = "UNKNOWN",
    }
}

/// A relationship the node declares from itself to a peer node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EdgeDecl {
    /// The other node (never the node itself).
    pub peer_id: String,
    /// What it carries.
    pub relation: EdgeRelation,
    /// Its state.
    pub state: EdgeState,
}

//! `Node`: the digital twin (topic `fleet.twin.v1`, compacted, key = node id; ClickHouse
//! `node_state`). Modelled on seed 004's "Node" object plus pipeline metadata.

use serde::{Deserialize, Serialize};

use super::common::{
    AttestationResult, AuthorityLevel, ConnectivityMode, Firmware, Hardware, Health, Inventory,
    LifecyclePhase, LinkQuality, NodeKind,
};
use super::{EpochMillis, StringMap};
use crate::catalog;
use crate::codec::plain_canonical;

/// Digital twin of a node: a projection of the event log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// Immutable node id.
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// Kind; `Unknown` until registered.
    pub kind: NodeKind,
    /// Tags from registration.
    pub tags: Vec<String>,
    /// Domain; empty until registered.
    pub domain_id: String,
    /// Region; empty until registered.
    pub region: String,
    /// Zone; empty until registered.
    pub zone: String,
    /// Who may declare desired state.
    pub authority: NodeAuthority,
    /// Connectivity spectrum position and sync debt.
    pub connectivity: NodeConnectivity,
    /// Assigned bundle.
    pub desired_state: DesiredState,
    /// Reported state.
    pub actual_state: ActualState,
    /// Latest drift evaluation (computed, never primary truth).
    pub drift: NodeDrift,
    /// Hardware, firmware and trust evidence.
    pub supply_chain: SupplyChain,
    /// Lifecycle phase and state.
    pub lifecycle: NodeLifecycle,
    /// Trust verdict.
    pub trust: NodeTrust,
    /// Attention queue position.
    pub attention: NodeAttention,
    /// Domains from the root down to the node's own (last); `[domain_id]` when the control
    /// state does not know the domain; empty without a domain.
    pub domain_path: Vec<String>,
    /// Relays the traffic takes now (the latest `via`), nearest hop first; empty when direct.
    pub relay_path: Vec<String>,
    /// Declared relationships, sorted by (peer_id, relation).
    pub edges: Vec<NodeEdge>,
    /// Per-node state version: +1 for every state change written (each applied event and each
    /// timer-driven transition). ClickHouse `ReplacingMergeTree` keeps the highest.
    pub version: i64,
    /// `seq` of the last applied event; 0 before any (check `events_applied`).
    pub last_seq: i64,
    /// `event_id` of the last applied event.
    pub last_event_id: Option<String>,
    /// Event time of the last applied event; 0 before any.
    pub updated_ms: EpochMillis,
    /// Events applied (timer-driven transitions not counted).
    pub events_applied: i64,
    /// Commands accepted for the node and not yet in a final status.
    #[serde(default)]
    pub commands_pending: i32,
    /// Of those, the commands held.
    #[serde(default)]
    pub commands_held: i32,
}

impl Node {
    /// A twin for `id` before any event: unknown kind and connectivity, phase PROVISIONING,
    /// health UNKNOWN, everything else empty or zero.
    pub fn new(id: impl Into<String>) -> Self {
        Node {
            id: id.into(),
            name: None,
            kind: NodeKind::Unknown,
            tags: Vec::new(),
            domain_id: String::new(),
            region: String::new(),
            zone: String::new(),
            authority: NodeAuthority::default(),
            connectivity: NodeConnectivity::default(),
            desired_state: DesiredState::default(),
            actual_state: ActualState::default(),
            drift: NodeDrift {
                status: "UNASSIGNED".to_owned(),
                ..NodeDrift::default()
            },
            supply_chain: SupplyChain::default(),
            lifecycle: NodeLifecycle::default(),
            trust: NodeTrust {
                state: "UNVERIFIED".to_owned(),
                ..NodeTrust::default()
            },
            attention: NodeAttention::default(),
            domain_path: Vec::new(),
            relay_path: Vec::new(),
            edges: Vec::new(),
            version: 0,
            last_seq: 0,
            last_event_id: None,
            updated_ms: 0,
            events_applied: 0,
            commands_pending: 0,
            commands_held: 0,
        }
    }
}

/// Who may declare desired state for the node right now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeAuthority {
    /// Level of the master of record; `None` when unclaimed.
    pub master_of_record: Option<AuthorityLevel>,
    /// Controllers that hold or claimed authority.
    pub controller_ids: Vec<String>,
    /// Epoch of the claim in force.
    pub epoch: Option<i64>,
    /// Event time of the last update made under that authority.
    pub last_authoritative_update_ms: Option<EpochMillis>,
}

/// Connectivity spectrum position and sync debt.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeConnectivity {
    /// Current mode.
    pub mode: ConnectivityMode,
    /// Event time of the last event from the node.
    pub last_seen_ms: Option<EpochMillis>,
    /// Last reported link quality.
    pub link_quality: LinkQuality,
    /// How far behind the control plane's view is.
    pub sync_debt: SyncDebt,
    /// Replay in flight; `None` when not replaying.
    pub replay: Option<ReplayProgress>,
    /// Event time up to which the control plane's view was in sync; `None` before the first.
    pub last_sync_ms: Option<EpochMillis>,
}

/// One declared relationship from the node to a peer: the latest EDGE event per
/// (peer_id, relation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeEdge {
    /// The peer node.
    pub peer_id: String,
    /// `SIGNALING`, `MEDIA`, `CONTROL` or `BYPASS`.
    pub relation: String,
    /// `UP`, `DOWN` or `REMOVED`.
    pub state: String,
    /// Event time of the EDGE event that set this state.
    pub changed_ms: EpochMillis,
}

/// How far the control plane's view of the node lags behind the node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncDebt {
    /// Seconds between the node's latest event time and the last applied event.
    pub seconds_behind: i64,
    /// Messages buffered on the node.
    pub backlog_messages: i64,
    /// The node must replay before taking new commands.
    pub replay_required: bool,
}

/// Progress of the replay session in flight.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayProgress {
    /// Session id, when given.
    pub session_id: Option<String>,
    /// Event time of the replay BEGIN.
    pub started_ms: EpochMillis,
    /// Chunks received so far.
    pub chunks_received: i64,
    /// Events received so far.
    pub events_received: i64,
    /// Backlog announced, when known.
    pub backlog_total: Option<i64>,
}

/// What the authority wants the node to run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesiredState {
    /// Assigned bundle.
    pub policy_bundle_id: Option<String>,
    /// Required software version.
    pub target_version: Option<String>,
    /// Required policy version.
    pub policy_version: Option<String>,
    /// Desired configuration.
    pub config: StringMap,
    /// Rollout constraints.
    pub constraints: StringMap,
    /// Event time of the assignment.
    pub assigned_ms: Option<EpochMillis>,
}

/// What the node reports it runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ActualState {
    /// Software version from the last snapshot.
    pub reported_version: Option<String>,
    /// Policy version from the last snapshot.
    pub policy_version: Option<String>,
    /// Configuration from the last snapshot.
    pub config: StringMap,
    /// Runtime health from heartbeats.
    pub runtime: NodeRuntime,
    /// Inventory from the last snapshot that carried one.
    pub inventory: Option<Inventory>,
    /// SBOM hash from the last snapshot.
    pub sbom_hash: Option<String>,
    /// Event time of the last snapshot.
    pub last_snapshot_ms: Option<EpochMillis>,
}

/// Runtime health from heartbeats.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRuntime {
    /// Last reported health.
    pub health: Health,
    /// Event time of the last heartbeat.
    pub last_heartbeat_ms: Option<EpochMillis>,
    /// Uptime from the last heartbeat, in seconds.
    pub uptime_s: Option<i64>,
}

/// Latest drift evaluation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeDrift {
    /// Weighted score; 0 means in spec.
    pub score: f64,
    /// Objects that differ from desired.
    pub objects_out_of_spec: i32,
    /// Event time of the evaluation.
    pub last_evaluated_ms: Option<EpochMillis>,
    /// `IN_SPEC`, `DRIFTED`, `UNKNOWN` or `UNASSIGNED`.
    pub status: String,
    /// Bundle compared against.
    pub bundle_id: Option<String>,
    /// Evaluation time minus the compared snapshot's time (ms).
    pub stale_by_ms: Option<i64>,
    /// How long the node has been continuously out of spec (ms).
    pub drift_age_ms: Option<i64>,
}

/// Trust verdict of the node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeTrust {
    /// `UNVERIFIED`, `TRUSTED` or `VIOLATED`.
    pub state: String,
    /// Firmware signature registered at enrollment.
    pub baseline_signature: Option<String>,
    /// Trust violations seen.
    pub violations: i64,
    /// Reason of the last violation.
    pub last_violation: Option<String>,
    /// Event time of the last violation.
    pub last_violation_ms: Option<EpochMillis>,
}

/// Position in the operator attention queue.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeAttention {
    /// Attention score 0..100.
    pub score: f64,
    /// Whether an ATTENTION alert is raised and not resolved.
    pub alert_open: bool,
    /// Contributing factors, largest first.
    pub reasons: Vec<String>,
}

/// Hardware, firmware and trust evidence.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplyChain {
    /// Hardware identity.
    pub hardware: Hardware,
    /// Firmware identity.
    pub firmware: Firmware,
    /// Registered public key.
    pub public_key: Option<String>,
    /// Last attestation; `None` when never attested.
    pub attestation: Option<AttestationStatus>,
}

/// Result of the last attestation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttestationStatus {
    /// Outcome.
    pub result: AttestationResult,
    /// Event time of the attestation.
    pub at_ms: EpochMillis,
    /// Firmware signature measured.
    pub firmware_signature: Option<String>,
    /// Certificate expiry.
    pub cert_not_after_ms: Option<EpochMillis>,
}

/// Lifecycle position: coarse phase plus precise state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeLifecycle {
    /// Coarse phase.
    pub phase: LifecyclePhase,
    /// Precise state, e.g. `"LIVE_OK"`, `"AUTONOMOUS_BUFFERING"`.
    pub state: String,
    /// Event time of the last transition.
    pub last_transition_ms: Option<EpochMillis>,
    /// Reason of the last transition.
    pub reason: Option<String>,
    /// Set while the node is in maintenance (precise state `MAINTENANCE`; `phase` then reads
    /// `UPDATING`, the nearest phase of the closed v1 set).
    #[serde(default)]
    pub maintenance: Option<NodeMaintenance>,
}

/// A maintenance period the node is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeMaintenance {
    /// Event time maintenance began.
    pub since_ms: EpochMillis,
    /// Planned end; `None`: until a maintenance end.
    pub until_ms: Option<EpochMillis>,
    /// Command that started it; `None` when the node's own signal did.
    pub command_id: Option<String>,
}

impl Default for NodeLifecycle {
    /// Phase PROVISIONING, state `"PROVISIONING"`, no transition yet.
    fn default() -> Self {
        NodeLifecycle {
            phase: LifecyclePhase::Provisioning,
            state: LifecyclePhase::Provisioning.as_str().to_owned(),
            last_transition_ms: None,
            reason: None,
            maintenance: None,
        }
    }
}

plain_canonical!(Node => catalog::NODE);

//! A node's whole per-node state — twin, connectivity, lifecycle and trust machines, the last
//! drift evaluation and attention — and how one event or one timer firing moves it. Pure: time
//! comes from the event or the firing. Drift and attention are recomputed by [`crate::derived`].

use serde::{Deserialize, Serialize};
use sxfleet_runtime::stage::InternalError;
use sxfleet_runtime::store::StoreCodec;
use sxfleet_schemas::{
    AttestationResult, ConnectivityMode, EpochMillis, EventPayload, FleetEvent, Node,
    NodeConnectivity, NodeMaintenance, ReplayProgress, StateTransition, TransitionMachine,
};

use crate::attention::AttentionState;
use crate::command::CommandBook;
use crate::connectivity::{self, ConnectivityConfig, ConnectivityState, ConnectivityTransition};
use crate::drift::{DriftEvaluation, DriftStatus};
use crate::lifecycle::{self, LifecycleOutcome, LifecycleState, ReplayVerdict};
use crate::trust::{self, TrustState};
use crate::twin::{self, Applied};

pub use self::topology::TopologyState;

pub mod commands;
mod topology;

/// Version of [`NodeState`]'s changelog format: one version byte, then JSON. Format 6 added the
/// command book (`commands`) and the lifecycle's maintenance; byte 5 is skipped because the
/// control state, stored in the same store, is format 5.
pub const NODE_STATE_FORMAT: u8 = 6;

/// Format 4 (before the command book), still read: the book starts empty. Format 4 added the
/// topology, the twin's hierarchy and topology fields and `last_sync_ms`.
pub const NODE_STATE_FORMAT_V4: u8 = 4;

/// The previous format (JSON without the fields format 4 added), still read: they default.
pub const NODE_STATE_FORMAT_V2: u8 = 2;

/// Everything the processor keeps per node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeState {
    /// The published digital twin.
    pub twin: Node,
    /// The connectivity spectrum machine.
    pub connectivity: ConnectivityState,
    /// The lifecycle machine.
    pub lifecycle: LifecycleState,
    /// Ledger entries written so far (the `seq` of the next one).
    pub ledger_seq: i64,
    /// The trust machine.
    #[serde(default)]
    pub trust: TrustState,
    /// The last drift evaluation.
    #[serde(default)]
    pub drift: Option<DriftEvaluation>,
    /// Drift reports written so far.
    #[serde(default)]
    pub drift_seq: i64,
    /// Attention score and alert state.
    #[serde(default)]
    pub attention: AttentionState,
    /// Declared edges to peers.
    #[serde(default)]
    pub topology: TopologyState,
    /// The node's commands.
    #[serde(default)]
    pub commands: CommandBook,
}

/// The rules one node is moved by.
#[derive(Debug, Clone, Copy)]
pub struct NodeRules<'a> {
    /// Connectivity thresholds of the node's domain.
    pub connectivity: &'a ConnectivityConfig,
    /// Drift score from which a finished replay ends in QUARANTINED.
    pub quarantine_drift_score: f64,
}

impl NodeState {
    /// The state of a node never seen before.
    pub fn new(node_id: &str) -> Self {
        let mut twin = Node::new(node_id.to_owned());
        twin.lifecycle.phase = sxfleet_schemas::LifecyclePhase::Provisioning;
        twin.lifecycle.state = "PROVISIONING".to_owned();
        Self {
            twin,
            connectivity: ConnectivityState::default(),
            lifecycle: LifecycleState::default(),
            ledger_seq: 0,
            trust: TrustState::default(),
            drift: None,
            drift_seq: 0,
            attention: AttentionState::default(),
            topology: TopologyState::default(),
            commands: CommandBook::default(),
        }
    }

    /// When a timer of this node (silence or sync-debt refresh) falls due, if any.
    pub fn deadline(&self, config: &ConnectivityConfig) -> Option<i64> {
        connectivity::next_timer(&self.connectivity, config)
    }
}

impl StoreCodec for NodeState {
    fn encode(&self) -> Result<Vec<u8>, InternalError> {
        let mut bytes = vec![NODE_STATE_FORMAT];
        serde_json::to_writer(&mut bytes, self)
            .map_err(|error| InternalError(format!("node state does not encode: {error}")))?;
        Ok(bytes)
    }

    fn decode(bytes: &[u8]) -> Result<Self, InternalError> {
        let undecodable = |error| InternalError(format!("node state does not decode: {error}"));
        match bytes.split_first() {
            Some((&(NODE_STATE_FORMAT | NODE_STATE_FORMAT_V4), json)) => {
                serde_json::from_slice(json).map_err(undecodable)
            }
            Some((&NODE_STATE_FORMAT_V2, json)) => {
                let mut value: serde_json::Value =
                    serde_json::from_slice(json).map_err(undecodable)?;
                // The twin's lists added in format 4 start empty (the next event fills them).
                if let Some(twin) = value.get_mut("twin").and_then(|t| t.as_object_mut()) {
                    for list in ["domain_path", "relay_path", "edges"] {
                        twin.entry(list).or_insert_with(|| serde_json::Value::Array(Vec::new()));
                    }
                }
                serde_json::from_value(value).map_err(undecodable)
            }
            Some((version, _)) => Err(InternalError(format!(
                "node state format {version}, expected {NODE_STATE_FORMAT} (or {NODE_STATE_FORMAT_V4}, {NODE_STATE_FORMAT_V2})"
            ))),
            None => Err(InternalError("empty node state".to_owned())),
        }
    }
}

/// Applies one event of the node. Returns the ledger entries it caused; `None` when the event
/// changed nothing (a duplicate or stale re-delivery).
pub fn on_event(
    state: &mut NodeState,
    event: &FleetEvent,
    rules: NodeRules<'_>,
) -> Option<Vec<StateTransition>> {
    let applied = twin::apply(&mut state.twin, event);
    if applied == Applied::Stale && !event.replayed {
        return None;
    }
    if let EventPayload::Edge(edge) = &event.payload {
        let changed = topology::declare(&mut state.topology, edge, event.seq, event.event_time_ms);
        // A replayed declaration the twin did not apply still moves it when it changed an edge.
        if changed && applied == Applied::Stale {
            state.twin.version += 1;
            state.twin.updated_ms = state.twin.updated_ms.max(event.event_time_ms);
        }
    }
    let mut ledger = Vec::new();
    let event_id = Some(event.event_id.as_str());
    let moves = connectivity::on_event(&mut state.connectivity, rules.connectivity, event);
    let outcome = lifecycle::on_event(&mut state.lifecycle, event);
    record_lifecycle(state, outcome, event_id, &mut ledger);
    for violation in trust::on_event(&mut state.trust, event) {
        on_trust_violation(
            state,
            &violation.reason,
            violation.at_ms,
            event_id,
            &mut ledger,
        );
    }
    follow_connectivity(state, moves, rules, event_id, &mut ledger);
    sync_twin(state);
    Some(ledger)
}

/// Records a trust violation that ingest reported about the node (a forged, unsigned or
/// key-conflicting message) at `at_ms`. The report is not the node's own event: it moves
/// neither the node's `seq` nor its connectivity.
pub fn on_reported_violation(
    state: &mut NodeState,
    reason: &str,
    at_ms: EpochMillis,
    event_id: Option<&str>,
) -> Vec<StateTransition> {
    let mut ledger = Vec::new();
    let violation = trust::violate(&mut state.trust, at_ms, reason);
    on_trust_violation(state, &violation.reason, at_ms, event_id, &mut ledger);
    sync_twin(state);
    state.twin.version += 1;
    state.twin.updated_ms = state.twin.updated_ms.max(at_ms);
    ledger
}

fn on_trust_violation(
    state: &mut NodeState,
    reason: &str,
    at_ms: EpochMillis,
    event_id: Option<&str>,
    ledger: &mut Vec<StateTransition>,
) {
    let outcome = lifecycle::on_trust_violation(&mut state.lifecycle, at_ms, reason);
    record_lifecycle(state, outcome, event_id, ledger);
}

/// What a timer firing did to a node.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fired {
    /// Ledger entries (silence transitions and what followed them).
    pub ledger: Vec<StateTransition>,
    /// The latest timer instant reached (`None` when nothing was due): the time the firing is
    /// dated by.
    pub at_ms: Option<EpochMillis>,
    /// The twin changed (a transition, or a refreshed sync debt); its version moved by one.
    pub changed: bool,
}

/// Fires the node's timers due by event time `now_ms` (silence rules and sync-debt refreshes,
/// see [`connectivity::on_timer`]).
pub fn on_timer(state: &mut NodeState, now_ms: EpochMillis, rules: NodeRules<'_>) -> Fired {
    let mut ledger = Vec::new();
    let (moves, at_ms) =
        connectivity::on_timer(&mut state.connectivity, rules.connectivity, now_ms);
    if at_ms.is_none() {
        return Fired::default();
    }
    let before = state.twin.connectivity.clone();
    follow_connectivity(state, moves, rules, None, &mut ledger);
    sync_twin(state);
    let changed = !ledger.is_empty() || state.twin.connectivity != before;
    if changed {
        state.twin.version += 1;
        state.twin.updated_ms = state.twin.updated_ms.max(at_ms.unwrap_or(now_ms));
    }
    Fired {
        ledger,
        at_ms,
        changed,
    }
}

/// Records connectivity moves, feeds them to the lifecycle machine, and settles a finished
/// replay with its verdict: trusted unless the node has an unremediated trust violation or its
/// last attestation failed; drift within policy unless the last evaluation is DRIFTED with at
/// least `quarantine_drift_score`.
fn follow_connectivity(
    state: &mut NodeState,
    moves: Vec<ConnectivityTransition>,
    rules: NodeRules<'_>,
    event_id: Option<&str>,
    ledger: &mut Vec<StateTransition>,
) {
    for step in moves {
        ledger.push(entry(
            state,
            TransitionMachine::Connectivity,
            step.at_ms,
            connectivity::ledger_label(step.from).to_owned(),
            connectivity::ledger_label(step.to).to_owned(),
            true,
            step.reason.clone(),
            event_id,
            (step.latency_ms, step.backlog, step.sync_interval_ms),
        ));
        let outcome = lifecycle::on_connectivity(&mut state.lifecycle, &step);
        record_lifecycle(state, outcome, event_id, ledger);
        if step.from == ConnectivityMode::Replaying && step.to != ConnectivityMode::Replaying {
            let trusted = trust::trusted(&state.trust)
                && state
                    .twin
                    .supply_chain
                    .attestation
                    .as_ref()
                    .is_none_or(|a| a.result == AttestationResult::Verified);
            let drift_ok = state.drift.as_ref().is_none_or(|d| {
                d.status != DriftStatus::Drifted || d.score < rules.quarantine_drift_score
            });
            let verdict = ReplayVerdict { trusted, drift_ok };
            let outcome =
                lifecycle::on_replay_reconciled(&mut state.lifecycle, verdict, step.at_ms);
            record_lifecycle(state, outcome, event_id, ledger);
        }
    }
}

fn record_lifecycle(
    state: &mut NodeState,
    outcome: LifecycleOutcome,
    event_id: Option<&str>,
    ledger: &mut Vec<StateTransition>,
) {
    for step in outcome.transitions {
        ledger.push(entry(
            state,
            TransitionMachine::Lifecycle,
            step.at_ms,
            step.from.as_str().to_owned(),
            step.to.as_str().to_owned(),
            true,
            step.reason,
            event_id,
            (None, None, None),
        ));
    }
    for violation in outcome.violations {
        ledger.push(entry(
            state,
            TransitionMachine::Lifecycle,
            violation.at_ms,
            violation.from.as_str().to_owned(),
            violation
                .requested
                .map_or(String::new(), |s| s.as_str().to_owned()),
            false,
            violation.reason,
            event_id,
            (None, None, None),
        ));
    }
}

#[allow(clippy::too_many_arguments)] // one ledger entry's fields, named at each call
fn entry(
    state: &mut NodeState,
    machine: TransitionMachine,
    at_ms: EpochMillis,
    from_state: String,
    to_state: String,
    applied: bool,
    reason: String,
    event_id: Option<&str>,
    (latency_ms, backlog, sync_interval_ms): (Option<f64>, Option<i64>, Option<i64>),
) -> StateTransition {
    state.ledger_seq += 1;
    StateTransition {
        node_id: state.twin.id.clone(),
        domain_id: state.twin.domain_id.clone(),
        machine,
        at_ms,
        from_state,
        to_state,
        applied,
        reason,
        latency_ms,
        backlog,
        sync_interval_ms,
        phase: Some(state.lifecycle.state.phase().as_str().to_owned()),
        event_id: event_id.map(str::to_owned),
        seq: state.ledger_seq,
    }
}

/// Copies the machines' view into the published twin.
fn sync_twin(state: &mut NodeState) {
    let conn = &state.connectivity;
    state.twin.connectivity = NodeConnectivity {
        mode: conn.mode,
        last_seen_ms: conn.last_seen_ms,
        link_quality: conn.link.clone(),
        sync_debt: sxfleet_schemas::SyncDebt {
            seconds_behind: conn.sync_debt.seconds_behind,
            backlog_messages: conn.sync_debt.backlog_messages,
            replay_required: conn.replay.is_some() || state.lifecycle.reconciliation_pending,
        },
        replay: conn.replay.as_ref().map(|replay| ReplayProgress {
            session_id: replay.session_id.clone(),
            started_ms: replay.started_ms,
            chunks_received: replay.chunks,
            events_received: replay.replayed,
            backlog_total: replay.backlog_total,
        }),
        last_sync_ms: conn.last_sync_ms,
    };
    state.twin.edges = topology::edges(&state.topology);
    let life = &state.lifecycle;
    state.twin.lifecycle.phase = life.state.phase();
    state.twin.lifecycle.state = life.state.as_str().to_owned();
    state.twin.lifecycle.last_transition_ms = life.since_ms;
    state.twin.lifecycle.reason = life.reason.clone();
    state.twin.lifecycle.maintenance = life.maintenance.as_ref().map(|m| NodeMaintenance {
        since_ms: m.since_ms,
        until_ms: m.until_ms,
        command_id: m.command_id.clone(),
    });
    state.twin.commands_pending = state.commands.pending();
    state.twin.commands_held = state.commands.held();
    let trust = &state.trust;
    state.twin.trust = sxfleet_schemas::NodeTrust {
        state: trust.verdict.as_str().to_owned(),
        baseline_signature: trust.baseline_signature.clone(),
        violations: trust.violations,
        last_violation: trust.last_violation.as_ref().map(|v| v.reason.clone()),
        last_violation_ms: trust.last_violation.as_ref().map(|v| v.at_ms),
    };
}

#[cfg(test)]
mod command_tests;
#[cfg(test)]
mod tests;

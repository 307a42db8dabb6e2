//! The node lifecycle (seed 004, section 3A): coarse phases and precise states, moved only along
//! the edges of the diagram. Any other requested transition is recorded as a
//! [`LifecycleViolation`] and not applied.
//!
//! Inputs: the node's events ([`on_event`]), the connectivity machine's transitions
//! ([`on_connectivity`]) and the reconciliation verdict after a replay
//! ([`on_replay_reconciled`]); [`apply`] dispatches a [`LifecycleInput`]. Pure and
//! deterministic; every rule is written down in `docs/projections.md` ("Lifecycle").

use serde::{Deserialize, Serialize};
use sxfleet_schemas::{
    ConnectivityMode, EpochMillis, EventPayload, FleetEvent, Health, LifecyclePhase,
};

use crate::connectivity::ConnectivityTransition;
use sxfleet_schemas::CommandKind;

pub mod actions;

/// Precise state of seed 004's diagram 3A. The connectivity sub-states belong to phase ACTIVE.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PreciseState {
    /// Initial state.
    #[default]
    Provisioning,
    /// Enrollment complete.
    Enrolled,
    /// Active, connectivity sub-state not known yet.
    Active,
    /// Active, connectivity live.
    LiveOk,
    /// Active, latency above threshold.
    Delayed,
    /// Active, periodic sync only.
    EdgeCached,
    /// Active, operating without a control link (also while the link stays DISCONNECTED).
    Autonomous,
    /// Active, reconnecting; no new commands until reconciled.
    Returning,
    /// Active, uploading its backlog; no new commands until reconciled.
    Replaying,
    /// Applying an update.
    Updating,
    /// Under maintenance (a MAINTENANCE_START command or signal); Avro phase UPDATING.
    Maintenance,
    /// Degraded.
    Degraded,
    /// Quarantined: limited operations.
    Quarantined,
    /// Being decommissioned.
    Decommissioning,
    /// Retired (final).
    Retired,
}

impl PreciseState {
    /// Every state, in diagram order.
    pub const ALL: &'static [PreciseState] = &[
        S::Provisioning,
        S::Enrolled,
        S::Active,
        S::LiveOk,
        S::Delayed,
        S::EdgeCached,
        S::Autonomous,
        S::Returning,
        S::Replaying,
        S::Updating,
        S::Maintenance,
        S::Degraded,
        S::Quarantined,
        S::Decommissioning,
        S::Retired,
    ];

    /// The coarse phase of this state.
    pub fn phase(self) -> LifecyclePhase {
        match self {
            PreciseState::Provisioning => LifecyclePhase::Provisioning,
            PreciseState::Enrolled => LifecyclePhase::Enrolled,
            PreciseState::Active
            | PreciseState::LiveOk
            | PreciseState::Delayed
            | PreciseState::EdgeCached
            | PreciseState::Autonomous
            | PreciseState::Returning
            | PreciseState::Replaying => LifecyclePhase::Active,
            // The Avro phase is the closed v1 set: maintenance reads UPDATING for old readers
            // (the twin's `lifecycle.maintenance` says which).
            PreciseState::Updating | PreciseState::Maintenance => LifecyclePhase::Updating,
            PreciseState::Degraded => LifecyclePhase::Degraded,
            PreciseState::Quarantined => LifecyclePhase::Quarantined,
            PreciseState::Decommissioning => LifecyclePhase::Decommissioning,
            PreciseState::Retired => LifecyclePhase::Retired,
        }
    }

    /// Name as the diagram writes it (`"LIVE_OK"`), also `Node.lifecycle.state`.
    pub fn as_str(self) -> &'static str {
        match self {
            S::Provisioning => "PROVISIONING",
            S::Enrolled => "ENROLLED",
            S::Active => "ACTIVE",
            S::LiveOk => "LIVE_OK",
            S::Delayed => "DELAYED",
            S::EdgeCached => "EDGE_CACHED",
            S::Autonomous => "AUTONOMOUS",
            S::Returning => "RETURNING",
            S::Replaying => "REPLAYING",
            S::Updating => "UPDATING",
            S::Maintenance => "MAINTENANCE",
            S::Degraded => "DEGRADED",
            S::Quarantined => "QUARANTINED",
            S::Decommissioning => "DECOMMISSIONING",
            S::Retired => "RETIRED",
        }
    }
}

use PreciseState as S;

/// The edges of diagram 3A, literally, with their labels.
pub const DIAGRAM_EDGES: &[(PreciseState, PreciseState, &str)] = &[
    (S::Provisioning, S::Enrolled, "Enrollment complete"),
    (S::Enrolled, S::Active, "Activation"),
    (S::Active, S::LiveOk, "Connectivity live"),
    (S::Active, S::Delayed, "Latency increases"),
    (S::Active, S::EdgeCached, "Periodic sync"),
    (S::Active, S::Autonomous, "Connection lost"),
    (S::LiveOk, S::Delayed, "Latency threshold"),
    (S::Delayed, S::EdgeCached, "Sync interval extends"),
    (S::EdgeCached, S::Autonomous, "Connection lost"),
    (S::Autonomous, S::Returning, "Connection detected"),
    (S::Returning, S::Replaying, "Backlog upload"),
    (S::Replaying, S::LiveOk, "Replay complete"),
    (S::Replaying, S::Quarantined, "Drift/trust violation"),
    (S::Active, S::Updating, "Update initiated"),
    (S::Updating, S::Active, "Update complete"),
    (S::Updating, S::Degraded, "Update failed"),
    (S::Active, S::Degraded, "Health degradation"),
    (S::Degraded, S::Active, "Recovery"),
    (S::Degraded, S::Quarantined, "Critical failure"),
    (S::Quarantined, S::Active, "Remediation complete"),
    (S::Quarantined, S::Decommissioning, "Unrecoverable"),
    (S::Active, S::Decommissioning, "Planned decommission"),
    (S::Decommissioning, S::Retired, "Decommission complete"),
    (S::Active, S::Maintenance, "Maintenance started"),
    (S::Maintenance, S::Active, "Maintenance complete"),
    (S::Maintenance, S::Decommissioning, "Planned decommission"),
    (S::Maintenance, S::Degraded, "Maintenance failed"),
];

/// Sub-states in which the node is connected in steady state.
const STEADY: &[PreciseState] = &[S::LiveOk, S::Delayed, S::EdgeCached];

/// The diagram edge that allows `from -> to`, with its label.
///
/// ACTIVE is a composite state: its connectivity entries (-> LIVE_OK / DELAYED / EDGE_CACHED /
/// AUTONOMOUS) also apply from LIVE_OK, DELAYED, EDGE_CACHED; its phase edges (-> UPDATING /
/// MAINTENANCE / DEGRADED / DECOMMISSIONING) also from AUTONOMOUS. RETURNING and REPLAYING only leave along
/// their own edges (see docs/projections.md).
pub fn diagram_edge(from: PreciseState, to: PreciseState) -> Option<&'static str> {
    let direct = |from: PreciseState| {
        DIAGRAM_EDGES
            .iter()
            .find(|(f, t, _)| *f == from && *t == to)
            .map(|(_, _, label)| *label)
    };
    direct(from).or_else(|| {
        let connectivity_entry =
            matches!(to, S::LiveOk | S::Delayed | S::EdgeCached | S::Autonomous);
        let phase_edge = matches!(
            to,
            S::Updating | S::Degraded | S::Decommissioning | S::Maintenance
        );
        let inherits = (connectivity_entry && STEADY.contains(&from))
            || (phase_edge && (STEADY.contains(&from) || from == S::Autonomous));
        if inherits {
            direct(S::Active)
        } else {
            None
        }
    })
}

/// Lifecycle of one node; the default is PROVISIONING, nothing known.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleState {
    /// Precise state.
    pub state: PreciseState,
    /// Time of the last transition.
    pub since_ms: Option<EpochMillis>,
    /// Reason of the last transition.
    pub reason: Option<String>,
    /// Latest connectivity mode reported by the connectivity machine.
    pub connectivity: ConnectivityMode,
    /// The node returned and its replay has not been reconciled yet.
    pub reconciliation_pending: bool,
    /// `seq` of the latest live event applied.
    pub last_seq: Option<i64>,
    /// Set while in MAINTENANCE.
    #[serde(default)]
    pub maintenance: Option<Maintenance>,
}

/// A maintenance in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Maintenance {
    /// When it started.
    pub since_ms: EpochMillis,
    /// When it ends by itself (a MAINTENANCE_START's `params.until`), if set.
    pub until_ms: Option<EpochMillis>,
    /// The MAINTENANCE_START command that started it; `None` for the node's own signal.
    pub command_id: Option<String>,
}

impl LifecycleState {
    /// The coarse phase.
    pub fn phase(&self) -> LifecyclePhase {
        self.state.phase()
    }
}

/// An applied transition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleTransition {
    /// Event time (or verdict time) of the transition.
    pub at_ms: EpochMillis,
    /// State left.
    pub from: PreciseState,
    /// State entered.
    pub to: PreciseState,
    /// Label of the diagram edge taken.
    pub edge: String,
    /// Input that asked for it, e.g. `"update_start"`, `"health_degradation"`.
    pub reason: String,
}

/// A requested transition that the diagram does not allow; recorded, not applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleViolation {
    /// Time of the request.
    pub at_ms: EpochMillis,
    /// State the node was (and stays) in.
    pub from: PreciseState,
    /// Target requested; `None` when the input names no known transition.
    pub requested: Option<PreciseState>,
    /// Why it was refused.
    pub reason: String,
}

/// What one input did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleOutcome {
    /// Transitions applied, in order.
    pub transitions: Vec<LifecycleTransition>,
    /// Requests refused.
    pub violations: Vec<LifecycleViolation>,
}

/// Result of reconciling a replay: trust (signatures, attestation) and drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayVerdict {
    /// Signatures and attestation of the replayed backlog checked out.
    pub trusted: bool,
    /// Drift after reconciliation is within policy.
    pub drift_ok: bool,
}

/// One input of the lifecycle machine, borrowed from the caller.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LifecycleInput<'a> {
    /// An event of the node.
    Event(&'a FleetEvent),
    /// A transition of the node's connectivity machine.
    Connectivity(&'a ConnectivityTransition),
    /// The reconciliation verdict after a replay, at a time.
    Reconciled(ReplayVerdict, EpochMillis),
}

/// Applies any input.
pub fn apply(state: &mut LifecycleState, input: LifecycleInput<'_>) -> LifecycleOutcome {
    match input {
        LifecycleInput::Event(event) => on_event(state, event),
        LifecycleInput::Connectivity(transition) => on_connectivity(state, transition),
        LifecycleInput::Reconciled(verdict, at_ms) => on_replay_reconciled(state, verdict, at_ms),
    }
}

/// Applies an event of the node: `register`, `lifecycle` signals and heartbeat health.
/// Replayed events are history reconciled through the verdict and change nothing here;
/// duplicates (`seq` not above the last applied) are ignored.
pub fn on_event(state: &mut LifecycleState, event: &FleetEvent) -> LifecycleOutcome {
    let mut out = LifecycleOutcome::default();
    if event.replayed || state.last_seq.is_some_and(|last| event.seq <= last) {
        return out;
    }
    state.last_seq = Some(event.seq);
    let at = event.event_time_ms;
    match &event.payload {
        EventPayload::Register(_) if state.state == S::Provisioning => {
            request(state, at, S::Enrolled, "enrollment_complete", &mut out)
        }
        EventPayload::Lifecycle(signal) => match signal_target(&signal.event) {
            Some(target) => request(state, at, target, &signal.event, &mut out),
            None => out.violations.push(LifecycleViolation {
                at_ms: at,
                from: state.state,
                requested: None,
                reason: format!("unknown lifecycle event {:?}", signal.event),
            }),
        },
        EventPayload::Heartbeat(heartbeat) => match (state.state, heartbeat.health) {
            (S::Enrolled, Health::Ok) => request(state, at, S::Active, "activation", &mut out),
            (S::Degraded, Health::Ok) => request(state, at, S::Active, "recovery", &mut out),
            (from, Health::Degraded | Health::Failed) if from.phase() == LifecyclePhase::Active => {
                request(state, at, S::Degraded, "health_degradation", &mut out)
            }
            _ => {}
        },
        _ => {}
    }
    out
}

/// Target state named by a `lifecycle` event (case-insensitive); the edge check decides
/// whether it applies from the current state.
fn signal_target(event: &str) -> Option<PreciseState> {
    Some(match event.to_ascii_lowercase().as_str() {
        "enrollment_complete" | "enroll" | "enrolled" => S::Enrolled,
        "activate" | "activation" => S::Active,
        "update_start" | "update_initiated" => S::Updating,
        "update_complete" => S::Active,
        "update_failed" | "health_degradation" => S::Degraded,
        "recovery" | "recovered" => S::Active,
        "critical_failure" => S::Quarantined,
        "remediation_complete" => S::Active,
        "decommission" | "planned_decommission" | "unrecoverable" => S::Decommissioning,
        "decommission_complete" | "retire" => S::Retired,
        "maintenance_start" | "maintenance_started" => S::Maintenance,
        "maintenance_end" | "maintenance_complete" => S::Active,
        "maintenance_failed" => S::Degraded,
        _ => return None,
    })
}

/// Applies a transition of the connectivity machine. In phase ACTIVE it requests the matching
/// sub-state (DISCONNECTED counts as AUTONOMOUS); leaving REPLAYING to LIVE waits for the
/// verdict. Outside ACTIVE the mode is only remembered, for the sub-state entered on (re)activation.
pub fn on_connectivity(
    state: &mut LifecycleState,
    transition: &ConnectivityTransition,
) -> LifecycleOutcome {
    let mut out = LifecycleOutcome::default();
    state.connectivity = transition.to;
    if transition.to == ConnectivityMode::Returning {
        state.reconciliation_pending = true;
    }
    if state.phase() != LifecyclePhase::Active {
        return out;
    }
    let Some(target) = sub_state(transition.to) else {
        return out;
    };
    if state.state == S::Replaying && target == S::LiveOk {
        return out;
    }
    if state.state == S::Autonomous && target == S::Autonomous {
        return out;
    }
    request(
        state,
        transition.at_ms,
        target,
        &transition.reason,
        &mut out,
    );
    out
}

/// Applies the reconciliation verdict after a replay: REPLAYING -> LIVE_OK when trusted and
/// drift is within policy, else REPLAYING -> QUARANTINED. Outside REPLAYING a clean verdict
/// only lifts the command lock; a failing one is a violation (quarantine has no edge there).
pub fn on_replay_reconciled(
    state: &mut LifecycleState,
    verdict: ReplayVerdict,
    at_ms: EpochMillis,
) -> LifecycleOutcome {
    let mut out = LifecycleOutcome::default();
    let clean = verdict.trusted && verdict.drift_ok;
    if clean {
        state.reconciliation_pending = false;
        if state.state == S::Replaying {
            request(state, at_ms, S::LiveOk, "replay_complete", &mut out);
        }
    } else {
        let reason = if verdict.trusted {
            "drift_violation"
        } else {
            "trust_violation"
        };
        request(state, at_ms, S::Quarantined, reason, &mut out);
    }
    out
}

/// Applies a trust violation (failed attestation, signature mismatch, expired certificate,
/// forged input): the diagram's quarantine paths. REPLAYING -> QUARANTINED ("Drift/trust
/// violation") and DEGRADED -> QUARANTINED ("Critical failure") directly; from the other states of
/// phase ACTIVE and from UPDATING through DEGRADED first (a trust failure is a health failure),
/// then QUARANTINED. RETURNING has no edge but its own: the violation waits for the replay
/// verdict, which it fails. Outside these the request is recorded as a violation.
pub fn on_trust_violation(
    state: &mut LifecycleState,
    at_ms: EpochMillis,
    reason: &str,
) -> LifecycleOutcome {
    let mut out = LifecycleOutcome::default();
    match state.state {
        S::Quarantined | S::Returning => {}
        S::Replaying | S::Degraded => request(state, at_ms, S::Quarantined, reason, &mut out),
        from if from.phase() == LifecyclePhase::Active || from == S::Updating => {
            request(state, at_ms, S::Degraded, reason, &mut out);
            request(state, at_ms, S::Quarantined, reason, &mut out);
        }
        _ => request(state, at_ms, S::Quarantined, reason, &mut out),
    }
    out
}

/// Why a command of `kind` must wait before it is sent to the node, `None` when it may go now.
/// The one rule of which lifecycle states take which commands (first match): away
/// (connectivity AUTONOMOUS, DISCONNECTED, RETURNING or REPLAYING) `node_away`; returned but its
/// replay not reconciled yet `reconciliation` (a QUARANTINED node's failed verdict is its
/// reconciliation); QUARANTINED takes only REMEDIATE, DECOMMISSION and ROTATE_CERTIFICATE
/// (`quarantined`); DECOMMISSIONING only DECOMMISSION (`decommissioning`); RETIRED nothing
/// (`node_retired`). The command machine adds a rollout's constraints.
pub fn command_hold(state: &LifecycleState, kind: CommandKind) -> Option<&'static str> {
    use ConnectivityMode as M;
    let away = matches!(
        state.connectivity,
        M::Autonomous | M::Disconnected | M::Returning | M::Replaying
    ) || matches!(state.state, S::Autonomous | S::Returning | S::Replaying);
    if away {
        return Some("node_away");
    }
    if state.reconciliation_pending && state.state != S::Quarantined {
        return Some("reconciliation");
    }
    match state.state {
        S::Quarantined
            if !matches!(
                kind,
                CommandKind::Remediate | CommandKind::Decommission | CommandKind::RotateCertificate
            ) =>
        {
            Some("quarantined")
        }
        S::Decommissioning if kind != CommandKind::Decommission => Some("decommissioning"),
        S::Retired => Some("node_retired"),
        _ => None,
    }
}

fn sub_state(mode: ConnectivityMode) -> Option<PreciseState> {
    match mode {
        ConnectivityMode::Live => Some(S::LiveOk),
        ConnectivityMode::Delayed => Some(S::Delayed),
        ConnectivityMode::EdgeCached => Some(S::EdgeCached),
        ConnectivityMode::Autonomous | ConnectivityMode::Disconnected => Some(S::Autonomous),
        ConnectivityMode::Returning => Some(S::Returning),
        ConnectivityMode::Replaying => Some(S::Replaying),
        ConnectivityMode::Unknown => None,
    }
}

/// Applies `from -> to` if the diagram has the edge, else records a violation. Entering plain
/// ACTIVE is followed by the diagram's ACTIVE -> sub-state edge for the known connectivity.
fn request(
    state: &mut LifecycleState,
    at: EpochMillis,
    to: PreciseState,
    reason: &str,
    out: &mut LifecycleOutcome,
) {
    let from = state.state;
    if from == to {
        return;
    }
    let Some(edge) = diagram_edge(from, to) else {
        out.violations.push(LifecycleViolation {
            at_ms: at,
            from,
            requested: Some(to),
            reason: format!("no diagram edge {} -> {}", from.as_str(), to.as_str()),
        });
        return;
    };
    state.state = to;
    state.since_ms = Some(at);
    state.maintenance = (to == S::Maintenance).then_some(Maintenance {
        since_ms: at,
        until_ms: None,
        command_id: None,
    });
    state.reason = Some(reason.to_owned());
    if to == S::Active && from == S::Quarantined {
        state.reconciliation_pending = false;
    }
    out.transitions.push(LifecycleTransition {
        at_ms: at,
        from,
        to,
        edge: edge.to_owned(),
        reason: reason.to_owned(),
    });
    if to == S::Active {
        let entry = sub_state(state.connectivity)
            .filter(|sub| matches!(sub, S::LiveOk | S::Delayed | S::EdgeCached | S::Autonomous));
        if let Some(sub) = entry {
            request(state, at, sub, "connectivity", out);
        }
    }
}

#[cfg(test)]
mod tests;

//! What commands do to the lifecycle: DECOMMISSION, MAINTENANCE_START / MAINTENANCE_END,
//! UPDATE / APPLY_BUNDLE and REMEDIATE move the node along the diagram as the command is
//! accepted and acknowledged (`docs/projections.md`, "Lifecycle"). Transitions carry the reason
//! `command:<kind>` (the caller dates the ledger entry with the command id). Pure.

use serde::{Deserialize, Serialize};
use sxfleet_schemas::EpochMillis;

use super::{request, LifecycleOutcome, LifecycleState, PreciseState as S};
use sxfleet_schemas::CommandKind;

/// Which step of a command moves the lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CommandStep {
    /// The command passed acceptance.
    Accepted,
    /// The node acknowledged receipt.
    Received,
    /// The node applied it (an APPLIED ack, or for an update the reported version).
    Applied,
    /// The node reported failure.
    Failed,
    /// A DECOMMISSION was not applied within `decommission_timeout_ms`.
    TimedOut,
}

/// One step of one command, handed to [`on_command`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandAction {
    /// Kind of command.
    pub kind: CommandKind,
    /// Its id (the ledger entry's `event_id`).
    pub command_id: String,
    /// What happened.
    pub step: CommandStep,
    /// Event time.
    pub at_ms: EpochMillis,
    /// For MAINTENANCE_START: `params.until`, when it ends by itself.
    pub until_ms: Option<EpochMillis>,
}

/// The lifecycle reason of a command of `kind`: `command:<kind>` in lower case.
pub fn command_reason(kind: CommandKind) -> String {
    format!("command:{}", kind.raw_name())
}

/// Applies one command step. Steps that move nothing (a RESTART, a RECEIVED of a decommission)
/// return an empty outcome; a step whose edge the diagram lacks from the current state is a
/// violation, as for the node's own signals.
pub fn on_command(state: &mut LifecycleState, action: &CommandAction) -> LifecycleOutcome {
    use CommandKind as K;
    use CommandStep as C;
    let mut out = LifecycleOutcome::default();
    let at = action.at_ms;
    let reason = command_reason(action.kind);
    match (action.kind, action.step) {
        (K::Decommission, C::Accepted) => {
            request(state, at, S::Decommissioning, &reason, &mut out);
        }
        (K::Decommission, C::Applied) => request(state, at, S::Retired, &reason, &mut out),
        (K::Decommission, C::TimedOut) if state.state == S::Decommissioning => {
            request(state, at, S::Retired, "decommission_timeout", &mut out);
        }
        (K::MaintenanceStart, C::Received | C::Applied) if state.state != S::Maintenance => {
            request(state, at, S::Maintenance, &reason, &mut out);
            if let Some(maintenance) = state.maintenance.as_mut() {
                maintenance.until_ms = action.until_ms;
                maintenance.command_id = Some(action.command_id.clone());
            }
        }
        (K::MaintenanceEnd, C::Applied) => request(state, at, S::Active, &reason, &mut out),
        (K::MaintenanceEnd, C::Failed) if state.state == S::Maintenance => {
            request(state, at, S::Degraded, &reason, &mut out);
        }
        (K::Update | K::ApplyBundle, C::Received) => {
            request(state, at, S::Updating, &reason, &mut out);
        }
        (K::Update | K::ApplyBundle, C::Applied | C::Failed) => {
            // An outcome without a RECEIVED first still passes through UPDATING.
            if state.state != S::Updating {
                request(state, at, S::Updating, &reason, &mut out);
            }
            if state.state == S::Updating {
                let to = if action.step == C::Applied {
                    S::Active
                } else {
                    S::Degraded
                };
                request(state, at, to, &reason, &mut out);
            }
        }
        (K::Remediate, C::Applied) if state.state == S::Quarantined => {
            request(state, at, S::Active, &reason, &mut out);
        }
        _ => {}
    }
    out
}

/// When a maintenance with an end time ends by itself.
pub fn next_timer(state: &LifecycleState) -> Option<EpochMillis> {
    state.maintenance.as_ref().and_then(|m| m.until_ms)
}

/// Ends a maintenance whose `until` is due by `now_ms` (MAINTENANCE -> ACTIVE, reason
/// `maintenance_until`, dated at its end time).
pub fn on_timer(state: &mut LifecycleState, now_ms: EpochMillis) -> LifecycleOutcome {
    let mut out = LifecycleOutcome::default();
    if let Some(until) = next_timer(state).filter(|until| *until <= now_ms) {
        request(state, until, S::Active, "maintenance_until", &mut out);
    }
    out
}

//! One node's fold: an event, a timer firing or a control change through the node's machines
//! ([`crate::node`]), then the projections derived from them ([`crate::derived`]). This is the
//! whole per-node function the fleet processor applies; tests fold with it to compute what the
//! processor must publish. Pure.

use sxfleet_schemas::{EpochMillis, EventPayload, FleetEvent, StateTransition};

use crate::command::{self, Origin};
use crate::config::ProjectionConfig;
use crate::control::ControlState;
use crate::derived::{self, Derived};
use crate::node::commands::{self as node_commands, CommandStepped};
use crate::node::{self, NodeRules, NodeState};
use sxfleet_schemas::CommandRequest;

/// What one step of the fold produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Step {
    /// Connectivity and lifecycle ledger entries.
    pub ledger: Vec<StateTransition>,
    /// Drift report, attention alert, and whether the twin changed.
    pub derived: Derived,
    /// Command status and delivery records.
    pub commands: command::Outcome,
}

impl Step {
    fn absorb(&mut self, stepped: CommandStepped) {
        self.derived.changed |= stepped.changed();
        self.ledger.extend(stepped.ledger);
        self.commands.extend(stepped.outcome);
    }
}

/// The command machine's part of every node step at `now_ms`: the rollout of a new desired
/// version, then converged updates and the release of held commands.
fn commands_after(
    state: &mut NodeState,
    control: &ControlState,
    now_ms: EpochMillis,
    config: &ProjectionConfig,
    step: &mut Step,
) {
    let offset = control.utc_offset_minutes(&state.twin.domain_id);
    let cfg = &config.commands;
    if node_commands::rollout_due(state) {
        if let Some(winner) = control.assignment_winner(&state.twin.id, &state.twin.domain_id) {
            step.absorb(node_commands::roll_out(state, &winner, offset, now_ms, cfg));
        }
    }
    step.absorb(node_commands::after_step(state, offset, now_ms, cfg));
}

fn rules<'a>(state: &NodeState, config: &'a ProjectionConfig) -> NodeRules<'a> {
    NodeRules {
        connectivity: config.connectivity_for(&state.twin.domain_id),
        quarantine_drift_score: config.quarantine_drift_score,
    }
}

/// When the node's next timer falls due: silence or sync-debt refresh (with its domain's
/// thresholds), or a command timer (re-send, LOST, expiry, window opening, decommission
/// timeout, end of maintenance).
pub fn deadline(state: &NodeState, config: &ProjectionConfig) -> Option<EpochMillis> {
    let connectivity = state.deadline(config.connectivity_for(&state.twin.domain_id));
    [connectivity, node_commands::deadline(state)]
        .into_iter()
        .flatten()
        .min()
}

/// Applies one event of the node. `None` when the event changed nothing (a duplicate or stale
/// re-delivery).
pub fn on_event(
    state: &mut NodeState,
    event: &FleetEvent,
    control: &ControlState,
    config: &ProjectionConfig,
) -> Option<Step> {
    let ledger = match &event.payload {
        EventPayload::TrustViolation(violation) => {
            let at_ms = event.event_time_ms;
            let id = Some(event.event_id.as_str());
            node::on_reported_violation(state, &violation.reason, at_ms, id)
        }
        _ => node::on_event(state, event, rules(state, config))?,
    };
    let now = event.event_time_ms.max(state.twin.updated_ms);
    let mut step = Step {
        ledger,
        ..Step::default()
    };
    match &event.payload {
        EventPayload::Heartbeat(heartbeat) if heartbeat.battery_pct.is_some() => {
            state.commands.battery_pct = heartbeat.battery_pct;
        }
        EventPayload::CommandAck(ack) => {
            let offset = control.utc_offset_minutes(&state.twin.domain_id);
            let at = event.event_time_ms;
            step.absorb(node_commands::on_ack(
                state,
                ack,
                offset,
                at,
                &config.commands,
            ));
        }
        _ => {}
    }
    let acked = step.derived.changed;
    step.derived = derived::refresh(state, control, now, config);
    step.derived.changed |= acked;
    commands_after(state, control, now, config, &mut step);
    Some(step)
}

/// Takes a command for the node at its event time (`request.issued_ms`).
pub fn on_command(
    state: &mut NodeState,
    request: &CommandRequest,
    origin: Origin,
    control: &ControlState,
    config: &ProjectionConfig,
) -> Step {
    let now_ms = request.issued_ms;
    let offset = control.utc_offset_minutes(&state.twin.domain_id);
    let stepped =
        node_commands::on_command(state, request, origin, offset, now_ms, &config.commands);
    let mut step = Step::default();
    step.absorb(stepped);
    if step.derived.changed {
        bump(state, now_ms);
    }
    step
}

/// Fires the node's timers due by `now_ms` (silence rules, sync-debt refreshes, command
/// timers). The step is dated by the latest timer instant it reached, not by `now_ms` (the
/// partition's time, which other nodes' events may have moved past this node's next event);
/// the twin's version moves once when anything changed.
pub fn on_timer(
    state: &mut NodeState,
    now_ms: EpochMillis,
    control: &ControlState,
    config: &ProjectionConfig,
) -> Step {
    let fired = node::on_timer(state, now_ms, rules(state, config));
    let command_due = node_commands::deadline(state).filter(|due| *due <= now_ms);
    let offset = control.utc_offset_minutes(&state.twin.domain_id);
    let commands = node_commands::on_timer(state, offset, now_ms, &config.commands);
    let command_at = commands
        .outcome
        .statuses
        .iter()
        .map(|status| status.at_ms)
        .max()
        .or(command_due);
    let at_ms = fired.at_ms.max(command_at).unwrap_or(now_ms);
    let mut step = Step {
        ledger: fired.ledger,
        derived: derived::refresh(state, control, at_ms, config),
        ..Step::default()
    };
    step.absorb(commands);
    commands_after(state, control, at_ms, config, &mut step);
    if step.derived.changed && !fired.changed {
        bump(state, at_ms);
    }
    step.derived.changed |= fired.changed;
    step
}

/// Recomputes the node after a control change at `now_ms` (a new desired version rolls out).
pub fn on_control(
    state: &mut NodeState,
    control: &ControlState,
    now_ms: EpochMillis,
    config: &ProjectionConfig,
) -> Step {
    let mut step = Step {
        derived: derived::refresh(state, control, now_ms, config),
        ..Step::default()
    };
    commands_after(state, control, now_ms, config, &mut step);
    if step.derived.changed {
        bump(state, now_ms);
    }
    step
}

fn bump(state: &mut NodeState, now_ms: EpochMillis) {
    state.twin.version += 1;
    state.twin.updated_ms = state.twin.updated_ms.max(now_ms);
}

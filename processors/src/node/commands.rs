//! The node's command book ([`crate::command`]) moved together with the rest of the node: the
//! gate is built from the node's lifecycle and desired bundle, the command steps are applied
//! to the lifecycle (ledger reason `command:<kind>`, event id = command id), a retirement
//! cancels what is open, and after every step the held commands that may go are released.
//! Pure.

use sxfleet_schemas::{AuthorityClaim, EpochMillis, Node, StateTransition};

use super::{record_lifecycle, sync_twin, NodeState};
use crate::command::{CommandConfig, Constraints, Gate, Origin, Outcome};
use crate::lifecycle::actions::{self, CommandStep};
use crate::lifecycle::{LifecycleState, PreciseState};
use crate::trust;
use sxfleet_schemas::{CommandAck, CommandKind, CommandRequest};

/// What a command step did to the node.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CommandStepped {
    /// Lifecycle ledger entries.
    pub ledger: Vec<StateTransition>,
    /// Status and delivery records.
    pub outcome: Outcome,
}

impl CommandStepped {
    /// Whether the node's state changed.
    pub fn changed(&self) -> bool {
        self.outcome.changed || !self.ledger.is_empty()
    }
}

fn gate<'a>(twin: &'a Node, lifecycle: &'a LifecycleState, utc_offset_minutes: i32) -> Gate<'a> {
    Gate {
        node_id: &twin.id,
        domain_id: &twin.domain_id,
        lifecycle,
        constraints: Constraints::from_bundle(&twin.desired_state.constraints, utc_offset_minutes),
    }
}

/// Runs `f` on the book with the node's gate, then settles what it produced.
fn with_book(
    state: &mut NodeState,
    utc_offset_minutes: i32,
    now_ms: EpochMillis,
    config: &CommandConfig,
    f: impl FnOnce(&mut crate::command::CommandBook, &Gate<'_>) -> Outcome,
) -> CommandStepped {
    let outcome = {
        let g = gate(&state.twin, &state.lifecycle, utc_offset_minutes);
        f(&mut state.commands, &g)
    };
    settle(state, outcome, utc_offset_minutes, now_ms, config)
}

/// Applies the lifecycle steps of `outcome`, cancels open commands of a node that retired,
/// then releases held commands that may go now.
fn settle(
    state: &mut NodeState,
    mut outcome: Outcome,
    utc_offset_minutes: i32,
    now_ms: EpochMillis,
    config: &CommandConfig,
) -> CommandStepped {
    let mut ledger = Vec::new();
    for action in std::mem::take(&mut outcome.actions) {
        let was = state.lifecycle.state;
        let moved = actions::on_command(&mut state.lifecycle, &action);
        let remediated = action.kind == CommandKind::Remediate
            && action.step == CommandStep::Applied
            && was == PreciseState::Quarantined
            && !moved.transitions.is_empty();
        if remediated {
            trust::remediate(&mut state.trust);
        }
        record_lifecycle(state, moved, Some(&action.command_id), &mut ledger);
        outcome.actions.push(action);
    }
    let retired = state.lifecycle.state == PreciseState::Retired;
    let g = gate(&state.twin, &state.lifecycle, utc_offset_minutes);
    if retired {
        outcome.extend(state.commands.retire(&g, now_ms, config));
    } else {
        outcome.extend(state.commands.release(&g, now_ms, config));
    }
    sync_twin(state);
    CommandStepped { ledger, outcome }
}

/// Takes a command for the node at `now_ms` (its event time).
pub fn on_command(
    state: &mut NodeState,
    request: &CommandRequest,
    origin: Origin,
    utc_offset_minutes: i32,
    now_ms: EpochMillis,
    config: &CommandConfig,
) -> CommandStepped {
    with_book(state, utc_offset_minutes, now_ms, config, |book, g| {
        book.submit(request, origin, g, now_ms, config)
    })
}

/// Applies the node's acknowledgement at its event time.
pub fn on_ack(
    state: &mut NodeState,
    ack: &CommandAck,
    utc_offset_minutes: i32,
    now_ms: EpochMillis,
    config: &CommandConfig,
) -> CommandStepped {
    with_book(state, utc_offset_minutes, now_ms, config, |book, g| {
        let mut out = book.on_ack(ack, g, now_ms, config);
        if let Some(version) = ack.reported_version.as_deref() {
            out.extend(book.on_reported_version(version, g, now_ms, config));
        }
        out
    })
}

/// After any other step of the node at `now_ms`: a reported version converges updates, and
/// held commands that may go now are released (a clean replay verdict, a remediation, ...).
pub fn after_step(
    state: &mut NodeState,
    utc_offset_minutes: i32,
    now_ms: EpochMillis,
    config: &CommandConfig,
) -> CommandStepped {
    // An empty book has nothing to converge or release (and the twin is in sync already).
    if state.commands.commands.is_empty() {
        return CommandStepped::default();
    }
    let reported = state.twin.actual_state.reported_version.clone();
    with_book(
        state,
        utc_offset_minutes,
        now_ms,
        config,
        |book, g| match reported {
            Some(version) => book.on_reported_version(&version, g, now_ms, config),
            None => Outcome::default(),
        },
    )
}

/// Fires the book's timers and the maintenance end due by `now_ms`.
pub fn on_timer(
    state: &mut NodeState,
    utc_offset_minutes: i32,
    now_ms: EpochMillis,
    config: &CommandConfig,
) -> CommandStepped {
    let ended = actions::on_timer(&mut state.lifecycle, now_ms);
    let mut ledger = Vec::new();
    record_lifecycle(state, ended, None, &mut ledger);
    let mut stepped = with_book(state, utc_offset_minutes, now_ms, config, |book, g| {
        book.on_timer(g, now_ms, config)
    });
    ledger.append(&mut stepped.ledger);
    stepped.ledger = ledger;
    stepped
}

/// The node's command timers: the book's and a maintenance's end.
pub fn deadline(state: &NodeState) -> Option<EpochMillis> {
    [
        state.commands.deadline(),
        actions::next_timer(&state.lifecycle),
    ]
    .into_iter()
    .flatten()
    .min()
}

/// Whether the node's desired bundle target version is one its book has not rolled out yet
/// (what [`roll_out`] acts on; checked first, so a step of a node without news does no more).
pub fn rollout_due(state: &NodeState) -> bool {
    let desired = &state.twin.desired_state;
    match (&desired.policy_bundle_id, &desired.target_version) {
        (Some(bundle), Some(version)) => !state.commands.rolled_out(bundle, version),
        _ => false,
    }
}

/// Issues the rollout UPDATE when the node's desired bundle target version is new (see
/// [`crate::command::CommandBook::roll_out`]), authorised by the assignment's `winner`.
pub fn roll_out(
    state: &mut NodeState,
    winner: &AuthorityClaim,
    utc_offset_minutes: i32,
    now_ms: EpochMillis,
    config: &CommandConfig,
) -> CommandStepped {
    let desired = &state.twin.desired_state;
    let (Some(bundle), Some(version)) = (
        desired.policy_bundle_id.clone(),
        desired.target_version.clone(),
    ) else {
        return CommandStepped::default();
    };
    let reported = state.twin.actual_state.reported_version.clone();
    with_book(state, utc_offset_minutes, now_ms, config, |book, g| {
        book.roll_out(
            &bundle,
            &version,
            reported.as_deref(),
            winner,
            g,
            now_ms,
            config,
        )
    })
}

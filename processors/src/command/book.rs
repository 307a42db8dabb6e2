//! The node's command book ([`CommandBook`]): each command with its status and timers, and
//! what a step of the machine produced ([`Outcome`]). Pure.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sxfleet_schemas::EpochMillis;

use crate::lifecycle::actions::CommandAction;
use sxfleet_schemas::{Command, CommandRequest, CommandState, CommandStatus};

/// One command as the node's book keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tracked {
    /// The command as accepted (its content decides whether a copy is the same command).
    pub request: CommandRequest,
    /// `<bundle_id>@<version>` for a rollout's UPDATE.
    pub rollout: Option<String>,
    /// Arrival order in the book (ties of `issued_ms` release in this order).
    pub arrival: u64,
    /// Current status.
    pub status: CommandState,
    /// Reason of the current status (why it is held, rejected, cancelled, ...).
    pub reason: Option<String>,
    /// Publications so far (1 after the first).
    pub attempts: i32,
    /// Event time of the latest publication.
    pub published_ms: Option<EpochMillis>,
    /// The next re-send (AT_LEAST_ONCE), LOST (AT_MOST_ONCE) or window opening (a held rollout).
    pub timer_ms: Option<EpochMillis>,
    /// For a DECOMMISSION: when the node is retired without its APPLIED ack.
    pub decommission_due_ms: Option<EpochMillis>,
    /// When the status became terminal (retention counts from here).
    pub terminal_ms: Option<EpochMillis>,
}

impl Tracked {
    /// Whether the command has ended (no further status but after retention its removal).
    pub fn terminal(&self) -> bool {
        self.status.is_final()
    }

    /// Whether it has not reached the node yet (expiry still applies).
    pub fn undelivered(&self) -> bool {
        matches!(
            self.status,
            CommandState::Accepted
                | CommandState::Held
                | CommandState::Published
                | CommandState::Resent
        )
    }
}

/// The commands of one node.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CommandBook {
    /// By idempotency key.
    pub commands: BTreeMap<String, Tracked>,
    /// Status records written so far (the `seq` of the latest).
    pub status_seq: i64,
    /// Commands taken into the book so far.
    pub arrivals: u64,
    /// The node's latest reported battery charge (percent), for `min_battery_pct`.
    pub battery_pct: Option<f64>,
    /// The latest rollout issued to the node (`<bundle_id>@<version>`).
    pub rollout: Option<String>,
}

impl CommandBook {
    /// Whether the latest rollout issued to the node is `<bundle_id>@<version>`.
    pub fn rolled_out(&self, bundle_id: &str, version: &str) -> bool {
        self.rollout.as_deref().is_some_and(|r| {
            r.len() == bundle_id.len() + 1 + version.len()
                && r.starts_with(bundle_id)
                && r[bundle_id.len()..].starts_with('@')
                && r.ends_with(version)
        })
    }

    /// Commands accepted and not ended (`Node.commands_pending`).
    pub fn pending(&self) -> i32 {
        let open = self.commands.values().filter(|c| !c.terminal()).count();
        i32::try_from(open).unwrap_or(i32::MAX)
    }

    /// Commands held (`Node.commands_held`).
    pub fn held(&self) -> i32 {
        let held = self.commands.values();
        let held = held.filter(|c| c.status == CommandState::Held).count();
        i32::try_from(held).unwrap_or(i32::MAX)
    }

    /// The command with id `command_id`.
    pub fn by_id(&self, command_id: &str) -> Option<&Tracked> {
        self.commands
            .values()
            .find(|c| c.request.command_id == command_id)
    }

    /// The next instant a timer of the book falls due: a re-send, LOST, expiry, window opening
    /// or decommission timeout.
    pub fn deadline(&self) -> Option<EpochMillis> {
        self.commands.values().flat_map(due_times).min()
    }
}

/// What one step of the command machine produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// Status records (`fleet.command-status.v1`), in order.
    pub statuses: Vec<CommandStatus>,
    /// Delivery records (`fleet.commands.v1`), in order.
    pub commands: Vec<Command>,
    /// Lifecycle steps for the caller to apply, in order.
    pub actions: Vec<CommandAction>,
    /// The book changed (the node's state must be written).
    pub changed: bool,
}

impl Outcome {
    /// Appends `other`.
    pub fn extend(&mut self, other: Outcome) {
        self.statuses.extend(other.statuses);
        self.commands.extend(other.commands);
        self.actions.extend(other.actions);
        self.changed |= other.changed;
    }
}

/// What falls due. Declared in the order ties fire in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Due {
    /// Expiry of a command the node does not have yet.
    Expiry,
    /// The decommission timeout.
    Decommission,
    /// A re-send, LOST or a window opening.
    Timer,
}

/// What `c` has due, and when.
pub(super) fn dues(c: &Tracked) -> impl Iterator<Item = (EpochMillis, Due)> + '_ {
    let open = !c.terminal();
    let expiry = c.request.expires_ms.filter(|_| open && c.undelivered());
    let timer = c.timer_ms.filter(|_| open);
    [
        expiry.map(|at| (at, Due::Expiry)),
        c.decommission_due_ms.map(|at| (at, Due::Decommission)),
        timer.map(|at| (at, Due::Timer)),
    ]
    .into_iter()
    .flatten()
}

/// The instants at which `command` has something due.
fn due_times(command: &Tracked) -> impl Iterator<Item = EpochMillis> + '_ {
    dues(command).map(|(at, _)| at)
}

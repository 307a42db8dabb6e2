//! The book's timers: AT_LEAST_ONCE re-sends with back-off, AT_MOST_ONCE LOST after the ack
//! timeout, expiry of commands not yet received, a held rollout's window opening and the
//! decommission timeout. Each fires at its own instant, in time order. Pure.

use sxfleet_schemas::{Delivery, EpochMillis};

use super::book::{dues, CommandBook, Due, Outcome};
use super::config::CommandConfig;
use super::gate::Gate;
use crate::lifecycle::actions::CommandStep;
use sxfleet_schemas::CommandState;

impl CommandBook {
    /// Fires every timer due by `now_ms`, earliest first, each at its own instant.
    pub fn on_timer(
        &mut self,
        gate: &Gate<'_>,
        now_ms: EpochMillis,
        config: &CommandConfig,
    ) -> Outcome {
        let mut out = Outcome::default();
        loop {
            let next = self
                .commands
                .iter()
                .flat_map(|(key, c)| dues(c).map(move |(at, due)| (at, due, key)))
                .filter(|(at, _, _)| *at <= now_ms)
                .min()
                .map(|(at, due, key)| (at, due, key.clone()));
            let Some((at, due, key)) = next else {
                break;
            };
            let Some(command) = self.commands.get_mut(&key) else {
                break;
            };
            let mut w = super::writer::Writer {
                gate,
                config,
                battery_pct: self.battery_pct,
                seq: &mut self.status_seq,
                out: &mut out,
            };
            match due {
                Due::Expiry => w.set(command, CommandState::Expired, None, at),
                Due::Decommission => {
                    command.decommission_due_ms = None;
                    w.out.changed = true;
                    w.act(command, CommandStep::TimedOut, at);
                }
                Due::Timer => match (command.status, command.request.delivery) {
                    (CommandState::Published | CommandState::Resent, Delivery::AtMostOnce) => {
                        w.set(command, CommandState::Lost, Some("ack_timeout"), at);
                    }
                    (CommandState::Accepted | CommandState::Held, _)
                    | (CommandState::Published | CommandState::Resent, _) => w.send(command, at),
                    _ => {
                        command.timer_ms = None;
                        w.out.changed = true;
                    }
                },
            }
        }
        out
    }
}

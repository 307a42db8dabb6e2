//! One status change or publication in progress ([`Writer`]): the book's status counter, the
//! node's gate and the outcome being written. Pure.

use sxfleet_schemas::{CommandState, Delivery, EpochMillis};

use super::book::{Outcome, Tracked};
use super::config::CommandConfig;
use super::gate::Gate;
use super::records;
use crate::lifecycle::actions::{CommandAction, CommandStep};

/// One status change or publication in progress: the book's counters and the output.
pub(super) struct Writer<'a, 'g> {
    pub gate: &'a Gate<'g>,
    pub config: &'a CommandConfig,
    pub battery_pct: Option<f64>,
    pub seq: &'a mut i64,
    pub out: &'a mut Outcome,
}

impl Writer<'_, '_> {
    fn node(&self) -> (&str, &str) {
        (self.gate.node_id, self.gate.domain_id)
    }

    /// Moves `command` to `status` at `at_ms` and writes its status record.
    pub fn set(
        &mut self,
        command: &mut Tracked,
        status: CommandState,
        reason: Option<&str>,
        at_ms: EpochMillis,
    ) {
        command.status = status;
        command.reason = reason.map(str::to_owned);
        if command.terminal() {
            command.terminal_ms = Some(at_ms);
            command.timer_ms = None;
        }
        *self.seq += 1;
        let record = records::current(command, self.node(), at_ms, *self.seq);
        self.out.statuses.push(record);
        self.out.changed = true;
    }

    /// Sends `command` at `at_ms` if it may go: EXPIRED when its expiry has passed, HELD (again)
    /// when the gate says so, else published (PUBLISHED the first time, RESENT after).
    pub fn send(&mut self, command: &mut Tracked, at_ms: EpochMillis) {
        if command.request.expires_ms.is_some_and(|e| e <= at_ms) {
            return self.set(command, CommandState::Expired, None, at_ms);
        }
        if let Some(hold) = self.gate.hold(command, self.battery_pct, at_ms) {
            if command.timer_ms != hold.until_ms {
                command.timer_ms = hold.until_ms;
                self.out.changed = true;
            }
            let reason = Some(hold.reason);
            if command.status != CommandState::Held || command.reason.as_deref() != reason {
                self.set(command, CommandState::Held, reason, at_ms);
            }
            return;
        }
        command.attempts += 1;
        command.published_ms = Some(at_ms);
        command.timer_ms = Some(
            at_ms
                + match command.request.delivery {
                    Delivery::AtLeastOnce => self.config.backoff_ms(command.attempts),
                    Delivery::AtMostOnce => self.config.ack_timeout_ms,
                },
        );
        let status = if command.attempts == 1 {
            CommandState::Published
        } else {
            CommandState::Resent
        };
        self.set(command, status, None, at_ms);
        let record = records::delivery(command, self.node(), at_ms);
        self.out.commands.push(record);
    }

    /// Hands a lifecycle step of `command` to the caller.
    pub fn act(&mut self, command: &Tracked, step: CommandStep, at_ms: EpochMillis) {
        let until_ms = command
            .request
            .params
            .get("until")
            .and_then(|u| parse_time(u));
        self.out.actions.push(CommandAction {
            kind: command.request.kind,
            command_id: command.request.command_id.clone(),
            step,
            at_ms,
            until_ms,
        });
    }
}

/// An instant written as RFC 3339 or as epoch milliseconds.
fn parse_time(text: &str) -> Option<EpochMillis> {
    if let Ok(ms) = text.trim().parse::<i64>() {
        return Some(ms);
    }
    let at =
        time::OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339);
    at.ok()
        .and_then(|at| i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok())
}

//! Acceptance, acknowledgements, reported versions, release, retirement and rollouts: the
//! command machine's inputs other than timers. Pure.

use sxfleet_schemas::EpochMillis;

use super::book::{CommandBook, Outcome, Tracked};
use super::config::CommandConfig;
use super::gate::Gate;
use super::records;
use super::writer::Writer;
use crate::lifecycle::actions::CommandStep;
use sxfleet_schemas::{AckStatus, CommandAck, CommandKind, CommandRequest, CommandState};

/// Where a command comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A controller; the caller ran the authority check (`Err`: the reject reason code).
    Controller(Result<(), String>),
    /// The processor's rollout of `<bundle_id>@<version>` (authorised by the assignment).
    Rollout(String),
}

/// Whether `b` is the same command as `a` (a copy: same id, target, kind, delivery, params and
/// authority; its event time may differ).
fn same_command(a: &CommandRequest, b: &CommandRequest) -> bool {
    (
        &a.command_id,
        a.target_kind,
        &a.target_id,
        a.kind,
        a.delivery,
        &a.params,
        &a.authority,
    ) == (
        &b.command_id,
        b.target_kind,
        &b.target_id,
        b.kind,
        b.delivery,
        &b.params,
        &b.authority,
    )
}

impl CommandBook {
    pub(super) fn writer<'a, 'g>(
        seq: &'a mut i64,
        battery_pct: Option<f64>,
        gate: &'a Gate<'g>,
        config: &'a CommandConfig,
        out: &'a mut Outcome,
    ) -> Writer<'a, 'g> {
        Writer {
            gate,
            config,
            battery_pct,
            seq,
            out,
        }
    }

    /// Drops terminal commands older than the retention at `now_ms`.
    pub fn prune(&mut self, now_ms: EpochMillis, config: &CommandConfig, out: &mut Outcome) {
        let before = self.commands.len();
        let keep = config.command_retention_ms;
        self.commands.retain(|_, c| {
            c.terminal_ms
                .is_none_or(|t| t.saturating_add(keep) > now_ms)
        });
        out.changed |= self.commands.len() != before;
    }

    /// Takes a command for this node at its event time `now_ms` (acceptance rules 1-3 of
    /// `docs/projections.md`, "Commands"): a copy of a known key changes nothing, other content
    /// under that key is `REJECTED duplicate_key_conflict`; else REJECTED with a reason, or
    /// ACCEPTED and then published or held.
    pub fn submit(
        &mut self,
        request: &CommandRequest,
        origin: Origin,
        gate: &Gate<'_>,
        now_ms: EpochMillis,
        config: &CommandConfig,
    ) -> Outcome {
        let mut out = Outcome::default();
        self.prune(now_ms, config, &mut out);
        let rollout = match &origin {
            Origin::Rollout(rollout) => Some(rollout.clone()),
            Origin::Controller(_) => None,
        };
        if let Some(held) = self.commands.get(&request.idempotency_key) {
            if !same_command(&held.request, request) {
                self.status_seq += 1;
                out.statuses.push(records::status(
                    request,
                    rollout.as_deref(),
                    (gate.node_id, gate.domain_id),
                    CommandState::Rejected,
                    Some("duplicate_key_conflict"),
                    now_ms,
                    0,
                    self.status_seq,
                ));
                out.changed = true;
            }
            return out;
        }
        let rejection = match origin {
            Origin::Controller(Err(code)) => Some(code),
            _ => None,
        }
        .or_else(|| rejection(request, gate).map(str::to_owned));
        self.arrivals += 1;
        let mut command = Tracked {
            request: request.clone(),
            rollout,
            arrival: self.arrivals,
            status: CommandState::Accepted,
            reason: None,
            attempts: 0,
            published_ms: None,
            timer_ms: None,
            decommission_due_ms: None,
            terminal_ms: None,
        };
        let mut w = Self::writer(
            &mut self.status_seq,
            self.battery_pct,
            gate,
            config,
            &mut out,
        );
        if let Some(reason) = rejection {
            w.set(&mut command, CommandState::Rejected, Some(&reason), now_ms);
        } else {
            w.set(&mut command, CommandState::Accepted, None, now_ms);
            if request.kind == CommandKind::Decommission {
                command.decommission_due_ms = Some(now_ms + config.decommission_timeout_ms);
            }
            w.act(&command, CommandStep::Accepted, now_ms);
            w.send(&mut command, now_ms);
        }
        self.commands
            .insert(request.idempotency_key.clone(), command);
        out
    }

    /// Applies the node's acknowledgement of `ack.command_id` at `now_ms`. Unknown ids are
    /// `REJECTED unknown_command`; acks of ended commands and repeated RECEIVED change nothing.
    pub fn on_ack(
        &mut self,
        ack: &CommandAck,
        gate: &Gate<'_>,
        now_ms: EpochMillis,
        config: &CommandConfig,
    ) -> Outcome {
        let mut out = Outcome::default();
        self.prune(now_ms, config, &mut out);
        let found = self
            .commands
            .values_mut()
            .find(|c| c.request.command_id == ack.command_id);
        let Some(command) = found else {
            self.status_seq += 1;
            out.statuses.push(records::unknown_command(
                &ack.command_id,
                (gate.node_id, gate.domain_id),
                now_ms,
                self.status_seq,
            ));
            return out;
        };
        if command.terminal()
            || (ack.status == AckStatus::Received && command.status == CommandState::Received)
        {
            return out;
        }
        let mut w = Self::writer(
            &mut self.status_seq,
            self.battery_pct,
            gate,
            config,
            &mut out,
        );
        let (status, step) = match ack.status {
            AckStatus::Received => (CommandState::Received, CommandStep::Received),
            AckStatus::Applied => (CommandState::Applied, CommandStep::Applied),
            AckStatus::Failed => (CommandState::Failed, CommandStep::Failed),
            // A status this processor cannot read says nothing it could act on.
            AckStatus::Unknown => return out,
        };
        command.timer_ms = None;
        if status == CommandState::Applied {
            command.decommission_due_ms = None;
        }
        w.set(command, status, ack.reason.as_deref(), now_ms);
        w.act(command, step, now_ms);
        out
    }

    /// A snapshot reported `version`: open UPDATE / APPLY_BUNDLE commands whose
    /// `params.version` it equals are APPLIED (reason `reported_version`).
    pub fn on_reported_version(
        &mut self,
        version: &str,
        gate: &Gate<'_>,
        now_ms: EpochMillis,
        config: &CommandConfig,
    ) -> Outcome {
        let mut out = Outcome::default();
        let mut w = Self::writer(
            &mut self.status_seq,
            self.battery_pct,
            gate,
            config,
            &mut out,
        );
        for command in self.commands.values_mut() {
            let update = matches!(
                command.request.kind,
                CommandKind::Update | CommandKind::ApplyBundle
            );
            if update
                && !command.terminal()
                && command
                    .request
                    .params
                    .get("version")
                    .is_some_and(|v| v == version)
            {
                command.timer_ms = None;
                w.set(
                    command,
                    CommandState::Applied,
                    Some("reported_version"),
                    now_ms,
                );
                w.act(command, CommandStep::Applied, now_ms);
            }
        }
        out
    }

    /// Publishes the held commands that may go at `now_ms`, in issue order (`issued_ms`, then
    /// arrival); an expired one becomes EXPIRED.
    pub fn release(
        &mut self,
        gate: &Gate<'_>,
        now_ms: EpochMillis,
        config: &CommandConfig,
    ) -> Outcome {
        let mut out = Outcome::default();
        self.prune(now_ms, config, &mut out);
        let mut held: Vec<&mut Tracked> = self
            .commands
            .values_mut()
            .filter(|c| c.status == CommandState::Held)
            .collect();
        held.sort_by_key(|c| (c.request.issued_ms, c.arrival));
        let mut w = Self::writer(
            &mut self.status_seq,
            self.battery_pct,
            gate,
            config,
            &mut out,
        );
        for command in held {
            w.send(command, now_ms);
        }
        out
    }

    /// The node is RETIRED: every open command is CANCELLED `node_retired`.
    pub fn retire(
        &mut self,
        gate: &Gate<'_>,
        now_ms: EpochMillis,
        config: &CommandConfig,
    ) -> Outcome {
        let mut out = Outcome::default();
        let mut w = Self::writer(
            &mut self.status_seq,
            self.battery_pct,
            gate,
            config,
            &mut out,
        );
        for command in self.commands.values_mut() {
            command.decommission_due_ms = None;
            if !command.terminal() {
                w.set(
                    command,
                    CommandState::Cancelled,
                    Some("node_retired"),
                    now_ms,
                );
            }
        }
        out
    }
}

/// Acceptance rule 2: why a command the authority allows is still rejected.
fn rejection(request: &CommandRequest, gate: &Gate<'_>) -> Option<&'static str> {
    let retired = gate.lifecycle.state == crate::lifecycle::PreciseState::Retired;
    match target_rejection(request) {
        Some("expired") => Some("expired"),
        _ if retired => Some("node_retired"),
        other => other,
    }
}

/// The part of acceptance rule 2 that needs no node: `expired` (`expires_ms <= issued_ms`),
/// then `unknown_kind`. A DOMAIN target failing it is rejected once, for the domain.
pub fn target_rejection(request: &CommandRequest) -> Option<&'static str> {
    if request.expires_ms.is_some_and(|e| e <= request.issued_ms) {
        Some("expired")
    } else if request.kind == CommandKind::Unknown {
        Some("unknown_kind")
    } else {
        None
    }
}

//! Rollouts: the processor-issued UPDATE of a node whose desired bundle targets a new software
//! version, superseding the open one. Pure.

use sxfleet_schemas::{
    AuthorityClaim, CommandKind, CommandRequest, CommandState, CommandTarget, Delivery,
    EpochMillis, StringMap,
};

use super::book::{CommandBook, Outcome};
use super::config::CommandConfig;
use super::gate::Gate;
use super::machine::Origin;

impl CommandBook {
    /// The node's desired bundle `bundle_id` now targets software `version` (its reported
    /// version is `reported`), assigned by `authority`: a rollout `<bundle_id>@<version>`
    /// different from the last one cancels the open rollout commands (`superseded`) and, unless
    /// the node already runs `version`, issues its UPDATE (id and key
    /// `rollout:<bundle_id>@<version>:<node>`, AT_LEAST_ONCE, never expiring).
    #[allow(clippy::too_many_arguments)] // the rollout's fields, named at each call
    pub fn roll_out(
        &mut self,
        bundle_id: &str,
        version: &str,
        reported: Option<&str>,
        authority: &AuthorityClaim,
        gate: &Gate<'_>,
        now_ms: EpochMillis,
        config: &CommandConfig,
    ) -> Outcome {
        let mut out = Outcome::default();
        if self.rolled_out(bundle_id, version) {
            return out;
        }
        let rollout = format!("{bundle_id}@{version}");
        self.rollout = Some(rollout.clone());
        out.changed = true;
        let mut w = Self::writer(
            &mut self.status_seq,
            self.battery_pct,
            gate,
            config,
            &mut out,
        );
        for command in self.commands.values_mut() {
            if command.rollout.is_some() && !command.terminal() {
                w.set(command, CommandState::Cancelled, Some("superseded"), now_ms);
            }
        }
        if reported == Some(version) {
            return out;
        }
        let id = format!("rollout:{rollout}:{}", gate.node_id);
        let request = CommandRequest {
            command_id: id.clone(),
            idempotency_key: id,
            target_kind: CommandTarget::Node,
            target_id: gate.node_id.to_owned(),
            kind: CommandKind::Update,
            delivery: Delivery::AtLeastOnce,
            issued_ms: now_ms,
            expires_ms: None,
            authority: authority.clone(),
            params: StringMap::from([
                ("bundle_id".to_owned(), bundle_id.to_owned()),
                ("version".to_owned(), version.to_owned()),
            ]),
        };
        out.extend(self.submit(&request, Origin::Rollout(rollout), gate, now_ms, config));
        out
    }
}

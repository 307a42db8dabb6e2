//! What the fleet processor does with a `COMMAND` control record: a NODE target is taken by
//! the node's book on the partition holding it (else `REJECTED unknown_node`); a DOMAIN target
//! by every node of the partition whose `domain_path` contains the domain, its authority
//! decision and a domain-level rejection published by partition 0 only. Outputs: `Command` on
//! `fleet.commands.v1`, `CommandStatus` on `fleet.command-status.v1`, `AuthorityDecision`
//! (subject `COMMAND`) on `fleet.authority.v1`.

use sxfleet_runtime::keyed::Keys;
use sxfleet_runtime::stage::InternalError;
use sxfleet_runtime::Output;

use super::{control_in, Twin};
use crate::command::{target_rejection, unplaced, Origin};
use crate::control::{command_decision, ControlState};
use crate::entry::{Entry, CONTROL_KEY};
use crate::fold::{self, Step};
use sxfleet_schemas::{CommandRequest, CommandTarget};

impl Twin {
    pub(super) fn on_command(
        &self,
        keys: &mut Keys<'_, Self>,
        request: &CommandRequest,
        out: &mut Vec<Output>,
    ) -> Result<(), InternalError> {
        match request.target_kind {
            CommandTarget::Node => self.node_command(keys, request, out),
            CommandTarget::Domain => self.domain_command(keys, request, out),
        }
    }

    fn node_command(
        &self,
        keys: &mut Keys<'_, Self>,
        request: &CommandRequest,
        out: &mut Vec<Output>,
    ) -> Result<(), InternalError> {
        let node_id = request.target_id.as_str();
        let empty = ControlState::default();
        let config = &self.config;
        let taken = keys.update(self, node_id, |slot, rest| {
            let Some(Entry::Node(state)) = slot.as_mut() else {
                return (false, None);
            };
            let control = control_in(rest, &empty);
            let domain_id = state.twin.domain_id.clone();
            let verdict = control.check_command(request, &domain_id);
            let decision = command_decision(request, &domain_id, &verdict, request.issued_ms);
            let origin = Origin::Controller(verdict);
            let step = fold::on_command(state, request, origin, control, config);
            let changed = step.derived.changed || step.commands.changed;
            (changed, Some((decision, step)))
        });
        let Some((decision, step)) = taken else {
            let status = unplaced(request, (node_id, ""), "unknown_node", request.issued_ms);
            out.push(self.output(&self.topics.command_status, node_id, &status)?);
            return Ok(());
        };
        let key = if decision.domain_id.is_empty() {
            node_id
        } else {
            decision.domain_id.as_str()
        };
        out.push(self.output(&self.topics.authority, key, &decision)?);
        self.publish_step(node_id, step, out)
    }

    fn domain_command(
        &self,
        keys: &mut Keys<'_, Self>,
        request: &CommandRequest,
        out: &mut Vec<Output>,
    ) -> Result<(), InternalError> {
        let domain_id = request.target_id.as_str();
        let publishes = keys.partition() == 0;
        let empty = ControlState::default();
        let entries = keys.entries();
        let control = entries
            .iter()
            .find_map(|(key, entry)| match entry {
                Entry::Control(control) if *key == CONTROL_KEY => Some(control.as_ref()),
                _ => None,
            })
            .unwrap_or(&empty);
        let verdict = control.check_command(request, domain_id);
        let rejected = verdict
            .as_ref()
            .err()
            .cloned()
            .or_else(|| target_rejection(request).map(str::to_owned));
        let targets: Vec<String> = entries
            .iter()
            .filter_map(|(key, entry)| {
                let node = entry.node()?;
                node.twin
                    .domain_path
                    .iter()
                    .any(|d| d == domain_id)
                    .then(|| (*key).to_owned())
            })
            .collect();
        if publishes {
            let decision = command_decision(request, domain_id, &verdict, request.issued_ms);
            out.push(self.output(&self.topics.authority, domain_id, &decision)?);
            if let Some(reason) = &rejected {
                let status = unplaced(request, ("", domain_id), reason, request.issued_ms);
                out.push(self.output(&self.topics.command_status, domain_id, &status)?);
            }
        }
        if rejected.is_some() {
            return Ok(());
        }
        let config = &self.config;
        for node_id in targets {
            let step = keys.update(self, &node_id, |slot, rest| {
                let Some(Entry::Node(state)) = slot.as_mut() else {
                    return (false, Step::default());
                };
                let control = control_in(rest, &empty);
                let origin = Origin::Controller(Ok(()));
                let step = fold::on_command(state, request, origin, control, config);
                (step.derived.changed || step.commands.changed, step)
            });
            self.publish_step(&node_id, step, out)?;
        }
        Ok(())
    }
}

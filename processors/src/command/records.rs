//! The records the command machine writes: `CommandStatus` per status change and `Command`
//! per publication. Pure.

use sxfleet_schemas::{Delivery, EpochMillis};

use super::book::Tracked;
use sxfleet_schemas::{
    Command, CommandKind, CommandRequest, CommandState, CommandStatus, CommandTarget,
};

/// The status record of `request` (`node_id` `""` for a domain-level rejection).
#[allow(clippy::too_many_arguments)] // one record's fields, named at each call
pub fn status(
    request: &CommandRequest,
    rollout: Option<&str>,
    (node_id, domain_id): (&str, &str),
    status: CommandState,
    reason: Option<&str>,
    at_ms: EpochMillis,
    attempts: i32,
    seq: i64,
) -> CommandStatus {
    CommandStatus {
        command_id: request.command_id.clone(),
        idempotency_key: request.idempotency_key.clone(),
        node_id: node_id.to_owned(),
        domain_id: domain_id.to_owned(),
        target_kind: request.target_kind,
        target_id: request.target_id.clone(),
        kind: request.kind,
        delivery: request.delivery,
        status,
        reason: reason.map(str::to_owned),
        at_ms,
        attempts,
        issued_ms: request.issued_ms,
        expires_ms: request.expires_ms,
        controller_id: request.authority.controller_id.clone(),
        rollout: rollout.map(str::to_owned),
        seq,
    }
}

/// The status record of a tracked command in its current status.
pub fn current(
    command: &Tracked,
    node: (&str, &str),
    at_ms: EpochMillis,
    seq: i64,
) -> CommandStatus {
    status(
        &command.request,
        command.rollout.as_deref(),
        node,
        command.status,
        command.reason.as_deref(),
        at_ms,
        command.attempts,
        seq,
    )
}

/// The delivery record of a command's publication number `command.attempts` at `at_ms`.
pub fn delivery(
    command: &Tracked,
    (node_id, domain_id): (&str, &str),
    at_ms: EpochMillis,
) -> Command {
    let request = &command.request;
    Command {
        command_id: request.command_id.clone(),
        node_id: node_id.to_owned(),
        issued_ms: request.issued_ms,
        expires_ms: request.expires_ms,
        authority: Some(request.authority.clone()),
        delivery: request.delivery,
        idempotency_key: request.idempotency_key.clone(),
        action: action(request),
        params: request.params.clone(),
        kind: request.kind,
        attempt: command.attempts,
        published_ms: at_ms,
        domain_id: domain_id.to_owned(),
        rollout: command.rollout.clone(),
    }
}

/// The delivery record's `action`: the kind in lower case (`"restart"`); for CUSTOM its
/// `params.name`.
pub fn action(request: &CommandRequest) -> String {
    match (request.kind, request.params.get("name")) {
        (CommandKind::Custom, Some(name)) => name.clone(),
        (kind, _) => kind.raw_name().to_owned(),
    }
}

/// The status record of an acknowledgement for a command the node's book does not know:
/// `REJECTED unknown_command`.
pub fn unknown_command(
    command_id: &str,
    (node_id, domain_id): (&str, &str),
    at_ms: EpochMillis,
    seq: i64,
) -> CommandStatus {
    CommandStatus {
        command_id: command_id.to_owned(),
        idempotency_key: String::new(),
        node_id: node_id.to_owned(),
        domain_id: domain_id.to_owned(),
        target_kind: CommandTarget::Node,
        target_id: node_id.to_owned(),
        kind: CommandKind::Unknown,
        delivery: Delivery::AtLeastOnce,
        status: CommandState::Rejected,
        reason: Some("unknown_command".to_owned()),
        at_ms,
        attempts: 0,
        issued_ms: at_ms,
        expires_ms: None,
        controller_id: String::new(),
        rollout: None,
        seq,
    }
}

/// The status record of a command rejected before it reached a node's book: a NODE target not
/// on this partition (`unknown_node`, `node_id` = the target) or a DOMAIN target rejected for
/// the domain (`node_id` `""`). `seq` 0: such records are deduplicated by (command id, status).
pub fn unplaced(
    request: &CommandRequest,
    node: (&str, &str),
    reason: &str,
    at_ms: EpochMillis,
) -> CommandStatus {
    status(
        request,
        None,
        node,
        CommandState::Rejected,
        Some(reason),
        at_ms,
        0,
        0,
    )
}

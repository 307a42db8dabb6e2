//! Samples of the command types: requests (control payloads), acks (event payloads), the
//! delivery record and the status ledger.

use sxfleet_schemas::*;

use super::{claim, map, T0};

fn s(text: &str) -> Option<String> {
    Some(text.to_owned())
}

/// Command requests, fully populated and minimal.
pub fn control_commands() -> Vec<ControlPayload> {
    vec![
        ControlPayload::Command(CommandRequest {
            command_id: "cmd-1".into(),
            idempotency_key: "region-a:update:edge-42:1".into(),
            target_kind: CommandTarget::Node,
            target_id: "edge-42".into(),
            kind: CommandKind::Update,
            delivery: Delivery::AtLeastOnce,
            issued_ms: T0,
            expires_ms: Some(T0 + 3_600_000),
            authority: claim(),
            params: map(&[("version", "1.4.7")]),
        }),
        ControlPayload::Command(CommandRequest {
            command_id: "k".into(),
            idempotency_key: "k".into(),
            target_kind: CommandTarget::Domain,
            target_id: "dom-eu".into(),
            kind: CommandKind::Custom,
            delivery: Delivery::AtMostOnce,
            issued_ms: 0,
            expires_ms: None,
            authority: claim(),
            params: StringMap::new(),
        }),
    ]
}

/// Command acks with every field set.
pub fn full_acks() -> Vec<EventPayload> {
    vec![EventPayload::CommandAck(CommandAck {
        command_id: "cmd-1".into(),
        status: AckStatus::Failed,
        reason: s("disk full"),
        reported_version: s("1.4.6"),
    })]
}

/// Command acks with every optional field null.
pub fn minimal_acks() -> Vec<EventPayload> {
    vec![EventPayload::CommandAck(CommandAck {
        command_id: String::new(),
        status: AckStatus::Received,
        reason: None,
        reported_version: None,
    })]
}

pub fn commands() -> Vec<(&'static str, Command)> {
    let full = Command {
        command_id: "cmd-1".into(),
        node_id: "edge-42".into(),
        issued_ms: T0,
        expires_ms: Some(T0 + 3_600_000),
        authority: Some(claim()),
        delivery: Delivery::AtLeastOnce,
        idempotency_key: "apply:bundle-7:edge-42".into(),
        action: "apply_bundle".into(),
        params: map(&[("bundle_id", "bundle-7")]),
        kind: CommandKind::ApplyBundle,
        attempt: 3,
        published_ms: T0 + 120_000,
        domain_id: "dom-eu".into(),
        rollout: s("bundle-7@1.4.7"),
    };
    let minimal = Command {
        command_id: "cmd-2".into(),
        node_id: "edge-42".into(),
        issued_ms: T0,
        expires_ms: None,
        authority: None,
        delivery: Delivery::AtMostOnce,
        idempotency_key: String::new(),
        action: "reboot".into(),
        params: StringMap::new(),
        kind: CommandKind::Restart,
        attempt: 1,
        published_ms: 0,
        domain_id: String::new(),
        rollout: None,
    };
    vec![("Command_full", full), ("Command_minimal", minimal)]
}

pub fn command_statuses() -> Vec<(&'static str, CommandStatus)> {
    let full = CommandStatus {
        command_id: "cmd-1".into(),
        idempotency_key: "apply:bundle-7:edge-42".into(),
        node_id: "edge-42".into(),
        domain_id: "dom-eu".into(),
        target_kind: CommandTarget::Domain,
        target_id: "dom-eu".into(),
        kind: CommandKind::ApplyBundle,
        delivery: Delivery::AtLeastOnce,
        status: CommandState::Held,
        reason: s("maintenance_window"),
        at_ms: T0 + 5,
        attempts: 2,
        issued_ms: T0,
        expires_ms: Some(T0 + 3_600_000),
        controller_id: "region-a-control".into(),
        rollout: s("bundle-7@1.4.7"),
        seq: 9,
    };
    let minimal = CommandStatus {
        command_id: String::new(),
        idempotency_key: String::new(),
        node_id: String::new(),
        domain_id: String::new(),
        target_kind: CommandTarget::Node,
        target_id: String::new(),
        kind: CommandKind::Unknown,
        delivery: Delivery::AtMostOnce,
        status: CommandState::Rejected,
        reason: None,
        at_ms: 0,
        attempts: 0,
        issued_ms: 0,
        expires_ms: None,
        controller_id: String::new(),
        rollout: None,
        seq: 0,
    };
    vec![
        ("CommandStatus_full", full),
        ("CommandStatus_minimal", minimal),
    ]
}

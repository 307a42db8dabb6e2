//! A hand-built command ledger as the processor would publish it on
//! `fleet.command-status.v1` (`CommandStatus` records, keyed by node), with the twins that give
//! the rollout's nodes their domain paths:
//!
//! - `cmd-7`, a restart of `edge-1` (edge-zone-a1), at least once: accepted, held while the node
//!   was away, published, re-sent twice, received, applied;
//! - `cmd-8`, a restart of `edge-2` (edge-zone-a1), at most once: published once, lost;
//! - `cmd-9`, a restart of `edge-2`, held (`node_away`), still open;
//! - `cmd-rogue`, a restart of domain `region-a` from a controller without authority: one
//!   domain-level rejection (`node_id` `''`, `seq` 0);
//! - the rollout of `fw@2.0.0`: in edge-zone-a1 nine of ten nodes converged and one is
//!   published (90 %: safe), in edge-zone-a2 one converged, one held for its maintenance window
//!   and one failed (not safe), in edge-zone-b1 one node received it and has no twin; `fw@1.9.0`
//!   was cancelled (superseded) on `a1-0`.

use sxfleet_schemas::{
    CommandKind, CommandState, CommandStatus, CommandTarget, Delivery, LifecyclePhase, Node,
    NodeMaintenance,
};

use super::{node, T0};

/// The domain path of each zone of the scenario.
fn path(zone: &str) -> Vec<String> {
    let region = if zone == "edge-zone-b1" {
        "region-b"
    } else {
        "region-a"
    };
    ["global", region, zone].map(str::to_owned).to_vec()
}

/// The rollout's nodes, with their zones, and whether they have a twin.
pub fn rollout_nodes() -> Vec<(String, &'static str, bool)> {
    let mut nodes: Vec<(String, &'static str, bool)> = (0..10)
        .map(|i| (format!("a1-{i}"), "edge-zone-a1", true))
        .collect();
    nodes.extend((0..3).map(|i| (format!("a2-{i}"), "edge-zone-a2", true)));
    nodes.push(("b1-0".to_owned(), "edge-zone-b1", false));
    nodes
}

/// When `edge-2`'s maintenance began.
pub const MAINTENANCE_SINCE: i64 = T0 + 5_000;

/// The twins of the rollout's nodes (all but `b1-0`) and of `edge-1` and `edge-2`; `edge-2` is
/// in maintenance (its Avro phase reads `UPDATING`) with `cmd-9` open and held, the others have
/// no open command.
pub fn twins() -> Vec<Node> {
    let mut ids: Vec<(String, &'static str)> = rollout_nodes()
        .into_iter()
        .filter(|(_, _, twin)| *twin)
        .map(|(id, zone, _)| (id, zone))
        .collect();
    ids.extend([
        ("edge-1".to_owned(), "edge-zone-a1"),
        ("edge-2".to_owned(), "edge-zone-a1"),
    ]);
    ids.into_iter()
        .map(|(id, zone)| {
            let mut twin = node(&id, 1);
            twin.domain_id = zone.to_owned();
            twin.domain_path = path(zone);
            twin.commands_pending = 0;
            twin.commands_held = 0;
            twin.lifecycle.maintenance = None;
            if id == "edge-2" {
                twin.lifecycle.phase = LifecyclePhase::Updating;
                twin.lifecycle.state = "MAINTENANCE".to_owned();
                twin.lifecycle.maintenance = Some(NodeMaintenance {
                    since_ms: MAINTENANCE_SINCE,
                    until_ms: None,
                    command_id: Some("cmd-m".to_owned()),
                });
                twin.commands_pending = 1;
                twin.commands_held = 1;
            }
            twin
        })
        .collect()
}

/// One command of the scenario: what every status record of it shares.
struct Spec {
    command_id: String,
    node_id: String,
    domain_id: String,
    kind: CommandKind,
    delivery: Delivery,
    rollout: Option<String>,
}

impl Spec {
    fn node(command_id: &str, node_id: &str, zone: &str, delivery: Delivery) -> Self {
        Self {
            command_id: command_id.to_owned(),
            node_id: node_id.to_owned(),
            domain_id: zone.to_owned(),
            kind: CommandKind::Restart,
            delivery,
            rollout: None,
        }
    }

    fn rollout(version: &str, node_id: &str, zone: &str) -> Self {
        let rollout = format!("fw@{version}");
        Self {
            command_id: format!("rollout:{rollout}:{node_id}"),
            node_id: node_id.to_owned(),
            domain_id: zone.to_owned(),
            kind: CommandKind::Update,
            delivery: Delivery::AtLeastOnce,
            rollout: Some(rollout),
        }
    }

    /// The record of status `status` at `T0 + at_s` seconds, `attempts` sends so far, with
    /// the node's status `seq`.
    fn status(
        &self,
        status: CommandState,
        reason: Option<&str>,
        at_s: i64,
        attempts: i32,
        seq: i64,
    ) -> CommandStatus {
        let domain_level = self.node_id.is_empty();
        CommandStatus {
            command_id: self.command_id.clone(),
            idempotency_key: self.command_id.clone(),
            node_id: self.node_id.clone(),
            domain_id: self.domain_id.clone(),
            target_kind: if domain_level {
                CommandTarget::Domain
            } else {
                CommandTarget::Node
            },
            target_id: if domain_level {
                self.domain_id.clone()
            } else {
                self.node_id.clone()
            },
            kind: self.kind,
            delivery: self.delivery,
            status,
            reason: reason.map(str::to_owned),
            at_ms: T0 + at_s * 1000,
            attempts,
            issued_ms: T0,
            expires_ms: (self.delivery == Delivery::AtMostOnce).then_some(T0 + 3_600_000),
            controller_id: if domain_level {
                "rogue-control".to_owned()
            } else {
                "region-a-control".to_owned()
            },
            rollout: self.rollout.clone(),
            seq,
        }
    }
}

/// Every status record of the scenario, in the order each node's records were published (a
/// node's `seq` increases over all its commands).
pub fn statuses() -> Vec<CommandStatus> {
    use CommandState::*;
    let mut out = Vec::new();
    let cmd7 = Spec::node("cmd-7", "edge-1", "edge-zone-a1", Delivery::AtLeastOnce);
    let steps = [
        (Accepted, None, 0, 0),
        (Held, Some("node_away"), 0, 0),
        (Published, None, 60, 1),
        (Resent, None, 90, 2),
        (Resent, None, 150, 3),
        (Received, None, 151, 3),
        (Applied, None, 160, 3),
    ];
    for (seq, (status, reason, at, attempts)) in (1..).zip(steps) {
        out.push(cmd7.status(status, reason, at, attempts, seq));
    }
    let cmd8 = Spec::node("cmd-8", "edge-2", "edge-zone-a1", Delivery::AtMostOnce);
    let cmd9 = Spec::node("cmd-9", "edge-2", "edge-zone-a1", Delivery::AtLeastOnce);
    out.extend([
        cmd8.status(Accepted, None, 10, 0, 1),
        cmd8.status(Published, None, 10, 1, 2),
        cmd8.status(Lost, Some("no_ack"), 310, 1, 3),
        cmd9.status(Accepted, None, 400, 0, 4),
        cmd9.status(Held, Some("node_away"), 400, 0, 5),
    ]);
    let rogue = Spec::node("cmd-rogue", "", "region-a", Delivery::AtLeastOnce);
    out.push(rogue.status(Rejected, Some("no_authority"), 20, 0, 0));

    for (i, (node_id, zone, _)) in rollout_nodes().into_iter().enumerate() {
        let mut seq = 0;
        let mut next = || {
            seq += 1;
            seq
        };
        if node_id == "a1-0" {
            let old = Spec::rollout("1.9.0", &node_id, zone);
            out.push(old.status(Accepted, None, 5, 0, next()));
            out.push(old.status(Held, Some("maintenance_window"), 5, 0, next()));
            out.push(old.status(Cancelled, Some("superseded"), 30, 0, next()));
        }
        let update = Spec::rollout("2.0.0", &node_id, zone);
        out.push(update.status(Accepted, None, 30, 0, next()));
        let last: &[(CommandState, Option<&str>, i32)] = match (zone, i) {
            ("edge-zone-a1", 9) => &[(Published, None, 1)],
            ("edge-zone-a2", 11) => &[(Held, Some("maintenance_window"), 0)],
            ("edge-zone-a2", 12) => &[(Published, None, 1), (Failed, Some("disk full"), 1)],
            ("edge-zone-b1", _) => &[(Published, None, 1), (Received, None, 1)],
            _ => &[
                (Published, None, 1),
                (Received, None, 1),
                (Applied, None, 1),
            ],
        };
        for (k, (status, reason, attempts)) in (1..).zip(last) {
            out.push(update.status(*status, *reason, 30 + k, *attempts, next()));
        }
    }
    out
}

//! The digital twin's own fields: identity, runtime, actual state and supply chain, folded from
//! a node's events. Connectivity and lifecycle come from their state machines
//! ([`crate::connectivity`], [`crate::lifecycle`]) and are copied in by [`crate::node`].
//!
//! Pure and deterministic: `apply(twin, event)` depends only on its inputs (time comes from the
//! event), so replaying a node's events always rebuilds the same twin.

use sxfleet_schemas::{AttestationStatus, EventPayload, FleetEvent, Node};

/// What applying one event did.
#[derive(Clone, Debug, PartialEq)]
pub enum Applied {
    /// The twin changed; its version went up by one.
    Updated,
    /// The event is not newer than what the twin already reflects (`seq <= last_seq`) and was
    /// not applied: duplicates, stale re-deliveries and replayed history never move the
    /// latest state backwards.
    Stale,
}

/// Applies `event` to `node`.
pub fn apply(node: &mut Node, event: &FleetEvent) -> Applied {
    if node.events_applied > 0 && event.seq <= node.last_seq {
        return Applied::Stale;
    }
    match &event.payload {
        EventPayload::Register(register) => {
            node.kind = register.kind;
            node.domain_id = register.domain_id.clone();
            node.region = register.region.clone();
            node.zone = register.zone.clone();
            node.tags = register.tags.clone();
            node.supply_chain.hardware = register.hardware.clone();
            node.supply_chain.firmware = register.firmware.clone();
            node.supply_chain.public_key = register.public_key.clone();
        }
        EventPayload::Heartbeat(heartbeat) => {
            follow(node, event, heartbeat.via.as_ref());
            let runtime = &mut node.actual_state.runtime;
            runtime.health = heartbeat.health;
            runtime.last_heartbeat_ms = Some(event.event_time_ms);
            runtime.uptime_s = heartbeat.uptime_s;
        }
        EventPayload::Snapshot(snapshot) => {
            let actual = &mut node.actual_state;
            actual.reported_version = snapshot.reported_version.clone();
            actual.policy_version = snapshot.policy_version.clone();
            actual.config = snapshot.config.clone();
            actual.sbom_hash = snapshot.sbom_hash.clone();
            actual.last_snapshot_ms = Some(event.event_time_ms);
            if snapshot.inventory.is_some() {
                actual.inventory = snapshot.inventory.clone();
            }
            if let Some(version) = &snapshot.firmware_version {
                node.supply_chain.firmware.version = Some(version.clone());
            }
        }
        EventPayload::Attestation(attestation) => {
            node.supply_chain.attestation = Some(AttestationStatus {
                result: attestation.result,
                at_ms: event.event_time_ms,
                firmware_signature: attestation.firmware_signature.clone(),
                cert_not_after_ms: attestation.cert_not_after_ms,
            });
        }
        EventPayload::Link(link) => follow(node, event, link.via.as_ref()),
        // Edges are kept by the node's topology (`crate::node`), from replayed events too;
        // command acks by its command book.
        EventPayload::Replay(_)
        | EventPayload::Lifecycle(_)
        | EventPayload::TrustViolation(_)
        | EventPayload::Edge(_)
        | EventPayload::CommandAck(_) => {}
    }
    node.version += 1;
    node.last_seq = event.seq;
    node.last_event_id = Some(event.event_id.clone());
    node.updated_ms = node.updated_ms.max(event.event_time_ms);
    node.events_applied += 1;
    Applied::Updated
}

/// The node's relay path from a live event's `via`: `None` leaves it, `[]` clears it. A
/// replayed event tells where traffic went then, not now.
fn follow(node: &mut Node, event: &FleetEvent, via: Option<&Vec<String>>) {
    if let Some(via) = via.filter(|_| !event.replayed) {
        node.relay_path.clone_from(via);
    }
}

#[cfg(test)]
pub(crate) mod tests;

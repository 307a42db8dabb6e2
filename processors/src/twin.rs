//! The digital-twin projection: the latest known state of one node, folded from its events.
//!
//! Pure and deterministic: `apply(twin, event)` depends only on its inputs (time comes from the
//! event), so replaying a node's events always rebuilds the same twin.

use sxfleet_schemas::{
    ConnectivityMode, EventPayload, FleetEvent, Health, LifecyclePhase, LinkState, Node,
    ReplayPhase,
};

/// Round-trip time above which a live node counts as DELAYED.
pub const DELAYED_RTT_MS: f64 = 1_000.0;
/// Packet loss above which a live node counts as DELAYED.
pub const DELAYED_LOSS_PCT: f64 = 5.0;

/// What applying one event did.
#[derive(Clone, Debug, PartialEq)]
pub enum Applied {
    /// The twin changed; its version went up by one.
    Updated,
    /// The event is not newer than what the twin already reflects (`seq <= last_seq`) and was
    /// not applied: duplicates and stale re-deliveries never move state backwards.
    Stale,
}

/// Applies `event` to `twin` (the node's current state, `None` for a node never seen).
pub fn apply(twin: &mut Option<Node>, event: &FleetEvent) -> Applied {
    let node = twin.get_or_insert_with(|| {
        let mut node = Node::new(event.node_id.clone());
        node.lifecycle.phase = LifecyclePhase::Provisioning;
        node.lifecycle.state = "PROVISIONING".to_owned();
        node
    });
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
            if node.lifecycle.phase == LifecyclePhase::Provisioning {
                transition(node, LifecyclePhase::Enrolled, "enrollment_complete", event);
            }
        }
        EventPayload::Heartbeat(heartbeat) => {
            let quality = &mut node.connectivity.link_quality;
            quality.rtt_ms = heartbeat.rtt_ms;
            quality.loss_pct = heartbeat.loss_pct;
            quality.bandwidth_kbps = heartbeat.bandwidth_kbps;
            let runtime = &mut node.actual_state.runtime;
            runtime.health = heartbeat.health;
            runtime.last_heartbeat_ms = Some(event.event_time_ms);
            runtime.uptime_s = heartbeat.uptime_s;
            node.connectivity.sync_debt.backlog_messages = heartbeat.backlog_messages.unwrap_or(0);
            let slow = heartbeat.rtt_ms.is_some_and(|rtt| rtt > DELAYED_RTT_MS)
                || heartbeat
                    .loss_pct
                    .is_some_and(|loss| loss > DELAYED_LOSS_PCT);
            node.connectivity.mode = if slow {
                ConnectivityMode::Delayed
            } else {
                ConnectivityMode::Live
            };
            follow_health(node, heartbeat.health, event);
        }
        EventPayload::Snapshot(snapshot) => {
            let actual = &mut node.actual_state;
            actual.reported_version = snapshot.reported_version.clone();
            actual.policy_version = snapshot.policy_version.clone();
            actual.config = snapshot.config.clone();
            actual.sbom_hash = snapshot.sbom_hash.clone();
            if snapshot.inventory.is_some() {
                actual.inventory = snapshot.inventory.clone();
            }
            if let Some(version) = &snapshot.firmware_version {
                node.supply_chain.firmware.version = Some(version.clone());
            }
        }
        EventPayload::Link(link) => {
            node.connectivity.mode = match link.state {
                LinkState::Lost => ConnectivityMode::Autonomous,
                LinkState::Detected => ConnectivityMode::Returning,
            };
        }
        EventPayload::Replay(replay) => {
            node.connectivity.mode = match replay.phase {
                ReplayPhase::Begin | ReplayPhase::Chunk => ConnectivityMode::Replaying,
                ReplayPhase::End => ConnectivityMode::Live,
            };
            node.connectivity.sync_debt.replay_required = replay.phase != ReplayPhase::End;
        }
        EventPayload::Lifecycle(_) | EventPayload::Attestation(_) => {}
    }
    let last_seen = node.connectivity.last_seen_ms.unwrap_or(i64::MIN);
    node.connectivity.last_seen_ms = Some(last_seen.max(event.event_time_ms));
    node.version += 1;
    node.last_seq = event.seq;
    node.last_event_id = Some(event.event_id.clone());
    node.updated_ms = event.event_time_ms;
    node.events_applied += 1;
    Applied::Updated
}

/// ENROLLED nodes activate on their first healthy heartbeat; ACTIVE and DEGRADED follow the
/// reported health.
fn follow_health(node: &mut Node, health: Health, event: &FleetEvent) {
    match (node.lifecycle.phase, health) {
        (LifecyclePhase::Enrolled, Health::Ok) => {
            transition(node, LifecyclePhase::Active, "activation", event)
        }
        (LifecyclePhase::Active, Health::Degraded | Health::Failed) => {
            transition(node, LifecyclePhase::Degraded, "health_degradation", event)
        }
        (LifecyclePhase::Degraded, Health::Ok) => {
            transition(node, LifecyclePhase::Active, "recovery", event)
        }
        _ => {}
    }
}

fn transition(node: &mut Node, phase: LifecyclePhase, reason: &str, event: &FleetEvent) {
    node.lifecycle.phase = phase;
    node.lifecycle.state = format!("{phase:?}").to_uppercase();
    node.lifecycle.last_transition_ms = Some(event.event_time_ms);
    node.lifecycle.reason = Some(reason.to_owned());
}

#[cfg(test)]
#[path = "twin_tests.rs"]
mod tests;

//! The simulated fleet as a graph: which relay path each node's traffic takes (`via`), the
//! relationships nodes declare (`edge`), and the relay failures the simulator injects. Drawn
//! from the seed with RNGs of their own, so the rest of the simulation (metrics, outages,
//! upgrades) is the same with or without them.
//!
//! In each zone the first RELAY node is the zone's uplink; every other relay of the zone is
//! either behind it or direct. An ordinary node is direct or behind one of its zone's relays
//! (and so behind that relay's own path): `via` = `[relay, uplink]` or `[relay]`.
//!
//! Relay failures: the rounds are cut in periods of [`FAULT_PERIOD_ROUNDS`]; in each period one
//! relay with at least two nodes behind it fails for 4 to 10 consecutive rounds. While it is
//! failed its heartbeats report health FAILED, and every node with it on its path reports
//! [`FAULT_RTT_MS`] more round-trip time and [`FAULT_LOSS_PCT`] more loss (DELAYED), all in the
//! same rounds; nodes behind other relays are untouched.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::fleet::NodeIdentity;
use crate::wire::{EdgeRelation, EdgeState, Health, Heartbeat, NodeKind};

/// Rounds per relay-failure period.
pub const FAULT_PERIOD_ROUNDS: u64 = 40;
/// Round-trip time a failed relay adds to the nodes behind it.
pub const FAULT_RTT_MS: f64 = 4000.0;
/// Packet loss (percentage points) a failed relay adds to the nodes behind it.
pub const FAULT_LOSS_PCT: f64 = 6.0;

const TOPOLOGY_SALT: u64 = 0x7e1a_7a11_5eed_0001;
const FAULT_SALT: u64 = 0x7e1a_7a11_5eed_0002;

/// A relationship a node declares to a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredEdge {
    /// The other node.
    pub peer_id: String,
    /// What it carries.
    pub relation: EdgeRelation,
    /// Its state.
    pub state: EdgeState,
}

/// One node's place in the graph.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeLinks {
    /// Relay ids its traffic takes, nearest hop first; empty = direct.
    pub via: Vec<String>,
    /// The edges it declares.
    pub edges: Vec<DeclaredEdge>,
}

/// One relay failure: `relay_id` fails in rounds `first_round..=last_round`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayFault {
    /// The failed relay.
    pub relay_id: String,
    /// First failed round.
    pub first_round: u64,
    /// Last failed round.
    pub last_round: u64,
}

/// The relays that can fail (at least two nodes behind them) and the seed of the schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultPlan {
    seed: u64,
    candidates: Vec<String>,
}

/// How a relay failure touches one node's heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Impact {
    /// Not on the failed relay's path.
    None,
    /// The failed relay itself: health FAILED.
    Failed,
    /// Behind the failed relay: slow and lossy.
    Behind,
}

/// The links of `nodes` (same order) and the relay-failure plan, from `seed`.
pub fn build(nodes: &[NodeIdentity], seed: u64) -> (Vec<NodeLinks>, FaultPlan) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ TOPOLOGY_SALT);
    let mut links = vec![NodeLinks::default(); nodes.len()];
    let mut zones: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        zones.entry(n.zone.id).or_default().push(i);
    }
    for members in zones.values() {
        let relays: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&i| nodes[i].kind == NodeKind::Relay)
            .collect();
        let id = |i: usize| nodes[i].node_id.clone();
        if let Some((&uplink, others)) = relays.split_first() {
            for &r in others {
                if rng.random_bool(0.5) {
                    links[r].via = vec![id(uplink)];
                    links[r]
                        .edges
                        .push(edge(id(uplink), EdgeRelation::Control, &mut rng));
                }
            }
        }
        for &i in members
            .iter()
            .filter(|&&i| nodes[i].kind != NodeKind::Relay)
        {
            if !relays.is_empty() && !rng.random_bool(0.15) {
                let relay = relays[rng.random_range(0..relays.len())];
                let mut via = vec![id(relay)];
                via.extend(links[relay].via.iter().cloned());
                links[i].via = via;
            }
            let others: Vec<usize> = members.iter().copied().filter(|&j| j != i).collect();
            if !others.is_empty() && rng.random_bool(0.2) {
                let peer = others[rng.random_range(0..others.len())];
                links[i]
                    .edges
                    .push(edge(id(peer), EdgeRelation::Signaling, &mut rng));
            }
            if !others.is_empty() && rng.random_bool(0.1) {
                let peer = others[rng.random_range(0..others.len())];
                links[i]
                    .edges
                    .push(edge(id(peer), EdgeRelation::Media, &mut rng));
            }
            let spare: Vec<usize> = relays
                .iter()
                .copied()
                .filter(|&r| !links[i].via.contains(&nodes[r].node_id))
                .collect();
            if !links[i].via.is_empty() && !spare.is_empty() && rng.random_bool(0.3) {
                let peer = spare[rng.random_range(0..spare.len())];
                links[i]
                    .edges
                    .push(edge(id(peer), EdgeRelation::Bypass, &mut rng));
            }
        }
    }
    let candidates = nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Relay)
        .filter(|r| links.iter().filter(|l| l.via.contains(&r.node_id)).count() >= 2)
        .map(|r| r.node_id.clone())
        .collect();
    (links, FaultPlan { seed, candidates })
}

fn edge(peer_id: String, relation: EdgeRelation, rng: &mut ChaCha8Rng) -> DeclaredEdge {
    let state = if rng.random_bool(0.1) {
        EdgeState::Down
    } else {
        EdgeState::Up
    };
    DeclaredEdge {
        peer_id,
        relation,
        state,
    }
}

impl FaultPlan {
    /// A plan that never fails a relay.
    pub fn none() -> Self {
        Self {
            seed: 0,
            candidates: Vec::new(),
        }
    }

    /// The failure of period `period` (rounds `period * P + 1 ..= (period + 1) * P`), if any
    /// relay can fail.
    pub fn fault(&self, period: u64) -> Option<RelayFault> {
        if self.candidates.is_empty() {
            return None;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(
            self.seed ^ FAULT_SALT ^ period.wrapping_mul(0x9e37_79b9_7f4a_7c15),
        );
        let relay = &self.candidates[rng.random_range(0..self.candidates.len())];
        let first_round = period
            .checked_mul(FAULT_PERIOD_ROUNDS)?
            .checked_add(1 + rng.random_range(5..=20))?;
        Some(RelayFault {
            relay_id: relay.clone(),
            first_round,
            last_round: first_round + rng.random_range(3..=9),
        })
    }

    /// The failures of rounds `1..=rounds`, oldest first.
    pub fn faults_until(&self, rounds: u64) -> Vec<RelayFault> {
        (0..=rounds / FAULT_PERIOD_ROUNDS)
            .filter_map(|p| self.fault(p))
            .filter(|f| f.first_round <= rounds)
            .collect()
    }

    /// The relay failed in `round`, if any.
    pub fn failed_at(&self, round: u64) -> Option<RelayFault> {
        let period = round.checked_sub(1)? / FAULT_PERIOD_ROUNDS;
        self.fault(period)
            .filter(|f| (f.first_round..=f.last_round).contains(&round))
    }
}

/// How the failure of `failed` touches node `node_id` whose path is `via`.
pub fn impact(failed: &str, node_id: &str, via: &[String]) -> Impact {
    if node_id == failed {
        Impact::Failed
    } else if via.iter().any(|hop| hop == failed) {
        Impact::Behind
    } else {
        Impact::None
    }
}

/// `heartbeat` as the node reports it under `impact`.
pub fn degrade(heartbeat: &mut Heartbeat, impact: Impact) {
    match impact {
        Impact::None => {}
        Impact::Failed => heartbeat.health = Health::Failed,
        Impact::Behind => {
            heartbeat.rtt_ms += FAULT_RTT_MS;
            heartbeat.loss_pct = (heartbeat.loss_pct + FAULT_LOSS_PCT).min(100.0);
        }
    }
}

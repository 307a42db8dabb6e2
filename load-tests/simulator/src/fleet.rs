//! The static identity of every simulated node: kind, placement, hardware
//! batch, firmware and inventory, chosen once when the simulator starts. What
//! changes over time (link quality, health, versions) lives in [`crate::behaviour`].

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::federation::{apportion, DomainSpec};
use crate::wire::{Inventory, NodeKind};

/// A manufacturing batch nodes are drawn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batch {
    /// Batch id, e.g. `BATCH-2024-Q3-001`.
    pub id: &'static str,
    /// Serial number prefix, e.g. `HW-2024-Q3`.
    pub serial_prefix: &'static str,
    /// Manufacturer name.
    pub manufacturer: &'static str,
    /// Manufacturing origin (factory).
    pub origin: &'static str,
    /// Relative share of the fleet.
    pub weight: u32,
    /// Nodes of this batch degrade more often (a hardware defect analysts can find).
    pub flaky: bool,
}

/// Hardware batches, oldest first.
pub const BATCHES: [Batch; 4] = [
    batch(
        "BATCH-2024-Q3-001",
        "HW-2024-Q3",
        "Souverix SAS",
        "Factory-A",
        30,
        false,
    ),
    batch(
        "BATCH-2024-Q4-002",
        "HW-2024-Q4",
        "Souverix SAS",
        "Factory-A",
        30,
        false,
    ),
    batch(
        "BATCH-2025-Q1-003",
        "HW-2025-Q1",
        "Kerlan Electronics",
        "Factory-B",
        25,
        false,
    ),
    batch(
        "BATCH-2025-Q2-004",
        "HW-2025-Q2",
        "Kerlan Electronics",
        "Factory-B",
        15,
        true,
    ),
];

const fn batch(
    id: &'static str,
    serial_prefix: &'static str,
    manufacturer: &'static str,
    origin: &'static str,
    weight: u32,
    flaky: bool,
) -> Batch {
    Batch {
        id,
        serial_prefix,
        manufacturer,
        origin,
        weight,
        flaky,
    }
}

/// Firmware versions in the fleet with their relative shares, newest first.
pub const FIRMWARE_VERSIONS: [(&str, u32); 3] = [("2.1.3", 60), ("2.1.2", 30), ("2.0.9", 10)];

/// Node kinds with their relative shares.
const KINDS: [(NodeKind, u32); 4] = [
    (NodeKind::Edge, 80),
    (NodeKind::Gateway, 10),
    (NodeKind::Relay, 7),
    (NodeKind::Dc, 3),
];

/// The fixed identity of one simulated node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeIdentity {
    /// Immutable node id, `sx-<kind>-<zone short>-<nnnnn>`.
    pub node_id: String,
    /// Node kind.
    pub kind: NodeKind,
    /// Zone the node lives in (one of the zones of [`crate::federation::FEDERATION`]).
    pub zone: &'static DomainSpec,
    /// Hardware batch.
    pub batch: &'static Batch,
    /// Hardware serial number.
    pub serial: String,
    /// Index into [`FIRMWARE_VERSIONS`].
    pub firmware: usize,
    /// Free-form tags.
    pub tags: Vec<String>,
    /// Hardware inventory reported by snapshots.
    pub inventory: Inventory,
}

impl NodeIdentity {
    /// Hardware model name for the node's kind.
    pub fn model(&self) -> &'static str {
        match self.kind {
            NodeKind::Edge => "SX-EDGE-200",
            NodeKind::Gateway => "SX-GW-400",
            NodeKind::Relay => "SX-RLY-100",
            NodeKind::Dc => "SX-DC-900",
            NodeKind::Virtual => "SX-VM",
        }
    }

    /// Firmware version string.
    pub fn firmware_version(&self) -> &'static str {
        FIRMWARE_VERSIONS
            .get(self.firmware)
            .map_or(FIRMWARE_VERSIONS[0].0, |(v, _)| v)
    }
}
/// Picks an index into `weights` with probability proportional to its weight.
pub fn pick_weighted<T>(rng: &mut ChaCha8Rng, weights: &[(T, u32)]) -> usize {
    let total: u32 = weights.iter().map(|(_, w)| *w).sum();
    let mut roll = rng.random_range(0..total.max(1));
    for (i, (_, w)) in weights.iter().enumerate() {
        if roll < *w {
            return i;
        }
        roll -= *w;
    }
    weights.len().saturating_sub(1)
}

/// Builds the identities of `nodes` nodes, numbered 1..=nodes in zone order.
pub fn generate(nodes: u32, rng: &mut ChaCha8Rng) -> Vec<NodeIdentity> {
    let batch_weights: Vec<(usize, u32)> = BATCHES.iter().map(|b| b.weight).enumerate().collect();
    let mut out = Vec::with_capacity(nodes as usize);
    let mut number = 0u32;
    for (zone, count) in apportion(nodes) {
        for _ in 0..count {
            number += 1;
            let kind = KINDS[pick_weighted(rng, &KINDS)].0;
            let batch = &BATCHES[pick_weighted(rng, &batch_weights)];
            let firmware = pick_weighted(rng, &FIRMWARE_VERSIONS);
            let mut tags = vec![
                format!("tier:{}", kind_slug(kind)),
                format!("site:{}-{:02}", zone.short, rng.random_range(1..=12u32)),
            ];
            if zone.opportunistic {
                tags.push("sync:opportunistic".to_owned());
            }
            if rng.random_bool(0.05) {
                tags.push("canary".to_owned());
            }
            out.push(NodeIdentity {
                node_id: format!("sx-{}-{}-{number:05}", kind_slug(kind), zone.short),
                kind,
                zone,
                batch,
                serial: format!("{}-{number:06}", batch.serial_prefix),
                firmware,
                tags,
                inventory: inventory(kind, rng),
            });
        }
    }
    out
}

/// Hardware inventory of a node of `kind`.
fn inventory(kind: NodeKind, rng: &mut ChaCha8Rng) -> Inventory {
    let (cpu, ram_gb, storage_gb) = match kind {
        NodeKind::Edge => ("arm64-8c", 16, 256),
        NodeKind::Gateway => ("x86_64-16c", 32, 512),
        NodeKind::Relay => ("arm64-4c", 8, 128),
        NodeKind::Dc | NodeKind::Virtual => ("x86_64-64c", 256, 4096),
    };
    let gpus: &'static [&'static str] = if kind == NodeKind::Dc && rng.random_bool(0.5) {
        &["nvidia-l4", "nvidia-l4"]
    } else {
        &[]
    };
    Inventory {
        cpu,
        ram_gb,
        storage_gb,
        gpus,
    }
}

/// The lower-case kind used in node ids and tags.
pub fn kind_slug(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Edge => "edge",
        NodeKind::Dc => "dc",
        NodeKind::Gateway => "gw",
        NodeKind::Relay => "relay",
        NodeKind::Virtual => "vm",
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use std::collections::HashSet;

    #[test]
    fn node_ids_are_unique_and_well_formed() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let nodes = generate(500, &mut rng);
        let ids: HashSet<&str> = nodes.iter().map(|n| n.node_id.as_str()).collect();
        assert_eq!(ids.len(), 500);
        for n in &nodes {
            let parts: Vec<&str> = n.node_id.split('-').collect();
            assert_eq!(parts.len(), 4, "{}", n.node_id);
            assert_eq!(parts[0], "sx");
            assert_eq!(parts[1], kind_slug(n.kind));
            assert_eq!(parts[2], n.zone.short);
            assert_eq!(parts[3].len(), 5);
        }
        let kinds: HashSet<NodeKind> = nodes.iter().map(|n| n.kind).collect();
        assert!(kinds.len() >= 3, "expected a mix of kinds, got {kinds:?}");
    }
}

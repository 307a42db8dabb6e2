//! The federation hierarchy of seed 000 (global, regions, edge zones) and how
//! the simulated fleet is spread over its zones.

use crate::wire::{Autonomy, DomainLevel};

/// One domain of the federation hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DomainSpec {
    /// Domain id, as carried by `domain` records and by a node's `domain_id`.
    pub id: &'static str,
    /// Parent domain id; `None` only for the global domain.
    pub parent: Option<&'static str>,
    /// Level in the hierarchy.
    pub level: DomainLevel,
    /// How far the domain may operate without its parent.
    pub autonomy: Autonomy,
    /// Region a node placed in this domain reports (zones only).
    pub region: &'static str,
    /// Short zone code used in node ids (`a1`, `b1`, ...); empty for non-zones.
    pub short: &'static str,
    /// Relative share of the fleet placed in this zone; 0 for non-zones.
    pub weight: u32,
    /// The zone only syncs opportunistically (air-gapped or autonomous), so its
    /// links are worse and outages longer.
    pub opportunistic: bool,
}

/// The federation of seed 000, parents before children.
///
/// Edge zone C sits directly under the global domain; its nodes report region
/// `region-c`, which has no domain record of its own.
pub const FEDERATION: [DomainSpec; 7] = [
    domain("global", None, DomainLevel::Global, Autonomy::Full),
    domain(
        "region-a",
        Some("global"),
        DomainLevel::Region,
        Autonomy::Full,
    ),
    zone(
        "edge-zone-a1",
        "region-a",
        "region-a",
        "a1",
        Autonomy::Conditional,
        30,
        false,
    ),
    zone(
        "edge-zone-a2",
        "region-a",
        "region-a",
        "a2",
        Autonomy::Conditional,
        30,
        false,
    ),
    domain(
        "region-b",
        Some("global"),
        DomainLevel::Region,
        Autonomy::Full,
    ),
    zone(
        "edge-zone-b1",
        "region-b",
        "region-b",
        "b1",
        Autonomy::Full,
        25,
        true,
    ),
    zone(
        "edge-zone-c",
        "global",
        "region-c",
        "c",
        Autonomy::Full,
        15,
        true,
    ),
];

const fn domain(
    id: &'static str,
    parent: Option<&'static str>,
    level: DomainLevel,
    autonomy: Autonomy,
) -> DomainSpec {
    DomainSpec {
        id,
        parent,
        level,
        autonomy,
        region: "",
        short: "",
        weight: 0,
        opportunistic: false,
    }
}

const fn zone(
    id: &'static str,
    parent: &'static str,
    region: &'static str,
    short: &'static str,
    autonomy: Autonomy,
    weight: u32,
    opportunistic: bool,
) -> DomainSpec {
    DomainSpec {
        id,
        parent: Some(parent),
        level: DomainLevel::Zone,
        autonomy,
        region,
        short,
        weight,
        opportunistic,
    }
}

/// The zones of [`FEDERATION`], in table order.
pub fn zones() -> impl Iterator<Item = &'static DomainSpec> {
    FEDERATION.iter().filter(|d| d.level == DomainLevel::Zone)
}

/// How many of `nodes` each zone gets: proportional to the zone weights, with the
/// remainder going to the zones with the largest fractional share (ties to the
/// earlier zone). Deterministic and independent of the seed.
pub fn apportion(nodes: u32) -> Vec<(&'static DomainSpec, u32)> {
    let total: u64 = zones().map(|z| u64::from(z.weight)).sum();
    let mut shares: Vec<(&'static DomainSpec, u32, u64)> = zones()
        .map(|z| {
            let exact = u64::from(nodes) * u64::from(z.weight);
            let base = exact / total.max(1);
            (
                z,
                u32::try_from(base).unwrap_or(u32::MAX),
                exact % total.max(1),
            )
        })
        .collect();
    let assigned: u32 = shares.iter().map(|s| s.1).sum();
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|&a, &b| shares[b].2.cmp(&shares[a].2).then(a.cmp(&b)));
    for &i in order.iter().take(nodes.saturating_sub(assigned) as usize) {
        shares[i].1 += 1;
    }
    shares.into_iter().map(|(z, n, _)| (z, n)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn federation_parents_come_first() {
        let mut seen = HashSet::new();
        for d in &FEDERATION {
            if let Some(p) = d.parent {
                assert!(seen.contains(p), "{} before its parent {p}", d.id);
            } else {
                assert_eq!(d.level, DomainLevel::Global);
            }
            seen.insert(d.id);
        }
        assert_eq!(zones().count(), 4);
    }

    #[test]
    fn apportion_sums_and_orders_by_weight() {
        for n in [0, 1, 2, 3, 7, 100, 1001] {
            let shares = apportion(n);
            assert_eq!(shares.iter().map(|s| s.1).sum::<u32>(), n, "n={n}");
        }
        let shares = apportion(100);
        let by_id = |id: &str| shares.iter().find(|s| s.0.id == id).map(|s| s.1);
        assert_eq!(by_id("edge-zone-a1"), Some(30));
        assert_eq!(by_id("edge-zone-c"), Some(15));
    }
}

//! The figures the seed 000 scenario is built to produce, derived from its
//! [`plan`] by the rules of `docs/projections.md` (connectivity thresholds,
//! drift objects) and the status rule of the domain tree rollup.

use super::plan::{self, BundlePlan, DomainPlan, NodePlan, DOMAINS};
use crate::wire::{AuthorityLevel, DomainLevel, EdgeRelation, EdgeState, NodeKind};

/// Everything a test of the scenario can assert.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    /// One row per domain, in [`DOMAINS`] order (parents first).
    pub domains: Vec<DomainExpect>,
    /// One row per node, in register order.
    pub nodes: Vec<NodeExpect>,
    /// One row per relay.
    pub relays: Vec<RelayExpect>,
    /// The declared edges.
    pub edges: Vec<EdgeExpect>,
}

/// A domain's row of the hierarchical rollup, as of the scenario's end. Node figures cover
/// the domain's whole subtree (a region includes its zones, `global` everything).
#[derive(Debug, Clone, PartialEq)]
pub struct DomainExpect {
    /// Domain id.
    pub domain_id: &'static str,
    /// Parent id.
    pub parent_id: Option<&'static str>,
    /// Level of the domain record.
    pub level: DomainLevel,
    /// Root first, ending with the domain itself.
    pub path: Vec<&'static str>,
    /// Version of its domain record.
    pub version: i64,
    /// Master of record.
    pub master_controller_id: &'static str,
    /// The master's claimed level (the seed's "Authority").
    pub master_level: AuthorityLevel,
    /// `AUTHORITATIVE` or `AUTONOMOUS` (nothing is degraded in this scenario).
    pub authority_status: &'static str,
    /// From the domain's sync settings.
    pub can_operate_isolated: bool,
    /// The master's last upstream sync (`None` for `global`, which reports none).
    pub upstream_last_sync_ms: Option<i64>,
    /// `(end - upstream_last_sync_ms) / 1000`.
    pub upstream_sync_debt_s: Option<i64>,
    /// Upstream sync older than its frequency at the end.
    pub upstream_overdue: bool,
    /// Nodes in the subtree.
    pub nodes: u32,
    /// Of them LIVE.
    pub live: u32,
    /// Of them DELAYED.
    pub delayed: u32,
    /// Of them AUTONOMOUS.
    pub autonomous: u32,
    /// Drift objects out of spec (`objects_out_of_spec` summed).
    pub drift_objects: u32,
    /// Nodes with drift status `drifted`.
    pub drifted_nodes: u32,
    /// Largest node sync debt as of the end: max of `(end - last_sync_ms) / 1000`.
    pub worst_sync_debt_s: i64,
    /// `Healthy`, `Degraded` or `Autonomous` (the rollup's status rule).
    pub status: &'static str,
    /// Modes with their counts in spectrum order, `Live (23/25), Delayed (2/25)`; `Live`
    /// when every node is LIVE.
    pub connectivity_summary: String,
}

/// One node as of the scenario's end.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeExpect {
    /// Node id.
    pub node_id: String,
    /// Node kind.
    pub kind: NodeKind,
    /// Its own domain.
    pub domain_id: &'static str,
    /// Root first, its own domain last.
    pub domain_path: Vec<&'static str>,
    /// Connectivity mode: `LIVE`, `DELAYED` or `AUTONOMOUS`.
    pub mode: &'static str,
    /// Its last contact (last heartbeat; a `link lost` is not contact).
    pub last_seen_ms: i64,
    /// Its last contact after which it was LIVE.
    pub last_sync_ms: i64,
    /// `(end - last_sync_ms) / 1000`.
    pub sync_debt_s: i64,
    /// The bundle in force for it.
    pub bundle_id: Option<&'static str>,
    /// Drift objects out of spec.
    pub drift_objects: u32,
    /// Its `via` (empty when direct or never sent).
    pub relay_path: Vec<String>,
}

/// One relay as of the end.
#[derive(Debug, Clone, PartialEq)]
pub struct RelayExpect {
    /// Relay id (also a node id).
    pub relay_id: String,
    /// Its domain.
    pub domain_id: &'static str,
    /// The relay's own connectivity mode.
    pub mode: &'static str,
    /// Nodes with the relay anywhere on their path.
    pub downstream: u32,
    /// Of them DELAYED or worse.
    pub degraded: u32,
}

/// One declared edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EdgeExpect {
    /// The declaring node.
    pub node_id: &'static str,
    /// The other node.
    pub peer_id: &'static str,
    /// What it carries.
    pub relation: EdgeRelation,
    /// Its state.
    pub state: EdgeState,
}

impl Expected {
    /// The row of `domain_id`.
    pub fn domain(&self, domain_id: &str) -> Option<&DomainExpect> {
        self.domains.iter().find(|d| d.domain_id == domain_id)
    }

    /// The row of `node_id`.
    pub fn node(&self, node_id: &str) -> Option<&NodeExpect> {
        self.nodes.iter().find(|n| n.node_id == node_id)
    }
}

/// The expected figures of a scenario from `start_ms` to `end_ms`.
pub fn expected(start_ms: i64, end_ms: i64) -> Expected {
    let bundles = plan::bundles();
    let nodes: Vec<NodeExpect> = plan::nodes()
        .iter()
        .map(|n| node(n, &bundles, start_ms, end_ms))
        .collect();
    let domains = DOMAINS
        .iter()
        .map(|d| domain(d, &nodes, start_ms, end_ms))
        .collect();
    let relays = plan::RELAYS
        .iter()
        .filter_map(|&id| nodes.iter().find(|n| n.node_id == id))
        .map(|relay| {
            let behind: Vec<&NodeExpect> = nodes
                .iter()
                .filter(|n| n.relay_path.contains(&relay.node_id))
                .collect();
            RelayExpect {
                relay_id: relay.node_id.clone(),
                domain_id: relay.domain_id,
                mode: relay.mode,
                downstream: count(&behind, |_| true),
                degraded: count(&behind, |n| n.mode != "LIVE"),
            }
        })
        .collect();
    let edges = plan::edges()
        .into_iter()
        .map(|(node_id, peer_id, relation, state)| EdgeExpect {
            node_id,
            peer_id,
            relation,
            state,
        })
        .collect();
    Expected {
        domains,
        nodes,
        relays,
        edges,
    }
}

fn node(n: &NodePlan, bundles: &[BundlePlan], start_ms: i64, end_ms: i64) -> NodeExpect {
    let times = n.heartbeat_times(start_ms, end_ms);
    let last_seen_ms = times.last().copied().unwrap_or(n.register_ms(start_ms));
    let live_tail = if n.delayed {
        plan::DELAYED_HEARTBEATS
    } else {
        0
    };
    let last_live = usize::try_from(live_tail)
        .ok()
        .and_then(|tail| times.len().checked_sub(tail + 1))
        .and_then(|i| times.get(i).copied());
    let last_sync_ms = last_live.unwrap_or(n.register_ms(start_ms));
    let mode = match (n.goes_silent, n.delayed) {
        (true, _) => "AUTONOMOUS",
        (false, true) => "DELAYED",
        (false, false) => "LIVE",
    };
    let bundle = plan::assigned_bundle(bundles, n.domain);
    NodeExpect {
        node_id: n.id.clone(),
        kind: n.kind,
        domain_id: n.domain,
        domain_path: plan::path(n.domain),
        mode,
        last_seen_ms,
        last_sync_ms,
        sync_debt_s: (end_ms - last_sync_ms) / 1000,
        bundle_id: bundle.map(|b| b.id),
        drift_objects: if n.drifted && bundle.is_some() {
            u32::try_from(plan::DRIFTED_KEYS.len()).unwrap_or(u32::MAX)
        } else {
            0
        },
        relay_path: n.via.clone().unwrap_or_default(),
    }
}

fn domain(d: &DomainPlan, nodes: &[NodeExpect], start_ms: i64, end_ms: i64) -> DomainExpect {
    let subtree: Vec<&NodeExpect> = nodes
        .iter()
        .filter(|n| n.domain_path.contains(&d.id))
        .collect();
    let total = count(&subtree, |_| true);
    let [live, delayed, autonomous] =
        ["LIVE", "DELAYED", "AUTONOMOUS"].map(|m| count(&subtree, |n| n.mode == m));
    let upstream_last_sync_ms = plan::sync_times(d, start_ms, end_ms).last().copied();
    let upstream_sync_debt_s = upstream_last_sync_ms.map(|s| (end_ms - s) / 1000);
    let frequency_ms = d.sync.and_then(|s| plan::duration_ms(s.frequency));
    let upstream_overdue = match (upstream_last_sync_ms, frequency_ms) {
        (Some(synced), Some(freq)) => end_ms - synced > freq,
        _ => false,
    };
    let autonomous_authority = d.claim_level == AuthorityLevel::Autonomous;
    let degraded_authority = !autonomous_authority && d.parent.is_some() && upstream_overdue;
    let status = if autonomous_authority {
        "Autonomous"
    } else if degraded_authority || delayed * 10 > total {
        "Degraded"
    } else {
        "Healthy"
    };
    let modes = [
        ("Live", live),
        ("Delayed", delayed),
        ("Autonomous", autonomous),
    ];
    let connectivity_summary = if live == total {
        "Live".to_owned()
    } else {
        let parts: Vec<String> = modes
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(label, n)| format!("{label} ({n}/{total})"))
            .collect();
        parts.join(", ")
    };
    DomainExpect {
        domain_id: d.id,
        parent_id: d.parent,
        level: d.level,
        path: plan::path(d.id),
        version: 1,
        master_controller_id: d.controller,
        master_level: d.claim_level,
        authority_status: match (autonomous_authority, degraded_authority) {
            (true, _) => "AUTONOMOUS",
            (false, true) => "DEGRADED",
            (false, false) => "AUTHORITATIVE",
        },
        can_operate_isolated: d.sync.is_some_and(|s| s.can_operate_isolated),
        upstream_last_sync_ms,
        upstream_sync_debt_s,
        upstream_overdue,
        nodes: total,
        live,
        delayed,
        autonomous,
        drift_objects: subtree.iter().map(|n| n.drift_objects).sum(),
        drifted_nodes: count(&subtree, |n| n.drift_objects > 0),
        worst_sync_debt_s: subtree.iter().map(|n| n.sync_debt_s).max().unwrap_or(0),
        status,
        connectivity_summary,
    }
}

fn count(nodes: &[&NodeExpect], pred: impl Fn(&NodeExpect) -> bool) -> u32 {
    u32::try_from(nodes.iter().filter(|n| pred(n)).count()).unwrap_or(u32::MAX)
}

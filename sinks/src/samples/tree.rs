//! A hand-built twin of seed 000's fleet as the processor would publish it: the domain tree
//! (`Domain` v2), 105 twins (`Node` v3) with their domain paths, and a few relay paths and edges,
//! with the figures of the seed's "Global Fleet View" and "Regional View":
//!
//! - region-a: 50 nodes in edge-zone-a1 (25 LIVE, one of them with 2 drift objects) and
//!   edge-zone-a2 (23 LIVE, 2 DELAYED behind the failed `relay-7`; the other 23 behind
//!   `relay-8`; all 25 behind `sat-link-2`);
//! - region-b: 40 LIVE nodes, 20 directly in region-b and 20 in edge-zone-b1, no drift;
//! - edge-zone-c (under global, autonomous master): 15 AUTONOMOUS nodes whose last sync was
//!   3.75 h before [`AS_OF`] (their twins last said 3.5 h);
//! - edges: `a1-00` -> `a1-01` SIGNALING UP, `a1-00` -> `a2-00` BYPASS DOWN, `a1-02` ->
//!   `a1-00` MEDIA UP.

use sxfleet_schemas::{
    AuthorityClaim, AuthorityLevel, ConnectivityMode, Domain, DomainLevel, DomainSync, Node,
    NodeEdge, UpstreamSync,
};

use super::{node, T0};

/// The as-of time of the scenario: every LIVE node synced 10 s before it.
pub const AS_OF: i64 = T0 + 10 * 3_600_000;

/// Zone C's last sync: 3.75 h (13 500 s) before [`AS_OF`].
pub const ZONE_C_LAST_SYNC: i64 = AS_OF - 13_500_000;

/// A domain of the scenario: id, parent, level, master's controller (`''` none) and level,
/// authority status.
type DomainSpec = (
    &'static str,
    Option<&'static str>,
    DomainLevel,
    &'static str,
    AuthorityLevel,
    &'static str,
);

/// The domains.
const DOMAINS: [DomainSpec; 7] = [
    (
        "global",
        None,
        DomainLevel::Global,
        "global-control",
        AuthorityLevel::Global,
        "AUTHORITATIVE",
    ),
    (
        "region-a",
        Some("global"),
        DomainLevel::Region,
        "region-a-control",
        AuthorityLevel::Region,
        "AUTHORITATIVE",
    ),
    (
        "edge-zone-a1",
        Some("region-a"),
        DomainLevel::Zone,
        "edge-zone-a1-control",
        AuthorityLevel::Local,
        "AUTHORITATIVE",
    ),
    (
        "edge-zone-a2",
        Some("region-a"),
        DomainLevel::Zone,
        "edge-zone-a2-control",
        AuthorityLevel::Local,
        "AUTHORITATIVE",
    ),
    (
        "region-b",
        Some("global"),
        DomainLevel::Region,
        "region-b-control",
        AuthorityLevel::Region,
        "AUTHORITATIVE",
    ),
    (
        "edge-zone-b1",
        Some("region-b"),
        DomainLevel::Zone,
        "",
        AuthorityLevel::Local,
        "DEGRADED",
    ),
    (
        "edge-zone-c",
        Some("global"),
        DomainLevel::Zone,
        "edge-zone-c-control",
        AuthorityLevel::Autonomous,
        "AUTONOMOUS",
    ),
];

/// The path of `domain` from the root, itself last.
pub fn path(domain: &str) -> Vec<String> {
    let mut path = vec![domain.to_owned()];
    let mut at = domain;
    while let Some(parent) = DOMAINS
        .iter()
        .find(|d| d.0 == at)
        .and_then(|(_, parent, ..)| *parent)
    {
        path.insert(0, parent.to_owned());
        at = parent;
    }
    path
}

/// The domain tree, with revision 3 each. Regions and A zones have a recent upstream sync
/// (5 minutes old, every 15 minutes); edge-zone-b1 has no master (DEGRADED, NO_MASTER).
pub fn domains() -> Vec<Domain> {
    DOMAINS
        .iter()
        .map(|(id, parent, level, controller, master_level, status)| {
            let has_master = !controller.is_empty();
            let upstream = parent.filter(|_| has_master && *status == "AUTHORITATIVE");
            Domain {
                domain_id: (*id).to_owned(),
                name: Some(format!("{id} (name)")),
                parent_id: parent.map(str::to_owned),
                level: *level,
                autonomy: None,
                authority: has_master.then(|| AuthorityClaim {
                    controller_id: (*controller).to_owned(),
                    level: *master_level,
                    epoch: 1,
                }),
                updated_ms: AS_OF - 60_000,
                version: 1,
                path: path(id),
                sync: Some(DomainSync {
                    upstream: upstream.map(|p| format!("{p}-control")),
                    frequency_ms: Some(900_000),
                    mode: Some("continuous".to_owned()),
                    can_operate_isolated: Some(*status == "AUTONOMOUS"),
                }),
                master_since_ms: has_master.then_some(T0),
                split_brain: false,
                contenders: Vec::new(),
                upstream_sync: upstream.map(|p| UpstreamSync {
                    controller_id: (*controller).to_owned(),
                    peer: format!("{p}-control"),
                    last_sync_ms: AS_OF - 300_000,
                    frequency_ms: Some(900_000),
                    mode: Some("continuous".to_owned()),
                    pending_changes: 0,
                    sync_debt_s: 240,
                    overdue: false,
                }),
                authority_status: (*status).to_owned(),
                authority_reason: (!has_master).then(|| "NO_MASTER".to_owned()),
                can_operate_isolated: *status == "AUTONOMOUS",
                revision: 3,
            }
        })
        .collect()
}

/// A LIVE, in-spec, healthy twin `id` in `domain`, synced 10 s before [`AS_OF`].
fn live(id: String, domain: &str) -> Node {
    let mut n = node(&id, 1);
    n.domain_id = domain.to_owned();
    n.domain_path = path(domain);
    n.connectivity.mode = ConnectivityMode::Live;
    n.connectivity.last_sync_ms = Some(AS_OF - 10_000);
    n.connectivity.sync_debt.seconds_behind = 0;
    n.actual_state.runtime.health = sxfleet_schemas::Health::Ok;
    n.lifecycle.phase = sxfleet_schemas::LifecyclePhase::Active;
    n.drift.status = "IN_SPEC".to_owned();
    n.drift.objects_out_of_spec = 0;
    n.attention.alert_open = false;
    n.relay_path = Vec::new();
    n.edges = Vec::new();
    n.updated_ms = AS_OF;
    n
}

fn edge(peer: &str, relation: &str, state: &str) -> NodeEdge {
    NodeEdge {
        peer_id: peer.to_owned(),
        relation: relation.to_owned(),
        state: state.to_owned(),
        changed_ms: T0,
    }
}

/// The 105 twins.
pub fn twins() -> Vec<Node> {
    let mut out = Vec::new();
    for i in 0..25 {
        let mut n = live(format!("a1-{i:02}"), "edge-zone-a1");
        if i == 3 {
            n.drift.status = "DRIFTED".to_owned();
            n.drift.objects_out_of_spec = 2;
        }
        match i {
            0 => {
                n.edges = vec![
                    edge("a1-01", "SIGNALING", "UP"),
                    edge("a2-00", "BYPASS", "DOWN"),
                ]
            }
            2 => n.edges = vec![edge("a1-00", "MEDIA", "UP")],
            _ => {}
        }
        out.push(n);
    }
    for i in 0..25 {
        let mut n = live(format!("a2-{i:02}"), "edge-zone-a2");
        let relay = if i < 2 { "relay-7" } else { "relay-8" };
        n.relay_path = vec![relay.to_owned(), "sat-link-2".to_owned()];
        if i < 2 {
            n.connectivity.mode = ConnectivityMode::Delayed;
        }
        out.push(n);
    }
    for i in 0..20 {
        out.push(live(format!("b-{i:02}"), "region-b"));
        out.push(live(format!("b1-{i:02}"), "edge-zone-b1"));
    }
    for i in 0..15 {
        let mut n = live(format!("c-{i:02}"), "edge-zone-c");
        n.connectivity.mode = ConnectivityMode::Autonomous;
        n.connectivity.last_sync_ms = Some(ZONE_C_LAST_SYNC);
        n.connectivity.sync_debt.seconds_behind = 12_600;
        n.updated_ms = ZONE_C_LAST_SYNC + 12_600_000;
        out.push(n);
    }
    out
}

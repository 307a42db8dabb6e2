//! The fixed plan of the seed 000 scenario: its timing, domains, controllers, bundles and
//! the 105 nodes with what each one does. Everything else (records, expected figures) is
//! derived from this plan.

use std::collections::BTreeMap;

use crate::wire::{AuthorityLevel, Autonomy, ConfigValue, DomainLevel, DomainSync, NodeKind};

/// Time between two heartbeats of a node: 5 minutes.
pub const HEARTBEAT_MS: i64 = 300_000;
/// From the first record to the scenario's as-of time: 4 hours.
pub const DURATION_MS: i64 = 4 * 3_600_000;
/// How long before the as-of time zone C's nodes were last LIVE: 3.75 h.
pub const ZONE_C_SILENT_MS: i64 = 13_500_000;
/// Zone C's `link lost` follows its last heartbeat by this much.
pub const LINK_LOST_AFTER_MS: i64 = 30_000;
/// The delayed nodes' last this many heartbeats have an rtt of [`DELAYED_RTT_MS`].
pub const DELAYED_HEARTBEATS: i64 = 3;
/// Round-trip time of a delayed heartbeat (DELAYED above 1 000 ms).
pub const DELAYED_RTT_MS: f64 = 5000.0;
/// A node sends a snapshot after its first heartbeat and after every sixth one counted back
/// from its last, so its latest snapshot is never older than 30 minutes.
pub const SNAPSHOT_EVERY: i64 = 6;
/// Controllers report their upstream sync every 10 minutes, 30 s after syncing.
pub const SYNC_EVERY_MS: i64 = 600_000;
/// Delay between a sync and its report.
pub const SYNC_REPORT_LAG_MS: i64 = 30_000;
/// Registers start 60 s after the first control record, 500 ms apart.
pub const REGISTER_AT_MS: i64 = 60_000;
/// No heartbeat before 2 minutes into the scenario.
pub const FIRST_HEARTBEAT_MS: i64 = 120_000;

/// One domain with its sync settings and its master of record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DomainPlan {
    /// Domain id.
    pub id: &'static str,
    /// Parent id, `None` for `global`.
    pub parent: Option<&'static str>,
    /// Level.
    pub level: DomainLevel,
    /// Autonomy.
    pub autonomy: Autonomy,
    /// Sync settings of the domain record.
    pub sync: Option<DomainSync<'static>>,
    /// The controller claiming it.
    pub controller: &'static str,
    /// The level it claims at.
    pub claim_level: AuthorityLevel,
    /// Its sync reports: every [`SYNC_EVERY_MS`] (`true`), or once when zone C went silent.
    pub reports_continuously: bool,
}

const fn sync(
    upstream: &'static str,
    frequency: &'static str,
    mode: &'static str,
    can_operate_isolated: bool,
) -> DomainSync<'static> {
    DomainSync {
        upstream,
        frequency,
        mode,
        can_operate_isolated,
    }
}

/// The domains, parents first.
pub const DOMAINS: [DomainPlan; 6] = [
    DomainPlan {
        id: "global",
        parent: None,
        level: DomainLevel::Global,
        autonomy: Autonomy::Full,
        sync: None,
        controller: "global-control",
        claim_level: AuthorityLevel::Global,
        reports_continuously: false,
    },
    region("region-a", "region-a-control"),
    zone("edge-zone-a1", "edge-zone-a1-control"),
    zone("edge-zone-a2", "edge-zone-a2-control"),
    region("region-b", "region-b-control"),
    DomainPlan {
        id: "edge-zone-c",
        parent: Some("global"),
        level: DomainLevel::Zone,
        autonomy: Autonomy::Full,
        sync: Some(sync("global-control", "24h", "opportunistic", true)),
        controller: "edge-zone-c-control",
        claim_level: AuthorityLevel::Autonomous,
        reports_continuously: false,
    },
];

const fn region(id: &'static str, controller: &'static str) -> DomainPlan {
    DomainPlan {
        id,
        parent: Some("global"),
        level: DomainLevel::Region,
        autonomy: Autonomy::Full,
        sync: Some(sync("global-control", "15m", "continuous", true)),
        controller,
        claim_level: AuthorityLevel::Region,
        reports_continuously: true,
    }
}

const fn zone(id: &'static str, controller: &'static str) -> DomainPlan {
    DomainPlan {
        id,
        parent: Some("region-a"),
        level: DomainLevel::Zone,
        autonomy: Autonomy::Conditional,
        sync: Some(sync("region-a-control", "15m", "push", false)),
        controller,
        claim_level: AuthorityLevel::Local,
        reports_continuously: true,
    }
}

/// A policy bundle and the region it is assigned to by the region's controller.
#[derive(Debug, Clone, PartialEq)]
pub struct BundlePlan {
    /// Bundle id.
    pub id: &'static str,
    /// Bundle version.
    pub version: &'static str,
    /// Desired software version.
    pub target_version: &'static str,
    /// Desired policy version.
    pub policy_version: &'static str,
    /// Desired configuration.
    pub config: BTreeMap<&'static str, ConfigValue>,
    /// The domain it is assigned to (by that domain's controller).
    pub domain: &'static str,
}

/// Constraints every bundle carries.
pub fn constraints() -> BTreeMap<&'static str, &'static str> {
    BTreeMap::from([("maintenance_window", "Sun 02:00-04:00")])
}

/// The two bundles: region A's and region B's.
pub fn bundles() -> [BundlePlan; 2] {
    let config = |cps, mode, hiding| {
        BTreeMap::from([
            ("emergency_routing.priority", ConfigValue::Int(1)),
            ("rate_limit.max_cps", ConfigValue::Int(cps)),
            ("stir.enforcement_mode", ConfigValue::Text(mode)),
            ("topology_hiding.mode", ConfigValue::Text(hiding)),
        ])
    };
    [
        BundlePlan {
            id: "bundle-region-a",
            version: "1.2.0",
            target_version: "1.4.7",
            policy_version: "policy-v2.1",
            config: config(2000, "hard", "strip"),
            domain: "region-a",
        },
        BundlePlan {
            id: "bundle-region-b",
            version: "2.0.1",
            target_version: "1.4.6",
            policy_version: "policy-v2.0",
            config: config(1500, "soft", "strip"),
            domain: "region-b",
        },
    ]
}

/// The bundle in force for a node of `domain`: the one assigned nearest up its parent chain.
pub fn assigned_bundle<'a>(bundles: &'a [BundlePlan], domain: &str) -> Option<&'a BundlePlan> {
    let mut at = Some(domain);
    // The chain is at most as long as the table; the bound also ends any cycle.
    for _ in 0..DOMAINS.len() {
        let id = at?;
        if let Some(b) = bundles.iter().find(|b| b.domain == id) {
            return Some(b);
        }
        at = DOMAINS.iter().find(|d| d.id == id).and_then(|d| d.parent);
    }
    None
}

/// When `domain`'s controller synced upstream, for a scenario from `start_ms` to `end_ms`:
/// every [`SYNC_EVERY_MS`] for the regions and A zones (each reported [`SYNC_REPORT_LAG_MS`]
/// later, no report after the end), once for zone C (when it went silent), never for global.
pub fn sync_times(domain: &DomainPlan, start_ms: i64, end_ms: i64) -> Vec<i64> {
    match (domain.sync, domain.reports_continuously) {
        (None, _) => Vec::new(),
        (Some(_), true) => (0..)
            .map(|k| start_ms + k * SYNC_EVERY_MS)
            .take_while(|synced| synced + SYNC_REPORT_LAG_MS <= end_ms)
            .collect(),
        (Some(_), false) => vec![end_ms - ZONE_C_SILENT_MS],
    }
}

/// Milliseconds of a duration string of the raw contract (`500ms`, `30s`, `15m`, `2h`).
pub fn duration_ms(text: &str) -> Option<i64> {
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = match &text[digits.len()..] {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return None,
    };
    digits.parse::<i64>().ok()?.checked_mul(unit)
}

/// The domain's path from the root, ending with itself.
pub fn path(domain: &'static str) -> Vec<&'static str> {
    let mut out = vec![domain];
    let mut at = domain;
    while let Some(parent) = DOMAINS.iter().find(|d| d.id == at).and_then(|d| d.parent) {
        if out.contains(&parent) {
            break;
        }
        out.push(parent);
        at = parent;
    }
    out.reverse();
    out
}

/// The node whose snapshot has 2 config keys out of spec.
pub const DRIFTED_NODE: &str = "sx-a1-node-07";
/// The config it reports instead of its bundle's for those keys.
pub const DRIFTED_KEYS: [(&str, ConfigValue); 2] = [
    ("rate_limit.max_cps", ConfigValue::Int(1500)),
    ("stir.enforcement_mode", ConfigValue::Text("soft")),
];
/// Zone A2's nodes that end DELAYED.
pub const DELAYED_NODES: [&str; 2] = ["sx-a2-node-22", "sx-a2-node-23"];
/// Zone A2's relays; the second one's traffic goes through the first.
pub const RELAYS: [&str; 2] = ["relay-a2-1", "relay-a2-2"];

/// What one node does during the scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct NodePlan {
    /// Node id.
    pub id: String,
    /// Node kind.
    pub kind: NodeKind,
    /// Its domain.
    pub domain: &'static str,
    /// The `region` it registers.
    pub region: &'static str,
    /// Position in register order (0-based).
    pub index: i64,
    /// Its last heartbeat is this long before the end (spreads the fleet over a round).
    pub phase_ms: i64,
    /// `via` on its heartbeats (`None`: the field is left out).
    pub via: Option<Vec<String>>,
    /// Zone C: silent from [`ZONE_C_SILENT_MS`] before the end, after a `link lost`.
    pub goes_silent: bool,
    /// Its last [`DELAYED_HEARTBEATS`] heartbeats are slow.
    pub delayed: bool,
    /// Its snapshots differ from its bundle in [`DRIFTED_KEYS`].
    pub drifted: bool,
}

/// The 105 nodes in register order: 25 in each A zone (two of A2's are relays), 40 directly
/// in region B, 15 in zone C.
pub fn nodes() -> Vec<NodePlan> {
    let mut out = Vec::with_capacity(105);
    let mut push = |id: String, kind, domain, region, via: Option<&[&str]>| {
        let index = i64::try_from(out.len()).unwrap_or(i64::MAX);
        let goes_silent = domain == "edge-zone-c";
        out.push(NodePlan {
            kind,
            domain,
            region,
            index,
            phase_ms: if goes_silent { 0 } else { index * 2000 },
            via: via.map(|v| v.iter().map(|s| (*s).to_owned()).collect()),
            goes_silent,
            delayed: DELAYED_NODES.contains(&id.as_str()),
            drifted: id == DRIFTED_NODE,
            id,
        });
    };
    for n in 1..=25 {
        push(
            format!("sx-a1-node-{n:02}"),
            NodeKind::Edge,
            "edge-zone-a1",
            "region-a",
            None,
        );
    }
    let [first, second] = RELAYS;
    push(
        first.to_owned(),
        NodeKind::Relay,
        "edge-zone-a2",
        "region-a",
        Some(&[]),
    );
    push(
        second.to_owned(),
        NodeKind::Relay,
        "edge-zone-a2",
        "region-a",
        Some(&[first]),
    );
    for n in 1..=23 {
        let via: Option<&[&str]> = match n {
            1..=10 => Some(&[first]),
            11..=16 => Some(&[second, first]),
            17..=21 => Some(&[]),
            _ => None,
        };
        push(
            format!("sx-a2-node-{n:02}"),
            NodeKind::Edge,
            "edge-zone-a2",
            "region-a",
            via,
        );
    }
    for n in 1..=40 {
        let kind = if n % 10 == 0 {
            NodeKind::Gateway
        } else {
            NodeKind::Edge
        };
        push(
            format!("sx-b-node-{n:02}"),
            kind,
            "region-b",
            "region-b",
            None,
        );
    }
    for n in 1..=15 {
        push(
            format!("sx-c-node-{n:02}"),
            NodeKind::Edge,
            "edge-zone-c",
            "region-c",
            None,
        );
    }
    out
}

/// A declared edge: (from, to, relation, state).
pub type EdgePlan = (
    &'static str,
    &'static str,
    crate::wire::EdgeRelation,
    crate::wire::EdgeState,
);

/// The declared edges (seed 003's signaling, media, control and bypass).
pub fn edges() -> [EdgePlan; 5] {
    use crate::wire::{EdgeRelation as R, EdgeState as S};
    [
        ("sx-a1-node-01", "sx-a1-node-02", R::Signaling, S::Up),
        ("sx-a1-node-01", "sx-a2-node-01", R::Media, S::Up),
        ("sx-a1-node-01", "relay-a2-1", R::Bypass, S::Up),
        ("sx-a1-node-02", "sx-a1-node-03", R::Media, S::Down),
        ("sx-a2-node-11", "relay-a2-2", R::Control, S::Up),
    ]
}

impl NodePlan {
    /// Event times of its heartbeats, oldest first, for a scenario from `start_ms` to `end_ms`.
    pub fn heartbeat_times(&self, start_ms: i64, end_ms: i64) -> Vec<i64> {
        let last = if self.goes_silent {
            end_ms - ZONE_C_SILENT_MS
        } else {
            end_ms - self.phase_ms
        };
        let first = start_ms + FIRST_HEARTBEAT_MS;
        let mut times: Vec<i64> = (0..)
            .map(|k| last - k * HEARTBEAT_MS)
            .take_while(|t| *t >= first)
            .collect();
        times.reverse();
        times
    }

    /// Event time of its `register`.
    pub fn register_ms(&self, start_ms: i64) -> i64 {
        start_ms + REGISTER_AT_MS + self.index * 500
    }
}

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::*;
use crate::sim::DEFAULT_START_MS;
use crate::wire::AuthorityLevel;

fn scenario() -> Scenario {
    seed000(DEFAULT_START_MS).unwrap_or_else(|e| panic!("{e}"))
}

fn json(msg: &RawMessage) -> Value {
    serde_json::from_slice(&msg.payload).unwrap_or(Value::Null)
}

fn field<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

#[test]
fn the_figures_are_seed_000s() {
    let s = scenario();
    let e = &s.expected;
    let d = |id: &str| e.domain(id).unwrap_or_else(|| panic!("no domain {id}"));
    let a = d("region-a");
    assert_eq!((a.nodes, a.live, a.delayed, a.autonomous), (50, 48, 2, 0));
    assert_eq!((a.drift_objects, a.drifted_nodes), (2, 1));
    assert_eq!(
        (a.status, a.master_level),
        ("Healthy", AuthorityLevel::Region)
    );
    assert_eq!(a.master_controller_id, "region-a-control");
    assert_eq!(a.connectivity_summary, "Live (48/50), Delayed (2/50)");
    let a1 = d("edge-zone-a1");
    assert_eq!(
        (a1.nodes, a1.live, a1.connectivity_summary.as_str()),
        (25, 25, "Live")
    );
    assert_eq!(a1.master_level, AuthorityLevel::Local);
    let a2 = d("edge-zone-a2");
    assert_eq!(a2.nodes, 25);
    assert_eq!(a2.connectivity_summary, "Live (23/25), Delayed (2/25)");
    assert_eq!(
        (a2.status, a2.master_level),
        ("Healthy", AuthorityLevel::Local)
    );
    let b = d("region-b");
    assert_eq!(
        (b.nodes, b.live, b.drift_objects, b.status),
        (40, 40, 0, "Healthy")
    );
    let c = d("edge-zone-c");
    assert_eq!((c.nodes, c.autonomous, c.status), (15, 15, "Autonomous"));
    assert_eq!(
        (c.worst_sync_debt_s, c.authority_status),
        (13_500, "AUTONOMOUS")
    );
    assert_eq!(c.connectivity_summary, "Autonomous (15/15)");
    let g = d("global");
    assert_eq!((g.nodes, g.live, g.delayed, g.autonomous), (105, 88, 2, 15));
    assert_eq!(
        (g.drift_objects, g.worst_sync_debt_s, g.status),
        (2, 13_500, "Healthy")
    );
    for dom in &e.domains {
        assert!(!dom.upstream_overdue, "{}", dom.domain_id);
        let degraded = dom.authority_status == "DEGRADED";
        assert!(!degraded, "{}", dom.domain_id);
    }
    // Region A's worst debt: a delayed node, LIVE last 15 minutes (+ its phase) before the end.
    assert_eq!(a.worst_sync_debt_s, 900 + 98);
    assert_eq!(d("region-a").upstream_sync_debt_s, Some(600));
    assert_eq!(c.upstream_sync_debt_s, Some(13_500));
    assert_eq!(g.upstream_sync_debt_s, None);
    assert_eq!(c.path, vec!["global", "edge-zone-c"]);
    assert_eq!(a2.path, vec!["global", "region-a", "edge-zone-a2"]);
}

#[test]
fn relays_and_edges_are_consistent() {
    let e = scenario().expected;
    let relay = |id: &str| e.relays.iter().find(|r| r.relay_id == id);
    let r1 = relay("relay-a2-1").map(|r| (r.downstream, r.degraded, r.mode));
    assert_eq!(r1, Some((17, 0, "LIVE")));
    let r2 = relay("relay-a2-2").map(|r| (r.downstream, r.degraded, r.mode));
    assert_eq!(r2, Some((6, 0, "LIVE")));
    let path = e.node("sx-a2-node-11").map(|n| n.relay_path.clone());
    assert_eq!(
        path,
        Some(vec!["relay-a2-2".to_owned(), "relay-a2-1".to_owned()])
    );
    assert_eq!(e.edges.len(), 5);
    for edge in &e.edges {
        assert_ne!(edge.node_id, edge.peer_id);
        assert!(e.node(edge.peer_id).is_some() && e.node(edge.node_id).is_some());
    }
}

#[test]
fn records_are_ordered_sequenced_and_end_at_as_of() {
    let s = scenario();
    assert!(s
        .records
        .windows(2)
        .all(|w| w[0].event_time_ms <= w[1].event_time_ms));
    assert_eq!(s.records.first().map(|m| m.event_time_ms), Some(s.start_ms));
    assert_eq!(s.records.last().map(|m| m.event_time_ms), Some(s.as_of_ms));
    assert_eq!(s.as_of_ms - s.start_ms, 4 * 3_600_000);
    let mut seqs: HashMap<&str, u64> = HashMap::new();
    for m in &s.records {
        let v = json(m);
        assert_eq!(
            crate::wire::format_ts(m.event_time_ms).as_deref(),
            Some(field(&v, "ts"))
        );
        let seq = v.get("seq").and_then(Value::as_u64).unwrap_or(0);
        let prev = seqs.insert(m.key.as_str(), seq).unwrap_or(0);
        assert_eq!(seq, prev + 1, "{}", m.key);
        let key_field = match field(&v, "type") {
            "policy_bundle" => "bundle_id",
            "domain" | "authority" | "assign" | "sync" => "domain_id",
            _ => "node_id",
        };
        assert_eq!(field(&v, key_field), m.key);
        assert_eq!(m.control, key_field != "node_id");
    }
    // Same start, same bytes; another start shifts every time and nothing else.
    assert_eq!(scenario(), s);
    let later = seed000(DEFAULT_START_MS + 3_600_000).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(later.records.len(), s.records.len());
    let mut shifted = later.records.iter().zip(&s.records);
    assert!(shifted
        .clone()
        .all(|(l, r)| l.event_time_ms == r.event_time_ms + 3_600_000));
    assert!(shifted.all(|(l, r)| l.key == r.key));
    assert!(matches!(
        seed000(253_402_300_000_000),
        Err(SimError::ScenarioTimeOutOfRange { .. })
    ));
}

/// What the records say about one node, read back from the JSON by the documented rules.
#[derive(Debug, Default)]
struct Seen {
    last_contact: i64,
    last_live: i64,
    delayed: bool,
    lost: bool,
    domain: String,
    snapshot: Option<(i64, Value)>,
    via: Option<Vec<String>>,
}

#[test]
fn the_records_produce_the_expected_figures() {
    let s = scenario();
    let mut nodes: BTreeMap<String, Seen> = BTreeMap::new();
    let (mut parents, mut bundles, mut assigned) = (HashMap::new(), HashMap::new(), HashMap::new());
    for m in &s.records {
        let v = json(m);
        let t = m.event_time_ms;
        match field(&v, "type") {
            "domain" => {
                parents.insert(m.key.clone(), field(&v, "parent_id").to_owned());
            }
            "policy_bundle" => {
                bundles.insert(m.key.clone(), v.clone());
            }
            "assign" => {
                assigned.insert(m.key.clone(), field(&v, "bundle_id").to_owned());
            }
            "authority" | "sync" => {}
            kind => {
                let n = nodes.entry(m.key.clone()).or_default();
                if kind == "link" {
                    n.lost = field(&v, "state") == "lost";
                    continue;
                }
                n.last_contact = t;
                match kind {
                    "register" => {
                        n.domain = field(&v, "domain_id").to_owned();
                        n.last_live = t;
                    }
                    "heartbeat" => {
                        let rtt = v.get("rtt_ms").and_then(Value::as_f64).unwrap_or(0.0);
                        let loss = v.get("loss_pct").and_then(Value::as_f64).unwrap_or(0.0);
                        n.delayed = rtt > 1000.0 || loss > 5.0;
                        if let Some(via) = v.get("via") {
                            n.via = serde_json::from_value(via.clone()).ok();
                        }
                    }
                    "snapshot" => n.snapshot = Some((t, v.clone())),
                    _ => {}
                }
                if !n.delayed {
                    n.last_live = t;
                }
            }
        }
    }
    assert_eq!(nodes.len(), 105);
    for want in &s.expected.nodes {
        let got = &nodes[&want.node_id];
        let silence = s.as_of_ms - got.last_contact;
        let mode = match (got.lost, got.delayed) {
            // Connectivity: AUTONOMOUS after `link lost`, DISCONNECTED only after 6 h silence.
            (true, _) if silence <= 21_600_000 => "AUTONOMOUS",
            (true, _) => "DISCONNECTED",
            (false, true) => "DELAYED",
            (false, false) if silence <= 1_800_000 => "LIVE",
            (false, false) => "AUTONOMOUS",
        };
        assert_eq!(mode, want.mode, "{}", want.node_id);
        assert_eq!(got.last_live, want.last_sync_ms, "{}", want.node_id);
        assert_eq!(got.domain, want.domain_id);
        assert_eq!(got.via.clone().unwrap_or_default(), want.relay_path);
        // Drift: the nearest assignment up the chain, compared key by key, version, policy.
        let mut at = got.domain.clone();
        let bundle = loop {
            if let Some(b) = assigned.get(&at) {
                break bundles.get(b);
            }
            match parents.get(&at) {
                Some(p) if !p.is_empty() => at = p.clone(),
                _ => break None,
            }
        };
        let Some((snap_at, snap)) = &got.snapshot else {
            panic!("{} sent no snapshot", want.node_id)
        };
        let objects = bundle.map_or(0, |b| {
            let config = b["config"].as_object().into_iter().flatten();
            let keys = config
                .filter(|(k, v)| snap["config"].get(k.as_str()) != Some(*v))
                .count();
            let version = usize::from(b["target_version"] != snap["reported_version"]);
            keys + version + usize::from(b["policy_version"] != snap["policy_version"])
        });
        assert_eq!(objects as u32, want.drift_objects, "{}", want.node_id);
        if bundle.is_some() {
            // Not stale (1 h) as of the end.
            assert!(s.as_of_ms - snap_at <= 1_800_000, "{}", want.node_id);
        }
    }
}

#[test]
fn upstream_syncs_are_never_overdue_while_the_scenario_runs() {
    let s = scenario();
    let mut last: HashMap<String, i64> = HashMap::new();
    for m in s.records.iter().filter(|m| m.control) {
        let v = json(m);
        if field(&v, "type") != "sync" {
            continue;
        }
        let synced = time::OffsetDateTime::parse(
            field(&v, "last_sync"),
            &time::format_description::well_known::Rfc3339,
        )
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .unwrap_or(0);
        assert!(synced <= m.event_time_ms);
        if field(&v, "frequency") == "15m" {
            if let Some(prev) = last.insert(m.key.clone(), synced) {
                assert!(synced - prev <= 900_000, "{}", m.key);
            }
        }
    }
    assert_eq!(last.len(), 4, "{last:?}");
    assert!(last.values().all(|t| s.as_of_ms - t <= 900_000));
}

//! The simulator's output against the raw input contract (`fleet.raw.v1`):
//! every message is a JSON object with the required fields and in-range enums,
//! keys and event times agree with the payload, per-node sequence numbers
//! count up by one (replayed events keep the numbers they were recorded with),
//! and the ingest normalizer accepts all of it.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};
use sxfleet_ingest::{normalize, Normalized, NormalizerConfig, RawContext};
use sxfleet_schemas::Source;
use sxfleet_simulator::wire::format_ts;
use sxfleet_simulator::{
    messages_for_rounds, RawMessage, SimConfig, DEFAULT_START_MS, REPLAY_CHUNK_EVENTS,
};

type Obj = Map<String, Value>;

fn config(nodes: u32, seed: u64) -> SimConfig {
    SimConfig {
        nodes,
        seed,
        ..SimConfig::default()
    }
}

fn run(config: &SimConfig, rounds: u64) -> Vec<RawMessage> {
    messages_for_rounds(config, rounds).unwrap_or_else(|e| panic!("simulator failed: {e}"))
}

fn parse(msg: &RawMessage) -> Obj {
    match serde_json::from_slice(&msg.payload) {
        Ok(Value::Object(obj)) => obj,
        other => panic!("not a JSON object: {other:?}"),
    }
}

fn str_field<'a>(obj: &'a Obj, key: &str) -> &'a str {
    obj.get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("missing string `{key}` in {obj:?}"))
}

fn num_field(obj: &Obj, key: &str) -> f64 {
    obj.get(key)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("missing number `{key}` in {obj:?}"))
}

fn uint_field(obj: &Obj, key: &str) -> u64 {
    obj.get(key)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("missing unsigned integer `{key}` in {obj:?}"))
}

fn one_of(obj: &Obj, key: &str, allowed: &[&str]) {
    let v = str_field(obj, key);
    assert!(allowed.contains(&v), "`{key}` = {v:?} not in {allowed:?}");
}

fn object<'a>(obj: &'a Obj, key: &str) -> &'a Obj {
    obj.get(key)
        .and_then(Value::as_object)
        .unwrap_or_else(|| panic!("missing object `{key}` in {obj:?}"))
}

/// A config whose runs have many outages, so many replay sessions.
fn stormy(nodes: u32, seed: u64) -> SimConfig {
    SimConfig {
        outage_rate: 100.0,
        event_ids: seed % 2 == 1,
        ..config(nodes, seed)
    }
}

/// Checks one message against the contract and returns its parsed payload.
fn check_contract(msg: &RawMessage) -> Obj {
    let obj = parse(msg);
    assert_eq!(
        format_ts(msg.event_time_ms).as_deref(),
        Some(str_field(&obj, "ts"))
    );
    check_object(&obj, &msg.key);
    obj
}

/// Checks one message object (top-level or carried by a replay chunk) with Kafka key `key`.
fn check_object(obj: &Obj, key: &str) {
    assert!(uint_field(obj, "seq") >= 1);
    match str_field(obj, "type") {
        "domain" => {
            assert_eq!(str_field(obj, "domain_id"), key);
            one_of(obj, "level", &["GLOBAL", "REGION", "ZONE"]);
            one_of(obj, "autonomy", &["FULL", "CONDITIONAL"]);
            let parent = obj.get("parent_id");
            assert!(parent.is_some_and(|p| p.is_null() || p.is_string()));
            return;
        }
        "authority" => {
            assert_eq!(str_field(obj, "domain_id"), key);
            assert!(!str_field(obj, "controller_id").is_empty());
            one_of(obj, "level", &["GLOBAL", "REGION", "LOCAL", "AUTONOMOUS"]);
            uint_field(obj, "epoch");
            return;
        }
        "assign" => {
            assert_eq!(str_field(obj, "domain_id"), key);
            assert!(!str_field(obj, "bundle_id").is_empty());
            let authority = object(obj, "authority");
            assert!(!str_field(authority, "controller_id").is_empty());
            uint_field(authority, "epoch");
            return;
        }
        "policy_bundle" => {
            assert_eq!(str_field(obj, "bundle_id"), key);
            for field in ["version", "target_version", "policy_version"] {
                assert!(!str_field(obj, field).is_empty());
            }
            assert!(!object(obj, "config").is_empty());
            return;
        }
        "register" => {
            one_of(obj, "kind", &["EDGE", "DC", "GATEWAY", "RELAY", "VIRTUAL"]);
            for key in ["domain_id", "region", "zone"] {
                assert!(!str_field(obj, key).is_empty());
            }
            let tags = obj.get("tags").and_then(Value::as_array);
            assert!(tags.is_some_and(|t| t.iter().all(Value::is_string)));
            let hw = object(obj, "hardware");
            for key in ["serial", "manufacturer", "model", "batch_id", "origin"] {
                assert!(!str_field(hw, key).is_empty());
            }
            let fw = object(obj, "firmware");
            assert!(!str_field(fw, "version").is_empty());
            assert!(str_field(fw, "signature").starts_with("sha256:"));
            assert!(obj.get("public_key").is_none_or(Value::is_null));
        }
        "heartbeat" => {
            assert!(num_field(obj, "rtt_ms") >= 0.0);
            assert!((0.0..=100.0).contains(&num_field(obj, "loss_pct")));
            uint_field(obj, "bandwidth_kbps");
            uint_field(obj, "backlog_messages");
            uint_field(obj, "uptime_s");
            one_of(obj, "health", &["OK", "DEGRADED", "FAILED", "UNKNOWN"]);
            if let Some(via) = obj.get("via") {
                let hops = via.as_array();
                let hops = hops.unwrap_or_else(|| panic!("`via` not an array: {obj:?}"));
                assert!(hops.iter().all(|h| h.as_str().is_some_and(|h| h != key)));
            }
        }
        "edge" => {
            let peer = str_field(obj, "peer_id");
            assert!(!peer.is_empty() && peer != key, "{obj:?}");
            one_of(
                obj,
                "relation",
                &["signaling", "media", "control", "bypass"],
            );
            one_of(obj, "state", &["up", "down", "removed"]);
        }
        "snapshot" => {
            one_of(obj, "reported_version", &["1.4.5", "1.4.6", "1.4.7"]);
            assert!(str_field(obj, "policy_version").starts_with("policy-v"));
            assert!(!object(obj, "config").is_empty());
            assert!(!str_field(obj, "firmware_version").is_empty());
            let sbom = str_field(obj, "sbom_hash");
            assert!(
                sbom.starts_with("sha256:") && sbom.len() == 7 + 64,
                "{sbom}"
            );
            let inv = object(obj, "inventory");
            assert!(inv["cpu"].as_str().is_some_and(|cpu| !cpu.is_empty()));
            for key in ["ram_gb", "storage_gb"] {
                uint_field(inv, key);
            }
            assert!(inv["gpus"]
                .as_array()
                .is_some_and(|gpus| gpus.iter().all(serde_json::Value::is_string)));
        }
        "link" => one_of(obj, "state", &["lost", "detected"]),
        "replay" => {
            one_of(obj, "phase", &["begin", "chunk", "end"]);
            assert!(str_field(obj, "session_id").starts_with("rs-"));
            let total = uint_field(obj, "backlog_total");
            let events = obj.get("events");
            if str_field(obj, "phase") == "chunk" {
                assert!(uint_field(obj, "chunk_seq") >= 1);
                let events = events.and_then(Value::as_array);
                let events = events.unwrap_or_else(|| panic!("chunk without events: {obj:?}"));
                assert!(!events.is_empty() && events.len() <= REPLAY_CHUNK_EVENTS);
                assert!(events.len() as u64 <= total);
                let ts = str_field(obj, "ts");
                for event in events {
                    let event = event
                        .as_object()
                        .unwrap_or_else(|| panic!("carried event not an object: {event:?}"));
                    assert_ne!(str_field(event, "type"), "replay");
                    // Same format, so text order is time order: recorded before it is sent.
                    assert!(str_field(event, "ts") < ts, "{event:?} in {obj:?}");
                    check_object(event, key);
                }
            } else {
                assert!(
                    obj.get("chunk_seq").is_none() && events.is_none(),
                    "{obj:?}"
                );
            }
        }
        other => panic!("unexpected type {other:?}"),
    }
    assert_eq!(str_field(obj, "node_id"), key);
}

/// Per key: top-level `seq`s strictly increase in emit order, and together with
/// the `seq`s carried by replay chunks they are exactly `1..=N`.
fn check_seqs(msgs: &[RawMessage]) {
    let mut last: HashMap<&str, u64> = HashMap::new();
    let mut all: HashMap<&str, Vec<u64>> = HashMap::new();
    for msg in msgs {
        let obj = parse(msg);
        let seq = uint_field(&obj, "seq");
        let prev = last.insert(msg.key.as_str(), seq).unwrap_or(0);
        assert!(seq > prev, "key {}: {seq} after {prev}", msg.key);
        let seqs = all.entry(msg.key.as_str()).or_default();
        seqs.push(seq);
        for event in obj
            .get("events")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            seqs.push(event.get("seq").and_then(Value::as_u64).unwrap_or(0));
        }
    }
    for (key, mut seqs) in all {
        seqs.sort_unstable();
        let want: Vec<u64> = (1..=seqs.len() as u64).collect();
        assert_eq!(seqs, want, "key {key}");
    }
}

#[test]
fn every_message_matches_the_contract() {
    let msgs = run(&config(150, 11), 25);
    for msg in &msgs {
        check_contract(msg);
    }
    let stormy = run(&stormy(150, 11), 40);
    assert!(stormy.iter().any(|m| parse(m)["type"] == "replay"));
    for msg in &stormy {
        check_contract(msg);
    }
    let example = parse(&msgs[msgs.len() - 1]);
    assert!(example.contains_key("type"), "{example:?}");
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let a = run(&config(80, 42), 15);
    let b = run(&config(80, 42), 15);
    assert_eq!(a, b);
    let c = run(&config(80, 43), 15);
    assert_ne!(a, c);
}

#[test]
fn fewer_rounds_give_a_prefix() {
    let long = run(&config(40, 5), 12);
    let short = run(&config(40, 5), 4);
    assert!(short.len() < long.len());
    assert_eq!(short[..], long[..short.len()]);
}

#[test]
fn seq_counts_up_by_one_per_key() {
    check_seqs(&run(&config(120, 3), 40));
    let stormy = run(&stormy(120, 3), 60);
    assert!(stormy.iter().any(|m| parse(m)["type"] == "replay"));
    check_seqs(&stormy);
}

/// One replay session of one node, as (phase, chunk_seq, backlog_total, carried seqs).
type Session = Vec<(String, Option<u64>, u64, Vec<u64>)>;

#[test]
fn an_outage_is_replayed_as_begin_chunks_end() {
    let msgs = run(&stormy(100, 8), 120);
    // Per node: the seqs of the current outage, from `link lost` to `link detected`.
    let mut lost_at: HashMap<&str, u64> = HashMap::new();
    let mut outage: HashMap<&str, (u64, u64)> = HashMap::new();
    let mut sessions: BTreeMap<String, ((u64, u64), Session)> = BTreeMap::new();
    let mut previous: HashMap<&str, String> = HashMap::new();
    for msg in &msgs {
        let obj = parse(msg);
        let key = msg.key.as_str();
        let kind = str_field(&obj, "type");
        let seq = uint_field(&obj, "seq");
        match (kind, obj.get("state").and_then(Value::as_str)) {
            ("link", Some("lost")) => {
                lost_at.insert(key, seq);
            }
            ("link", Some("detected")) => {
                let lost = lost_at.remove(key).unwrap_or_else(|| panic!("{key}"));
                outage.insert(key, (lost, seq));
            }
            _ => {}
        }
        if kind == "replay" {
            // A session follows `link detected` (or the previous replay message) directly.
            let prev = previous.get(key).map(String::as_str);
            let phase = str_field(&obj, "phase").to_owned();
            if phase == "begin" {
                assert_eq!(prev, Some("link"), "{key}");
            } else {
                assert_eq!(prev, Some("replay"), "{key}");
            }
            let carried: Vec<u64> = obj
                .get("events")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|e| e.get("seq").and_then(Value::as_u64).unwrap_or(0))
                .collect();
            let (lost, detected) = outage[key];
            assert!(carried.iter().all(|s| (lost + 1..detected).contains(s)));
            let id = str_field(&obj, "session_id").to_owned();
            assert!(id.starts_with(&format!("rs-{key}-")), "{id}");
            let chunk = obj.get("chunk_seq").and_then(Value::as_u64);
            let total = uint_field(&obj, "backlog_total");
            let entry = sessions.entry(id).or_insert(((lost, detected), Vec::new()));
            entry.1.push((phase, chunk, total, carried));
        }
        let last = if kind == "replay" && obj["phase"] == "end" {
            "end".to_owned()
        } else {
            kind.to_owned()
        };
        previous.insert(key, last);
    }
    assert!(sessions.len() >= 5, "{} sessions", sessions.len());
    let mut chunked = 0;
    for (id, ((lost, detected), session)) in &sessions {
        let phases: Vec<&str> = session.iter().map(|m| m.0.as_str()).collect();
        let chunks = phases.len().saturating_sub(2);
        chunked += usize::from(chunks > 1);
        let mut want = vec!["begin"];
        want.extend(vec!["chunk"; chunks]);
        want.push("end");
        assert_eq!(phases, want, "{id}");
        let chunk_seqs: Vec<Option<u64>> = session.iter().map(|m| m.1).collect();
        let mut want_seqs = vec![None];
        want_seqs.extend((1..=chunks as u64).map(Some));
        want_seqs.push(None);
        assert_eq!(chunk_seqs, want_seqs, "{id}");
        let total = session[0].2;
        assert!(session.iter().all(|m| m.2 == total), "{id}");
        let carried: Vec<u64> = session.iter().flat_map(|m| m.3.iter().copied()).collect();
        assert_eq!(carried.len() as u64, total, "{id}");
        // Every seq between the outage's `link lost` and `link detected`, in order.
        assert_eq!(carried, (lost + 1..*detected).collect::<Vec<_>>(), "{id}");
        assert!(total >= 1);
    }
    assert!(chunked > 0, "no session needed more than one chunk");
}

#[test]
fn the_ingest_normalizer_accepts_every_message() {
    let cfg = NormalizerConfig::default();
    for config in [config(60, 4), stormy(60, 4), stormy(60, 5)] {
        let msgs = run(&config, 80);
        let (mut carried, mut replayed) = (0, 0);
        for msg in &msgs {
            let ctx = RawContext {
                source: Source::KafkaRaw,
                received_ms: msg.event_time_ms,
            };
            let records = normalize(&cfg, &msg.payload, ctx).unwrap_or_else(|e| {
                panic!(
                    "rejected {:?}: {}",
                    e.rejection,
                    String::from_utf8_lossy(&msg.payload)
                )
            });
            let obj = parse(msg);
            carried += obj
                .get("events")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            replayed += records
                .iter()
                .filter(|r| matches!(r, Normalized::Event(e) if e.replayed))
                .count();
        }
        assert_eq!(carried, replayed);
    }
}

#[test]
fn domains_then_registers_then_rounds_in_event_time_order() {
    let cfg = config(60, 9);
    let msgs = run(&cfg, 6);
    let types: Vec<String> = msgs
        .iter()
        .map(|m| str_field(&parse(m), "type").to_owned())
        .collect();
    let control = sxfleet_simulator::control_plane::records("", 0).map_or(0, |r| r.len());
    assert_eq!(control, 7);
    assert!(types[..7].iter().all(|t| t == "domain"));
    let control_types = ["authority", "policy_bundle", "assign"];
    assert!(types[7..7 + control]
        .iter()
        .all(|t| control_types.contains(&t.as_str())));
    assert!(types[7 + control..67 + control]
        .iter()
        .all(|t| t == "register"));
    assert!(types[67 + control..]
        .iter()
        .all(|t| t != "domain" && t != "register" && !control_types.contains(&t.as_str())));
    assert!(msgs[..7 + control].iter().all(|m| m.control));
    assert!(msgs[7 + control..].iter().all(|m| !m.control));
    assert_eq!(msgs[0].event_time_ms, DEFAULT_START_MS);
    assert!(msgs
        .windows(2)
        .all(|w| w[0].event_time_ms <= w[1].event_time_ms));
    let last = msgs.last().map_or(0, |m| m.event_time_ms);
    let round_6 = DEFAULT_START_MS + 6 * 30_000..DEFAULT_START_MS + 7 * 30_000;
    assert!(round_6.contains(&last), "{last}");
}

#[test]
fn domain_records_follow_seed_000() {
    let msgs = run(&config(1, 0), 0);
    let domains: Vec<(String, Option<String>, String, String)> = msgs
        .iter()
        .map(parse)
        .filter(|o| o.get("type").and_then(Value::as_str) == Some("domain"))
        .map(|o| {
            let parent = o
                .get("parent_id")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let field = |k: &str| str_field(&o, k).to_owned();
            (
                field("domain_id"),
                parent,
                field("level"),
                field("autonomy"),
            )
        })
        .collect();
    let expect = |id: &str, parent: Option<&str>, level: &str, autonomy: &str| {
        let want = (
            id.to_owned(),
            parent.map(str::to_owned),
            level.to_owned(),
            autonomy.to_owned(),
        );
        assert!(domains.contains(&want), "missing {want:?} in {domains:?}");
    };
    assert_eq!(domains.len(), 7);
    expect("global", None, "GLOBAL", "FULL");
    expect("region-a", Some("global"), "REGION", "FULL");
    expect("edge-zone-a1", Some("region-a"), "ZONE", "CONDITIONAL");
    expect("edge-zone-a2", Some("region-a"), "ZONE", "CONDITIONAL");
    expect("region-b", Some("global"), "REGION", "FULL");
    expect("edge-zone-b1", Some("region-b"), "ZONE", "FULL");
    expect("edge-zone-c", Some("global"), "ZONE", "FULL");
}

#[test]
fn fleet_has_the_variety_projections_need() {
    let msgs = run(&config(300, 21), 60);
    let mut versions = HashMap::new();
    let (mut degraded, mut delayed_nodes, mut zones) = (0, HashMap::new(), HashMap::new());
    let mut link_state: HashMap<String, &str> = HashMap::new();
    let (mut lost, mut detected) = (0, 0);
    for msg in &msgs {
        let obj = parse(msg);
        match str_field(&obj, "type") {
            "register" => *zones.entry(str_field(&obj, "zone").to_owned()).or_insert(0) += 1,
            "snapshot" => {
                *versions
                    .entry(str_field(&obj, "reported_version").to_owned())
                    .or_insert(0) += 1
            }
            "heartbeat" => {
                assert_ne!(
                    link_state.get(&msg.key),
                    Some(&"lost"),
                    "heartbeat while lost: {}",
                    msg.key
                );
                degraded += usize::from(str_field(&obj, "health") == "DEGRADED");
                let slow = delayed_nodes.entry(msg.key.clone()).or_insert((0, 0));
                slow.0 += usize::from(num_field(&obj, "rtt_ms") > 500.0);
                slow.1 += 1;
            }
            "link" => {
                let state = if str_field(&obj, "state") == "lost" {
                    "lost"
                } else {
                    "detected"
                };
                let prev = link_state.insert(msg.key.clone(), state);
                if state == "lost" {
                    lost += 1;
                    assert_ne!(prev, Some("lost"));
                } else {
                    detected += 1;
                    assert_eq!(prev, Some("lost"), "detected without lost: {}", msg.key);
                }
            }
            _ => {}
        }
    }
    assert_eq!(versions.len(), 3, "{versions:?}");
    assert!(degraded > 0);
    // Nodes slow on most heartbeats: what a projection classifies DELAYED.
    let mostly_slow = delayed_nodes
        .values()
        .filter(|(slow, all)| 2 * slow > *all)
        .count();
    let delayed_share = mostly_slow as f64 / 300.0;
    assert!((0.03..0.4).contains(&delayed_share), "{delayed_share}");
    assert!(lost > 0 && detected > 0, "lost {lost}, detected {detected}");
    assert_eq!(zones.len(), 4);
    assert!(zones["edge-zone-a1"] > zones["edge-zone-c"]);
}

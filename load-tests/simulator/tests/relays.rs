//! Relays in the simulated fleet: `via` paths name relays of the node's own zone, and a relay
//! failure degrades exactly the relay and the nodes behind it, all in the failure's rounds.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use proptest::prelude::*;
use serde_json::Value;
use sxfleet_simulator::topology::{self, Impact};
use sxfleet_simulator::{messages_for_rounds, RawMessage, SimConfig, Simulator};

fn json(msg: &RawMessage) -> Value {
    serde_json::from_slice(&msg.payload).unwrap_or(Value::Null)
}

fn run(config: &SimConfig, rounds: u64) -> Result<Vec<RawMessage>, TestCaseError> {
    messages_for_rounds(config, rounds).map_err(|e| TestCaseError::fail(e.to_string()))
}

/// Node id -> (kind, zone) from the registers.
fn registers(msgs: &[RawMessage]) -> HashMap<String, (String, String)> {
    msgs.iter()
        .map(json)
        .filter(|v| v["type"] == "register")
        .map(|v| {
            let s = |k: &str| v[k].as_str().unwrap_or("").to_owned();
            (s("node_id"), (s("kind"), s("zone")))
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn a_failed_relay_degrades_exactly_the_nodes_behind_it(
        nodes in 10u32..150,
        seed in any::<u64>(),
        rounds in 1u64..90,
        outage_rate in 0.0f64..30.0,
        interval_ms in 1_000u64..60_000,
    ) {
        let with = SimConfig {
            nodes,
            seed,
            outage_rate,
            heartbeat_interval: Duration::from_millis(interval_ms),
            ..SimConfig::default()
        };
        let without = SimConfig { relay_faults: false, ..with.clone() };
        let (a, b) = (run(&with, rounds)?, run(&without, rounds)?);
        let sim = Simulator::new(with.clone()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let paths: HashMap<&str, &[String]> =
            sim.links().map(|(id, l)| (id, l.via.as_slice())).collect();
        let plan = sim.fault_plan();
        let kinds = registers(&a);
        prop_assert_eq!(a.len(), b.len());
        for (ma, mb) in a.iter().zip(&b) {
            prop_assert_eq!((&ma.key, ma.event_time_ms), (&mb.key, mb.event_time_ms));
            let (va, vb) = (json(ma), json(mb));
            if va["type"] != "heartbeat" {
                prop_assert_eq!(&ma.payload, &mb.payload);
                continue;
            }
            let via: Vec<String> = serde_json::from_value(va["via"].clone()).unwrap_or_default();
            // `via` names relays of the node's own zone, never the node, each hop once.
            prop_assert_eq!(via.as_slice(), paths[ma.key.as_str()]);
            let zone = &kinds[&ma.key].1;
            for (i, hop) in via.iter().enumerate() {
                prop_assert_ne!(hop, &ma.key);
                prop_assert!(!via[..i].contains(hop));
                prop_assert_eq!(kinds.get(hop), Some(&("RELAY".to_owned(), zone.clone())));
            }
            let round = u64::try_from((ma.event_time_ms - with.start_ms) / interval_ms as i64)
                .unwrap_or(0);
            let impact = plan
                .failed_at(round)
                .map_or(Impact::None, |f| topology::impact(&f.relay_id, &ma.key, &via));
            // Changed by the fault exactly when the node is the failed relay or behind it.
            prop_assert_eq!(ma.payload != mb.payload, impact != Impact::None, "{}", ma.key);
            let rtt = |v: &Value| v["rtt_ms"].as_f64().unwrap_or(0.0);
            let loss = |v: &Value| v["loss_pct"].as_f64().unwrap_or(0.0);
            match impact {
                Impact::None => {}
                Impact::Failed => {
                    prop_assert_eq!(&va["health"], "FAILED");
                    prop_assert_eq!(rtt(&va), rtt(&vb));
                }
                Impact::Behind => {
                    prop_assert!(rtt(&va) > 1000.0 && loss(&va) > 5.0, "{va}");
                    prop_assert_eq!(&va["health"], &vb["health"]);
                }
            }
        }
    }
}

#[test]
fn faults_come_once_a_period_on_a_relay_with_nodes_behind_it() {
    let sim = Simulator::new(SimConfig {
        nodes: 400,
        seed: 9,
        ..SimConfig::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let faults = sim.fault_plan().faults_until(200);
    assert_eq!(faults.len(), 5, "{faults:?}");
    for (period, f) in (0u64..).zip(&faults) {
        let period_rounds = period * 40 + 1..=(period + 1) * 40;
        assert!(period_rounds.contains(&f.first_round) && period_rounds.contains(&f.last_round));
        assert!(
            (4..=10).contains(&(f.last_round - f.first_round + 1)),
            "{f:?}"
        );
        let behind = sim
            .links()
            .filter(|(_, l)| l.via.contains(&f.relay_id))
            .count();
        assert!(behind >= 2, "{f:?}");
        assert_eq!(sim.fault_plan().failed_at(f.first_round), Some(f.clone()));
        assert_eq!(sim.fault_plan().failed_at(f.first_round - 1), None);
        assert_eq!(sim.fault_plan().failed_at(f.last_round + 1), None);
    }
    let off = Simulator::new(SimConfig {
        nodes: 400,
        seed: 9,
        relay_faults: false,
        ..SimConfig::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(off.fault_plan().faults_until(200).is_empty());
    assert!(off
        .links()
        .any(|(_, l)| !l.via.is_empty() && !l.edges.is_empty()));
}

/// The relay-health reading of `docs/projections.md` over one failed round: per relay, the
/// share of its downstream heartbeats that are DELAYED or worse. The failed relay comes first.
#[test]
fn the_failed_relay_ranks_first_by_degraded_share() {
    let config = SimConfig {
        nodes: 400,
        seed: 9,
        outage_rate: 0.0,
        ..SimConfig::default()
    };
    let sim = Simulator::new(config.clone()).unwrap_or_else(|e| panic!("{e}"));
    let fault = sim.fault_plan().faults_until(60).first().cloned();
    let fault = fault.unwrap_or_else(|| panic!("no relay fails in 60 rounds"));
    let paths: HashMap<String, Vec<String>> = sim
        .links()
        .map(|(id, l)| (id.to_owned(), l.via.clone()))
        .collect();
    let msgs = messages_for_rounds(&config, fault.first_round).unwrap_or_else(|e| panic!("{e}"));
    let interval = 30_000;
    let mut per_relay: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
    for m in &msgs {
        let v = json(m);
        let round = (m.event_time_ms - config.start_ms) / interval;
        if v["type"] != "heartbeat" || round != fault.first_round as i64 {
            continue;
        }
        let degraded = v["rtt_ms"].as_f64().unwrap_or(0.0) > 1000.0
            || v["loss_pct"].as_f64().unwrap_or(0.0) > 5.0;
        for hop in &paths[&m.key] {
            let e = per_relay.entry(hop.as_str()).or_default();
            e.0 += 1;
            e.1 += u32::from(degraded);
        }
    }
    let mut ranked: Vec<(&str, f64, u32)> = per_relay
        .iter()
        .map(|(r, (n, d))| (*r, f64::from(*d) / f64::from(*n), *d))
        .collect();
    ranked.sort_by(|x, y| y.1.total_cmp(&x.1).then(y.2.cmp(&x.2)));
    let first = ranked.first().map(|r| (r.0, r.1));
    assert_eq!(first, Some((fault.relay_id.as_str(), 1.0)), "{ranked:?}");
    assert!(ranked[0].2 >= 2);
    assert!(
        ranked[1..].iter().all(|r| r.1 < 1.0 || r.2 < ranked[0].2),
        "{ranked:?}"
    );
}

//! The fleet as a hierarchy and a graph, from raw JSON on `fleet.raw.v1` to rows, on the real
//! broker and server: normalizer -> processor -> two sinks (ClickHouse 18.16 and Parquet, each
//! with its own consumer group) over the same topics.
//!
//! - Seed 000's federation (`sxfleet_simulator::scenario::seed000`, 105 nodes): the "Global
//!   Fleet View" and "Regional View" trees, the control-plane tables (domains, policy bundles,
//!   assignments, masters of record), relay paths and edges, with the figures the scenario was
//!   built to produce, and the same cookbook answers on both backends.
//! - A lab fleet on one partition: a node silent for 17 hours of event time reads 17 hours in
//!   the twin, in `node_state` and in the rollup; a relay that fails with the nodes behind it is
//!   the first failing relay path; an older bundle and an older domain version arriving last
//!   never replace the newer ones, and each is audited.

mod common;

use common::run::Run;
use serde_json::json;
use sxfleet_simulator::scenario::{seed000, DomainExpect, Scenario};
use sxfleet_sinks::cookbook::Params;
/// 2026-02-27T00:00:00Z, the seeds' day.
const DAY: i64 = 1_772_150_400_000;
const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;

/// `fleet_tree`'s line for `domain`, from the scenario's expected figures.
fn tree_line(domain: &DomainExpect) -> String {
    let depth = domain.path.len() - 1;
    let level = format!("{:?}", domain.level).to_uppercase();
    let shown = if domain.status == "Healthy" && !matches!(level.as_str(), "GLOBAL" | "REGION") {
        domain.connectivity_summary.clone()
    } else {
        domain.status.to_owned()
    };
    let authority = format!("{:?}", domain.master_level).to_uppercase();
    let hours = (domain.worst_sync_debt_s as f64 / 3600.0 * 100.0).round() / 100.0;
    format!(
        "{}\t{depth}\t{level}\t{}\t{shown}\t{}\t{authority}\t{hours}\n",
        domain.domain_id, domain.nodes, domain.drift_objects
    )
}

fn records_of(scenario: &Scenario) -> Vec<(String, Vec<u8>, i64)> {
    scenario
        .records
        .iter()
        .map(|m| (m.key.clone(), m.payload.clone(), m.event_time_ms))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn seed_000_lands_its_hierarchy_and_graph_from_raw_json() {
    let scenario = seed000(DAY).unwrap();
    let expected = &scenario.expected;
    let (run, _cleanup) = Run::start("graph000", 4, &records_of(&scenario)).await;

    // Every twin has seen its last event: the node count and the newest event time.
    let nodes = expected.nodes.len();
    let newest = expected.nodes.iter().map(|n| n.last_seen_ms).max().unwrap();
    run.both_answer(
        "every twin at its last event",
        "SELECT count(), max(last_seen_ms) FROM node_state FINAL",
        "SELECT count(*), max(last_seen_ms) FROM node_state_final",
        &format!("{nodes}\t{newest}\n"),
    )
    .await;

    // The trees of seed 000, as of the scenario's end.
    let as_of = Params {
        domain_id: "global",
        as_of_ms: Some(scenario.as_of_ms),
        ..Params::default()
    };
    let tree_order = |root: &str| {
        let mut domains: Vec<&DomainExpect> = expected
            .domains
            .iter()
            .filter(|d| d.path.contains(&root))
            .collect();
        domains.sort_by_key(|d| d.path.join("/"));
        domains.into_iter().map(tree_line).collect::<String>()
    };
    assert_eq!(
        run.cookbook_answer("fleet_tree", &as_of).await,
        tree_order("global")
    );
    let region_a = Params {
        domain_id: "region-a",
        ..as_of
    };
    let regional = run.cookbook_answer("fleet_tree", &region_a).await;
    assert_eq!(regional, tree_order("region-a"));
    // The seed's own words.
    assert!(
        regional.contains("region-a\t1\tREGION\t50\tHealthy\t2\tREGION\t"),
        "{regional}"
    );
    assert!(
        regional.contains("edge-zone-a2\t2\tZONE\t25\tLive (23/25), Delayed (2/25)\t"),
        "{regional}"
    );
    let global = run.cookbook_answer("fleet_tree", &as_of).await;
    assert!(
        global.contains("edge-zone-c\t1\tZONE\t15\tAutonomous\t0\tAUTONOMOUS\t3.75\n"),
        "{global}"
    );

    // The control plane: one row per domain with its path, master and authority status.
    let mut want_domains: Vec<&DomainExpect> = expected.domains.iter().collect();
    want_domains.sort_by_key(|d| d.domain_id);
    let want: String = want_domains
        .iter()
        .map(|d| {
            format!(
                "{}\t{}\t{}\t{}\t{}\n",
                d.domain_id,
                d.path.join("/"),
                d.master_controller_id,
                d.authority_status,
                d.version
            )
        })
        .collect();
    run.both_answer(
        "domains",
        "SELECT domain_id, arrayStringConcat(path, '/'), master_controller_id, authority_status, version \
         FROM domains FINAL ORDER BY domain_id",
        "SELECT domain_id, array_to_string(path, '/'), master_controller_id, authority_status, version \
         FROM domains_final ORDER BY domain_id",
        &want,
    )
    .await;
    let masters: String = want_domains
        .iter()
        .map(|d| {
            format!(
                "{}\t{}\t{}\n",
                d.domain_id,
                d.master_controller_id,
                format!("{:?}", d.master_level).to_uppercase()
            )
        })
        .collect();
    run.both_answer(
        "masters of record",
        "SELECT domain_id, controller_id, master_level FROM masters_of_record ORDER BY domain_id",
        "SELECT domain_id, controller_id, master_level FROM masters_of_record ORDER BY domain_id",
        &masters,
    )
    .await;
    // Both bundles in force, each assignment accepted under its region's authority.
    run.both_answer(
        "bundles and assignments",
        "SELECT (SELECT count() FROM policy_bundles FINAL WHERE status = 'IN_FORCE') AS in_force, \
                (SELECT count() FROM assignments WHERE decision = 'ACCEPTED') AS accepted, \
                (SELECT count() FROM assignments WHERE decision = 'REJECTED') AS rejected",
        "SELECT (SELECT count(*) FROM policy_bundles_final WHERE status = 'IN_FORCE') AS in_force, \
                (SELECT count(*) FROM assignments WHERE decision = 'ACCEPTED') AS accepted, \
                (SELECT count(*) FROM assignments WHERE decision = 'REJECTED') AS rejected",
        "2\t2\t0\n",
    )
    .await;

    // Relay paths and declared edges.
    let relays: String = {
        let mut relays: Vec<_> = expected.relays.iter().collect();
        relays.sort_by(|a, b| a.relay_id.cmp(&b.relay_id));
        relays
            .iter()
            .map(|r| format!("{}\t{}\t{}\n", r.relay_id, r.downstream, r.degraded))
            .collect()
    };
    run.both_answer(
        "relay health",
        "SELECT relay_id, downstream, degraded FROM relay_health ORDER BY relay_id",
        "SELECT relay_id, downstream, degraded FROM relay_health ORDER BY relay_id",
        &relays,
    )
    .await;
    let edges: String = {
        let mut edges: Vec<String> = expected
            .edges
            .iter()
            .map(|e| {
                format!(
                    "{}\t{}\t{}\t{}\n",
                    e.node_id,
                    e.peer_id,
                    format!("{:?}", e.relation).to_uppercase(),
                    format!("{:?}", e.state).to_uppercase()
                )
            })
            .collect();
        edges.sort();
        edges.concat()
    };
    run.both_answer(
        "edges",
        "SELECT node_id, peer_id, relation, state FROM edges ORDER BY node_id, peer_id, relation",
        "SELECT node_id, peer_id, relation, state FROM edges ORDER BY node_id, peer_id, relation",
        &edges,
    )
    .await;
    // Members of a trust domain: the whole subtree.
    let members = run
        .cookbook_answer(
            "trust_domain_members",
            &Params {
                domain_id: "region-a",
                ..as_of
            },
        )
        .await;
    assert_eq!(members.lines().count(), 50, "{members}");
    run.stop().await;
}

/// A raw JSON record keyed by `key` at `at_ms`.
fn raw(key: &str, at_ms: i64, value: serde_json::Value) -> (String, Vec<u8>, i64) {
    let mut value = value;
    value["ts"] = json!(rfc3339(at_ms));
    (key.to_owned(), serde_json::to_vec(&value).unwrap(), at_ms)
}

fn rfc3339(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap();
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// The lab fleet: relays `r-1` (nodes `n-1`..`n-4` behind it) and `r-2` (`n-5`..`n-8`), and
/// `n-silent`, live once and then silent; heartbeats every 15 minutes for 17 hours. In the last
/// three rounds `r-1` reports FAILED and its nodes' rtt climbs to 5 s. Bundle `b-lab` 1.2.0 is
/// followed by an older 1.1.0, domain `lab` version 2 by an older version 1.
fn lab_fleet() -> Vec<(String, Vec<u8>, i64)> {
    let t0 = DAY;
    let mut records = vec![
        raw(
            "lab",
            t0,
            json!({"type": "domain", "domain_id": "lab", "level": "GLOBAL", "version": 2,
                   "autonomy": "full"}),
        ),
        raw(
            "lab",
            t0 + 1000,
            json!({"type": "authority", "domain_id": "lab", "controller_id": "lab-control",
                   "level": "GLOBAL", "epoch": 1}),
        ),
        raw(
            "b-lab",
            t0 + 2000,
            json!({"type": "policy_bundle", "bundle_id": "b-lab", "version": "1.2.0",
                   "target_version": "2.0.0", "policy_version": "p-2", "config": {"mode": "hard"}}),
        ),
        raw(
            "lab",
            t0 + 3000,
            json!({"type": "assign", "bundle_id": "b-lab", "domain_id": "lab",
                   "authority": {"controller_id": "lab-control", "level": "GLOBAL", "epoch": 1}}),
        ),
        // Older versions, arriving last.
        raw(
            "b-lab",
            t0 + 4000,
            json!({"type": "policy_bundle", "bundle_id": "b-lab", "version": "1.1.0",
                   "target_version": "1.9.0", "policy_version": "p-1", "config": {"mode": "soft"}}),
        ),
        raw(
            "lab",
            t0 + 5000,
            json!({"type": "domain", "domain_id": "lab", "level": "REGION", "version": 1}),
        ),
    ];
    let nodes: Vec<(String, &str, Vec<&str>)> = ["r-1", "r-2"]
        .iter()
        .map(|r| ((*r).to_owned(), "RELAY", vec![]))
        .chain((1..=8).map(|i| {
            let relay = if i <= 4 { "r-1" } else { "r-2" };
            (format!("n-{i}"), "EDGE", vec![relay])
        }))
        .chain(std::iter::once(("n-silent".to_owned(), "EDGE", vec![])))
        .collect();
    let mut seq = std::collections::BTreeMap::<String, u64>::new();
    let mut next = |node: &str| {
        let s = seq.entry(node.to_owned()).or_insert(0);
        *s += 1;
        *s
    };
    for (node, kind, _) in &nodes {
        records.push(raw(
            node,
            t0 + MINUTE,
            json!({"type": "register", "node_id": node, "seq": next(node), "kind": kind,
                   "domain_id": "lab", "region": "lab", "zone": "lab"}),
        ));
    }
    let rounds = 68; // 17 h of 15-minute rounds after the first.
    for k in 0..=rounds {
        let at = t0 + 5 * MINUTE + k * 15 * MINUTE;
        for (node, _, via) in &nodes {
            if node == "n-silent" && k > 0 {
                continue;
            }
            let failing = k > rounds - 3;
            let behind_failed = via.first() == Some(&"r-1");
            let health = if failing && node == "r-1" {
                "FAILED"
            } else {
                "OK"
            };
            let rtt = if failing && behind_failed {
                5000.0
            } else {
                40.0
            };
            records.push(raw(
                node,
                at,
                json!({"type": "heartbeat", "node_id": node, "seq": next(node), "rtt_ms": rtt,
                       "loss_pct": 0.0, "health": health, "via": via}),
            ));
        }
        if k == 0 {
            records.push(raw(
                "n-silent",
                at + MINUTE,
                json!({"type": "link", "node_id": "n-silent", "seq": next("n-silent"),
                       "state": "lost"}),
            ));
        }
    }
    // One more event after the last round, so the partition's time passes its deadlines.
    let end = t0 + 5 * MINUTE + rounds * 15 * MINUTE;
    records.push(raw(
        "n-5",
        end + 1000,
        json!({"type": "heartbeat", "node_id": "n-5", "seq": next("n-5"), "rtt_ms": 40.0,
               "health": "OK"}),
    ));
    records.sort_by_key(|r| r.2);
    records
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_silent_node_reads_17_hours_and_a_failed_relay_is_found_first() {
    let records = lab_fleet();
    let (run, _cleanup) = Run::start("graphlab", 1, &records).await;
    let seventeen_hours = 17 * HOUR / 1000;

    // The twin, node_state and the rollup all read 17 h for the silent node.
    run.both_answer(
        "the silent node's sync debt",
        "SELECT seconds_behind, toString(connectivity) FROM node_state FINAL WHERE node_id = 'n-silent'",
        "SELECT seconds_behind, connectivity FROM node_state_final WHERE node_id = 'n-silent'",
        &format!("{seventeen_hours}\tDISCONNECTED\n"),
    )
    .await;
    run.both_answer(
        "the rollup's worst sync debt",
        "SELECT nodes, worst_sync_debt_s FROM domain_tree_rollup WHERE domain_id = 'lab'",
        "SELECT nodes, worst_sync_debt_s FROM domain_tree_rollup WHERE domain_id = 'lab'",
        &format!("11\t{seventeen_hours}\n"),
    )
    .await;
    let events =
        common::kafka::read_committed(&common::services().kafka, &run.config.topics.twin, 1);
    let last_twin = events
        .iter()
        .rev()
        .find(|r| r.2 == b"n-silent")
        .expect("a twin of n-silent");
    let twin: sxfleet_schemas::Node =
        sxfleet_schemas::decode(last_twin.3.as_deref().expect("a twin, not a tombstone")).unwrap();
    assert_eq!(twin.connectivity.sync_debt.seconds_behind, seventeen_hours);

    // The failed relay is the first failing relay path.
    let failing = run
        .cookbook_answer("failing_relays", &Params::default())
        .await;
    let first = failing.lines().next().unwrap_or_default();
    assert!(first.starts_with("r-1\t"), "{failing}");
    assert!(first.ends_with("\tFAILING"), "{failing}");
    assert!(!failing.contains("r-2\t"), "{failing}");

    // The older bundle and the older domain version did not win, and both were audited.
    run.both_answer(
        "bundle versions",
        "SELECT version, status FROM policy_bundles FINAL ORDER BY version",
        "SELECT version, status FROM policy_bundles_final ORDER BY version",
        "1.1.0\tSTALE\n1.2.0\tIN_FORCE\n",
    )
    .await;
    run.both_answer(
        "the domain's version",
        "SELECT version, level FROM domains FINAL",
        "SELECT version, level FROM domains_final",
        "2\tGLOBAL\n",
    )
    .await;
    run.both_answer(
        "the audit of stale versions",
        "SELECT subject, decision, reason FROM authority_audit FINAL \
         WHERE subject IN ('BUNDLE', 'DOMAIN') AND decision = 'REJECTED' ORDER BY subject",
        "SELECT subject, decision, reason FROM authority_audit_final \
         WHERE subject IN ('BUNDLE', 'DOMAIN') AND decision = 'REJECTED' ORDER BY subject",
        "BUNDLE\tREJECTED\tSTALE_VERSION\nDOMAIN\tREJECTED\tSTALE_VERSION\n",
    )
    .await;
    run.stop().await;
}

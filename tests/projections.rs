//! The fleet projections end to end on the real broker and server: raw JSON (control plane
//! and three nodes) on `fleet.raw.v1` -> normalizer -> processor -> sink -> one ClickHouse table
//! per output, plus the rollup views. One pipeline run feeds every test of this file; each test
//! checks one table against values worked out by hand from the input below.

mod common;

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use common::scenario::{self as input, forged_reregistration};
use serde::Deserialize;
use sxfleet::pipeline::{self, PipelineConfig};
use sxfleet_runtime::{KafkaConfig, Shutdown};
use sxfleet_sinks::{cookbook, ClickHouse, ClickHouseConfig};

const LIMIT: Duration = Duration::from_secs(180);
const PARTITIONS: i32 = 4;

/// Where the scenario's rows are.
struct Scenario {
    clickhouse: ClickHouseConfig,
}

/// Runs the pipeline once over the scenario and waits until every output has landed.
fn scenario() -> &'static Scenario {
    static SCENARIO: OnceLock<Scenario> = OnceLock::new();
    SCENARIO.get_or_init(|| {
        std::thread::spawn(|| {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(4)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(run_scenario())
        })
        .join()
        .unwrap()
    })
}

async fn run_scenario() -> Scenario {
    let services = common::services();
    let prefix = format!("{}.", common::unique("proj"));
    // The topics go when the scenario has landed; its database stays for the tests that read it.
    let _cleanup = common::Cleanup::new(&services.kafka, &prefix);
    let config = PipelineConfig::new(KafkaConfig::new(&services.kafka), &prefix);
    pipeline::create_topics(&config).await.unwrap();
    let clickhouse = ClickHouseConfig::new(&services.clickhouse, common::unique("fleet_proj"));
    common::produce(&services.kafka, &config.topics.raw, &input::control()).await;

    let stop = Shutdown::new();
    let run = {
        let (config, clickhouse, stop) = (config.clone(), clickhouse.clone(), stop.clone());
        tokio::spawn(async move { pipeline::run_all(&config, &clickhouse, &stop).await })
    };
    // The node events follow once every events partition holds the control copies, so each
    // node is evaluated against the full control plane (alert reasons depend on it).
    let copies = input::CONTROL.len();
    common::eventually(
        LIMIT,
        "control copies on every events partition",
        || async {
            let records =
                common::kafka::read_committed(&services.kafka, &config.topics.events, PARTITIONS);
            let per_partition: Vec<usize> = (0..PARTITIONS)
                .map(|p| records.iter().filter(|r| r.0 == p).count())
                .collect();
            if per_partition.iter().all(|n| *n == copies) {
                Ok(())
            } else {
                Err(format!("{per_partition:?}"))
            }
        },
    )
    .await;
    common::produce(&services.kafka, &config.topics.raw, &input::nodes()).await;
    let ch = connect(&clickhouse).await;
    common::eventually(LIMIT, "every output landed", || async {
        let landed: (u64, u64, u64, u64, u64) = ch
            .client()
            .query(&format!(
                "SELECT
                    (SELECT count() FROM alerts FINAL),
                    (SELECT countIf(decision = 'SPLIT_BRAIN_RESOLVED') FROM authority_audit FINAL),
                    ({settled}),
                    (SELECT uniqExact(node_id) FROM drift_evaluations FINAL
                        WHERE status IN ('IN_SPEC', 'DRIFTED')),
                    (SELECT count() FROM transitions FINAL WHERE to_state = 'QUARANTINED')",
                settled = input::settled_sql()
            ))
            .fetch_one()
            .await
            .map_err(|e| e.to_string())?;
        if landed == (4, 1, 5, 3, 2) {
            Ok(())
        } else {
            Err(format!("{landed:?}"))
        }
    })
    .await;
    stop.trigger();
    run.await.unwrap().unwrap();
    Scenario { clickhouse }
}

async fn connect(config: &ClickHouseConfig) -> ClickHouse {
    // The sink creates the database; until then connecting fails.
    common::eventually(LIMIT, "the sink's database", || async {
        let ch = ClickHouse::connect(config)
            .await
            .map_err(|e| e.to_string())?;
        ch.client()
            .query("SELECT count() FROM schema_migrations")
            .fetch_one::<u64>()
            .await
            .map_err(|e| e.to_string())?;
        Ok(ch)
    })
    .await
}

async fn rows<T>(sql: &str) -> Vec<T>
where
    T: clickhouse::RowOwned + clickhouse::RowRead,
{
    let ch = connect(&scenario().clickhouse).await;
    ch.client().query(sql).fetch_all::<T>().await.unwrap()
}

#[derive(Debug, Deserialize, clickhouse::Row, PartialEq)]
struct NodeRow {
    node_id: String,
    lifecycle_state: String,
    drift_status: String,
    drift_score: f64,
    drift_objects: i32,
    desired_bundle_id: String,
    target_version: String,
    controller_ids: Vec<String>,
    trust_state: String,
    last_violation: String,
    attention_score: f64,
    alert_open: u8,
}

#[tokio::test(flavor = "multi_thread")]
async fn node_state_holds_drift_trust_authority_and_attention() {
    let got: Vec<NodeRow> = rows(
        "SELECT node_id, lifecycle_state, toString(drift_status) AS drift_status, drift_score,
                drift_objects, desired_bundle_id, target_version, controller_ids,
                toString(trust_state) AS trust_state, last_violation, attention_score, alert_open
         FROM node_state FINAL WHERE node_id NOT IN ('n-replay', 'n-forged') ORDER BY node_id",
    )
    .await;
    let row = |node_id: &str, lifecycle: &str, drift: (&str, f64, i32), trust: (&str, &str)| {
        let attention = if trust.0 == "VIOLATED" {
            45.0
        } else {
            0.3 * drift.1
        };
        NodeRow {
            node_id: node_id.to_owned(),
            lifecycle_state: lifecycle.to_owned(),
            drift_status: drift.0.to_owned(),
            drift_score: drift.1,
            drift_objects: drift.2,
            desired_bundle_id: "b-rempart".to_owned(),
            target_version: "1.4.7".to_owned(),
            controller_ids: vec!["ctl-a".to_owned()],
            trust_state: trust.0.to_owned(),
            last_violation: trust.1.to_owned(),
            attention_score: attention,
            alert_open: u8::from(trust.0 == "VIOLATED"),
        }
    };
    assert_eq!(
        got,
        [
            // No snapshot: drift cannot be judged. The forged signature quarantines it.
            row(
                "n-bad",
                "QUARANTINED",
                ("UNKNOWN", 0.0, 0),
                ("VIOLATED", "firmware_signature_mismatch")
            ),
            // 100 * (0.4 * 0.5 + 0.3 * 1.0 + 0.3 * (0.5 + 0.25)) = 72.5; 2 keys + version + policy.
            row(
                "n-drift",
                "LIVE_OK",
                ("DRIFTED", 72.5, 4),
                ("UNVERIFIED", "")
            ),
            row("n-ok", "LIVE_OK", ("IN_SPEC", 0.0, 0), ("UNVERIFIED", "")),
        ]
    );
}

#[derive(Debug, Deserialize, clickhouse::Row)]
struct DriftRow {
    node_id: String,
    status: String,
    version_desired: String,
    version_actual: String,
    version_severity: String,
    config_fields: Vec<String>,
    config_desired: Vec<String>,
    config_actual: Vec<String>,
    policy_actual_version: String,
    compliance_score: Option<f64>,
    score: f64,
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_evaluations_hold_the_per_field_differences() {
    let got: Vec<DriftRow> = rows(
        "SELECT node_id, toString(argMax(status, seq)) AS status,
                argMax(version_desired, seq) AS version_desired,
                argMax(version_actual, seq) AS version_actual,
                argMax(version_severity, seq) AS version_severity,
                argMax(config_fields, seq) AS config_fields,
                argMax(config_desired, seq) AS config_desired,
                argMax(config_actual, seq) AS config_actual,
                argMax(policy_actual_version, seq) AS policy_actual_version,
                argMax(compliance_score, seq) AS compliance_score,
                argMax(score, seq) AS score
         FROM drift_evaluations FINAL GROUP BY node_id ORDER BY node_id",
    )
    .await;
    let by_node: Vec<(&str, &str)> = got
        .iter()
        .map(|r| (r.node_id.as_str(), r.status.as_str()))
        .collect();
    assert_eq!(
        by_node,
        [
            ("n-bad", "UNKNOWN"),
            ("n-drift", "DRIFTED"),
            ("n-ok", "IN_SPEC"),
            ("n-replay", "IN_SPEC")
        ]
    );
    let drift = &got[1];
    assert_eq!(
        (
            drift.version_desired.as_str(),
            drift.version_actual.as_str()
        ),
        ("1.4.7", "1.4.6")
    );
    assert_eq!(drift.version_severity, "MEDIUM");
    assert_eq!(
        drift.config_fields,
        ["rate_limit.max_cps", "stir.enforcement_mode"]
    );
    assert_eq!(drift.config_desired, ["2000", "hard"]);
    assert_eq!(drift.config_actual, ["1500", "soft"]);
    assert_eq!(drift.policy_actual_version, "policy-v2.0");
    assert_eq!(drift.compliance_score, Some(0.0));
    assert_eq!(drift.score, 72.5);
    assert!(got[2].config_fields.is_empty());
}

#[derive(Debug, Deserialize, clickhouse::Row, PartialEq)]
struct AlertRow {
    alert_id: String,
    kind: String,
    action: String,
    subject_id: String,
    reasons: Vec<String>,
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_hold_attention_and_split_brain_raises_and_resolves() {
    let got: Vec<AlertRow> = rows(
        "SELECT alert_id, toString(kind) AS kind, toString(action) AS action, subject_id, reasons
         FROM alerts FINAL ORDER BY alert_id, action",
    )
    .await;
    let alert = |id: &str, kind: &str, action: &str, subject: &str, reasons: &[&str]| AlertRow {
        alert_id: id.to_owned(),
        kind: kind.to_owned(),
        action: action.to_owned(),
        subject_id: subject.to_owned(),
        reasons: reasons.iter().map(|r| (*r).to_owned()).collect(),
    };
    assert_eq!(
        got,
        [
            alert(
                "ATTENTION:n-bad:1",
                "ATTENTION",
                "RAISE",
                "n-bad",
                &["supply_chain"]
            ),
            alert(
                "ATTENTION:n-forged:1",
                "ATTENTION",
                "RAISE",
                "n-forged",
                &["supply_chain", "authority"]
            ),
            alert(
                "SPLIT_BRAIN:region-b:1",
                "SPLIT_BRAIN",
                "RAISE",
                "region-b",
                &[]
            ),
            alert(
                "SPLIT_BRAIN:region-b:1",
                "SPLIT_BRAIN",
                "RESOLVE",
                "region-b",
                &[]
            ),
        ]
    );
}

#[derive(Debug, Deserialize, clickhouse::Row, PartialEq)]
struct DecisionRow {
    domain_id: String,
    decision: String,
    controller_id: String,
    epoch: i64,
    reason: String,
    controllers: Vec<String>,
}

#[tokio::test(flavor = "multi_thread")]
async fn authority_audit_records_every_decision_once() {
    let got: Vec<DecisionRow> = rows(
        "SELECT domain_id, toString(decision) AS decision, controller_id, epoch, reason,
                controllers
         FROM authority_audit FINAL ORDER BY at_ms, domain_id, offset",
    )
    .await;
    let d =
        |domain: &str, decision: &str, controller: &str, epoch: i64, reason: &str| DecisionRow {
            domain_id: domain.to_owned(),
            decision: decision.to_owned(),
            controller_id: controller.to_owned(),
            epoch,
            reason: reason.to_owned(),
            controllers: Vec::new(),
        };
    let mut split = d("region-b", "SPLIT_BRAIN", "", 1, "");
    split.controllers = vec!["ctl-b1".to_owned(), "ctl-b2".to_owned()];
    assert_eq!(
        got,
        [
            // Every domain and bundle record is a versioned decision too (subject DOMAIN /
            // BUNDLE, no controller), published once by partition 0.
            d("edge-a1", "ACCEPTED", "", 0, ""),
            d("global", "ACCEPTED", "", 0, ""),
            d("region-a", "ACCEPTED", "", 0, ""),
            d("region-b", "ACCEPTED", "", 0, ""),
            d("", "ACCEPTED", "", 0, ""),
            d("region-a", "AUDIT", "ctl-a", 3, ""),
            d("region-a", "MASTER_CHANGED", "ctl-a", 3, ""),
            d("region-a", "AUDIT", "ctl-a", 3, ""),
            d("region-a", "ACCEPTED", "ctl-a", 3, ""),
            d("region-a", "REJECTED", "ctl-rogue", 3, "NO_AUTHORITY"),
            d("region-b", "AUDIT", "ctl-b1", 1, ""),
            d("region-b", "MASTER_CHANGED", "ctl-b1", 1, ""),
            // ctl-b2 claims the same epoch: a split brain, and the later claim wins by time.
            split,
            d("region-b", "AUDIT", "ctl-b2", 1, ""),
            d("region-b", "MASTER_CHANGED", "ctl-b2", 1, ""),
            // A higher epoch supersedes the contested one.
            d("region-b", "AUDIT", "ctl-b1", 2, ""),
            d("region-b", "SPLIT_BRAIN_RESOLVED", "ctl-b1", 2, ""),
            d("region-b", "MASTER_CHANGED", "ctl-b1", 2, ""),
        ]
    );
}

#[derive(Debug, Deserialize, clickhouse::Row, PartialEq)]
struct TransitionRow {
    node_id: String,
    from_state: String,
    to_state: String,
    reason: String,
}

#[tokio::test(flavor = "multi_thread")]
async fn transitions_hold_the_quarantine_path() {
    let got: Vec<TransitionRow> = rows(
        "SELECT node_id, from_state, to_state, reason FROM transitions FINAL
         WHERE machine = 'LIFECYCLE' AND node_id = 'n-bad' ORDER BY seq",
    )
    .await;
    assert!(got.iter().all(|t| t.node_id == "n-bad"));
    let path: Vec<(&str, &str)> = got
        .iter()
        .map(|t| (t.from_state.as_str(), t.to_state.as_str()))
        .collect();
    assert_eq!(
        path,
        [
            ("PROVISIONING", "ENROLLED"),
            ("ENROLLED", "ACTIVE"),
            ("ACTIVE", "LIVE_OK"),
            ("LIVE_OK", "DEGRADED"),
            ("DEGRADED", "QUARANTINED"),
        ]
    );
    let reasons: Vec<&str> = got[3..].iter().map(|t| t.reason.as_str()).collect();
    assert_eq!(
        reasons,
        ["firmware_signature_mismatch", "firmware_signature_mismatch"]
    );
}

#[derive(Debug, Deserialize, clickhouse::Row, PartialEq)]
struct RollupRow {
    domain_id: String,
    nodes: u64,
    excluded: u64,
    covered: u64,
    live: u64,
    drifted: u64,
    drift_unknown: u64,
    open_alerts: u64,
}

#[derive(Debug, Deserialize, clickhouse::Row, PartialEq)]
struct RolloutRow {
    bundle_id: String,
    target_version: String,
    nodes: u64,
    in_spec: u64,
    drifted: u64,
    unknown: u64,
}

#[tokio::test(flavor = "multi_thread")]
async fn rollups_cover_domains_and_bundles() {
    let domains: Vec<RollupRow> = rows(
        "SELECT domain_id, nodes, excluded, covered, live, drifted, drift_unknown, open_alerts
         FROM domain_rollup ORDER BY domain_id",
    )
    .await;
    assert_eq!(
        domains,
        [
            RollupRow {
                domain_id: "edge-a1".to_owned(),
                nodes: 4,
                excluded: 1,
                covered: 3,
                live: 3,
                drifted: 1,
                drift_unknown: 1,
                open_alerts: 1,
            },
            RollupRow {
                domain_id: "edge-x".to_owned(),
                nodes: 1,
                excluded: 0,
                covered: 1,
                live: 1,
                drifted: 0,
                drift_unknown: 0,
                open_alerts: 1,
            }
        ]
    );
    let rollout: Vec<RolloutRow> = rows(
        "SELECT bundle_id, target_version, nodes, in_spec, drifted, unknown FROM rollout_status",
    )
    .await;
    assert_eq!(
        rollout,
        [RolloutRow {
            bundle_id: "b-rempart".to_owned(),
            target_version: "1.4.7".to_owned(),
            nodes: 4,
            in_spec: 1,
            drifted: 1,
            unknown: 1,
        }]
    );
    let queue: Vec<(String, f64)> =
        rows("SELECT node_id, attention_score FROM attention_queue ORDER BY attention_score DESC")
            .await;
    let (sync_debt_s, score): (i64, f64) = rows(
        "SELECT seconds_behind, attention_score FROM node_state FINAL WHERE node_id = 'n-replay'",
    )
    .await[0];
    assert!(sync_debt_s > 0, "the replaying node is behind");
    let expected = (20.0 * sync_debt_s as f64 / 14_400.0 * 100.0).round() / 100.0;
    assert_eq!(score, expected, "20 points for 4 h of sync debt");
    assert_eq!(
        queue,
        [
            // 45 for the trust violation, 5 because nobody is master of edge-x.
            ("n-forged".to_owned(), 50.0),
            ("n-bad".to_owned(), 45.0),
            ("n-drift".to_owned(), 21.75),
            ("n-replay".to_owned(), expected)
        ]
    );
}

#[derive(Debug, Deserialize, clickhouse::Row, PartialEq)]
struct ForgedRow {
    lifecycle_state: String,
    trust_state: String,
    last_violation: String,
    trust_violations: u64,
    last_seq: u64,
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_conflict_is_dead_lettered_and_quarantines_its_node() {
    let node: Vec<ForgedRow> = rows(
        "SELECT lifecycle_state, toString(trust_state) AS trust_state, last_violation,
                trust_violations, last_seq
         FROM node_state FINAL WHERE node_id = 'n-forged'",
    )
    .await;
    assert_eq!(
        node,
        [ForgedRow {
            lifecycle_state: "QUARANTINED".to_owned(),
            trust_state: "VIOLATED".to_owned(),
            last_violation: "key_conflict".to_owned(),
            trust_violations: 1,
            // The rejected registration (seq 3) was not applied.
            last_seq: 2,
        }]
    );
    let dead: Vec<(String, String)> =
        rows("SELECT reason_code, original FROM dlq WHERE node_id = 'n-forged'").await;
    assert_eq!(dead, [("key_conflict".to_owned(), forged_reregistration())]);
    let path: Vec<(String, String)> = rows(
        "SELECT to_state, reason FROM transitions FINAL
         WHERE node_id = 'n-forged' AND machine = 'LIFECYCLE' ORDER BY seq",
    )
    .await;
    let tail: Vec<(&str, &str)> = path[path.len() - 2..]
        .iter()
        .map(|(to, reason)| (to.as_str(), reason.as_str()))
        .collect();
    assert_eq!(
        tail,
        [
            ("DEGRADED", "key_conflict"),
            ("QUARANTINED", "key_conflict")
        ]
    );
}

async fn tsv(sql: &str) -> String {
    let ch = connect(&scenario().clickhouse).await;
    let mut cursor = ch.client().query(sql).fetch_bytes("TabSeparated").unwrap();
    String::from_utf8(cursor.collect().await.unwrap().to_vec()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_cookbook_query_answers_from_the_pipelines_data() {
    let sync_debt_s: i64 =
        rows("SELECT max(seconds_behind) FROM node_state FINAL WHERE domain_id = 'edge-a1'").await
            [0];
    let (start_ms, updated_ms, queue_replay): (i64, i64, f64) = rows(
        "SELECT replay_started_ms, updated_ms, attention_score FROM node_state FINAL
         WHERE node_id = 'n-replay'",
    )
    .await[0];
    let eta_ms = start_ms + (updated_ms - start_ms) * 4 / 2;
    // The key conflict is stamped with the time ingest received it (wall clock).
    let forged_debt_s: i64 =
        rows("SELECT seconds_behind FROM node_state FINAL WHERE node_id = 'n-forged'").await[0];
    let forged_raised_ms: i64 =
        rows("SELECT at_ms FROM alerts FINAL WHERE alert_id = 'ATTENTION:n-forged:1'").await[0];
    let expected: Vec<(&str, &str, String)> =
        vec![
        ("fleet_connectivity", "", "LIVE\t4\nREPLAYING\t1\n".to_owned()),
        (
            "connectivity_by_domain",
            "",
            format!(
                "edge-a1\t4\t3\t1\t3\t0\t0\t0\t0\t0\t1\t{sync_debt_s}\n\
                 edge-x\t1\t1\t0\t1\t0\t0\t0\t0\t0\t0\t{forged_debt_s}\n"
            ),
        ),
        (
            "drift_by_domain",
            "",
            "edge-a1\t3\t1\t1\t0.333\t72.5\t72.5\nedge-x\t1\t0\t0\t0\t0\t0\n".to_owned(),
        ),
        (
            "rollout_status",
            "",
            "b-rempart\t1.4.7\t4\t3\t1\t1\t1\t1\t0.333\n".to_owned(),
        ),
        (
            "attention_top",
            "",
            format!(
                "n-forged\tedge-x\t50\t['supply_chain','authority']\t1\n\
                 n-bad\tedge-a1\t45\t['supply_chain']\t1\n\
                 n-drift\tedge-a1\t21.75\t['drift']\t0\n\
                 n-replay\tedge-a1\t{queue_replay}\t['sync_debt']\t0\n"
            ),
        ),
        (
            "attention_top_by_domain",
            "",
            format!(
                "edge-a1\tn-bad\t45\t['supply_chain']\n\
                 edge-a1\tn-drift\t21.75\t['drift']\n\
                 edge-a1\tn-replay\t{queue_replay}\t['sync_debt']\n\
                 edge-x\tn-forged\t50\t['supply_chain','authority']\n"
            ),
        ),
        // The raise time is the attestation's event time, 2026-02-27T00:03:00Z.
        (
            "open_alerts",
            "",
            format!(
                "ATTENTION:n-bad:1\tATTENTION\tn-bad\t1772150580000\n\
                 ATTENTION:n-forged:1\tATTENTION\tn-forged\t{forged_raised_ms}\n"
            ),
        ),
        (
            "masters_of_record",
            "",
            "region-a\tctl-a\t3\tREGION\nregion-b\tctl-b1\t2\tREGION\n".to_owned(),
        ),
        (
            "rejected_writes",
            "",
            "1772150404000\tregion-a\tctl-rogue\tregion-a\tb-rogue\tNO_AUTHORITY\n".to_owned(),
        ),
        (
            "node_drift_diff",
            "n-drift",
            "n-drift\tDRIFTED\tb-rempart\t1.4.7\t1.4.6\tMEDIUM\tpolicy-v2.1\tpolicy-v2.0\t72.5\t\
             rate_limit.max_cps\t2000\t1500\n\
             n-drift\tDRIFTED\tb-rempart\t1.4.7\t1.4.6\tMEDIUM\tpolicy-v2.1\tpolicy-v2.0\t72.5\t\
             stir.enforcement_mode\thard\tsoft\n"
                .to_owned(),
        ),
        (
            "node_replay",
            "n-replay",
            format!("n-replay\tREPLAYING\trs-1\t1\t2\t4\t50\t{eta_ms}\n"),
        ),
        (
            "node_supply_chain",
            "n-bad",
            "n-bad\t\t\t\t2.1.3\tsig-a\tVERIFIED\tVIOLATED\t1\t\
             firmware_signature_mismatch\tQUARANTINED\n"
                .to_owned(),
        ),
        ("violations_by_batch", "", "\t5\t2\n".to_owned()),
    ];
    let queries = cookbook::queries(cookbook::DOCUMENT, cookbook::Dialect::ClickHouse);
    let mut documented: Vec<&str> = queries.iter().map(|q| q.name.as_str()).collect();
    let mut checked: Vec<&str> = expected.iter().map(|(name, _, _)| *name).collect();
    // The hierarchy and graph queries are checked value by value on seed 000's fleet
    // (tests/fleet_graph.rs); here they must run on this pipeline's data.
    let graph = [
        "fleet_tree",
        "domain_authority_status",
        "sync_debt_as_of",
        "failing_relays",
        "node_neighbours",
        "trust_domain_members",
        "bundle_versions",
        "command_ledger",
        "open_commands",
        "safe_to_advance",
    ];
    // The operator UI's queries are checked page by page against the UI (tests/ui.rs); here
    // they must run on this pipeline's data.
    let ui = [
        "freshness",
        "domain_subtree",
        "domain_summary",
        "domain_minutes_of",
        "domain_lateness",
        "domain_attention",
        "domain_relays",
        "domain_nodes",
        "domain_nodes_count",
        "node_twin",
        "node_desired_config",
        "node_latest_by_kind",
        "node_events",
        "node_commands",
    ];
    checked.extend(["node_timeline", "domain_minutes"]);
    checked.extend(graph);
    checked.extend(ui);
    documented.sort_unstable();
    checked.sort_unstable();
    assert_eq!(documented, checked, "every cookbook query is checked here");
    let query = |name: &str| queries.iter().find(|q| q.name == name).unwrap();
    for (name, node_id, want) in &expected {
        let got = tsv(&query(name).for_node(node_id)).await;
        assert_eq!(&got, want, "{name}");
    }
    for name in graph.into_iter().chain(ui) {
        tsv(&query(name).for_node("n-drift")).await;
    }
    // The timeline: its lifecycle rows are the quarantine path (see the transitions test),
    // in order, between connectivity rows.
    let timeline = tsv(&query("node_timeline").for_node("n-bad")).await;
    let lifecycle: Vec<&str> = timeline
        .lines()
        .filter(|line| line.contains("\tLIFECYCLE\t"))
        .filter_map(|line| line.split('\t').nth(3))
        .collect();
    assert_eq!(
        lifecycle,
        ["ENROLLED", "ACTIVE", "LIVE_OK", "DEGRADED", "QUARANTINED"]
    );
    assert!(timeline.contains("\tCONNECTIVITY\t"), "{timeline}");
}

/// Per domain, the columns of the cookbook's `domain_minutes` summed over its minutes (the
/// minute itself dropped).
fn per_domain(answer: &str) -> BTreeMap<String, Vec<f64>> {
    let mut totals = BTreeMap::<String, Vec<f64>>::new();
    for line in answer.lines() {
        let cells: Vec<&str> = line.split('\t').collect();
        let numbers: Vec<f64> = cells[2..].iter().map(|c| c.parse().unwrap()).collect();
        let sums = totals
            .entry(cells[0].to_owned())
            .or_insert_with(|| vec![0.0; numbers.len()]);
        for (sum, n) in sums.iter_mut().zip(numbers) {
            *sum += n;
        }
    }
    totals
}

#[tokio::test(flavor = "multi_thread")]
async fn the_domain_minute_rollup_matches_its_source_tables() {
    let queries = cookbook::queries(cookbook::DOCUMENT, cookbook::Dialect::ClickHouse);
    let query = queries.iter().find(|q| q.name == "domain_minutes").unwrap();
    let rollup = per_domain(&tsv(&query.sql).await);
    // The same totals straight from the tables the materialized views read, as queried.
    let direct = tsv(
        "SELECT domain_id, '', sum(entries), sum(live), sum(delayed), sum(autonomous),
                sum(disconnected), sum(replaying), sum(quarantined), sum(violations),
                sum(evaluations), sum(drifted), round(sum(score), 2), sum(raised), sum(resolved)
         FROM (
            SELECT domain_id, count() AS entries,
                   countIf(machine = 'CONNECTIVITY' AND applied AND to_state = 'live') AS live,
                   countIf(machine = 'CONNECTIVITY' AND applied AND to_state = 'delayed') AS delayed,
                   countIf(machine = 'CONNECTIVITY' AND applied AND to_state = 'autonomous')
                       AS autonomous,
                   countIf(machine = 'CONNECTIVITY' AND applied AND to_state = 'disconnected')
                       AS disconnected,
                   countIf(machine = 'CONNECTIVITY' AND applied AND to_state = 'replaying')
                       AS replaying,
                   countIf(machine = 'LIFECYCLE' AND applied AND to_state = 'QUARANTINED')
                       AS quarantined,
                   countIf(machine = 'LIFECYCLE' AND NOT applied) AS violations,
                   0 AS evaluations, 0 AS drifted, 0 AS score, 0 AS raised, 0 AS resolved
            FROM transitions FINAL GROUP BY domain_id
            UNION ALL
            SELECT domain_id, 0, 0, 0, 0, 0, 0, 0, 0, count(), countIf(status = 'DRIFTED'),
                   sum(score), 0, 0
            FROM drift_evaluations FINAL GROUP BY domain_id
            UNION ALL
            SELECT domain_id, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                   countIf(action = 'RAISE'), countIf(action = 'RESOLVE')
            FROM alerts FINAL GROUP BY domain_id
         )
         GROUP BY domain_id ORDER BY domain_id",
    )
    .await;
    assert_eq!(rollup, per_domain(&direct));
    // The scenario's landmarks: edge-a1's four nodes went live, n-replay is replaying and
    // n-bad quarantined (its alert raised, its drift report counted); edge-x's forged node
    // was quarantined and raised an alert.
    let a1 = &rollup["edge-a1"];
    let x = &rollup["edge-x"];
    // Columns: entries, live, delayed, autonomous, disconnected, replaying, quarantined,
    // violations, evaluations, drifted, score, raised, resolved.
    assert_eq!((a1[1], a1[5], a1[6]), (4.0, 1.0, 1.0), "{a1:?}");
    assert_eq!((a1[9], a1[10], a1[11]), (1.0, 72.5, 1.0), "{a1:?}");
    assert_eq!((x[1], x[6], x[11]), (1.0, 1.0, 1.0), "{x:?}");
}

//! Commands and the control loop end to end, from raw JSON on `fleet.raw.v1` (and
//! `POST /v1/commands`) to the `commands` ledger in ClickHouse, on the real broker and server:
//! a command for a node that goes autonomous is held and published exactly when its clean
//! replay completes; one idempotency key sent three times (twice over Kafka, once over HTTP)
//! is one command; an at-least-once command is re-sent until acked and an at-most-once one is
//! sent once and reported lost; a controller without authority is rejected with its reason;
//! remediate and decommission move nodes along the lifecycle diagram; a rollout waits for its
//! maintenance window in the domain's local time and converges.

mod common;

use std::time::Duration;

use common::run::{clickhouse_tsv, Run, LIMIT};
use serde_json::{json, Value};
use sxfleet::pipeline::PipelineConfig;
use sxfleet_ingest::http::config::{HttpConfig, TokenConfig};
use sxfleet_ingest::http::{router, serve_on};
use sxfleet_runtime::Shutdown;
use sxfleet_sinks::cookbook::Params;

/// 2026-02-27T10:00:00Z: 12:00 in region-a's local time (+02:00).
const T: i64 = 1_772_150_400_000 + 10 * HOUR;
const SECOND: i64 = 1_000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * 60 * SECOND;
const OPERATOR_TOKEN: &str = "ops-alice-secret";
const NODES: &[&str] = &["n-away", "n-ack", "n-amo", "n-quar", "n-dec"];

fn ts(at_ms: i64) -> String {
    let at =
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(at_ms) * 1_000_000).unwrap();
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// Raw records in produce order, each with its event time (also the Kafka timestamp).
struct Raw(Vec<(String, Vec<u8>, i64)>);

impl Raw {
    fn push(&mut self, key: &str, at_ms: i64, mut record: Value) {
        record["ts"] = json!(ts(at_ms));
        self.0
            .push((key.to_owned(), record.to_string().into_bytes(), at_ms));
    }

    fn node(&mut self, node: &str, seq: i64, at_ms: i64, kind: &str, fields: Value) {
        let mut record = fields;
        record["type"] = json!(kind);
        record["node_id"] = json!(node);
        record["seq"] = json!(seq);
        self.push(node, at_ms, record);
    }
}

fn authority(controller: &str) -> Value {
    json!({"controller_id": controller, "level": "REGION", "epoch": 1})
}

/// A `command` record for `target` (`{"node": id}`).
fn command(key: &str, target: Value, kind: &str, delivery: &str, controller: &str) -> Value {
    json!({"type": "command", "idempotency_key": key, "command_id": key, "target": target,
           "kind": kind, "delivery": delivery, "authority": authority(controller)})
}

fn inputs() -> (Raw, Value) {
    let mut raw = Raw(Vec::new());
    raw.push(
        "region-a",
        T - HOUR,
        json!({"type": "domain", "domain_id": "region-a",
        "level": "REGION", "utc_offset": "+02:00"}),
    );
    for zone in ["zone-a", "zone-r"] {
        raw.push(
            zone,
            T - HOUR,
            json!({"type": "domain", "domain_id": zone,
            "parent_id": "region-a", "level": "ZONE"}),
        );
    }
    raw.push(
        "region-a",
        T - HOUR,
        json!({"type": "authority", "domain_id": "region-a",
        "controller_id": "region-a-control", "level": "REGION", "epoch": 1}),
    );
    raw.push(
        "b-1",
        T - HOUR,
        json!({"type": "policy_bundle", "bundle_id": "b-1",
        "version": "2.0.0", "target_version": "2.0.0", "policy_version": "p-1",
        "constraints": {"maintenance_window": "13:00-14:00"}}),
    );
    let register = |domain: &str| {
        json!({"kind": "EDGE", "domain_id": domain,
        "region": "region-a", "zone": domain, "hardware": {}, "firmware": {}})
    };
    for node in NODES {
        raw.node(node, 1, T, "register", register("zone-a"));
        raw.node(node, 2, T + SECOND, "heartbeat", json!({"health": "OK"}));
    }
    raw.node("n-roll", 1, T, "register", register("zone-r"));
    raw.node(
        "n-roll",
        2,
        T + SECOND,
        "heartbeat",
        json!({"health": "OK"}),
    );
    raw.node(
        "n-roll",
        3,
        T + 2 * SECOND,
        "snapshot",
        json!({"reported_version": "1.0.0"}),
    );
    raw.push(
        "zone-r",
        T + 10 * SECOND,
        json!({"type": "assign", "bundle_id": "b-1",
        "domain_id": "zone-r", "authority": authority("region-a-control")}),
    );

    // n-away loses its link, is sent a command, returns and replays cleanly at T+8m.
    raw.node(
        "n-away",
        3,
        T + 30 * SECOND,
        "link",
        json!({"state": "lost"}),
    );
    let held = command(
        "c-held",
        json!({"node": "n-away"}),
        "restart",
        "at_least_once",
        "region-a-control",
    );
    raw.push("n-away", T + MINUTE, held);
    raw.node(
        "n-away",
        4,
        T + 7 * MINUTE,
        "link",
        json!({"state": "detected"}),
    );
    raw.node(
        "n-away",
        5,
        T + 7 * MINUTE + 10 * SECOND,
        "replay",
        json!({"phase": "begin", "backlog_total": 0, "events": []}),
    );
    raw.node(
        "n-away",
        6,
        T + 8 * MINUTE,
        "replay",
        json!({"phase": "end", "events": []}),
    );

    // One key, twice over Kafka (and once over HTTP, below); acked at T+5m.
    let alo = command(
        "c-alo",
        json!({"node": "n-ack"}),
        "restart",
        "at_least_once",
        "region-a-control",
    );
    raw.push("n-ack", T + MINUTE, alo.clone());
    raw.push("n-ack", T + MINUTE, alo.clone());
    raw.node(
        "n-ack",
        3,
        T + 5 * MINUTE,
        "command_ack",
        json!({"command_id": "c-alo", "status": "applied"}),
    );
    // At most once, never acked.
    raw.push(
        "n-amo",
        T + MINUTE,
        command(
            "c-amo",
            json!({"node": "n-amo"}),
            "restart",
            "at_most_once",
            "region-a-control",
        ),
    );
    // A controller without authority over zone-a.
    raw.push(
        "n-amo",
        T + MINUTE,
        command(
            "c-rogue",
            json!({"node": "n-amo"}),
            "restart",
            "at_least_once",
            "rogue-control",
        ),
    );
    // Quarantined by a failed attestation, remediated by command.
    raw.node(
        "n-quar",
        3,
        T + 2 * MINUTE,
        "attestation",
        json!({"result": "failed"}),
    );
    raw.push(
        "n-quar",
        T + 3 * MINUTE,
        command(
            "c-rem",
            json!({"node": "n-quar"}),
            "remediate",
            "at_least_once",
            "region-a-control",
        ),
    );
    raw.node(
        "n-quar",
        4,
        T + 4 * MINUTE,
        "command_ack",
        json!({"command_id": "c-rem", "status": "applied"}),
    );
    // Decommissioned by command, confirmed by the node.
    raw.push(
        "n-dec",
        T + 2 * MINUTE,
        command(
            "c-dec",
            json!({"node": "n-dec"}),
            "decommission",
            "at_least_once",
            "region-a-control",
        ),
    );
    raw.node(
        "n-dec",
        3,
        T + 3 * MINUTE,
        "command_ack",
        json!({"command_id": "c-dec", "status": "applied"}),
    );
    // n-roll keeps reporting: event time passes the window's opening (11:00 UTC); it applies
    // the update at T+63m.
    for (i, minute) in (5..=70).step_by(5).enumerate() {
        let seq = 4 + i as i64;
        raw.node(
            "n-roll",
            seq,
            T + minute * MINUTE,
            "heartbeat",
            json!({"health": "OK"}),
        );
        if minute == 60 {
            raw.node(
                "n-roll",
                100,
                T + 63 * MINUTE,
                "snapshot",
                json!({"reported_version": "2.0.0"}),
            );
        }
    }
    let mut over_http = alo;
    over_http["ts"] = json!(ts(T + MINUTE));
    (raw, over_http)
}

/// Starts `POST /v1/commands` for the operator's token; returns the URL of the endpoint.
async fn commands_api(pipeline: &PipelineConfig, stop: &Shutdown) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = HttpConfig {
        write_timeout: Duration::from_secs(10),
        tokens: vec![TokenConfig {
            token: OPERATOR_TOKEN.to_owned(),
            principal: "ops-alice".to_owned(),
            nodes: vec![],
            controllers: vec!["region-a-control".to_owned()],
        }],
        ..HttpConfig::default()
    };
    let txn = common::unique("commands-http");
    let app = router(config, pipeline.kafka.clone(), &pipeline.topics, &txn).unwrap();
    let stop = stop.clone();
    tokio::spawn(async move { serve_on(listener, app, &stop).await });
    format!("http://{addr}/v1/commands")
}

/// `(status, reason, at_ms, attempts)` of one command's ledger, in order.
async fn ledger(run: &Run, command_id: &str) -> String {
    let sql = format!(
        "SELECT status, reason, at_ms - {T}, attempts FROM commands FINAL \
         WHERE command_id = '{command_id}' ORDER BY seq, status"
    );
    clickhouse_tsv(&run.ch, &sql).await.unwrap()
}

async fn settled(run: &Run, what: &str, sql: &str, want: &str) {
    common::eventually(LIMIT, what, || async {
        let got = clickhouse_tsv(&run.ch, sql).await?;
        if got == want {
            Ok(())
        } else {
            Err(got)
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn commands_are_held_delivered_acked_and_drive_the_lifecycle() {
    let (raw, over_http) = inputs();
    let (run, _cleanup) = Run::start("commands", 1, &raw.0).await;
    let url = commands_api(&run.config, &run.stopper()).await;
    let reply = common::http::curl(common::http::post(
        &url,
        Some(OPERATOR_TOKEN),
        &over_http.to_string(),
    ))
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    // A node's credential cannot issue commands.
    let refused = common::http::curl(common::http::post(&url, None, &over_http.to_string())).await;
    assert_eq!(refused.status, 401, "{}", refused.body);

    // The rollout converges last (event time T+63m): then everything before it has landed.
    settled(
        &run,
        "the rollout converged",
        "SELECT status, at_ms FROM commands FINAL WHERE node_id = 'n-roll' \
         AND rollout = 'b-1@2.0.0' AND status IN ('PUBLISHED', 'APPLIED') ORDER BY seq",
        &format!("PUBLISHED\t{}\nAPPLIED\t{}\n", T + HOUR, T + 63 * MINUTE),
    )
    .await;
    let rollout = clickhouse_tsv(
        &run.ch,
        "SELECT status, reason FROM commands FINAL WHERE node_id = 'n-roll' ORDER BY seq LIMIT 2",
    )
    .await
    .unwrap();
    assert_eq!(
        rollout, "ACCEPTED\t\nHELD\tmaintenance_window\n",
        "held for its window"
    );

    // Held while away; published exactly at the clean replay's end.
    let held = ledger(&run, "c-held").await;
    assert!(
        held.starts_with(&format!(
            "ACCEPTED\t\t{m}\t0\nHELD\tnode_away\t{m}\t0\nPUBLISHED\t\t{r}\t1\n",
            m = MINUTE,
            r = 8 * MINUTE
        )),
        "{held}"
    );
    // Three copies of one key: one command, re-sent until the ack at T+5m, then never again.
    let alo = ledger(&run, "c-alo").await;
    let statuses: Vec<&str> = alo.lines().map(|l| l.split('\t').next().unwrap()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == "ACCEPTED").count(),
        1,
        "{alo}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == "PUBLISHED").count(),
        1,
        "{alo}"
    );
    let resent = statuses.iter().filter(|s| **s == "RESENT").count();
    assert!(resent >= 2, "re-sent until acked: {alo}");
    assert_eq!(statuses.last(), Some(&"APPLIED"), "{alo}");
    for line in alo.lines().filter(|l| l.starts_with("RESENT")) {
        let at: i64 = line.split('\t').nth(2).unwrap().parse().unwrap();
        assert!(at < 5 * MINUTE, "no re-send after the ack: {alo}");
    }
    // At most once: one publication, then LOST after the ack timeout (5 minutes).
    assert_eq!(
        ledger(&run, "c-amo").await,
        format!(
            "ACCEPTED\t\t{m}\t0\nPUBLISHED\t\t{m}\t1\nLOST\tack_timeout\t{l}\t1\n",
            m = MINUTE,
            l = 6 * MINUTE
        )
    );
    let rogue = ledger(&run, "c-rogue").await;
    assert!(rogue.starts_with("REJECTED\tno_authority\t"), "{rogue}");
    assert_eq!(rogue.lines().count(), 1, "{rogue}");

    // Lifecycle: remediated out of quarantine, decommissioned to retired.
    let lifecycle = clickhouse_tsv(
        &run.ch,
        "SELECT node_id, from_state, to_state, reason, event_id FROM transitions FINAL \
         WHERE machine = 'LIFECYCLE' AND applied = 1 AND reason LIKE 'command:%' \
         ORDER BY node_id, seq",
    )
    .await
    .unwrap();
    assert_eq!(
        lifecycle,
        "n-dec\tLIVE_OK\tDECOMMISSIONING\tcommand:decommission\tc-dec\n\
         n-dec\tDECOMMISSIONING\tRETIRED\tcommand:decommission\tc-dec\n\
         n-quar\tQUARANTINED\tACTIVE\tcommand:remediate\tc-rem\n\
         n-roll\tLIVE_OK\tUPDATING\tcommand:update\trollout:b-1@2.0.0:n-roll\n\
         n-roll\tUPDATING\tACTIVE\tcommand:update\trollout:b-1@2.0.0:n-roll\n"
    );
    let safe = run
        .cookbook_answer("safe_to_advance", &Params::default())
        .await;
    assert!(
        safe.lines()
            .any(|l| l.starts_with("b-1\t2.0.0\tzone-r\t1\t0\t0\t0\t")),
        "{safe}"
    );
    run.stop().await;
}

/// The curl examples of docs/ingest.md ("Commands API") answer as documented.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_documented_command_examples_answer_as_documented() {
    let config = common::http::deployment("commands_doc").await;
    let _cleanup = common::Cleanup::new(&common::services().kafka, config.topics.prefix());
    let stop = Shutdown::new();
    let url = commands_api(&config, &stop).await;
    let base = url.trim_end_matches("/v1/commands").to_owned();
    let env = [
        ("SXFLEET_HTTP", base),
        ("OPERATOR_TOKEN", OPERATOR_TOKEN.to_owned()),
    ];
    common::http::check_doc_examples("Commands API (`POST /v1/commands`)", &env, 2).await;
    let raw = common::http::read_async(config.topics.raw.clone(), config.partitions).await;
    let mut keys: Vec<&[u8]> = raw.iter().map(|r| r.2.as_slice()).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        vec![&b"edge-1"[..], &b"zone-a"[..]],
        "keyed by target"
    );
    stop.trigger();
}

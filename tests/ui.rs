//! The operator UI over HTTP on what the real pipeline landed: the projections scenario
//! (`common/scenario.rs`: drift, a quarantine, a replay in flight, alerts, masters, a split
//! brain) runs once into ClickHouse AND Parquet (`common/run.rs`), then one UI server per
//! backend, on port 0, serves every page and its JSON twin. The JSON's figures must equal the
//! cookbook's answers (`Source::answer`), the two backends' pages must be equal, and the HTML
//! must show the figures. Then: hostile ids are refused with 400 and harm nothing, unknown ids
//! are 404, a bad token is 401, and a ClickHouse that refuses connections gives a 503 page.

mod common;

use common::http::{curl, Reply};
use common::scenario;
use serde_json::Value;
use sxfleet_runtime::Shutdown;
use sxfleet_sinks::cookbook::{NodePage, NodeSort, Params, Symbol};
use sxfleet_sinks::tables::enums::CONNECTIVITY;
use sxfleet_sinks::{Answer, ClickHouseConfig, Source};
use sxfleet_ui::{serve, UiConfig};

/// A UI over `source` on a free loopback port; its base URL.
async fn ui(source: Source, token: Option<&str>, stop: &Shutdown) -> String {
    let config = UiConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        token: token.map(str::to_owned),
        ..UiConfig::default()
    };
    let serving = serve(config, source, stop.clone()).await.unwrap();
    format!("{}://{}", serving.scheme, serving.addr)
}

async fn get(url: &str, extra: &[&str]) -> Reply {
    let mut args: Vec<String> = extra.iter().map(|a| (*a).to_owned()).collect();
    args.push(url.to_owned());
    curl(args).await
}

async fn json(url: &str) -> Value {
    let reply = get(url, &[]).await;
    assert_eq!(reply.status, 200, "{url}: {}", reply.body);
    serde_json::from_str(&reply.body).unwrap_or_else(|e| panic!("{url}: {e}: {}", reply.body))
}

/// Whether JSON value `got` shows answer cell `want` (numbers compared as numbers, flags as
/// 0/1, lists as `[a, b]`).
fn shows(got: &Value, want: &str) -> bool {
    match got {
        Value::Number(n) => want.parse::<f64>().ok() == n.as_f64(),
        Value::Bool(b) => want == if *b { "1" } else { "0" } || want == b.to_string(),
        Value::String(s) => s == want,
        Value::Null => want == "NULL",
        Value::Array(items) => {
            let items: Vec<String> = items
                .iter()
                .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                .collect();
            format!("[{}]", items.join(", ")) == want
        }
        Value::Object(_) => false,
    }
}

/// `rows` (a JSON array) shows `answer` row by row: field `json` of each object is cell
/// `column` of the answer's row.
fn same_rows(what: &str, rows: &Value, answer: &Answer, fields: &[(&str, &str)]) {
    let rows = rows
        .as_array()
        .unwrap_or_else(|| panic!("{what}: not an array"));
    assert_eq!(
        rows.len(),
        answer.rows.len(),
        "{what}: {rows:?} vs {answer:?}"
    );
    for (i, row) in rows.iter().enumerate() {
        for (json, column) in fields {
            let want = answer
                .cell(i, column)
                .unwrap_or_else(|| panic!("{what}: no {column}"));
            assert!(
                shows(&row[json], want),
                "{what} row {i} {json}: {} vs {want}",
                row[json]
            );
        }
    }
}

/// The page without what differs between two servers by nature (clock, backend name).
fn comparable(mut page: Value) -> Value {
    if let Some(fresh) = page.get_mut("freshness").and_then(Value::as_object_mut) {
        for key in ["now_ms", "sink_lag_ms", "backend"] {
            fresh.remove(key);
        }
    }
    page
}

async fn check_overview(base: &str, source: &Source) -> Value {
    let page = json(&format!("{base}/.json")).await;
    let accept = get(&format!("{base}/"), &["-H", "Accept: application/json"]).await;
    assert_eq!(
        comparable(serde_json::from_str(&accept.body).unwrap()),
        comparable(page.clone())
    );
    let answer =
        |name: &'static str| async move { source.answer(name, &Params::default()).await.unwrap() };
    let modes: Vec<Value> = page["connectivity"]["modes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["nodes"].as_i64() > Some(0))
        .cloned()
        .collect();
    let connectivity = answer("fleet_connectivity").await;
    let mut want: Vec<Vec<String>> = connectivity.rows.clone();
    want.sort();
    let mut got: Vec<Vec<String>> = modes
        .iter()
        .map(|m| {
            vec![
                m["mode"].as_str().unwrap().to_owned(),
                m["nodes"].to_string(),
            ]
        })
        .collect();
    got.sort();
    assert_eq!(got, want, "connectivity");
    assert_eq!(page["connectivity"]["total"], page["freshness"]["nodes"]);
    same_rows(
        "drift",
        &page["drift"],
        &answer("drift_by_domain").await,
        &[
            ("domain_id", "domain_id"),
            ("covered", "covered"),
            ("drifted", "drifted"),
            ("drifted_share", "drifted_share"),
            ("max_drift_score", "max_drift_score"),
        ],
    );
    same_rows(
        "rollouts",
        &page["rollouts"],
        &answer("rollout_status").await,
        &[
            ("bundle_id", "bundle_id"),
            ("in_spec", "in_spec"),
            ("drifted", "drifted"),
            ("done_share", "done_share"),
        ],
    );
    same_rows(
        "attention",
        &page["attention"],
        &answer("attention_top").await,
        &[
            ("node_id", "node_id"),
            ("attention_score", "attention_score"),
            ("attention_reasons", "attention_reasons"),
            ("alert_open", "alert_open"),
        ],
    );
    same_rows(
        "authority",
        &page["authority"],
        &answer("domain_authority_status").await,
        &[
            ("domain_id", "domain_id"),
            ("authority_status", "authority_status"),
            ("master_controller_id", "master_controller_id"),
            ("subtree_debt_s", "subtree_debt_s"),
        ],
    );
    same_rows(
        "alerts",
        &page["alerts"],
        &answer("open_alerts").await,
        &[
            ("alert_id", "alert_id"),
            ("kind", "kind"),
            ("subject_id", "subject_id"),
        ],
    );
    same_rows(
        "domains",
        &page["domains"],
        &answer("connectivity_by_domain").await,
        &[
            ("domain_id", "domain_id"),
            ("nodes", "nodes"),
            ("covered", "covered"),
        ],
    );
    let freshness = answer("freshness").await;
    assert!(shows(
        &page["freshness"]["data_as_of_ms"],
        freshness.cell(0, "data_as_of_ms").unwrap()
    ));
    // The scenario has alerts, a split brain and attention: no panel is empty.
    for panel in [
        "drift",
        "rollouts",
        "attention",
        "authority",
        "alerts",
        "domains",
    ] {
        assert!(!page[panel].as_array().unwrap().is_empty(), "{panel}");
    }
    let html = get(&format!("{base}/"), &[]).await;
    assert_eq!(html.status, 200);
    assert!(html.body.contains("<svg"), "charts are SVG");
    assert!(
        html.body.contains("href=\"/nodes/n-bad\""),
        "attention links to node pages"
    );
    assert!(
        html.body.contains("href=\"/domains/edge-a1\""),
        "domains link to their pages"
    );
    assert!(html.body.contains("Data as of 2026-02-27"), "freshness");
    let total = page["connectivity"]["total"].to_string();
    assert!(html.body.contains(&format!("{total} nodes;")), "{total}");
    page
}

async fn check_domain(base: &str, source: &Source, domain: &str) -> Value {
    let page = json(&format!("{base}/domains/{domain}.json")).await;
    let params = Params {
        domain_id: domain,
        ..Params::default()
    };
    let answer = |name: &'static str| async move { source.answer(name, &params).await.unwrap() };
    same_rows(
        "tree",
        &page["tree"],
        &answer("domain_subtree").await,
        &[
            ("domain_id", "domain_id"),
            ("parent_id", "parent_id"),
            ("nodes", "nodes"),
            ("master_controller_id", "master_controller_id"),
            ("autonomy", "autonomy"),
            ("authority_status", "authority_status"),
        ],
    );
    let summary = answer("domain_summary").await;
    for column in [
        "nodes",
        "covered",
        "excluded",
        "drifted",
        "open_alerts",
        "worst_sync_debt_s",
    ] {
        assert!(
            shows(&page["summary"][column], summary.cell(0, column).unwrap()),
            "{column}"
        );
    }
    same_rows(
        "anomalies",
        &page["anomalies"],
        &answer("domain_attention").await,
        &[
            ("node_id", "node_id"),
            ("attention_score", "attention_score"),
        ],
    );
    same_rows(
        "lateness",
        &page["lateness"],
        &answer("domain_lateness").await,
        &[
            ("minute_ms", "minute_ms"),
            ("events", "events"),
            ("replayed", "replayed"),
            ("worst_lateness_ms", "worst_lateness_ms"),
        ],
    );
    let minutes = answer("domain_minutes_of").await;
    assert_eq!(
        page["minutes"].as_array().unwrap().len(),
        minutes.rows.len()
    );
    same_rows(
        "nodes",
        &page["nodes"]["rows"],
        &answer("domain_nodes").await,
        &[
            ("node_id", "node_id"),
            ("mode", "mode"),
            ("drift_score", "drift_score"),
            ("attention_score", "attention_score"),
            ("last_seen_ms", "last_seen_ms"),
        ],
    );
    let count = answer("domain_nodes_count").await;
    assert!(shows(
        &page["nodes"]["matching"],
        count.cell(0, "nodes").unwrap()
    ));
    // One page of two LIVE nodes by id, and the link to the next.
    let paged = NodePage {
        mode: Symbol::of(CONNECTIVITY, "LIVE"),
        sort: NodeSort::NodeId,
        limit: 2,
        ..NodePage::default()
    };
    let url = format!("{base}/domains/{domain}.json?mode=LIVE&sort=node_id&limit=2");
    let first = json(&url).await;
    let params = Params {
        domain_id: domain,
        page: paged,
        ..Params::default()
    };
    let want = source.answer("domain_nodes", &params).await.unwrap();
    same_rows(
        "live page",
        &first["nodes"]["rows"],
        &want,
        &[("node_id", "node_id")],
    );
    let matching = source.answer("domain_nodes_count", &params).await.unwrap();
    let matching: i64 = matching.cell(0, "nodes").unwrap().parse().unwrap();
    assert_eq!(first["nodes"]["matching"], matching);
    assert_eq!(first["nodes"]["next"].is_string(), matching > 2, "{first}");
    let html = get(&format!("{base}/domains/{domain}"), &[]).await;
    assert_eq!(html.status, 200);
    assert!(
        html.body.contains("<details open=\"open\"><summary>"),
        "collapsible tree"
    );
    assert!(html.body.contains("<polyline"), "sparklines");
    let nodes = page["summary"]["nodes"].to_string();
    assert!(
        html.body.contains(&format!("of {nodes} nodes covered")),
        "{nodes}"
    );
    page
}

async fn check_node(base: &str, source: &Source, node: &str) -> Value {
    let page = json(&format!("{base}/nodes/{node}.json")).await;
    let params = Params {
        node_id: node,
        ..Params::default()
    };
    let answer = |name: &'static str| async move { source.answer(name, &params).await.unwrap() };
    let twin = answer("node_twin").await;
    let cells: Vec<(String, String)> = twin
        .columns
        .iter()
        .cloned()
        .zip(twin.rows[0].clone())
        .collect();
    let got: Vec<(String, String)> = serde_json::from_value(page["twin"].clone()).unwrap();
    assert_eq!(got, cells, "twin");
    same_rows(
        "timeline",
        &page["timeline"],
        &answer("node_timeline").await,
        &[
            ("at_ms", "at_ms"),
            ("machine", "machine"),
            ("to_state", "to_state"),
            ("applied", "applied"),
            ("reason", "reason"),
        ],
    );
    same_rows(
        "observations",
        &page["observations"],
        &answer("node_events").await,
        &[("seq", "seq"), ("kind", "kind"), ("payload", "payload")],
    );
    same_rows(
        "commands",
        &page["commands"],
        &answer("node_commands").await,
        &[("command_id", "command_id")],
    );
    let chain = answer("node_supply_chain").await;
    for column in [
        "hw_batch_id",
        "firmware_signature",
        "attestation",
        "trust",
        "trust_violations",
    ] {
        assert!(
            shows(
                &page["supply_chain"][column],
                chain.cell(0, column).unwrap()
            ),
            "{column}"
        );
    }
    let html = get(&format!("{base}/nodes/{node}"), &[]).await;
    assert_eq!(html.status, 200);
    assert!(html.body.contains("Desired vs actual"));
    assert!(html.body.contains(&format!(
        "href=\"/domains/{}\"",
        page["twin"][3][1].as_str().unwrap()
    )));
    page
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_page_shows_the_cookbook_answers_on_both_backends() {
    let (run, _cleanup) = scenario::landed("ui").await;
    let ch = Source::clickhouse(&ClickHouseConfig::new(
        &common::services().clickhouse,
        run.ch.database(),
    ))
    .unwrap();
    let pq = Source::parquet(run.data.path());
    let stop = run.stopper();
    let ch_base = ui(ch.clone(), None, &stop).await;
    let pq_base = ui(pq.clone(), None, &stop).await;

    // Every page on both backends: the cookbook's figures, and the same page from each.
    let mut pages = Vec::new();
    for (base, source) in [(&ch_base, &ch), (&pq_base, &pq)] {
        let mut shown = vec![check_overview(base, source).await];
        for domain in ["global", "region-a", "edge-a1"] {
            shown.push(check_domain(base, source, domain).await);
        }
        for node in scenario::NODES {
            shown.push(check_node(base, source, node).await);
        }
        pages.push(shown.into_iter().map(comparable).collect::<Vec<_>>());
    }
    assert_eq!(pages[0], pages[1], "ClickHouse and Parquet pages differ");

    // What the scenario put on the node pages.
    let drift = json(&format!("{ch_base}/nodes/n-drift.json")).await;
    let objects = drift["diff"]["objects"].as_array().unwrap();
    let stir = objects
        .iter()
        .find(|o| o["object"] == "config:stir.enforcement_mode")
        .unwrap();
    assert_eq!(
        (stir["in_spec"].as_bool(), stir["actual"].as_str()),
        (Some(false), Some("soft")),
        "{stir}"
    );
    let version = &objects[0];
    assert_eq!(
        (version["desired"].as_str(), version["actual"].as_str()),
        (Some("1.4.7"), Some("1.4.6"))
    );
    let replay = json(&format!("{pq_base}/nodes/n-replay.json")).await;
    assert_eq!(
        replay["replay"]["percent"].as_f64(),
        Some(50.0),
        "{}",
        replay["replay"]
    );
    let bad = json(&format!("{ch_base}/nodes/n-bad.json")).await;
    assert_eq!(bad["supply_chain"]["signature_matches"], Value::Bool(false));
    assert_eq!(bad["supply_chain"]["attested_signature"], "sig-forged");

    // Hostile and malformed ids: 400, and nothing happened to the tables.
    let long = "a".repeat(200);
    for path in [
        "/nodes/%27%3B%20DROP%20TABLE%20node_state%20--".to_owned(),
        "/nodes/%27".to_owned(),
        "/nodes/%2527".to_owned(),
        "/nodes/..%2F".to_owned(),
        format!("/nodes/{long}"),
        "/domains/x%27%20OR%20%271%27%3D%271".to_owned(),
        "/domains/region-a?mode=live".to_owned(),
        "/domains/region-a?sort=node_id%3B%20DROP".to_owned(),
    ] {
        for base in [&ch_base, &pq_base] {
            let reply = get(&format!("{base}{path}"), &[]).await;
            assert_eq!(reply.status, 400, "{path}: {}", reply.body);
            assert!(reply.body.contains("400 Bad Request"), "{path}");
        }
    }
    let raw = get(&format!("{ch_base}/nodes/../etc/passwd"), &["--path-as-is"]).await;
    assert!(matches!(raw.status, 400 | 404), "{}", raw.status);
    run.both_answer(
        "the twins after hostile ids",
        "SELECT count() FROM node_state FINAL",
        "SELECT count(*) FROM node_state_final",
        "5\n",
    )
    .await;

    // Unknown ids: 404, as HTML and as JSON.
    for base in [&ch_base, &pq_base] {
        for path in ["/nodes/n-nope", "/domains/nowhere"] {
            let reply = get(&format!("{base}{path}"), &[]).await;
            assert_eq!(reply.status, 404, "{path}");
            let reply = get(&format!("{base}{path}.json"), &[]).await;
            assert_eq!(reply.status, 404, "{path}");
            let body: Value = serde_json::from_str(&reply.body).unwrap();
            assert_eq!(body["status"], 404);
        }
    }

    // A token: refused without it, served with it.
    let guarded = ui(pq.clone(), Some("ui-secret"), &stop).await;
    assert_eq!(get(&format!("{guarded}/"), &[]).await.status, 401);
    assert_eq!(
        get(
            &format!("{guarded}/"),
            &["-H", "Authorization: Bearer nope"]
        )
        .await
        .status,
        401
    );
    let served = get(
        &format!("{guarded}/.json"),
        &["-H", "Authorization: Bearer ui-secret"],
    )
    .await;
    assert_eq!(served.status, 200);

    // A ClickHouse that refuses connections: a 503 page that says so, no trace.
    let down = Source::clickhouse(&ClickHouseConfig::new("http://127.0.0.1:1", "fleet")).unwrap();
    let down_base = ui(down, None, &stop).await;
    for path in ["/", "/nodes/n-ok", "/domains/global"] {
        let reply = get(&format!("{down_base}{path}"), &[]).await;
        assert_eq!(reply.status, 503, "{path}: {}", reply.body);
        assert!(reply.body.contains("cannot be reached"), "{}", reply.body);
        assert!(
            !reply.body.contains("panicked") && !reply.body.contains("src/"),
            "{}",
            reply.body
        );
    }
    let reply = get(&format!("{down_base}/.json"), &[]).await;
    let body: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!((reply.status, body["status"].as_i64()), (503, Some(503)));
    run.stop().await;
}

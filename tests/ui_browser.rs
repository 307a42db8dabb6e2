//! The operator UI in a real browser: the projections scenario (`common/scenario.rs`) runs
//! through the pipeline into ClickHouse and Parquet, a UI serves each backend, and headless
//! Chromium (Debian's `chromium`, installed by `dev/services`) loads every layer. The DOM it
//! renders must show what the page's JSON twin says: the spectrum bar's segments and counts
//! and its legend, the drift heat map's cells, the domain's hierarchy and node table, a node's
//! desired-vs-actual rows and its lifecycle timeline. Screenshots of each layer are saved under
//! the test's output folder (`target/tmp/ui_browser/`).

mod common;

use std::path::PathBuf;

use common::browser::{elements, rendered_dom, screenshot, table_after, text};
use common::http::curl;
use common::scenario;
use serde_json::Value;
use sxfleet_runtime::Shutdown;
use sxfleet_sinks::{ClickHouseConfig, Source};
use sxfleet_ui::pages::{percent, share, MODE_COLOURS};
use sxfleet_ui::{serve, UiConfig};

/// Where the screenshots go.
fn output_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ui_browser")
}

async fn ui(source: Source, stop: &Shutdown) -> String {
    let config = UiConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..UiConfig::default()
    };
    let serving = serve(config, source, stop.clone()).await.unwrap();
    format!("{}://{}", serving.scheme, serving.addr)
}

async fn json(url: &str) -> Value {
    let reply = curl(vec![url.to_owned()]).await;
    assert_eq!(reply.status, 200, "{url}: {}", reply.body);
    serde_json::from_str(&reply.body).unwrap()
}

/// The page as Chromium rendered it (the browser runs off the async workers).
async fn dom(url: String) -> String {
    let dom = tokio::task::spawn_blocking(move || rendered_dom(&url))
        .await
        .unwrap();
    // The parser's own work, not the server's markup: tables gain a tbody.
    assert!(dom.contains("<tbody>"), "not a rendered DOM: {dom}");
    dom
}

fn int(value: &Value) -> i64 {
    value
        .as_i64()
        .unwrap_or_else(|| panic!("not an integer: {value}"))
}

/// Layer 0: the spectrum's segments (one per mode with nodes, titled `MODE: count`), its
/// legend (every mode, its count and share) and the heat map's cells (drifted and unknown as
/// `n (share of covered)`, then covered), row by row.
async fn check_overview(base: &str) {
    let page = json(&format!("{base}/.json")).await;
    let dom = dom(format!("{base}/")).await;
    let svgs = elements(&dom, "svg");
    assert!(svgs.len() >= 2, "the spectrum bar and the heat map");
    let modes = page["connectivity"]["modes"].as_array().unwrap();
    let segments: Vec<String> = elements(svgs[0], "title").into_iter().map(text).collect();
    let want: Vec<String> = modes
        .iter()
        .filter(|m| int(&m["nodes"]) > 0)
        .map(|m| format!("{}: {}", m["mode"].as_str().unwrap(), int(&m["nodes"])))
        .collect();
    assert_eq!(segments, want, "the spectrum's segments");
    assert_eq!(
        want.iter()
            .map(|w| w.split(": ").nth(1).unwrap().parse::<i64>().unwrap())
            .sum::<i64>(),
        int(&page["connectivity"]["total"]),
        "the segments count every node"
    );
    let legend = table_after(&dom, "Connectivity spectrum");
    let want: Vec<Vec<String>> = modes
        .iter()
        .map(|m| {
            let mode = m["mode"].as_str().unwrap();
            let (_, name, _) = MODE_COLOURS.iter().find(|(s, _, _)| *s == mode).unwrap();
            vec![
                (*name).to_owned(),
                int(&m["nodes"]).to_string(),
                percent(m["share"].as_f64().unwrap()),
            ]
        })
        .collect();
    assert_eq!(legend, want, "the spectrum's legend");
    let excluded = format!(
        "{} nodes; {} excluded from the rollups",
        int(&page["connectivity"]["total"]),
        int(&page["connectivity"]["excluded"])
    );
    assert!(dom.contains(&excluded), "{excluded}");

    let cells: Vec<String> = elements(svgs[1], "title").into_iter().map(text).collect();
    let rows = page["drift"].as_array().unwrap();
    assert!(!rows.is_empty(), "the scenario drifted a node");
    let want: Vec<String> = rows
        .iter()
        .flat_map(|d| {
            let covered = int(&d["covered"]);
            let cell = |n: i64| format!("{n} ({})", percent(share(n, covered)));
            [
                cell(int(&d["drifted"])),
                cell(int(&d["drift_unknown"])),
                covered.to_string(),
            ]
        })
        .collect();
    assert_eq!(cells, want, "the heat map's cells");
    let drifted = rows.iter().find(|d| int(&d["drifted"]) > 0).unwrap();
    let label = format!(">{}</text>", drifted["domain_id"].as_str().unwrap());
    assert!(svgs[1].contains(&label), "the drifted domain's row {label}");
}

/// Layer 1: one `<details>` per domain of the subtree with its id in the summary, and the node
/// table's rows in the page's order.
async fn check_domain(base: &str, domain: &str) {
    let page = json(&format!("{base}/domains/{domain}.json")).await;
    let dom = dom(format!("{base}/domains/{domain}")).await;
    let summaries: Vec<String> = elements(&dom, "summary").into_iter().map(text).collect();
    let tree = page["tree"].as_array().unwrap();
    assert_eq!(summaries.len(), tree.len(), "{summaries:?}");
    for (summary, domain) in summaries.iter().zip(tree) {
        let id = domain["domain_id"].as_str().unwrap();
        assert!(summary.contains(id), "{summary} shows {id}");
    }
    let nodes: Vec<String> = table_after(&dom, "Nodes")
        .into_iter()
        .map(|row| row[0].clone())
        .collect();
    let want: Vec<String> = page["nodes"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["node_id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!want.is_empty());
    assert_eq!(nodes, want, "the node table");
}

/// Layer 2: the desired-vs-actual rows and the timeline's rows, as the JSON has them.
async fn check_node(base: &str, node: &str) -> Vec<Vec<String>> {
    let page = json(&format!("{base}/nodes/{node}.json")).await;
    let dom = dom(format!("{base}/nodes/{node}")).await;
    let or = |v: &Value, missing: &str| v.as_str().unwrap_or(missing).to_owned();
    let want: Vec<Vec<String>> = page["diff"]["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            vec![
                or(&o["object"], ""),
                or(&o["desired"], "(not in the bundle)"),
                or(&o["actual"], "(not reported)"),
                if o["in_spec"].as_bool().unwrap() {
                    "yes"
                } else {
                    "no"
                }
                .to_owned(),
            ]
        })
        .collect();
    assert_eq!(
        table_after(&dom, "Desired vs actual"),
        want,
        "{node}'s diff"
    );
    let timeline = table_after(&dom, "Lifecycle and connectivity timeline");
    let entries = page["timeline"].as_array().unwrap();
    assert_eq!(timeline.len(), entries.len(), "{node}'s timeline");
    for (row, entry) in timeline.iter().zip(entries) {
        assert_eq!(
            (row[1].as_str(), row[3].as_str()),
            (
                entry["machine"].as_str().unwrap(),
                entry["to_state"].as_str().unwrap()
            ),
            "{node}'s timeline"
        );
    }
    timeline
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_layer_renders_in_chromium_on_both_backends() {
    let (run, _cleanup) = scenario::landed("uib").await;
    let ch = Source::clickhouse(&ClickHouseConfig::new(
        &common::services().clickhouse,
        run.ch.database(),
    ))
    .unwrap();
    let pq = Source::parquet(run.data.path());
    let stop = run.stopper();
    for source in [ch, pq] {
        let base = ui(source, &stop).await;
        check_overview(&base).await;
        check_domain(&base, "region-a").await;
        check_node(&base, "n-drift").await;
        let bad = check_node(&base, "n-bad").await;
        let lifecycle: Vec<&str> = bad
            .iter()
            .filter(|row| row[1] == "LIFECYCLE")
            .map(|row| row[3].as_str())
            .collect();
        assert_eq!(
            lifecycle,
            ["ENROLLED", "ACTIVE", "LIVE_OK", "DEGRADED", "QUARANTINED"]
        );
    }
    // What the scenario put on n-drift's page, as the browser shows it.
    let base = ui(Source::parquet(run.data.path()), &stop).await;
    let dom = dom(format!("{base}/nodes/n-drift")).await;
    let diff = table_after(&dom, "Desired vs actual");
    assert!(
        diff.contains(&vec![
            "config:stir.enforcement_mode".to_owned(),
            "hard".to_owned(),
            "soft".to_owned(),
            "no".to_owned()
        ]),
        "{diff:?}"
    );

    let dir = output_dir();
    for (name, path, height) in [
        ("layer0-overview", "/".to_owned(), 1600),
        (
            "layer1-domain-region-a",
            "/domains/region-a".to_owned(),
            1800,
        ),
        ("layer2-node-n-drift", "/nodes/n-drift".to_owned(), 1800),
        ("layer2-node-n-replay", "/nodes/n-replay".to_owned(), 1800),
    ] {
        let file = dir.join(format!("{name}.png"));
        let url = format!("{base}{path}");
        let shot = file.clone();
        tokio::task::spawn_blocking(move || screenshot(&url, &shot, 1280, height))
            .await
            .unwrap();
        println!("screenshot: {}", file.display());
    }
    run.stop().await;
}

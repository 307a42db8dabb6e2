//! The README's demo (`sxfleet demo`, which `dev/demo` runs) on a small fleet: it prints its
//! summary and the operator UI's URL, serves the UI on the demo's data (the overview counts
//! every simulated node) until interrupted, and exits cleanly on Ctrl-C (SIGINT). With
//! `--exit-after-summary` (here on Parquet) it exits by itself after the summary, without a UI.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::http::curl;
use serde_json::Value;

const NODES: u32 = 150;

/// How long a small demo may take to print its summary.
const LIMIT: Duration = Duration::from_secs(300);

/// Starts the demo with `extra` arguments, its topics under `prefix`; its stdout lines arrive
/// on the receiver.
fn demo(
    prefix: &str,
    extra: &[&str],
    data_dir: &std::path::Path,
) -> (Child, mpsc::Receiver<String>) {
    let services = common::services();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sxfleet"))
        .args([
            "--kafka",
            &services.kafka,
            "--clickhouse",
            &services.clickhouse,
            "--topic-prefix",
            prefix,
        ])
        .arg("--data-dir")
        .arg(data_dir)
        .args(["demo", "--nodes", &NODES.to_string(), "--duration", "5s"])
        .args(["--rate", "2000"])
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (send, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("demo: {line}");
            if send.send(line).is_err() {
                break;
            }
        }
    });
    (child, lines)
}

/// Waits for the first line containing `marker`; every line read on the way is kept in `seen`.
fn line_with(lines: &mpsc::Receiver<String>, marker: &str, seen: &mut Vec<String>) -> String {
    let deadline = std::time::Instant::now() + LIMIT;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                seen.push(line.clone());
                if line.contains(marker) {
                    return line;
                }
            }
            Err(e) => panic!("no line with {marker:?} ({e}); the demo printed {seen:#?}"),
        }
    }
}

fn exits(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the demo did not exit"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_serves_the_ui_until_interrupted_or_exits_after_its_summary() {
    let services = common::services();
    let data = tempfile::tempdir().unwrap();
    let database = common::unique("fleet_demo");
    let prefix = format!("{}.", common::unique("demo"));
    let _cleanup =
        common::Cleanup::new(&services.kafka, &prefix).database(&services.clickhouse, &database);
    let (mut child, lines) = demo(
        &prefix,
        &["--demo-database", &database, "--ui-listen", "127.0.0.1:0"],
        data.path(),
    );
    let mut seen = Vec::new();
    let first = line_with(&lines, &format!("topics {prefix}demo-"), &mut seen);
    assert!(first.contains("backend ClickHouse"), "{first}");
    line_with(&lines, "landed", &mut seen);
    let ui = line_with(&lines, "operator UI on the demo's data: ", &mut seen);
    let url = ui
        .split(": ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .unwrap()
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let reply = curl(vec![format!("{url}.json")]).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let page: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(page["connectivity"]["total"], NODES, "every simulated node");
    let backend = page["freshness"]["backend"].as_str().unwrap();
    assert_eq!(
        backend,
        format!("ClickHouse database {database} at {}", services.clickhouse)
    );
    let html = curl(vec![url.clone()]).await;
    assert!(html.body.contains("Connectivity spectrum"), "{}", html.body);

    // Ctrl-C: the UI stops and the demo exits cleanly.
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    let status = exits(&mut child, Duration::from_secs(30));
    assert!(status.success(), "{status}");
    assert_ne!(curl(vec![url]).await.status, 200, "the UI stopped");

    let (mut child, lines) = demo(
        &prefix,
        &["--backend", "parquet", "--exit-after-summary"],
        data.path(),
    );
    let mut seen = Vec::new();
    line_with(&lines, &format!("topics {prefix}demo-"), &mut seen);
    let status = exits(&mut child, LIMIT);
    assert!(status.success(), "{status}");
    seen.extend(lines.try_iter());
    let printed = seen.join("\n");
    assert!(
        printed.contains("Query the files: sxfleet query --data-dir"),
        "{printed}"
    );
    assert!(!printed.contains("operator UI"), "{printed}");
}

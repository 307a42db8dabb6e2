//! The binary serves its metrics: a processor started with `--metrics-addr` exports restore
//! and batch counters over HTTP in the Prometheus text format.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

use sxfleet::pipeline::{self, PipelineConfig};
use sxfleet_runtime::KafkaConfig;
use sxfleet_schemas::{encode, EventPayload, FleetEvent, Health, Heartbeat, Source};

fn scrape(addr: &str) -> Result<String, String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    write!(stream, "GET /metrics HTTP/1.0\r\nHost: {addr}\r\n\r\n").map_err(|e| e.to_string())?;
    let mut body = String::new();
    stream
        .read_to_string(&mut body)
        .map_err(|e| e.to_string())?;
    Ok(body)
}

/// The value of the first sample of `name` with `label`, if exported.
fn sample(body: &str, name: &str, label: &str) -> Option<f64> {
    body.lines()
        .filter(|line| line.starts_with(name) && line.contains(label))
        .find_map(|line| line.rsplit(' ').next()?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_processor_exports_restore_and_batch_metrics() {
    let services = common::services();
    let prefix = format!("{}.", common::unique("metrics"));
    let _cleanup = common::Cleanup::new(&services.kafka, &prefix);
    let config = PipelineConfig::new(KafkaConfig::new(&services.kafka), &prefix);
    pipeline::create_topics(&config).await.unwrap();
    let records: Vec<(String, Vec<u8>)> = (0..200)
        .map(|n| {
            let event = FleetEvent {
                event_id: format!("m-{n}:1"),
                node_id: format!("m-{n}"),
                seq: 1,
                event_time_ms: 1_772_150_400_000,
                received_ms: 1_772_150_400_000,
                source: Source::KafkaRaw,
                replayed: false,
                payload: EventPayload::Heartbeat(Heartbeat {
                    rtt_ms: Some(10.0),
                    loss_pct: None,
                    bandwidth_kbps: None,
                    backlog_messages: None,
                    health: Health::Ok,
                    uptime_s: None,
                    via: None,
                    battery_pct: None,
                }),
            };
            (event.node_id.clone(), encode(&event).unwrap())
        })
        .collect();
    common::produce(&services.kafka, &config.topics.events, &records).await;

    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_sxfleet"))
        .args(["--kafka", &services.kafka, "--topic-prefix", &prefix])
        .args(["--metrics-addr", &addr, "process"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let body = common::eventually(Duration::from_secs(90), "the metrics", || {
        let addr = addr.clone();
        async move {
            let body = scrape(&addr)?;
            match sample(&body, "sxfleet_batches_committed_total", "stage=\"twin\"") {
                Some(batches) if batches >= 1.0 => Ok(body),
                _ => Err(body.lines().take(5).collect::<Vec<_>>().join(" | ")),
            }
        }
    })
    .await;
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        sample(&body, "sxfleet_restore_records_total", "twins-changelog").is_some(),
        "restore counter exported:\n{body}"
    );
    assert!(
        body.contains("# TYPE sxfleet_batches_committed_total counter"),
        "{body}"
    );
}

//! Time to render each layer of the operator UI for a large fleet, on ClickHouse and on Parquet,
//! next to the time its cookbook queries alone take through the same reader.
//!
//! ```text
//! cargo run --release -p sxfleet-bench --bin ui_bench -- [--nodes 100000] [--loads 50] [--backend both]
//! ```
//! Per backend: the demo (`sxfleet::demo::run_demo`: simulator -> raw topic -> normalizer ->
//! processor -> sink) lands a fleet of `--nodes` nodes, then `sxfleet_ui::serve` serves it on a
//! loopback port and each layer is loaded `--loads` times over HTTP (one connection per load,
//! as a browser's first visit): `/`, the largest domain's page and the top node's page. The peer
//! is the same page's cookbook queries (the `queries` its JSON twin names) answered through a
//! new reader of the same `Source` (on Parquet, the same snapshot), as the page loads them:
//! what the page adds on top is the page model, the HTML and the HTTP. Prints p50 and p99 of both. The run's topics, consumer
//! groups and ClickHouse database are deleted at the end. Nothing here asserts a timing.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{Parser, ValueEnum};
use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use serde_json::Value;
use sxfleet::demo::{run_demo, DemoBackend, DemoOptions};
use sxfleet_runtime::{KafkaConfig, Shutdown};
use sxfleet_sinks::cookbook::Params;
use sxfleet_sinks::{ClickHouse, ClickHouseConfig, Source};
use sxfleet_ui::{pages, serve, UiConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Backends {
    Both,
    Clickhouse,
    Parquet,
}

/// UI render benchmark on a simulated fleet landed by the real pipeline.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Simulated nodes.
    #[arg(long, default_value_t = 100_000)]
    nodes: u32,
    /// Raw messages per second the simulator sends.
    #[arg(long, default_value_t = 25_000.0)]
    rate: f64,
    /// How long the simulator sends (registrations first, then heartbeat rounds).
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Timed loads of each layer (after two untimed ones).
    #[arg(long, default_value_t = 50)]
    loads: usize,
    /// Which backends to measure.
    #[arg(long, value_enum, default_value_t = Backends::Both)]
    backend: Backends,
    /// Kafka bootstrap servers.
    #[arg(long, env = "KAFKA_BOOTSTRAP", default_value = "127.0.0.1:9092")]
    kafka: String,
    /// ClickHouse HTTP endpoint.
    #[arg(long, env = "CLICKHOUSE_URL", default_value = "http://127.0.0.1:8123")]
    clickhouse: String,
    /// Folder for the Parquet run (a temporary folder when absent).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Measure the Parquet tables already landed in this folder (a `demo-*` folder of an
    /// earlier run's `--data-dir`) instead of running the pipeline.
    #[arg(long, conflicts_with_all = ["data_dir", "backend"])]
    landed: Option<PathBuf>,
}

/// p50 and p99 (nearest rank) of `samples`, in milliseconds.
fn percentiles(samples: &mut [Duration]) -> (f64, f64) {
    samples.sort_unstable();
    let at = |q: f64| {
        let rank = ((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
        samples[rank - 1].as_secs_f64() * 1000.0
    };
    (at(0.50), at(0.99))
}

/// One HTTP/1.1 GET of `path` on a new connection; the body of a 200.
async fn get(addr: std::net::SocketAddr, path: &str) -> anyhow::Result<String> {
    let mut stream = TcpStream::connect(addr).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).await?;
    let text = String::from_utf8_lossy(&reply);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.lines().next().unwrap_or_default();
    if !status.contains(" 200 ") {
        bail!("GET {path}: {status}: {body}");
    }
    Ok(body.to_owned())
}

/// One layer's figures, or why it has none.
struct Layer {
    name: String,
    figures: Result<Figures, String>,
}

/// p50 and p99 of the page and of its queries alone, and the page's size.
struct Figures {
    page: (f64, f64),
    queries: (f64, f64),
    bytes: usize,
    /// Each query alone, one after the other: (name, p50 ms).
    slowest: Vec<(&'static str, f64)>,
}

/// Loads `path` `loads` times, and its JSON twin's queries `loads` times through new readers of the same `Source`.
async fn measure(
    addr: std::net::SocketAddr,
    source: &Source,
    path: &str,
    params: &Params<'_>,
    loads: usize,
) -> anyhow::Result<Figures> {
    let twin: Value = serde_json::from_str(&get(addr, &json_path(path)).await?)?;
    let queries: Vec<&'static str> = twin["queries"]
        .as_array()
        .context("the JSON twin names its queries")?
        .iter()
        .filter_map(Value::as_str)
        .map(|q| &*Box::leak(q.to_owned().into_boxed_str()))
        .collect();
    let mut bytes = 0;
    for _ in 0..2 {
        bytes = get(addr, path).await?.len();
    }
    let mut page = Vec::with_capacity(loads);
    for _ in 0..loads {
        let started = Instant::now();
        get(addr, path).await?;
        page.push(started.elapsed());
    }
    let mut alone = Vec::with_capacity(loads);
    for _ in 0..loads {
        let started = Instant::now();
        let reader = source.reader().await?;
        pages::load(&reader, &queries, params).await?;
        alone.push(started.elapsed());
    }
    let reader = source.reader().await?;
    let mut slowest = Vec::new();
    for name in &queries {
        let mut times = Vec::new();
        for _ in 0..3 {
            let started = Instant::now();
            pages::load(&reader, &[name], params).await?;
            times.push(started.elapsed());
        }
        slowest.push((*name, percentiles(&mut times).0));
    }
    slowest.sort_by(|a, b| b.1.total_cmp(&a.1));
    slowest.truncate(3);
    Ok(Figures {
        page: percentiles(&mut page),
        queries: percentiles(&mut alone),
        bytes,
        slowest,
    })
}

/// `/` -> `/.json`, `/nodes/x` -> `/nodes/x.json`.
fn json_path(path: &str) -> String {
    if path == "/" {
        "/.json".to_owned()
    } else {
        format!("{path}.json")
    }
}

/// Deletes the run's topics and consumer groups.
async fn delete_run(kafka: &KafkaConfig, prefix: &str) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> = kafka.client().create()?;
    let metadata = admin
        .inner()
        .fetch_metadata(None, Duration::from_secs(10))?;
    let topics: Vec<String> = metadata
        .topics()
        .iter()
        .map(|t| t.name().to_owned())
        .filter(|name| name.starts_with(prefix))
        .collect();
    let groups: Vec<String> = admin
        .inner()
        .fetch_group_list(None, Duration::from_secs(10))?
        .groups()
        .iter()
        .map(|g| g.name().to_owned())
        .filter(|name| name.starts_with(prefix))
        .collect();
    let options = AdminOptions::new();
    if !groups.is_empty() {
        let names: Vec<&str> = groups.iter().map(String::as_str).collect();
        admin.delete_groups(&names, &options).await?;
    }
    if !topics.is_empty() {
        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
        admin.delete_topics(&names, &options).await?;
    }
    Ok(())
}

async fn bench(
    args: &Args,
    backend: DemoBackend,
    data_dir: &std::path::Path,
) -> anyhow::Result<Vec<Layer>> {
    let clickhouse = ClickHouseConfig::new(&args.clickhouse, "ui_bench");
    let options = DemoOptions {
        nodes: args.nodes,
        duration: args.duration,
        rate: args.rate,
        seed: 42,
        backend,
        data_dir: data_dir.to_owned(),
        ui: None,
        topic_prefix: String::new(),
    };
    let run = run_demo(&args.kafka, &clickhouse, options, &Shutdown::new()).await?;
    let measured = load_layers(args, &run.source).await;
    // The run's topics, groups and database go also when a measurement failed.
    delete_run(&KafkaConfig::new(&args.kafka), &run.topic_prefix).await?;
    if let Source::ClickHouse { .. } = run.source {
        let ch = ClickHouse::connect(&clickhouse).await?;
        ch.server_client()
            .query("DROP DATABASE IF EXISTS ui_bench")
            .execute()
            .await?;
    }
    measured
}

/// Serves `source` on a loopback port and measures each layer.
async fn load_layers(args: &Args, source: &Source) -> anyhow::Result<Vec<Layer>> {
    let stop = Shutdown::new();
    let config = UiConfig {
        listen: "127.0.0.1:0".parse()?,
        ..UiConfig::default()
    };
    let serving = serve(config, source.clone(), stop.clone()).await?;
    let addr = serving.addr;
    let started = Instant::now();
    let overview: Value = serde_json::from_str(&get(addr, "/.json").await?)?;
    // On Parquet the first page takes the first snapshot of the files.
    let first = started.elapsed().as_secs_f64() * 1000.0;
    let domain = overview["domains"]
        .as_array()
        .and_then(|all| all.iter().max_by_key(|d| d["nodes"].as_i64().unwrap_or(0)))
        .and_then(|d| d["domain_id"].as_str())
        .context("the overview lists domains")?
        .to_owned();
    let node = overview["attention"]
        .as_array()
        .and_then(|queue| queue.first())
        .and_then(|a| a["node_id"].as_str())
        .context("the attention queue has a node")?
        .to_owned();
    let fleet = overview["connectivity"]["total"].as_i64().unwrap_or(0);
    println!(
        "ui_bench: {fleet} nodes landed; layer 1 is {domain}, layer 2 is {node}; \
         the first overview took {first:.0} ms"
    );
    let (domain_path, node_path) = (format!("/domains/{domain}"), format!("/nodes/{node}"));
    let domain_params = Params {
        domain_id: &domain,
        ..Params::default()
    };
    let node_params = Params {
        node_id: &node,
        ..Params::default()
    };
    let plain = Params::default();
    let mut layers = Vec::new();
    for (name, path, params) in [
        ("0 overview".to_owned(), "/", &plain),
        (format!("1 domain {domain}"), &domain_path, &domain_params),
        (format!("2 node {node}"), &node_path, &node_params),
    ] {
        // A layer that fails (e.g. beyond the request timeout) is reported; the others go on.
        let figures = measure(addr, source, path, params, args.loads)
            .await
            .map_err(|e| format!("{e:#}").chars().take(160).collect());
        layers.push(Layer { name, figures });
    }
    stop.trigger();
    serving.wait().await?;
    Ok(layers)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(landed) = &args.landed {
        let layers = load_layers(&args, &Source::parquet(landed)).await?;
        print(&args, "Parquet", &layers);
        return Ok(());
    }
    let temp = tempfile::tempdir()?;
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(|| temp.path().to_owned());
    let backends: &[(DemoBackend, &str)] = match args.backend {
        Backends::Both => &[
            (DemoBackend::ClickHouse, "ClickHouse"),
            (DemoBackend::Parquet, "Parquet"),
        ],
        Backends::Clickhouse => &[(DemoBackend::ClickHouse, "ClickHouse")],
        Backends::Parquet => &[(DemoBackend::Parquet, "Parquet")],
    };
    for (backend, name) in backends {
        let layers = bench(&args, *backend, &data_dir).await?;
        print(&args, name, &layers);
        if *backend == DemoBackend::ClickHouse {
            let verdict = match &layers[0].figures {
                Ok(f) if f.page.1 < 300.0 => format!("{:.1} ms, met", f.page.1),
                Ok(f) => format!("{:.1} ms, not met", f.page.1),
                Err(_) => "no figure, not met".to_owned(),
            };
            println!("target: layer 0 under 300 ms p99 on ClickHouse: {verdict}");
        }
    }
    Ok(())
}

fn print(args: &Args, backend: &str, layers: &[Layer]) {
    println!(
        "\nui_bench: {} timed loads per layer (ms; peer = the page's cookbook queries alone)",
        args.loads
    );
    println!(
        "{:<11} {:<28} {:>9} {:>9} {:>11} {:>11} {:>9}",
        "backend", "layer", "page p50", "page p99", "queries p50", "queries p99", "KiB"
    );
    for layer in layers {
        match &layer.figures {
            Ok(f) => println!(
                "{:<11} {:<28} {:>9.1} {:>9.1} {:>11.1} {:>11.1} {:>9.1}",
                backend,
                layer.name,
                f.page.0,
                f.page.1,
                f.queries.0,
                f.queries.1,
                f.bytes as f64 / 1024.0
            ),
            Err(e) => println!("{:<11} {:<28} failed: {e}", backend, layer.name),
        }
        if let Ok(f) = &layer.figures {
            let slowest: Vec<String> = (f.slowest.iter())
                .map(|(name, ms)| format!("{name} {ms:.1}"))
                .collect();
            println!(
                "{:<11} {:<28} slowest queries alone (p50 of 3): {}",
                "",
                "",
                slowest.join(", ")
            );
        }
    }
}

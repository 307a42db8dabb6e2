//! `sxfleet`: one binary, a subcommand per stage, and `run` for the whole pipeline.

use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use sxfleet::demo::{run_demo, DemoBackend, DemoOptions};
use sxfleet::pipeline::{self, PipelineConfig};
use sxfleet_ingest::NormalizerConfig;
use sxfleet_runtime::{Delivery, KafkaConfig, Shutdown};
use sxfleet_sinks::{query, Backend, ClickHouseConfig};

#[derive(Parser)]
#[command(
    name = "sxfleet",
    version,
    about = "Souverix fleet pipeline on Kafka and ClickHouse"
)]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Common {
    /// Kafka bootstrap servers.
    #[arg(
        long,
        env = "KAFKA_BOOTSTRAP",
        default_value = "127.0.0.1:9092",
        global = true
    )]
    kafka: String,
    /// Prefix of every topic and application id of this deployment.
    #[arg(long, env = "SXFLEET_TOPIC_PREFIX", default_value = "", global = true)]
    topic_prefix: String,
    /// Partitions of the topics the pipeline creates.
    #[arg(long, default_value_t = 4, global = true)]
    partitions: i32,
    /// Use at-least-once delivery (for clusters without transactions).
    #[arg(long, global = true)]
    at_least_once: bool,
    /// This instance's id among the instances of a stage: part of its transactional id, so
    /// it must be unique per running instance and stable across its restarts.
    #[arg(long, env = "SXFLEET_INSTANCE", default_value = "0", global = true)]
    instance: String,
    /// Folder for local snapshots of processor state, so a restart replays only the
    /// changelog's tail (restores from the whole changelog when absent).
    #[arg(long, env = "SXFLEET_STATE_DIR", global = true)]
    state_dir: Option<std::path::PathBuf>,
    /// Wall-clock punctuation: append a tick to a processor input partition idle this long
    /// (e.g. `5s`), so silence timers fire while a whole partition is quiet.
    #[arg(long, value_parser = humantime::parse_duration, global = true)]
    punctuate_after: Option<Duration>,
    /// Serve Prometheus metrics (restore progress, batches, snapshots, failed sessions) on
    /// this address, e.g. `127.0.0.1:9464`, at `/metrics`.
    #[arg(long, env = "SXFLEET_METRICS_ADDR", global = true)]
    metrics_addr: Option<std::net::SocketAddr>,
    /// ClickHouse HTTP endpoint.
    #[arg(
        long,
        env = "CLICKHOUSE_URL",
        default_value = "http://127.0.0.1:8123",
        global = true
    )]
    clickhouse: String,
    /// ClickHouse database of the sink's tables.
    #[arg(long, env = "SXFLEET_DATABASE", default_value = "fleet", global = true)]
    database: String,
    /// Directory of the Parquet tables (the embedded backend; `sxfleet query` reads it).
    #[arg(long, env = "SXFLEET_DATA_DIR", default_value = "data", global = true)]
    data_dir: std::path::PathBuf,
}

/// Where `sink` and `run` land the tables (and `summary` reads them).
#[derive(Args)]
struct SinkArgs {
    /// `clickhouse`, or `parquet` for files under `--data-dir` (no ClickHouse needed).
    #[arg(long, value_enum, default_value_t = BackendArg::Clickhouse)]
    backend: BackendArg,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BackendArg {
    Clickhouse,
    Parquet,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DemoBackendArg {
    /// ClickHouse when it answers, else Parquet.
    Auto,
    Clickhouse,
    Parquet,
}

#[derive(Args)]
struct QueryArgs {
    /// The SQL (DataFusion's dialect; `node_state_final` and `transitions_final` read like
    /// ClickHouse's `FINAL`).
    sql: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    format: FormatArg,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FormatArg {
    Table,
    Csv,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Create the pipeline's topics (idempotent).
    Topics,
    /// Run the normalizer: raw JSON -> canonical Avro events, control records, DLQ.
    Normalize,
    /// Run the twin processor: events -> digital twins with changelog-backed state.
    Process,
    /// Run the sink: events, twins, DLQ and transitions -> ClickHouse tables or Parquet files.
    Sink(SinkArgs),
    /// Run normalizer, processor and sink in one process.
    Run(SinkArgs),
    /// Send a simulated fleet's raw telemetry to the raw topic.
    Simulate(SimulateArgs),
    /// Print the fleet summary queried from ClickHouse (or the Parquet tables).
    Summary(SinkArgs),
    /// The whole pipeline on a simulated fleet, then a summary from ClickHouse (or Parquet).
    Demo(DemoArgs),
    /// SQL over the Parquet tables in `--data-dir`, answered by DataFusion.
    Query(QueryArgs),
}

#[derive(Args)]
struct SimulateArgs {
    /// Number of nodes.
    #[arg(long, default_value_t = 1000)]
    nodes: u32,
    /// Seed of the simulation (same seed, same messages).
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Messages per second (unlimited when absent).
    #[arg(long)]
    rate: Option<f64>,
    /// Heartbeat rounds to send (each node sends one heartbeat per round).
    #[arg(long, default_value_t = 10)]
    rounds: u64,
}

#[derive(Args)]
struct DemoArgs {
    /// Number of simulated nodes.
    #[arg(long, default_value_t = 2000)]
    nodes: u32,
    /// How long the simulator sends, e.g. `60s`.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Messages per second the simulator sends.
    #[arg(long, default_value_t = 5000.0)]
    rate: f64,
    /// Seed of the simulation.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// ClickHouse database the demo owns: dropped and created anew at the start.
    #[arg(long, default_value = "fleet_demo")]
    demo_database: String,
    /// Backend: ClickHouse when it answers (auto), or the one named.
    #[arg(long, value_enum, default_value_t = DemoBackendArg::Auto)]
    backend: DemoBackendArg,
}

impl Common {
    fn pipeline(&self) -> PipelineConfig {
        let mut config = PipelineConfig::new(KafkaConfig::new(&self.kafka), &self.topic_prefix);
        config.partitions = self.partitions;
        config.instance.clone_from(&self.instance);
        config.state_dir.clone_from(&self.state_dir);
        config.punctuate_after = self.punctuate_after;
        if self.at_least_once {
            config.delivery = Delivery::AtLeastOnce;
        }
        config
    }

    fn clickhouse(&self) -> ClickHouseConfig {
        ClickHouseConfig::new(&self.clickhouse, &self.database)
    }

    /// The pipeline settings with the sink landing where `args` says.
    fn pipeline_into(&self, args: &SinkArgs) -> PipelineConfig {
        let mut config = self.pipeline();
        if args.backend == BackendArg::Parquet {
            config.sink_backend = Backend::Parquet {
                dir: self.data_dir.clone(),
            };
        }
        config
    }
}

/// Triggers `shutdown` on Ctrl-C.
fn shutdown_on_ctrl_c() -> Shutdown {
    let shutdown = Shutdown::new();
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            tracing::info!("Ctrl-C: shutting down");
            trigger.trigger();
        }
    });
    shutdown
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,sxfleet=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if let Some(addr) = cli.common.metrics_addr {
        metrics_exporter_prometheus::PrometheusBuilder::new()
            .with_http_listener(addr)
            .install()
            .with_context(|| format!("serving metrics on {addr}"))?;
    }
    let config = cli.common.pipeline();
    let shutdown = shutdown_on_ctrl_c();
    match cli.command {
        Command::Topics => pipeline::create_topics(&config).await?,
        Command::Normalize => {
            pipeline::create_topics(&config).await?;
            let stats =
                pipeline::run_normalizer(&config, NormalizerConfig::default(), &shutdown).await?;
            println!("normalizer: {stats:?}");
        }
        Command::Process => {
            pipeline::create_topics(&config).await?;
            let stats = pipeline::run_twin(&config, &shutdown).await?;
            println!("twin processor: {stats:?}");
        }
        Command::Sink(args) => {
            let config = cli.common.pipeline_into(&args);
            pipeline::create_topics(&config).await?;
            let stats = pipeline::run_sink(&config, &cli.common.clickhouse(), &shutdown).await?;
            println!("sink: {stats:?}");
        }
        Command::Run(args) => {
            let config = cli.common.pipeline_into(&args);
            pipeline::create_topics(&config).await?;
            pipeline::run_all(&config, &cli.common.clickhouse(), &shutdown).await?;
        }
        Command::Simulate(args) => {
            pipeline::create_topics(&config).await?;
            let summary = pipeline::simulate(
                &config,
                args.nodes,
                args.seed,
                args.rate,
                args.rounds,
                &shutdown,
            )
            .await?;
            println!(
                "sent {} messages in {:.1} s ({:.0}/s), {} failed",
                summary.sent,
                summary.elapsed.as_secs_f64(),
                summary.events_per_sec,
                summary.failed
            );
        }
        Command::Summary(args) => {
            let summary = match args.backend {
                BackendArg::Clickhouse => pipeline::summary(&cli.common.clickhouse()).await,
                BackendArg::Parquet => {
                    let ctx = query::session(&cli.common.data_dir).await?;
                    query::fleet_summary(&ctx)
                        .await
                        .map_err(anyhow::Error::from)
                }
            };
            println!("{}", summary.context("querying the summary")?);
        }
        Command::Demo(args) => {
            let options = DemoOptions {
                nodes: args.nodes,
                duration: args.duration,
                rate: args.rate,
                seed: args.seed,
                backend: match args.backend {
                    DemoBackendArg::Auto => DemoBackend::Auto,
                    DemoBackendArg::Clickhouse => DemoBackend::ClickHouse,
                    DemoBackendArg::Parquet => DemoBackend::Parquet,
                },
                data_dir: cli.common.data_dir.clone(),
            };
            let clickhouse = ClickHouseConfig::new(&cli.common.clickhouse, &args.demo_database);
            run_demo(&cli.common.kafka, &clickhouse, options, &shutdown).await?;
        }
        Command::Query(args) => {
            let ctx = query::session(&cli.common.data_dir).await?;
            let batches = query::run(&ctx, &args.sql).await?;
            let format = match args.format {
                FormatArg::Table => query::Format::Table,
                FormatArg::Csv => query::Format::Csv,
                FormatArg::Json => query::Format::Json,
            };
            println!("{}", query::render(&batches, format)?);
        }
    }
    Ok(())
}

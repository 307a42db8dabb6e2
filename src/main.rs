//! `sxfleet`: one binary, a subcommand per stage, and `run` for the whole pipeline.

use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use sxfleet::demo::{run_demo, DemoBackend, DemoOptions};
use sxfleet::pipeline::{self, PipelineConfig};
use sxfleet_ingest::http::config::HttpConfig;
use sxfleet_ingest::http::config::TlsConfig;
use sxfleet_ingest::registry::BasicAuth;
use sxfleet_ingest::{NormalizerConfig, RegistryUrl, SchemaRegistryConfig};
use sxfleet_processors::ProjectionConfig;
use sxfleet_runtime::{Delivery, KafkaConfig, Shutdown};
use sxfleet_sinks::{query, Backend, BatchConfig, ClickHouseConfig, Source};
use sxfleet_ui::UiConfig;

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
    /// The normalizer merges its raw partitions in event-time order; this is the longest it
    /// waits for a raw partition it has nothing of before going on without it (e.g. `500ms`).
    /// Not waited for at all once that partition is read to its end.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "500ms", global = true)]
    max_task_idle: Duration,
    /// JSON file with the processor's projection settings (connectivity thresholds, per-domain
    /// overrides, drift weights, attention thresholds; see docs/projections.md). Defaults
    /// apply to every field it leaves out.
    #[arg(long, env = "SXFLEET_PROJECTIONS", global = true)]
    projections: Option<std::path::PathBuf>,
    /// Serve Prometheus metrics (restore progress, batches, snapshots, failed sessions) on
    /// this address, e.g. `127.0.0.1:9464`, at `/metrics`.
    #[arg(long, env = "SXFLEET_METRICS_ADDR", global = true)]
    metrics_addr: Option<std::net::SocketAddr>,
    /// TOML file with the normalizer's settings (signatures, reorder window, ...; see
    /// docs/ingest.md). Defaults when absent.
    #[arg(long, env = "SXFLEET_NORMALIZER_CONFIG", global = true)]
    normalizer_config: Option<std::path::PathBuf>,
    /// Base URL of a Confluent-compatible schema registry (`http://host:port`): the
    /// normalizer then also reads Avro raw messages (Confluent wire format; see
    /// docs/ingest.md). Overrides `[schema_registry] url` of the normalizer settings, or
    /// enables a registry with default settings.
    #[arg(long, env = "SXFLEET_SCHEMA_REGISTRY_URL", value_parser = RegistryUrl::parse, global = true)]
    schema_registry_url: Option<RegistryUrl>,
    /// Basic-auth user for the schema registry (overrides `[schema_registry.basic_auth]`).
    #[arg(long, env = "SXFLEET_SCHEMA_REGISTRY_USERNAME", global = true)]
    schema_registry_username: Option<String>,
    /// Basic-auth password for the schema registry; prefer the environment variable over
    /// the flag (command lines are visible to other users).
    #[arg(
        long,
        env = "SXFLEET_SCHEMA_REGISTRY_PASSWORD",
        hide_env_values = true,
        global = true
    )]
    schema_registry_password: Option<String>,
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
    /// The SQL, in DataFusion's dialect: the `<table>_final` views read like ClickHouse's
    /// `FINAL`, the rollup views are there, and docs/sql-cookbook.md has a DataFusion twin of
    /// every analyst query. May start with `--` comment lines (a cookbook block as it is).
    #[arg(allow_hyphen_values = true)]
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
    /// Tab-separated, no header (as ClickHouse's TabSeparated).
    Tsv,
}

#[derive(Subcommand)]
enum Command {
    /// Create the pipeline's topics (idempotent).
    Topics,
    /// Run the normalizer: raw JSON (and Avro, with a schema registry) -> canonical Avro
    /// events, control records, DLQ.
    Normalize,
    /// Serve the HTTP ingest API (NDJSON batches -> raw topic; see docs/ingest.md).
    IngestHttp(IngestHttpArgs),
    /// Run the twin processor: events -> digital twins with changelog-backed state.
    Process,
    /// Run the sink: events, twins, transitions, drift, alerts, authority, DLQ -> ClickHouse
    /// tables or Parquet files.
    Sink(SinkCmdArgs),
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
    /// Serve the operator UI (HTML pages and their JSON twins over the SQL cookbook; see
    /// docs/ui.md) from ClickHouse or the Parquet tables.
    Ui(UiArgs),
}

#[derive(Args)]
struct UiArgs {
    #[command(flatten)]
    target: SinkArgs,
    /// Address to listen on. Anything but loopback needs --token or TLS.
    #[arg(long, env = "SXFLEET_UI_LISTEN", default_value = "127.0.0.1:8080")]
    listen: std::net::SocketAddr,
    /// Bearer token every request must carry; prefer the environment variable over the flag
    /// (command lines are visible to other users).
    #[arg(long, env = "SXFLEET_UI_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// PEM certificate chain: serve HTTPS (with --tls-key).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
    /// PEM CA bundle: require client certificates that chain to it.
    #[arg(long, requires = "tls_cert")]
    tls_client_ca: Option<std::path::PathBuf>,
}

#[derive(Args)]
struct IngestHttpArgs {
    /// TOML settings: listen address, limits, bearer tokens, TLS and client certificates (see
    /// docs/ingest.md).
    #[arg(long, env = "SXFLEET_HTTP_CONFIG")]
    config: std::path::PathBuf,
}

#[derive(Args)]
struct SinkCmdArgs {
    #[command(flatten)]
    target: SinkArgs,
    /// Most rows per batch (over all tables); a batch also closes at 16 MiB or 500 ms.
    #[arg(long, default_value_t = BatchConfig::default().max_rows)]
    batch_rows: usize,
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
    /// Where the operator UI serves the demo's data after the summary (loopback; port 0 picks
    /// a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    ui_listen: std::net::SocketAddr,
    /// Exit right after the summary instead of serving the operator UI.
    #[arg(long)]
    exit_after_summary: bool,
}

impl Common {
    fn pipeline(&self) -> anyhow::Result<PipelineConfig> {
        let mut config = PipelineConfig::new(KafkaConfig::new(&self.kafka), &self.topic_prefix);
        if let Some(path) = &self.normalizer_config {
            config.normalizer = NormalizerConfig::load(path)?;
        }
        self.override_registry(&mut config.normalizer)?;
        if let Some(path) = &self.projections {
            config.projections = ProjectionConfig::load(path)?;
        }
        config.partitions = self.partitions;
        config.instance.clone_from(&self.instance);
        config.state_dir.clone_from(&self.state_dir);
        config.punctuate_after = self.punctuate_after;
        config.max_task_idle = self.max_task_idle;
        if self.at_least_once {
            config.delivery = Delivery::AtLeastOnce;
        }
        Ok(config)
    }

    /// The flags' and environment's layer over the registry settings of the file.
    fn override_registry(&self, normalizer: &mut NormalizerConfig) -> anyhow::Result<()> {
        if let Some(url) = &self.schema_registry_url {
            match &mut normalizer.schema_registry {
                Some(registry) => registry.url = url.clone(),
                None => normalizer.schema_registry = Some(SchemaRegistryConfig::new(url.clone())),
            }
        }
        let credentials = (
            self.schema_registry_username.clone(),
            self.schema_registry_password.clone(),
        );
        if credentials == (None, None) {
            return Ok(());
        }
        let Some(registry) = normalizer.schema_registry.as_mut() else {
            anyhow::bail!("schema registry credentials are set but no schema registry url");
        };
        let (Some(username), Some(password)) = credentials else {
            anyhow::bail!("schema registry credentials need both a username and a password");
        };
        registry.basic_auth = Some(BasicAuth { username, password });
        Ok(())
    }

    fn clickhouse(&self) -> ClickHouseConfig {
        ClickHouseConfig::new(&self.clickhouse, &self.database)
    }

    /// The pipeline settings with the sink landing where `args` says.
    fn pipeline_into(&self, args: &SinkArgs) -> anyhow::Result<PipelineConfig> {
        let mut config = self.pipeline()?;
        if args.backend == BackendArg::Parquet {
            config.sink_backend = Backend::Parquet {
                dir: self.data_dir.clone(),
            };
        }
        Ok(config)
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
    let config = cli.common.pipeline()?;
    let shutdown = shutdown_on_ctrl_c();
    match cli.command {
        Command::Topics => pipeline::create_topics(&config).await?,
        Command::Normalize => {
            pipeline::create_topics(&config).await?;
            let stats =
                pipeline::run_normalizer(&config, config.normalizer.clone(), &shutdown).await?;
            println!("normalizer: {stats:?}");
        }
        Command::IngestHttp(args) => {
            // Settings first: a bad file should not wait for Kafka.
            let http = HttpConfig::load(&args.config)?;
            pipeline::create_topics(&config).await?;
            pipeline::run_http(&config, http, &shutdown).await?;
        }
        Command::Process => {
            pipeline::create_topics(&config).await?;
            let stats = pipeline::run_twin(&config, &shutdown).await?;
            println!("twin processor: {stats:?}");
        }
        Command::Sink(args) => {
            let config = cli.common.pipeline_into(&args.target)?;
            pipeline::create_topics(&config).await?;
            let batch = BatchConfig {
                max_rows: args.batch_rows,
                ..BatchConfig::default()
            };
            let stats =
                pipeline::run_sink(&config, &cli.common.clickhouse(), batch, &shutdown).await?;
            println!("sink: {stats:?}");
        }
        Command::Run(args) => {
            let config = cli.common.pipeline_into(&args)?;
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
                ui: (!args.exit_after_summary).then_some(args.ui_listen),
                topic_prefix: cli.common.topic_prefix.clone(),
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
                FormatArg::Tsv => query::Format::TabSeparated,
            };
            println!("{}", query::render(&batches, format)?);
        }
        Command::Ui(args) => {
            let source = match args.target.backend {
                BackendArg::Clickhouse => Source::clickhouse(&cli.common.clickhouse())?,
                BackendArg::Parquet => Source::parquet(&cli.common.data_dir),
            };
            let tls = match (args.tls_cert, args.tls_key) {
                (Some(cert), Some(key)) => {
                    let mut tls = TlsConfig::new(cert, key);
                    tls.client_ca = args.tls_client_ca;
                    Some(tls)
                }
                _ => None,
            };
            let config = UiConfig {
                listen: args.listen,
                token: args.token,
                tls,
                ..UiConfig::default()
            };
            let serving = sxfleet_ui::serve(config, source, shutdown).await?;
            eprintln!("operator UI on {}://{}/", serving.scheme, serving.addr);
            serving.wait().await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::Parser;

    use super::Cli;

    fn parse(args: &[&str]) -> Cli {
        let mut argv = vec!["sxfleet"];
        argv.extend_from_slice(args);
        argv.push("topics");
        Cli::try_parse_from(argv).unwrap()
    }

    #[test]
    fn registry_flags_layer_over_the_settings_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("normalizer.toml");
        std::fs::write(
            &file,
            "[schema_registry]\nurl = \"http://file:8081\"\nrequest_timeout = \"2s\"\n",
        )
        .unwrap();
        let file = file.to_str().unwrap();

        let from_file = parse(&["--normalizer-config", file])
            .common
            .pipeline()
            .unwrap();
        let registry = from_file.normalizer.schema_registry.unwrap();
        assert_eq!(registry.url.as_str(), "http://file:8081/");
        assert!(registry.basic_auth.is_none());

        let overridden = parse(&[
            "--normalizer-config",
            file,
            "--schema-registry-url",
            "http://flag:8081",
            "--schema-registry-username",
            "sx",
            "--schema-registry-password",
            "pw",
        ])
        .common
        .pipeline()
        .unwrap();
        let registry = overridden.normalizer.schema_registry.unwrap();
        assert_eq!(registry.url.as_str(), "http://flag:8081/");
        assert_eq!(registry.request_timeout, Duration::from_secs(2));
        let auth = registry.basic_auth.unwrap();
        assert_eq!(
            (auth.username.as_str(), auth.password.as_str()),
            ("sx", "pw")
        );

        let url_only = parse(&["--schema-registry-url", "http://flag:8081"]);
        let registry = url_only
            .common
            .pipeline()
            .unwrap()
            .normalizer
            .schema_registry;
        assert_eq!(registry.unwrap().request_timeout, Duration::from_secs(5));
        assert!(parse(&[])
            .common
            .pipeline()
            .unwrap()
            .normalizer
            .schema_registry
            .is_none());
    }

    #[test]
    fn incomplete_registry_credentials_are_refused() {
        let no_url = parse(&[
            "--schema-registry-username",
            "sx",
            "--schema-registry-password",
            "pw",
        ]);
        let error = no_url.common.pipeline().unwrap_err().to_string();
        assert!(error.contains("no schema registry url"), "{error}");
        let no_password = parse(&[
            "--schema-registry-url",
            "http://r:1",
            "--schema-registry-username",
            "sx",
        ]);
        let error = no_password.common.pipeline().unwrap_err().to_string();
        assert!(error.contains("both a username and a password"), "{error}");
        assert!(
            Cli::try_parse_from(["sxfleet", "--schema-registry-url", "https://r:1", "topics"])
                .is_err()
        );
    }
}

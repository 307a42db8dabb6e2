//! The README's demo: the whole pipeline on a simulated fleet, then a summary from ClickHouse,
//! or from Parquet files through DataFusion when ClickHouse is not up (or not wanted), then the
//! operator UI on the demo's data until interrupted (unless told to exit after the summary).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures::StreamExt;
use sxfleet_runtime::{KafkaConfig, Shutdown};
use sxfleet_simulator::{produce, ProduceOptions, Progress, SimConfig, Simulator};
use sxfleet_sinks::backend::parquet::ParquetStore;
use sxfleet_sinks::summary::{fleet_summary, Summary};
use sxfleet_sinks::{query, Backend, ClickHouse, ClickHouseConfig, Source};
use sxfleet_ui::UiConfig;

use crate::pipeline::{self, PipelineConfig};

/// Where the demo lands its tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DemoBackend {
    /// ClickHouse if it answers, else Parquet.
    Auto,
    /// ClickHouse (an error if it does not answer).
    ClickHouse,
    /// Parquet files queried with DataFusion.
    Parquet,
}

/// Demo settings.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// Simulated nodes.
    pub nodes: u32,
    /// How long the simulator sends.
    pub duration: Duration,
    /// Messages per second the simulator sends.
    pub rate: f64,
    /// Simulation seed.
    pub seed: u64,
    /// Backend choice.
    pub backend: DemoBackend,
    /// With Parquet, the run's tables go to `<data_dir>/demo-<unix time>`.
    pub data_dir: PathBuf,
    /// Put before the run's own prefix `demo-<unix time>-` (the deployment's
    /// `--topic-prefix`; empty by default).
    pub topic_prefix: String,
    /// Where the operator UI serves the demo's data after the summary, until interrupted;
    /// `None` exits right after the summary.
    pub ui: Option<SocketAddr>,
}

/// What a demo run left to look at: its topics (all under `topic_prefix`) and the landed
/// tables.
pub struct DemoRun {
    /// The prefix of every topic and consumer group of the run.
    pub topic_prefix: String,
    /// The tables the run landed, for the UI or the cookbook's queries.
    pub source: Source,
}

/// How long the demo waits for the pipeline to land everything after the simulator stops.
const DRAIN_LIMIT: Duration = Duration::from_secs(120);

/// How long the auto backend choice waits for ClickHouse to answer.
const CLICKHOUSE_PROBE: Duration = Duration::from_secs(5);

/// Runs the demo: fresh topics (prefix `demo-<unix time>-`), the pipeline in this process,
/// the simulator for `options.duration`, then waits until the backend holds every accepted
/// event and prints the summary. With ClickHouse the demo owns the database
/// `clickhouse.database` names: it is dropped and created anew at the start, so the summary
/// covers this run only; with Parquet every run writes a new directory. Then, with
/// `options.ui`, serves the operator UI on that data until `shutdown` triggers. Returns what
/// the run landed where.
///
/// # Errors
/// When a service is unreachable or the pipeline does not land the events in time.
pub async fn run_demo(
    kafka: &str,
    clickhouse: &ClickHouseConfig,
    options: DemoOptions,
    shutdown: &Shutdown,
) -> anyhow::Result<DemoRun> {
    let run_id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let data_dir = options.data_dir.join(format!("demo-{run_id}"));
    let store = Landing::choose(options.backend, clickhouse, &data_dir).await?;
    let prefix = format!("{}demo-{run_id}-", options.topic_prefix);
    let mut config = PipelineConfig::new(KafkaConfig::new(kafka), &prefix);
    config.punctuate_after = Some(Duration::from_secs(5));
    config.sink_backend = store.backend();
    pipeline::create_topics(&config).await?;
    println!(
        "demo: {} nodes, {:.0} msg/s for {:?}; topics {}*; backend {}",
        options.nodes,
        options.rate,
        options.duration,
        prefix,
        store.describe(&clickhouse.url)
    );

    let pipeline_stop = Shutdown::new();
    let pipeline_task = {
        let config = config.clone();
        let clickhouse = clickhouse.clone();
        let stop = pipeline_stop.clone();
        tokio::spawn(async move { pipeline::run_all(&config, &clickhouse, &stop).await })
    };

    let started = Instant::now();
    let sim = SimConfig {
        nodes: options.nodes,
        seed: options.seed,
        ..SimConfig::default()
    };
    // Control-plane records (domains, claims, bundles, assignments) do not land in `events`; count them so
    // the wait below knows how many node messages to expect.
    let control = Arc::new(AtomicU64::new(0));
    let counter = control.clone();
    let messages = futures::stream::iter(Simulator::new(sim)?).inspect(move |message| {
        if message.control {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    });
    let mut produce_options = ProduceOptions::new(config.topics.raw.clone());
    produce_options.rate = Some(options.rate);
    produce_options.duration = Some(options.duration);
    produce_options.progress = Progress::Auto;
    let sent = produce(
        &config.kafka.client(),
        &produce_options,
        messages,
        shutdown.receiver(),
    )
    .await?;
    sent.ensure_delivered()?;
    let node_messages = sent.sent - control.load(Ordering::Relaxed);

    let landed = wait_until_landed(&store, node_messages, shutdown).await;
    pipeline_stop.trigger();
    pipeline_task.await.context("pipeline task")??;
    let (events, dlq) = landed?;
    let summary = store.summary().await?;
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "\nsent {} raw messages ({:.0}/s); landed {} events and {} DLQ records in {}; {:.1} s end to end\n",
        sent.sent, sent.events_per_sec, events, dlq, store.name(), elapsed
    );
    println!("{summary}");
    if let Landing::Parquet(dir) = &store {
        println!(
            "Query the files: sxfleet query --data-dir {} \"SELECT ...\"",
            dir.display()
        );
    }
    let run = DemoRun {
        topic_prefix: prefix,
        source: store.source(clickhouse)?,
    };
    let Some(listen) = options.ui else {
        return Ok(run);
    };
    let config = UiConfig {
        listen,
        ..UiConfig::default()
    };
    let serving = sxfleet_ui::serve(config, run.source.clone(), shutdown.clone())
        .await
        .context("starting the operator UI (--ui-listen, or --exit-after-summary)")?;
    println!(
        "\noperator UI on the demo's data: {}://{}/ (Ctrl-C stops it)",
        serving.scheme, serving.addr
    );
    serving.wait().await?;
    Ok(run)
}

/// The backend the demo uses, ready: a migrated ClickHouse database or a Parquet directory.
enum Landing {
    ClickHouse(Box<ClickHouse>),
    Parquet(PathBuf),
}

impl Landing {
    /// Connects to ClickHouse (drops and migrates the demo database) or opens the Parquet
    /// directory, as `choice` says; `Auto` takes ClickHouse when it answers in time.
    async fn choose(
        choice: DemoBackend,
        clickhouse: &ClickHouseConfig,
        data_dir: &Path,
    ) -> anyhow::Result<Self> {
        let ch = match choice {
            DemoBackend::Parquet => None,
            DemoBackend::ClickHouse => Some(
                ClickHouse::connect(clickhouse)
                    .await
                    .context("ClickHouse is not reachable (start it with dev/services up)")?,
            ),
            DemoBackend::Auto => {
                match tokio::time::timeout(CLICKHOUSE_PROBE, ClickHouse::connect(clickhouse)).await
                {
                    Ok(Ok(ch)) => Some(ch),
                    Ok(Err(err)) => {
                        let err = anyhow::Error::from(err);
                        println!(
                            "demo: ClickHouse at {} is not usable ({err:#}); using Parquet",
                            clickhouse.url
                        );
                        None
                    }
                    Err(_) => {
                        println!("demo: ClickHouse at {} did not answer in {CLICKHOUSE_PROBE:?}; using Parquet", clickhouse.url);
                        None
                    }
                }
            }
        };
        let Some(ch) = ch else {
            ParquetStore::open(data_dir)
                .with_context(|| format!("creating {}", data_dir.display()))?;
            return Ok(Self::Parquet(data_dir.to_owned()));
        };
        ch.server_client()
            .query(&format!("DROP DATABASE IF EXISTS {}", ch.database()))
            .execute()
            .await
            .context("dropping the demo database")?;
        sxfleet_sinks::migrate(&ch).await?;
        Ok(Self::ClickHouse(Box::new(ch)))
    }

    /// The UI's source for the landed tables.
    fn source(&self, clickhouse: &ClickHouseConfig) -> anyhow::Result<Source> {
        Ok(match self {
            Self::ClickHouse(_) => Source::clickhouse(clickhouse)?,
            Self::Parquet(dir) => Source::parquet(dir),
        })
    }

    fn backend(&self) -> Backend {
        match self {
            Self::ClickHouse(_) => Backend::ClickHouse,
            Self::Parquet(dir) => Backend::Parquet { dir: dir.clone() },
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Self::ClickHouse(_) => "ClickHouse",
            Self::Parquet(_) => "Parquet files",
        }
    }

    /// The backend for the start-up line; `url` is ClickHouse's.
    fn describe(&self, url: &str) -> String {
        match self {
            Self::ClickHouse(ch) => format!(
                "ClickHouse {} ({}), database `{}`",
                url,
                ch.caps(),
                ch.database()
            ),
            Self::Parquet(dir) => format!(
                "Parquet files in {} (queried with DataFusion)",
                dir.display()
            ),
        }
    }

    /// Rows in `events` and in `dlq`.
    async fn counts(&self) -> anyhow::Result<(u64, u64)> {
        match self {
            Self::ClickHouse(ch) => {
                let client = ch.client();
                let events: u64 = client
                    .query("SELECT count() FROM events")
                    .fetch_one()
                    .await?;
                let dlq: u64 = client.query("SELECT count() FROM dlq").fetch_one().await?;
                Ok((events, dlq))
            }
            Self::Parquet(dir) => {
                let ctx = query::session(dir).await?;
                let count = |sql: &'static str| {
                    let ctx = ctx.clone();
                    async move {
                        let batches = query::run(&ctx, sql).await?;
                        let counts = query::labelled_counts(&batches, false)?;
                        anyhow::Ok(counts.first().map_or(0, |(_, n)| *n))
                    }
                };
                Ok((
                    count("SELECT count(*) FROM events").await?,
                    count("SELECT count(*) FROM dlq").await?,
                ))
            }
        }
    }

    /// The fleet overview.
    async fn summary(&self) -> anyhow::Result<Summary> {
        Ok(match self {
            Self::ClickHouse(ch) => fleet_summary(&ch.client(), ch.database()).await?,
            Self::Parquet(dir) => query::fleet_summary(&query::session(dir).await?).await?,
        })
    }
}

/// Waits until `events + dlq` rows in the backend cover at least `expected` node messages and
/// then stop growing (replay chunks carry older events, so a node message can land as several
/// events; the count settles once the pipeline has drained).
async fn wait_until_landed(
    store: &Landing,
    expected: u64,
    shutdown: &Shutdown,
) -> anyhow::Result<(u64, u64)> {
    let deadline = Instant::now() + DRAIN_LIMIT;
    let mut previous = None;
    loop {
        let (events, dlq) = store.counts().await?;
        if events + dlq >= expected && previous == Some((events, dlq)) {
            return Ok((events, dlq));
        }
        if Instant::now() > deadline || shutdown.is_triggered() {
            bail!("only {events} events and {dlq} DLQ rows of {expected} landed in time");
        }
        previous = Some((events, dlq));
        tokio::time::sleep(Duration::from_millis(1_500)).await;
    }
}

//! Topic creation and the stage runners, alone or together in one process.

use std::path::PathBuf;

use anyhow::Context;
use sxfleet_ingest::http::config::HttpConfig;
use sxfleet_ingest::{NormalizerConfig, NormalizerStage};
use sxfleet_processors::{ProjectionConfig, TwinStage};
use sxfleet_runtime::driver::{InputOrder, StageStats, DEFAULT_MAX_TASK_IDLE};
use sxfleet_runtime::keyed::KeyedStage;
use sxfleet_runtime::topics::{ensure_topics, partition_count};
use sxfleet_runtime::{run_stage, Delivery, KafkaConfig, Shutdown, StageRunConfig, Topics};
use sxfleet_simulator::{produce, ProduceOptions, ProduceSummary, SimConfig, Simulator};
use sxfleet_sinks::summary::{fleet_summary, Summary};
use sxfleet_sinks::{Backend, BatchConfig, ClickHouse, ClickHouseConfig, SinkConfig, SinkStats};

/// Everything the stages of one deployment share.
#[derive(Clone, Debug)]
pub struct PipelineConfig {
    /// Kafka cluster.
    pub kafka: KafkaConfig,
    /// Topic names (with the deployment's prefix).
    pub topics: Topics,
    /// Prefix of the application ids (consumer groups, transactional ids, changelog names):
    /// `<prefix>normalizer`, `<prefix>twin`, `<prefix>sink`.
    pub app_prefix: String,
    /// Partitions of every topic the pipeline creates.
    pub partitions: i32,
    /// Exactly-once (default) or at-least-once.
    pub delivery: Delivery,
    /// Identifies this instance among the instances of a stage (part of its transactional id).
    pub instance: String,
    /// Folder for local snapshots of processor state (bounded restore time); `None` restores
    /// from the whole changelog.
    pub state_dir: Option<PathBuf>,
    /// Wall-clock punctuation of the processor: after this long without input on a partition,
    /// a tick record is appended to it so silence timers fire while every node of the
    /// partition is quiet (see `sxfleet_runtime::tick`). `None`: timers advance with
    /// event time only.
    pub punctuate_after: Option<std::time::Duration>,
    /// The normalizer merges its raw partitions in event-time order and waits at most this long
    /// for a raw partition it has nothing of (see `sxfleet_runtime::driver::InputOrder`).
    pub max_task_idle: std::time::Duration,
    /// Normalizer settings used by [`run_all`] (and by `sxfleet normalize`).
    pub normalizer: NormalizerConfig,
    /// Thresholds and weights of the processor's projections.
    pub projections: ProjectionConfig,
    /// Where the sink lands its tables: ClickHouse (default) or Parquet files.
    pub sink_backend: Backend,
}

impl PipelineConfig {
    /// Defaults for a deployment on `kafka` whose topics and application ids carry `prefix`.
    pub fn new(kafka: KafkaConfig, prefix: &str) -> Self {
        Self {
            kafka,
            topics: Topics::with_prefix(prefix),
            app_prefix: format!("{prefix}sxfleet-"),
            partitions: 4,
            delivery: Delivery::ExactlyOnce,
            instance: "0".to_owned(),
            state_dir: None,
            punctuate_after: None,
            max_task_idle: DEFAULT_MAX_TASK_IDLE,
            normalizer: NormalizerConfig::default(),
            projections: ProjectionConfig::default(),
            sink_backend: Backend::ClickHouse,
        }
    }

    /// Application id of `stage`.
    pub fn app_id(&self, stage: &str) -> String {
        format!("{}{stage}", self.app_prefix)
    }

    /// How the runtime drives `stage` reading `inputs` in this deployment.
    pub fn run_config(&self, stage: &str, inputs: Vec<String>) -> StageRunConfig {
        let app_id = self.app_id(stage);
        let mut config = StageRunConfig::new(self.kafka.clone(), &app_id, inputs);
        config.transactional_id = format!("{app_id}-{}", self.instance);
        config.delivery = self.delivery;
        config.state_dir = self.state_dir.clone();
        config
    }
}

/// Creates the pipeline's topics and the changelogs the normalizer and the twin declare
/// (compacted, co-partitioned with the raw and the events topic) if they do not exist.
///
/// # Errors
/// When Kafka refuses or cannot be reached.
pub async fn create_topics(config: &PipelineConfig) -> anyhow::Result<()> {
    let (topics, partitions) = (&config.topics, config.partitions);
    let mut specs = topics.specs(partitions);
    specs.extend(NormalizerStage::changelogs(
        topics,
        &config.app_id("normalizer"),
        partitions,
    ));
    specs.extend(TwinStage::changelogs(
        topics,
        &config.app_id("twin"),
        partitions,
    ));
    ensure_topics(&config.kafka, &specs)
        .await
        .context("creating the pipeline's topics")
}

/// Runs the normalizer (raw topic -> events, control, DLQ) until `shutdown`, its raw
/// partitions merged in event-time order.
///
/// # Errors
/// When the stage stops on an internal error.
pub async fn run_normalizer(
    config: &PipelineConfig,
    normalizer: NormalizerConfig,
    shutdown: &Shutdown,
) -> anyhow::Result<StageStats> {
    let app_id = config.app_id("normalizer");
    let mut run = config.run_config("normalizer", vec![config.topics.raw.clone()]);
    run.punctuate_after = config.punctuate_after;
    // Control records and node events sit on different raw partitions and the normalizer
    // interleaves them into every events partition: merged by event time, that interleaving
    // is a function of the input, not of fetch timing.
    run.input_order = InputOrder::EventTime {
        max_idle: config.max_task_idle,
    };
    let events_partitions = partition_count(&config.kafka, &config.topics.events)
        .context("the normalizer needs the events topic")?;
    let mut stage = NormalizerStage::new(
        &app_id,
        normalizer,
        config.topics.clone(),
        events_partitions,
    );
    run_stage(&run, &mut stage, shutdown)
        .await
        .context("normalizer stopped")
}

/// Serves the HTTP ingest API (NDJSON batches -> raw topic and DLQ) until `shutdown`. Its
/// producers' transactional ids start with `<prefix>http-<instance>`.
///
/// # Errors
/// When the settings are invalid or the address cannot be served.
pub async fn run_http(
    config: &PipelineConfig,
    http: HttpConfig,
    shutdown: &Shutdown,
) -> anyhow::Result<()> {
    let transactional_id = format!("{}-{}", config.app_id("http"), config.instance);
    sxfleet_ingest::http::serve(
        http,
        config.kafka.clone(),
        &config.topics,
        &transactional_id,
        shutdown,
    )
    .await
    .context("HTTP ingest stopped")
}

/// Runs the fleet processor (events -> twins, transitions, drift, alerts, authority decisions,
/// domain records and bundle versions, changelog) until `shutdown`. Every output topic it writes
/// is one of [`Topics::specs`], which [`create_topics`] creates.
///
/// # Errors
/// When the stage stops on an internal error.
pub async fn run_twin(config: &PipelineConfig, shutdown: &Shutdown) -> anyhow::Result<StageStats> {
    let app_id = config.app_id("twin");
    let mut run = config.run_config("twin", vec![config.topics.events.clone()]);
    run.punctuate_after = config.punctuate_after;
    let mut stage =
        TwinStage::new(&app_id, config.topics.clone()).with_config(config.projections.clone());
    run_stage(&run, &mut stage, shutdown)
        .await
        .context("twin processor stopped")
}

/// Runs the sink (events, twins, transitions, drift, alerts, authority, DLQ, domains, bundles,
/// command statuses -> tables) with `batch` limits into the configured backend until
/// `shutdown`. With ClickHouse, applies the migrations first.
///
/// # Errors
/// When ClickHouse or Kafka cannot be used, or the sink hits an internal error.
pub async fn run_sink(
    config: &PipelineConfig,
    clickhouse: &ClickHouseConfig,
    batch: BatchConfig,
    shutdown: &Shutdown,
) -> anyhow::Result<SinkStats> {
    let sink = SinkConfig {
        clickhouse: clickhouse.clone(),
        kafka: config.kafka.clone(),
        topic_prefix: config.topics.prefix().to_owned(),
        group_id: config.app_id("sink"),
        batch,
        backend: config.sink_backend.clone(),
        ..SinkConfig::default()
    };
    sxfleet_sinks::run_sink(&sink, shutdown)
        .await
        .context("sink stopped")
}

/// Sends `rounds` heartbeat rounds of a simulated fleet of `nodes` to the raw topic.
///
/// # Errors
/// When the simulation settings are invalid or Kafka does not acknowledge every message.
pub async fn simulate(
    config: &PipelineConfig,
    nodes: u32,
    seed: u64,
    rate: Option<f64>,
    rounds: u64,
    shutdown: &Shutdown,
) -> anyhow::Result<ProduceSummary> {
    let sim = SimConfig {
        nodes,
        seed,
        ..SimConfig::default()
    };
    let simulator = Simulator::new(sim)?.with_max_rounds(rounds);
    let mut options = ProduceOptions::new(config.topics.raw.clone());
    options.rate = rate;
    let summary = produce(
        &config.kafka.client(),
        &options,
        futures::stream::iter(simulator),
        shutdown.receiver(),
    )
    .await?;
    summary.ensure_delivered()?;
    Ok(summary)
}

/// The fleet overview queried from ClickHouse.
///
/// # Errors
/// When ClickHouse cannot be reached or the tables do not exist.
pub async fn summary(clickhouse: &ClickHouseConfig) -> anyhow::Result<Summary> {
    let ch = ClickHouse::connect(clickhouse).await?;
    Ok(fleet_summary(&ch.client(), ch.database()).await?)
}

/// Runs normalizer, twin processor and sink in one process until `shutdown`; if one stage
/// fails, the others are stopped and the first error is returned.
///
/// # Errors
/// The first stage error.
pub async fn run_all(
    config: &PipelineConfig,
    clickhouse: &ClickHouseConfig,
    shutdown: &Shutdown,
) -> anyhow::Result<()> {
    let stop_all = |result: anyhow::Result<()>| {
        if result.is_err() {
            shutdown.trigger();
        }
        result
    };
    let (normalizer, twin, sink) = tokio::join!(
        async {
            stop_all(
                run_normalizer(config, config.normalizer.clone(), shutdown)
                    .await
                    .map(drop),
            )
        },
        async { stop_all(run_twin(config, shutdown).await.map(drop)) },
        async {
            let batch = BatchConfig::default();
            stop_all(
                run_sink(config, clickhouse, batch, shutdown)
                    .await
                    .map(drop),
            )
        },
    );
    normalizer.and(twin).and(sink)
}

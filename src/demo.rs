//! The README's demo: the whole pipeline on a simulated fleet, then a summary from ClickHouse.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures::StreamExt;
use sxfleet_load_tests::{produce, ProduceOptions, Progress, SimConfig, Simulator};
use sxfleet_runtime::{KafkaConfig, Shutdown};
use sxfleet_sinks::summary::fleet_summary;
use sxfleet_sinks::{ClickHouse, ClickHouseConfig};

use crate::pipeline::{self, PipelineConfig};

/// Demo settings.
#[derive(Clone, Copy, Debug)]
pub struct DemoOptions {
    /// Simulated nodes.
    pub nodes: u32,
    /// How long the simulator sends.
    pub duration: Duration,
    /// Messages per second the simulator sends.
    pub rate: f64,
    /// Simulation seed.
    pub seed: u64,
}

/// How long the demo waits for the pipeline to land everything after the simulator stops.
const DRAIN_LIMIT: Duration = Duration::from_secs(120);

/// Runs the demo: fresh topics (prefix `demo-<unix time>-`), the pipeline in this process,
/// the simulator for `options.duration`, then waits until ClickHouse holds every accepted event
/// and prints the summary. The demo owns the database `clickhouse.database` names: it is dropped
/// and created anew at the start, so the summary covers this run only.
///
/// # Errors
/// When a service is unreachable or the pipeline does not land the events in time.
pub async fn run_demo(
    kafka: &str,
    clickhouse: &ClickHouseConfig,
    options: DemoOptions,
    shutdown: &Shutdown,
) -> anyhow::Result<()> {
    let ch = ClickHouse::connect(clickhouse)
        .await
        .context("ClickHouse is not reachable (start it with dev/services up)")?;
    ch.server_client()
        .query(&format!("DROP DATABASE IF EXISTS {}", ch.database()))
        .execute()
        .await
        .context("dropping the demo database")?;
    sxfleet_sinks::migrate(&ch).await?;
    let run_id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let prefix = format!("demo-{run_id}-");
    let mut config = PipelineConfig::new(KafkaConfig::new(kafka), &prefix);
    config.punctuate_after = Some(Duration::from_secs(5));
    pipeline::create_topics(&config).await?;
    println!(
        "demo: {} nodes, {:.0} msg/s for {:?}; topics {}*; backend ClickHouse {} ({}), database `{}`",
        options.nodes,
        options.rate,
        options.duration,
        prefix,
        clickhouse.url,
        ch.caps(),
        ch.database()
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

    let landed = wait_until_landed(&ch, node_messages, shutdown).await;
    pipeline_stop.trigger();
    pipeline_task.await.context("pipeline task")??;
    let (events, dlq) = landed?;
    let summary = fleet_summary(&ch.client(), ch.database()).await?;
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "\nsent {} raw messages ({:.0}/s); landed {} events and {} DLQ records in ClickHouse; {:.1} s end to end\n",
        sent.sent, sent.events_per_sec, events, dlq, elapsed
    );
    println!("{summary}");
    Ok(())
}

/// Waits until `events + dlq` rows in ClickHouse cover at least `expected` node messages and
/// then stop growing (replay chunks carry older events, so a node message can land as several
/// events; the count settles once the pipeline has drained).
async fn wait_until_landed(
    ch: &ClickHouse,
    expected: u64,
    shutdown: &Shutdown,
) -> anyhow::Result<(u64, u64)> {
    let deadline = Instant::now() + DRAIN_LIMIT;
    let mut previous = None;
    loop {
        let client = ch.client();
        let events: u64 = client
            .query("SELECT count() FROM events")
            .fetch_one()
            .await?;
        let dlq: u64 = client.query("SELECT count() FROM dlq").fetch_one().await?;
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

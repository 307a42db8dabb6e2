//! Stage throughput against a real broker, next to a plain consumer of the same topic.
//!
//! ```text
//! cargo run --release -p sxfleet-bench --bin stage_bench -- [--events N] [--kafka ADDR] [--json]
//! ```
//! One run, on fresh topics and groups (a uuid prefix):
//! 1. produces N simulator messages to a raw topic and reads them back with a plain consumer
//!    (the baseline for the raw topic);
//! 2. runs the normalizer (exactly-once) over the raw topic until its group has committed
//!    everything;
//! 3. reads the normalized events topic with a plain consumer (the baseline for events);
//! 4. runs a trivial counting projection, then the twin projection, over the events topic.
//!
//! Each row gives events/s (wall), CPU seconds of this process, events per CPU second and both
//! as a ratio to the baseline on the same input. Nothing here asserts a timing.

use std::time::Duration;

use anyhow::{bail, Context};
use clap::Parser;
use sxfleet_bench::{
    consume_all, run_until_consumed, ConsumeOutcome, CountingStage, CpuClock, Measurement, Report,
    StageOutcome,
};
use sxfleet_ingest::{NormalizerConfig, NormalizerStage};
use sxfleet_processors::TwinStage;
use sxfleet_runtime::driver::{InputOrder, DEFAULT_MAX_TASK_IDLE};
use sxfleet_runtime::keyed::KeyedStage;
use sxfleet_runtime::topics::ensure_topics;
use sxfleet_runtime::{KafkaConfig, Shutdown, Stage, StageRunConfig, Topics};
use sxfleet_simulator::{
    messages_for_rounds, produce, ProduceOptions, Progress, RawMessage, SimConfig,
};

/// The most a stage may take to consume its input before the run gives up.
const STAGE_LIMIT: Duration = Duration::from_secs(600);

const NOTE: &str = "the Kafka broker runs on the same machine and shares its cores; `cpu s` \
                    is this process only (stage + librdkafka threads), `brk cpu` the broker's \
                    (with --broker-pid); wall time of a stage includes its start-up";

/// Stage throughput benchmark against a real Kafka broker.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Raw messages to produce and push through the stages.
    #[arg(long, default_value_t = 200_000)]
    events: u64,
    /// Kafka bootstrap servers.
    #[arg(long, env = "SXFLEET_KAFKA", default_value = "127.0.0.1:9092")]
    kafka: String,
    /// Simulated fleet size (messages are spread over this many node ids).
    #[arg(long, default_value_t = 1_000)]
    nodes: u32,
    /// Partitions of every topic the run creates.
    #[arg(long, default_value_t = 4)]
    partitions: i32,
    /// Pid of the broker (see `dev/services status`): also report the broker's CPU seconds.
    #[arg(long)]
    broker_pid: Option<u32>,
    /// Print the figures as one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    sxfleet_bench::init_tracing();
    let args = Args::parse();
    if args.events == 0 || args.nodes == 0 || args.partitions < 1 {
        bail!("--events, --nodes and --partitions must be positive");
    }
    let date = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .context("formatting the date")?;
    let kafka = KafkaConfig::new(&args.kafka);
    let clock = CpuClock::new(args.broker_pid);
    clock.now().context("reading CPU time")?;
    let prefix = format!("bench-{}-", uuid::Uuid::new_v4().simple());
    let topics = Topics::with_prefix(&prefix);
    let app = |stage: &str| format!("{prefix}{stage}");

    let mut specs = topics.specs(args.partitions);
    let partitions = args.partitions;
    specs.extend(CountingStage::changelogs(
        &topics,
        &app("counting"),
        partitions,
    ));
    specs.extend(TwinStage::changelogs(&topics, &app("twin"), partitions));
    specs.extend(NormalizerStage::changelogs(
        &topics,
        &app("normalizer"),
        partitions,
    ));
    ensure_topics(&kafka, &specs)
        .await
        .context("creating the run's topics")?;

    let messages = raw_messages(args.nodes, args.events)?;
    progress(&format!(
        "producing {} raw messages to {}",
        messages.len(),
        topics.raw
    ));
    let options = ProduceOptions {
        progress: Progress::Hidden,
        ..ProduceOptions::new(&topics.raw)
    };
    let produced = produce(
        &kafka.client(),
        &options,
        futures::stream::iter(messages),
        Shutdown::new().receiver(),
    )
    .await?;
    produced.ensure_delivered()?;

    let mut measurements = Vec::new();

    progress("baseline: plain consumer on the raw topic");
    let raw = baseline(&kafka, &topics.raw, clock).await?;
    if raw.records != args.events {
        bail!(
            "read {} records back from {}, expected {}",
            raw.records,
            topics.raw,
            args.events
        );
    }
    let raw_base = consumed("raw consume", "raw", &raw);
    measurements.push(raw_base.clone());

    progress("normalizer (exactly-once) on the raw topic");
    let normalizer = NormalizerStage::new(
        &app("normalizer"),
        NormalizerConfig::default(),
        topics.clone(),
        args.partitions,
    );
    let mut run = stage_run(&kafka, &app("normalizer"), &topics.raw);
    // As `sxfleet normalize` runs it: its raw partitions merged by event time.
    run.input_order = InputOrder::EventTime {
        max_idle: DEFAULT_MAX_TASK_IDLE,
    };
    let outcome = run_until_consumed(
        run,
        Box::new(normalizer),
        &topics.raw,
        &raw,
        STAGE_LIMIT,
        clock,
    )
    .await?;
    measurements.push(processed("normalizer", "raw", &outcome, &raw_base));

    progress("baseline: plain consumer on the events topic");
    let events = baseline(&kafka, &topics.events, clock).await?;
    let events_base = consumed("raw consume", "events", &events);
    measurements.push(events_base.clone());

    let projections: [(&str, Box<dyn Stage>); 2] = [
        (
            "trivial projection",
            Box::new(CountingStage::new(&topics, &app("counting"))),
        ),
        (
            "twin projection",
            Box::new(TwinStage::new(&app("twin"), topics.clone())),
        ),
    ];
    for (name, stage) in projections {
        progress(&format!("{name} (exactly-once) on the events topic"));
        let run = stage_run(&kafka, &app(stage.name()), &topics.events);
        let outcome =
            run_until_consumed(run, stage, &topics.events, &events, STAGE_LIMIT, clock).await?;
        measurements.push(processed(name, "events", &outcome, &events_base));
    }

    let report = Report {
        date,
        build: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
        .to_owned(),
        cores: std::thread::available_parallelism().map_or(0, usize::from),
        kafka: args.kafka,
        note: NOTE.to_owned(),
        events: args.events,
        produce_events_per_s: produced.events_per_sec,
        measurements,
    };
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", report.table());
    }
    Ok(())
}

/// Exactly `events` simulator messages for a fleet of `nodes`.
fn raw_messages(nodes: u32, events: u64) -> anyhow::Result<Vec<RawMessage>> {
    let config = SimConfig {
        nodes,
        ..SimConfig::default()
    };
    let mut rounds = events.div_ceil(u64::from(nodes)) + 1;
    loop {
        let mut messages = messages_for_rounds(&config, rounds)?;
        if messages.len() as u64 >= events {
            messages.truncate(usize::try_from(events)?);
            return Ok(messages);
        }
        rounds *= 2;
    }
}

/// The stage's run settings: the driver's defaults (exactly-once, batches of 5,000 / 50 ms).
fn stage_run(kafka: &KafkaConfig, group: &str, input: &str) -> StageRunConfig {
    StageRunConfig::new(kafka.clone(), group, vec![input.to_owned()])
}

async fn baseline(
    kafka: &KafkaConfig,
    topic: &str,
    clock: CpuClock,
) -> anyhow::Result<ConsumeOutcome> {
    let (kafka, topic) = (kafka.clone(), topic.to_owned());
    tokio::task::spawn_blocking(move || consume_all(&kafka, &topic, clock)).await?
}

fn consumed(name: &str, input: &str, outcome: &ConsumeOutcome) -> Measurement {
    Measurement::new(
        name,
        input,
        outcome.records,
        outcome.wall,
        outcome.cpu,
        None,
    )
}

fn processed(name: &str, input: &str, outcome: &StageOutcome, base: &Measurement) -> Measurement {
    if outcome.stats.records_in != base.records {
        tracing::warn!(
            stage = name,
            records_in = outcome.stats.records_in,
            expected = base.records,
            "the stage processed a different number of records than its input holds"
        );
    }
    let mut measurement = Measurement::new(
        name,
        input,
        outcome.stats.records_in,
        outcome.wall,
        outcome.cpu,
        Some(base),
    );
    measurement.records_out = Some(outcome.stats.records_out);
    measurement.batches = Some(outcome.stats.batches);
    if let Some((at, done)) = outcome.first_commit {
        measurement.first_commit_s = Some(at.as_secs_f64());
        let rest = outcome.wall.saturating_sub(at).as_secs_f64();
        if rest > 0.0 {
            let records = outcome.stats.records_in.saturating_sub(done);
            measurement.steady_events_per_s = Some(records as f64 / rest);
        }
    }
    measurement
}

fn progress(step: &str) {
    eprintln!("stage_bench: {step}");
}

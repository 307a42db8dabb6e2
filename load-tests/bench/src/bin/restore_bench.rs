//! Restore benchmark: how fast a stage's state comes back from its compacted changelog alone,
//! and from local snapshots plus the changelog's tail, against a real Kafka broker.
//!
//! One run: fill a fresh 4-partition compacted changelog with `--keys` count records
//! (`CountingStage`'s format, partition by key hash), restore it fully, snapshot every partition, append `--tail-pct`
//! % updates of existing keys, then restore the whole changelog again and, separately,
//! snapshot + tail, and check that both end with the same state.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, ensure, Context};
use clap::Parser;
use sxfleet_bench::restore_report::{
    broker_cpu, ratio, Pass, RestoreReport, SnapshotTailPass, PARTITIONS,
};
use sxfleet_bench::{
    produce_changelog, restore_partitions, ChangelogRecord, CountingStage, CpuClock, RestorePass,
    SnapshotTimed,
};
use sxfleet_runtime::keyed::KeyedStage;
use sxfleet_runtime::restore::SnapshotPolicy;
use sxfleet_runtime::topics::ensure_topics;
use sxfleet_runtime::{KafkaConfig, Stage, Topics};

/// Application id of the restored counting stage: its changelog is
/// `bench-<run>-restore-counts-changelog`.
const APP_ID: &str = "restore";

/// Sends awaiting delivery at once while filling the changelog (as `produce`'s default).
const MAX_IN_FLIGHT: usize = 4096;

/// Snapshots younger than this are used; the run's snapshots are seconds old.
const SNAPSHOT_MAX_AGE: Duration = Duration::from_secs(3600);

const NOTE: &str = "the Kafka broker runs on the same machine and shares its cores; `cpu s` is \
                    this process only (stage + librdkafka threads); partitions are restored \
                    one after the other";

/// Restore benchmark against a real Kafka broker.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Keys in the changelog (one record each before the tail).
    #[arg(long, default_value_t = 1_000_000)]
    keys: u64,
    /// Updates of existing keys appended after the snapshots, in % of `--keys`.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(0..=100))]
    tail_pct: u64,
    /// Kafka bootstrap servers.
    #[arg(long, env = "SXFLEET_KAFKA", default_value = "127.0.0.1:9092")]
    kafka: String,
    /// Extra librdkafka property of the restore consumers, `KEY=VALUE` (repeatable), e.g.
    /// `fetch.queue.backoff.ms=10`.
    #[arg(long = "restore-property", value_parser = parse_property)]
    restore_properties: Vec<(String, String)>,
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
    if args.keys == 0 {
        bail!("--keys must be positive");
    }
    let date = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .context("formatting the date")?;
    let kafka = KafkaConfig::new(&args.kafka);
    let clock = CpuClock::new(args.broker_pid);
    clock.now().context("reading CPU time")?;
    let run = uuid::Uuid::new_v4().simple().to_string();
    let topics = Topics::with_prefix(&format!("bench-{run}-"));
    let dir = std::env::temp_dir().join(format!("restore-bench-{run}"));
    let result = bench(&args, &kafka, clock, &topics, &dir, date).await;
    if let Err(error) = std::fs::remove_dir_all(&dir) {
        if error.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(dir = %dir.display(), %error, "cannot remove the snapshot folder");
        }
    }
    let report = result?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", report.table());
    }
    Ok(())
}

async fn bench(
    args: &Args,
    kafka: &KafkaConfig,
    clock: CpuClock,
    topics: &Topics,
    dir: &Path,
    date: String,
) -> anyhow::Result<RestoreReport> {
    let changelogs = CountingStage::changelogs(topics, APP_ID, PARTITIONS);
    let topic = &changelogs
        .first()
        .context("the counting stage declares no changelog")?
        .name;
    ensure_topics(kafka, &changelogs)
        .await
        .context("creating the changelog")?;

    progress(&format!("producing {} records to {topic}", args.keys));
    let produced = produce_changelog(
        kafka,
        topic,
        (0..args.keys).map(|i| record(i, initial_count(i))),
        MAX_IN_FLIGHT,
    )
    .await?;
    ensure!(
        produced.records == args.keys,
        "not every record was acknowledged"
    );

    let mut restoring = kafka.clone();
    restoring
        .properties
        .extend(args.restore_properties.iter().cloned());
    let restoring = &restoring;

    progress("full restore");
    let (stage, full) = restore_into(restoring, topics, topic, None, clock).await?;
    ensure!(
        full.from_changelog() == args.keys,
        "full restore read {} records, expected {}",
        full.from_changelog(),
        args.keys
    );

    progress("writing snapshots");
    let (snapshot_write, snapshot_bytes) = save_snapshots(&stage, &full, dir)?;
    drop(stage);

    let tail = tail_keys(args.keys, args.tail_pct);
    progress(&format!("producing {} updates (the tail)", tail.len()));
    let tail_produced = produce_changelog(
        kafka,
        topic,
        tail.iter().map(|&i| record(i, initial_count(i) + 1)),
        MAX_IN_FLIGHT,
    )
    .await?;
    let tail_records = tail_produced.records;

    progress("full restore after the tail");
    let (full_stage, full_after) = restore_into(restoring, topics, topic, None, clock).await?;
    progress("snapshot + tail restore");
    let policy = OwnedPolicy {
        dir: dir.to_owned(),
        now_ms: wall_clock_ms()?,
    };
    let (snap_stage, snap) = restore_into(restoring, topics, topic, Some(policy), clock).await?;

    ensure!(
        full_after.from_changelog() == args.keys + tail_records,
        "full restore after the tail read {} records, expected {}",
        full_after.from_changelog(),
        args.keys + tail_records
    );
    ensure!(
        snap.from_snapshot() == args.keys && snap.from_changelog() == tail_records,
        "snapshot + tail restore loaded {} entries and {} tail records, expected {} and {}",
        snap.from_snapshot(),
        snap.from_changelog(),
        args.keys,
        tail_records
    );
    same_state(&full_stage.inner, &snap_stage.inner, args.keys, &tail)?;
    progress("both restores hold the same state (keys and counts of every partition)");

    let snapshot_load = snap_stage.loading;
    let snap_entries = snap.from_snapshot() + snap.from_changelog();
    let speed_up = ratio(full_after.wall.as_secs_f64(), snap.wall.as_secs_f64());
    Ok(RestoreReport {
        date,
        build: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
        .to_owned(),
        cores: std::thread::available_parallelism().map_or(0, usize::from),
        kafka: args.kafka.clone(),
        restore_properties: args
            .restore_properties
            .iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect(),
        note: NOTE.to_owned(),
        topic: topic.to_owned(),
        keys: args.keys,
        avg_key_bytes: ratio(produced.key_bytes as f64, produced.records as f64),
        avg_value_bytes: ratio(produced.value_bytes as f64, produced.records as f64),
        produce_records_per_s: ratio(produced.records as f64, produced.wall.as_secs_f64()),
        full: Pass::of(&full),
        snapshot_write_s: snapshot_write.as_secs_f64(),
        snapshot_bytes,
        tail_records,
        full_after_tail: Pass::of(&full_after),
        snapshot_tail: SnapshotTailPass {
            snapshot_entries: snap.from_snapshot(),
            snapshot_load_s: snapshot_load.as_secs_f64(),
            tail_records: snap.from_changelog(),
            tail_s: snap.wall.saturating_sub(snapshot_load).as_secs_f64(),
            wall_s: snap.wall.as_secs_f64(),
            entries_per_s: ratio(snap_entries as f64, snap.wall.as_secs_f64()),
            cpu_s: snap.cpu.own.as_secs_f64(),
            broker_cpu_s: broker_cpu(&snap),
        },
        speed_up,
    })
}

/// The changelog record of key `i` holding `count`, in the partition its key hashes to.
fn record(i: u64, count: u64) -> ChangelogRecord {
    let key = key(i);
    ChangelogRecord {
        partition: partition_of(&key),
        key,
        value: count.to_be_bytes().to_vec(),
    }
}

/// A key's partition: FNV-1a of its bytes modulo [`PARTITIONS`]. A hash rather than `i % 4`
/// so the evenly spaced tail keys still spread over every partition.
fn partition_of(key: &str) -> i32 {
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    (hash % PARTITIONS as u64) as i32
}

fn key(i: u64) -> String {
    format!("node-{i:07}")
}

/// The count first written for key `i` (varied, so values are not all alike).
fn initial_count(i: u64) -> u64 {
    i % 1_000 + 1
}

/// The keys updated after the snapshots: `keys * pct / 100` of them, spread evenly.
fn tail_keys(keys: u64, pct: u64) -> Vec<u64> {
    let tail = keys * pct / 100;
    (0..tail).map(|j| j * keys / tail).collect()
}

/// [`SnapshotPolicy`] with an owned folder, to move into a blocking task.
struct OwnedPolicy {
    dir: PathBuf,
    now_ms: i64,
}

/// Restores every partition into a fresh counting stage on a blocking thread.
async fn restore_into(
    kafka: &KafkaConfig,
    topics: &Topics,
    topic: &str,
    snapshots: Option<OwnedPolicy>,
    clock: CpuClock,
) -> anyhow::Result<(SnapshotTimed<CountingStage>, RestorePass)> {
    let (kafka, topics, topic) = (kafka.clone(), topics.clone(), topic.to_owned());
    tokio::task::spawn_blocking(move || {
        let mut stage = SnapshotTimed::new(CountingStage::new(&topics, APP_ID));
        let policy = snapshots.as_ref().map(|owned| SnapshotPolicy {
            dir: &owned.dir,
            max_age: SNAPSHOT_MAX_AGE,
            now_ms: owned.now_ms,
        });
        let pass = restore_partitions(&kafka, &mut stage, &topic, PARTITIONS, policy, clock)?;
        Ok((stage, pass))
    })
    .await?
}

/// Snapshots every partition at the position its restore reached; returns the time taken and
/// the bytes written.
fn save_snapshots(
    stage: &SnapshotTimed<CountingStage>,
    pass: &RestorePass,
    dir: &Path,
) -> anyhow::Result<(Duration, u64)> {
    let now_ms = wall_clock_ms()?;
    let start = std::time::Instant::now();
    for (partition, restored) in &pass.partitions {
        stage
            .save_snapshot(dir, *partition, restored.position, now_ms)
            .with_context(|| format!("snapshot of partition {partition}"))?;
    }
    let took = start.elapsed();
    let mut bytes = 0;
    for (partition, _) in &pass.partitions {
        let changelog = stage.changelog().unwrap_or_default();
        let file = sxfleet_runtime::snapshot::path(dir, changelog, *partition);
        bytes += std::fs::metadata(&file)
            .with_context(|| format!("size of {}", file.display()))?
            .len();
    }
    Ok((took, bytes))
}

/// Fails unless both stages hold the same keys and counts in every partition, and those are
/// what was written: every key once, the tail's keys one count higher.
fn same_state(
    full: &CountingStage,
    snap: &CountingStage,
    keys: u64,
    tail: &[u64],
) -> anyhow::Result<()> {
    let mut total = 0u64;
    let mut sum = 0u64;
    for partition in 0..PARTITIONS {
        let (a, b) = (full.counts(partition), snap.counts(partition));
        if a.len() != b.len() {
            bail!(
                "partition {partition}: the full restore holds {} keys, snapshot + tail {}",
                a.len(),
                b.len()
            );
        }
        if let Some(((key, x), (_, y))) = a.iter().zip(&b).find(|(x, y)| x != y) {
            bail!(
                "partition {partition}: key {} is {x} after the full restore, {y} after \
                 snapshot + tail",
                String::from_utf8_lossy(key)
            );
        }
        total += a.len() as u64;
        sum += a.iter().map(|(_, count)| count).sum::<u64>();
    }
    let expected_sum = (0..keys).map(initial_count).sum::<u64>() + tail.len() as u64;
    if total != keys || sum != expected_sum {
        bail!("restored {total} keys with counts summing to {sum}, expected {keys} and {expected_sum}");
    }
    Ok(())
}

fn wall_clock_ms() -> anyhow::Result<i64> {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("system clock before 1970")?;
    Ok(i64::try_from(since.as_millis())?)
}

fn parse_property(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got {text:?}")),
    }
}

fn progress(step: &str) {
    eprintln!("restore_bench: {step}");
}

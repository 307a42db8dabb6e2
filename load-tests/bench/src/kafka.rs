//! Against the broker: the plain-consumer baseline, and running a real stage until its
//! consumer group has committed everything in its input.
//!
//! Benchmark glue, so errors are `anyhow` with context rather than a typed enum.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::{ClientContext, Message, Offset, TopicPartitionList};
use sxfleet_runtime::driver::StageStats;
use sxfleet_runtime::{run_stage, KafkaConfig, Shutdown, Stage, StageRunConfig};
use tracing::{debug, error};

use super::cpu::{CpuClock, CpuTime};

/// How long the baseline consumer may see nothing before it gives up.
const CONSUME_IDLE: Duration = Duration::from_secs(30);

/// How often [`run_until_consumed`] asks for the group's committed offsets.
const POLL_COMMITTED: Duration = Duration::from_millis(50);

/// The baseline consumer's context: like the default one, except that the end-of-partition
/// events it asks for are not logged as errors.
struct QuietEof;

impl ClientContext for QuietEof {
    fn error(&self, error: KafkaError, reason: &str) {
        let end_of_partition = matches!(
            error,
            KafkaError::PartitionEOF(_) | KafkaError::Global(RDKafkaErrorCode::PartitionEOF)
        );
        if !end_of_partition {
            error!(%error, reason, "librdkafka error");
        }
    }
}

impl ConsumerContext for QuietEof {}

/// What the plain consumer read.
#[derive(Clone, Debug)]
pub struct ConsumeOutcome {
    /// Records read (committed data only: the consumer reads `read_committed`, like the stages).
    pub records: u64,
    /// Payload bytes read.
    pub bytes: u64,
    /// From `assign` until the end of the last partition.
    pub wall: Duration,
    /// CPU time meanwhile.
    pub cpu: CpuTime,
    /// Per partition, the offsets of its records in order. The offset after the last one is
    /// where a consumer group that processed everything has committed (in a transactional
    /// topic that is below the high watermark, which also counts the commit markers).
    pub offsets: BTreeMap<i32, Vec<i64>>,
}

impl ConsumeOutcome {
    /// Per partition with records, the offset after its last record.
    pub fn ends(&self) -> BTreeMap<i32, i64> {
        self.offsets
            .iter()
            .filter_map(|(partition, offsets)| Some((*partition, offsets.last()? + 1)))
            .collect()
    }

    /// How many records lie below the `committed` offsets.
    fn records_before(&self, committed: &TopicPartitionList) -> u64 {
        committed
            .elements()
            .iter()
            .filter_map(|element| match element.offset() {
                Offset::Offset(at) => self
                    .offsets
                    .get(&element.partition())
                    .map(|offsets| offsets.partition_point(|offset| *offset < at) as u64),
                _ => None,
            })
            .sum()
    }
}

/// Reads every record of `topic` with a plain `BaseConsumer` (no group membership: its
/// partitions are assigned from the beginning) as fast as it can, until each partition
/// reports its end. Blocking: call it from `spawn_blocking`.
///
/// # Errors
/// When the topic has no metadata, the consumer fails, or nothing arrives for 30 s.
pub fn consume_all(
    kafka: &KafkaConfig,
    topic: &str,
    clock: CpuClock,
) -> anyhow::Result<ConsumeOutcome> {
    let group = format!("bench-baseline-{}", uuid::Uuid::new_v4());
    let consumer: BaseConsumer<QuietEof> = kafka
        .consumer(&group)
        .set("enable.partition.eof", "true")
        // The end of a partition is only reported once a fetch comes back empty, which the
        // broker holds for up to `fetch.wait.max.ms` (500 ms by default): keep that short so
        // the baseline's wall time is the reading, not the final wait.
        .set("fetch.wait.max.ms", "10")
        .create_with_context(QuietEof)
        .context("creating the baseline consumer")?;
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .with_context(|| format!("metadata of {topic}"))?;
    let partitions: Vec<i32> = metadata
        .topics()
        .iter()
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    if partitions.is_empty() {
        bail!("topic {topic} has no partitions");
    }
    let mut assignment = TopicPartitionList::new();
    for partition in &partitions {
        assignment.add_partition_offset(topic, *partition, Offset::Beginning)?;
    }

    let cpu_before = clock.now()?;
    let start = Instant::now();
    consumer
        .assign(&assignment)
        .context("assigning partitions")?;
    let mut at_end = BTreeSet::new();
    let mut offsets: BTreeMap<i32, Vec<i64>> = BTreeMap::new();
    let (mut records, mut bytes) = (0u64, 0u64);
    while at_end.len() < partitions.len() {
        match consumer.poll(CONSUME_IDLE) {
            None => bail!("nothing from {topic} for {CONSUME_IDLE:?} after {records} records"),
            Some(Ok(message)) => {
                records += 1;
                bytes += message.payload_len() as u64;
                offsets
                    .entry(message.partition())
                    .or_default()
                    .push(message.offset());
                at_end.remove(&message.partition());
            }
            Some(Err(KafkaError::PartitionEOF(partition))) => {
                at_end.insert(partition);
            }
            Some(Err(error)) => return Err(error).context("consuming"),
        }
    }
    let wall = start.elapsed();
    let cpu = clock.now()?.since(&cpu_before);
    Ok(ConsumeOutcome {
        records,
        bytes,
        wall,
        cpu,
        offsets,
    })
}

/// What a stage run did until it had consumed its input.
#[derive(Clone, Debug)]
pub struct StageOutcome {
    /// The driver's counters (after shutdown).
    pub stats: StageStats,
    /// From starting the stage (group join, transactions init and restore included) until its
    /// group's committed offsets reached the end of its input.
    pub wall: Duration,
    /// From starting the stage until its group's first committed offset was seen (50 ms
    /// resolution), and how many input records that commit covered: start-up and first batch.
    pub first_commit: Option<(Duration, u64)>,
    /// CPU time meanwhile.
    pub cpu: CpuTime,
}

/// Runs `stage` with `config` until the committed offsets of its consumer group on `topic`
/// reach the end of what [`consume_all`] read there (`input`), then shuts it down and returns
/// its stats.
///
/// The stage runs on the calling task, as in production; a blocking thread watches the
/// group's committed offsets, so the watcher's fetches never hold up the stage's loop.
///
/// # Errors
/// When the stage stops on its own (an internal error, or before the end), or does not get
/// there within `limit`.
pub async fn run_until_consumed(
    config: StageRunConfig,
    mut stage: Box<dyn Stage>,
    topic: &str,
    input: &ConsumeOutcome,
    limit: Duration,
    clock: CpuClock,
) -> anyhow::Result<StageOutcome> {
    // Same group id, never subscribed: it only reads the group's committed offsets.
    let watcher: BaseConsumer = config
        .kafka
        .consumer(&config.group)
        .create()
        .context("creating the offset watcher")?;
    let name = stage.name();
    let shutdown = Shutdown::new();

    let cpu_before = clock.now()?;
    let start = Instant::now();
    let watch = {
        let (input, topic, shutdown) = (input.clone(), topic.to_owned(), shutdown.clone());
        tokio::task::spawn_blocking(move || {
            let watch = Watch {
                watcher: &watcher,
                topic: &topic,
                input: &input,
                start,
                limit,
                clock,
            };
            let reached = watch.until_consumed(&shutdown);
            // Stops the stage: at the end of its input, or because the watch gave up.
            shutdown.trigger();
            reached
        })
    };
    let result = run_stage(&config, stage.as_mut(), &shutdown).await;
    // Stops the watcher when the stage ended on its own.
    shutdown.trigger();
    let reached = watch.await.context("offset watcher")?;
    let stats = result.with_context(|| format!("{name} failed"))?;
    let reached = reached.with_context(|| format!("{name} on {topic}"))?;
    Ok(StageOutcome {
        stats,
        wall: reached.wall,
        first_commit: reached.first_commit,
        cpu: reached.cpu.since(&cpu_before),
    })
}

/// The offset watcher of [`run_until_consumed`].
struct Watch<'a> {
    watcher: &'a BaseConsumer,
    topic: &'a str,
    input: &'a ConsumeOutcome,
    start: Instant,
    limit: Duration,
    clock: CpuClock,
}

/// When and at what CPU time the stage reached the end of its input.
struct Reached {
    wall: Duration,
    first_commit: Option<(Duration, u64)>,
    cpu: CpuTime,
}

impl Watch<'_> {
    /// Polls the committed offsets until they reach the end of the input. Blocking.
    fn until_consumed(&self, shutdown: &Shutdown) -> anyhow::Result<Reached> {
        let ends = self.input.ends();
        let mut partitions = TopicPartitionList::new();
        for partition in ends.keys() {
            partitions.add_partition(self.topic, *partition);
        }
        let mut first_commit = None;
        loop {
            std::thread::sleep(POLL_COMMITTED);
            if shutdown.is_triggered() {
                bail!("the stage stopped before the end of its input");
            }
            match self
                .watcher
                .committed_offsets(partitions.clone(), Duration::from_secs(5))
            {
                Ok(committed) => {
                    let done = self.input.records_before(&committed);
                    if first_commit.is_none() && done > 0 {
                        first_commit = Some((self.start.elapsed(), done));
                    }
                    if reached(&committed, &ends) {
                        return Ok(Reached {
                            wall: self.start.elapsed(),
                            first_commit,
                            cpu: self.clock.now()?,
                        });
                    }
                }
                // Pending transactional offsets can make the fetch time out; ask again.
                Err(error) => debug!(%error, "committed offsets not available yet"),
            }
            if self.start.elapsed() > self.limit {
                bail!("not consumed within {:?}", self.limit);
            }
        }
    }
}

/// True when every partition in `ends` has a committed offset at or past its end.
fn reached(committed: &TopicPartitionList, ends: &BTreeMap<i32, i64>) -> bool {
    ends.iter().all(|(partition, end)| {
        committed.elements().iter().any(|element| {
            element.partition() == *partition
                && matches!(element.offset(), Offset::Offset(at) if at >= *end)
        })
    })
}

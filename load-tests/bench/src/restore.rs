//! Pieces of the restore benchmark (`restore_bench`): filling a changelog topic directly,
//! restoring every partition of it into a stage, and timing the snapshot loads inside a
//! restore.
//!
//! Benchmark glue, so errors are `anyhow` with context rather than a typed enum.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures::stream::FuturesUnordered;
use futures::StreamExt;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::future_producer::DeliveryFuture;
use rdkafka::producer::{FutureProducer, FutureRecord};
use sxfleet_runtime::restore::{restore, Restored, SnapshotPolicy};
use sxfleet_runtime::stage::{InternalError, SnapshotError, SnapshotInfo};
use sxfleet_runtime::{Input, KafkaConfig, Output, Stage};

use super::cpu::{CpuClock, CpuTime};
use sxfleet_simulator::producer_config;

/// One record written straight to a changelog partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangelogRecord {
    /// The changelog partition (equal to the input partition of the key).
    pub partition: i32,
    /// The store key.
    pub key: String,
    /// The encoded value.
    pub value: Vec<u8>,
}

/// What [`produce_changelog`] wrote.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Produced {
    /// Records acknowledged by the broker.
    pub records: u64,
    /// Key bytes written.
    pub key_bytes: u64,
    /// Value bytes written.
    pub value_bytes: u64,
    /// From the first send until the last acknowledgement.
    pub wall: Duration,
}

/// Writes `records` to `topic` with an idempotent producer (`acks=all`), each to its explicit
/// partition, with at most `max_in_flight` sends awaiting delivery.
///
/// # Errors
/// When the producer cannot be created, `max_in_flight` is zero, or any record is not
/// delivered.
pub async fn produce_changelog(
    kafka: &KafkaConfig,
    topic: &str,
    records: impl IntoIterator<Item = ChangelogRecord>,
    max_in_flight: usize,
) -> anyhow::Result<Produced> {
    if max_in_flight == 0 {
        bail!("max_in_flight must be at least 1");
    }
    let producer: FutureProducer = producer_config(&kafka.client())
        .create()
        .context("creating the changelog producer")?;
    let start = Instant::now();
    let mut in_flight: FuturesUnordered<DeliveryFuture> = FuturesUnordered::new();
    let mut produced = Produced {
        records: 0,
        key_bytes: 0,
        value_bytes: 0,
        wall: Duration::ZERO,
    };
    for record in records {
        while in_flight.len() >= max_in_flight {
            settle(&mut in_flight, &mut produced).await?;
        }
        loop {
            let send = FutureRecord::to(topic)
                .partition(record.partition)
                .key(record.key.as_bytes())
                .payload(&record.value);
            match producer.send_result(send) {
                Ok(delivery) => {
                    in_flight.push(delivery);
                    break;
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    if in_flight.is_empty() {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    } else {
                        settle(&mut in_flight, &mut produced).await?;
                    }
                }
                Err((error, _)) => {
                    return Err(error).with_context(|| format!("enqueueing {}", record.key))
                }
            }
        }
        produced.key_bytes += record.key.len() as u64;
        produced.value_bytes += record.value.len() as u64;
    }
    while !in_flight.is_empty() {
        settle(&mut in_flight, &mut produced).await?;
    }
    produced.wall = start.elapsed();
    Ok(produced)
}

/// Waits for one delivery report; a failed delivery fails the whole run.
async fn settle(
    in_flight: &mut FuturesUnordered<DeliveryFuture>,
    produced: &mut Produced,
) -> anyhow::Result<()> {
    match in_flight.next().await {
        Some(Ok(Ok(_))) => {
            produced.records += 1;
            Ok(())
        }
        Some(Ok(Err((error, _)))) => Err(error).context("changelog record not delivered"),
        Some(Err(_)) => bail!("delivery report lost: the producer was dropped"),
        None => Ok(()),
    }
}

/// One restore of every partition of a changelog.
#[derive(Clone, Debug)]
pub struct RestorePass {
    /// What [`restore`] returned, per partition in order.
    pub partitions: Vec<(i32, Restored)>,
    /// From the first partition's restore until the last one's end (partitions one after the
    /// other, as one driver restores what it is assigned).
    pub wall: Duration,
    /// CPU time meanwhile.
    pub cpu: CpuTime,
}

impl RestorePass {
    /// Entries loaded from snapshots, over all partitions.
    pub fn from_snapshot(&self) -> u64 {
        self.partitions.iter().map(|(_, r)| r.from_snapshot).sum()
    }

    /// Changelog records replayed, over all partitions.
    pub fn from_changelog(&self) -> u64 {
        self.partitions.iter().map(|(_, r)| r.from_changelog).sum()
    }
}

/// Restores partitions `0..partitions` of `topic` into `stage` one after the other, with
/// `snapshots` when given. Blocking: call it from `spawn_blocking`.
///
/// # Errors
/// When a restore fails or the CPU time cannot be read.
pub fn restore_partitions(
    kafka: &KafkaConfig,
    stage: &mut dyn Stage,
    topic: &str,
    partitions: i32,
    snapshots: Option<SnapshotPolicy<'_>>,
    clock: CpuClock,
) -> anyhow::Result<RestorePass> {
    let cpu_before = clock.now()?;
    let start = Instant::now();
    let mut restored = Vec::new();
    for partition in 0..partitions {
        let result = restore(kafka, stage, topic, partition, snapshots)
            .with_context(|| format!("restoring {topic}[{partition}]"))?;
        restored.push((partition, result));
    }
    let wall = start.elapsed();
    let cpu = clock.now()?.since(&cpu_before);
    Ok(RestorePass {
        partitions: restored,
        wall,
        cpu,
    })
}

/// A stage that times its snapshot loads: the share of a snapshot + tail restore spent reading
/// and decoding snapshot files. Everything else is passed through.
pub struct SnapshotTimed<S> {
    /// The stage being restored.
    pub inner: S,
    /// Time spent in [`Stage::load_snapshot`] so far.
    pub loading: Duration,
}

impl<S> SnapshotTimed<S> {
    /// Wraps `inner` with no load time counted yet.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            loading: Duration::ZERO,
        }
    }
}

impl<S: Stage> Stage for SnapshotTimed<S> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn changelog(&self) -> Option<&str> {
        self.inner.changelog()
    }

    fn restore(
        &mut self,
        partition: i32,
        key: &[u8],
        value: Option<&[u8]>,
    ) -> Result<(), InternalError> {
        self.inner.restore(partition, key, value)
    }

    fn load_snapshot(
        &mut self,
        dir: &Path,
        partition: i32,
    ) -> Result<Option<SnapshotInfo>, SnapshotError> {
        let start = Instant::now();
        let loaded = self.inner.load_snapshot(dir, partition);
        self.loading += start.elapsed();
        loaded
    }

    fn save_snapshot(
        &self,
        dir: &Path,
        partition: i32,
        next_offset: i64,
        now_ms: i64,
    ) -> Result<(), SnapshotError> {
        self.inner
            .save_snapshot(dir, partition, next_offset, now_ms)
    }

    fn revoke(&mut self, partition: i32) {
        self.inner.revoke(partition);
    }

    fn reset(&mut self) {
        self.inner.reset();
    }

    fn process(&mut self, input: &Input<'_>, out: &mut Vec<Output>) -> Result<(), InternalError> {
        self.inner.process(input, out)
    }

    fn on_tick(
        &mut self,
        partition: i32,
        tick_ms: i64,
        out: &mut Vec<Output>,
    ) -> Result<(), InternalError> {
        self.inner.on_tick(partition, tick_ms, out)
    }

    fn event_time(&self, partition: i32) -> Option<i64> {
        self.inner.event_time(partition)
    }

    fn flush(&mut self, out: &mut Vec<Output>) -> Result<(), InternalError> {
        self.inner.flush(out)
    }
}

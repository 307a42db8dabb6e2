//! Reading a stage's state back before it processes anything: a local snapshot (if usable) plus
//! the changelog's tail, or the whole changelog.

use std::path::Path;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use tracing::{info, warn};

use crate::config::KafkaConfig;
use crate::error::{error_chain, RuntimeError};
use crate::stage::Stage;
use crate::telemetry;

/// How long a restore may go without progress before it is reported as stalled. An open
/// transaction of a fenced writer holds the last stable offset back until the broker aborts it,
/// so this must exceed the transaction timeout.
const STALL_LIMIT: Duration = Duration::from_secs(90);

/// How often a long restore logs its progress.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// Where restored state came from and how much was read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Restored {
    /// Entries loaded from a local snapshot.
    pub from_snapshot: u64,
    /// Changelog records replayed.
    pub from_changelog: u64,
    /// The changelog position the state now reflects (the next offset to read).
    pub position: i64,
}

/// Snapshot settings of a restore.
#[derive(Clone, Copy, Debug)]
pub struct SnapshotPolicy<'a> {
    /// Folder of the snapshot files.
    pub dir: &'a Path,
    /// Snapshots older than this are not used (a tombstone written after the snapshot may have
    /// been compacted away from the changelog by then).
    pub max_age: Duration,
    /// Wall-clock now in epoch ms, to judge the age.
    pub now_ms: i64,
}

/// Restores `partition` of the stage's changelog `topic` into `stage`: from a usable snapshot
/// plus the changelog from the snapshot's offset, or else from the whole changelog. A missing,
/// stale or corrupt snapshot is logged and ignored, never trusted.
///
/// # Errors
/// [`RuntimeError::Kafka`] if the changelog cannot be read, [`RuntimeError::RestoreStalled`]
/// if it stops making progress, [`RuntimeError::Internal`] if a record does not decode.
pub fn restore(
    kafka: &KafkaConfig,
    stage: &mut dyn Stage,
    topic: &str,
    partition: i32,
    snapshots: Option<SnapshotPolicy<'_>>,
) -> Result<Restored, RuntimeError> {
    let consumer = restore_consumer(kafka)?;
    let (low, high) = consumer
        .fetch_watermarks(topic, partition, Duration::from_secs(10))
        .map_err(RuntimeError::kafka("fetch changelog watermarks"))?;
    let mut restored = Restored::default();
    let mut start = low;
    if let Some(policy) = snapshots {
        match stage.load_snapshot(policy.dir, partition) {
            Ok(Some(snapshot)) => {
                let age_ms = policy.now_ms.saturating_sub(snapshot.written_ms);
                let fresh =
                    u128::try_from(age_ms).is_ok_and(|age| age <= policy.max_age.as_millis());
                if (low..=high).contains(&snapshot.next_offset) && fresh {
                    restored.from_snapshot = snapshot.entries;
                    start = snapshot.next_offset;
                } else {
                    warn!(
                        topic,
                        partition,
                        snapshot_offset = snapshot.next_offset,
                        low,
                        high,
                        age_ms,
                        "snapshot is stale; restoring from the whole changelog"
                    );
                    stage.revoke(partition);
                }
            }
            Ok(None) => {}
            Err(error) => {
                warn!(topic, partition, error = %error_chain(&error), "snapshot unusable; restoring from the whole changelog");
                stage.revoke(partition);
            }
        }
    }
    let (records, position) = replay(&consumer, stage, topic, partition, start, high)?;
    restored.from_changelog = records;
    restored.position = position;
    metrics::counter!(telemetry::RESTORED_RECORDS, "store" => topic.to_owned()).increment(records);
    Ok(restored)
}

fn restore_consumer(kafka: &KafkaConfig) -> Result<BaseConsumer, RuntimeError> {
    let mut config = kafka.client();
    config
        .set("group.id", "sxfleet-restore")
        .set("enable.auto.commit", "false")
        .set("isolation.level", "read_committed")
        .set("enable.partition.eof", "false")
        // librdkafka pauses fetching for fetch.queue.backoff.ms (1 s by default) once its queue
        // is full; a restore drains the queue as fast as it fills, so that pause would be most
        // of its time (load-tests/README.md, restore_bench).
        .set("fetch.queue.backoff.ms", "10");
    config
        .create()
        .map_err(RuntimeError::kafka("create restore consumer"))
}

/// Reads committed records of `topic[partition]` from `start` until `high` into the stage.
/// Returns the records read and the position reached.
fn replay(
    consumer: &BaseConsumer,
    stage: &mut dyn Stage,
    topic: &str,
    partition: i32,
    start: i64,
    high: i64,
) -> Result<(u64, i64), RuntimeError> {
    if start >= high {
        return Ok((0, start.max(high)));
    }
    let started = Instant::now();
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset(topic, partition, Offset::Offset(start))
        .map_err(RuntimeError::kafka("assign changelog partition"))?;
    consumer
        .assign(&assignment)
        .map_err(RuntimeError::kafka("assign changelog partition"))?;

    let mut restored = 0u64;
    let mut position = start;
    let mut last_progress = Instant::now();
    let mut last_log = Instant::now();
    while position < high {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(message)) => {
                if let Some(key) = message.key() {
                    stage
                        .restore(partition, key, message.payload())
                        .map_err(|error| RuntimeError::Internal {
                            stage: stage.name(),
                            topic: topic.to_owned(),
                            partition,
                            offset: message.offset(),
                            detail: format!("unreadable changelog record: {}", error.0),
                        })?;
                    restored += 1;
                }
                position = message.offset() + 1;
                last_progress = Instant::now();
            }
            Some(Err(source)) => {
                return Err(RuntimeError::Kafka {
                    operation: "read changelog",
                    source,
                })
            }
            None => {
                // Transaction markers and aborted records advance the position without
                // yielding a message.
                if let Some(next) = consumer_position(consumer, topic, partition)? {
                    if next > position {
                        position = next;
                        last_progress = Instant::now();
                    }
                }
                if last_progress.elapsed() > STALL_LIMIT {
                    return Err(RuntimeError::RestoreStalled {
                        topic: topic.to_owned(),
                        partition,
                        position,
                        high_watermark: high,
                    });
                }
            }
        }
        if last_log.elapsed() > PROGRESS_EVERY {
            info!(topic, partition, position, high, restored, "restoring");
            metrics::gauge!(telemetry::RESTORE_REMAINING, "store" => topic.to_owned())
                .set((high - position) as f64);
            last_log = Instant::now();
        }
    }
    metrics::gauge!(telemetry::RESTORE_REMAINING, "store" => topic.to_owned()).set(0.0);
    info!(
        topic,
        partition,
        from = start,
        to = position,
        restored,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "changelog partition restored"
    );
    Ok((restored, position))
}

fn consumer_position(
    consumer: &BaseConsumer,
    topic: &str,
    partition: i32,
) -> Result<Option<i64>, RuntimeError> {
    let positions = consumer
        .position()
        .map_err(RuntimeError::kafka("read restore position"))?;
    Ok(positions
        .find_partition(topic, partition)
        .and_then(|entry| entry.offset().to_raw()))
}

//! Reading a changelog partition back into a stage.

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use tracing::info;

use crate::{KafkaConfig, RuntimeError, Stage};

/// How long a restore may go without progress before it is reported as stalled. An open
/// transaction of a fenced writer holds the last stable offset back until the broker aborts it,
/// so this must exceed the transaction timeout.
const STALL_LIMIT: Duration = Duration::from_secs(90);

/// Replays `partition` of the stage's changelog from the beginning to its current end into
/// `stage`, reading only committed records. Returns the number of records restored.
///
/// # Errors
/// [`RuntimeError::Kafka`] if the changelog cannot be read, [`RuntimeError::RestoreStalled`]
/// if it stops making progress.
pub fn restore_partition(
    kafka: &KafkaConfig,
    stage: &mut dyn Stage,
    topic: &str,
    partition: i32,
) -> Result<u64, RuntimeError> {
    let started = Instant::now();
    let mut config = kafka.client();
    config
        .set("group.id", "sxfleet-restore")
        .set("enable.auto.commit", "false")
        .set("isolation.level", "read_committed")
        .set("enable.partition.eof", "false");
    let consumer: BaseConsumer = config
        .create()
        .map_err(RuntimeError::kafka("create restore consumer"))?;
    let (low, high) = consumer
        .fetch_watermarks(topic, partition, Duration::from_secs(10))
        .map_err(RuntimeError::kafka("fetch changelog watermarks"))?;
    if high <= low {
        return Ok(0);
    }
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset(topic, partition, Offset::Beginning)
        .map_err(RuntimeError::kafka("assign changelog partition"))?;
    consumer
        .assign(&assignment)
        .map_err(RuntimeError::kafka("assign changelog partition"))?;

    let mut restored = 0u64;
    let mut position = low;
    let mut last_progress = Instant::now();
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
                if let Some(next) = consumer_position(&consumer, topic, partition)? {
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
    }
    info!(
        topic,
        partition,
        restored,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "changelog partition restored"
    );
    Ok(restored)
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

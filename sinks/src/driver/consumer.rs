//! Kafka consumer glue of the sink: the rebalance context and the synchronous commit.

use std::sync::Mutex;

use rdkafka::consumer::StreamConsumer;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError;
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use tracing::warn;

use crate::batch::Partition;

/// Commits `offsets` synchronously. librdkafka blocks the calling thread for the round trip;
/// on a multi-threaded runtime the worker is handed off first.
pub(crate) fn commit(
    consumer: &StreamConsumer<RevocationLog>,
    offsets: &[(Partition, i64)],
) -> Result<(), KafkaError> {
    let mut list = TopicPartitionList::new();
    for ((topic, partition), offset) in offsets {
        list.add_partition_offset(topic, *partition, Offset::Offset(*offset))?;
    }
    let commit = || consumer.commit(&list, CommitMode::Sync);
    match tokio::runtime::Handle::try_current().map(|handle| handle.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(commit),
        _ => commit(),
    }
}

/// Consumer context that records revoked partitions, so the loop can drop their rows between
/// polls (the callback runs inside `recv`, where no async work can happen).
#[derive(Default)]
pub(crate) struct RevocationLog {
    revoked: Mutex<Vec<Partition>>,
}

impl RevocationLog {
    /// The partitions revoked since the last call.
    pub(crate) fn take(&self) -> Vec<Partition> {
        self.revoked
            .lock()
            .map(|mut revoked| std::mem::take(&mut *revoked))
            .unwrap_or_default()
    }
}

impl ClientContext for RevocationLog {}

impl ConsumerContext for RevocationLog {
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Revoke(list) => {
                if let Ok(mut revoked) = self.revoked.lock() {
                    revoked.extend(
                        list.elements()
                            .iter()
                            .map(|e| (e.topic().to_owned(), e.partition())),
                    );
                }
            }
            Rebalance::Assign(_) => {}
            Rebalance::Error(err) => warn!(error = %err, "rebalance error"),
        }
    }
}

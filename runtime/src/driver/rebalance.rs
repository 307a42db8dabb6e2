//! Rebalance events recorded by the consumer's context, acted on between polls.

use std::sync::Mutex;

use rdkafka::consumer::{BaseConsumer, ConsumerContext, Rebalance};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::{ClientContext, TopicPartitionList};
use tracing::{error, warn};

/// Records rebalance events so the loop can act on them between polls.
#[derive(Default)]
pub(super) struct RebalanceLog {
    events: Mutex<Vec<RebalanceEvent>>,
}

pub(super) enum RebalanceEvent {
    Assigned(Vec<(String, i32)>),
    Revoked(Vec<(String, i32)>),
}

impl ClientContext for RebalanceLog {
    /// Logs client errors, except the end-of-partition events a merging session asks for
    /// (`enable.partition.eof`): librdkafka reports them here as well as to the consumer.
    fn error(&self, error: KafkaError, reason: &str) {
        let end_of_partition = matches!(
            error,
            KafkaError::PartitionEOF(_) | KafkaError::Global(RDKafkaErrorCode::PartitionEOF)
        );
        if !end_of_partition {
            error!(%error, reason, "librdkafka client error");
        }
    }
}

impl ConsumerContext for RebalanceLog {
    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let partitions = |list: &TopicPartitionList| {
            list.elements()
                .iter()
                .map(|e| (e.topic().to_owned(), e.partition()))
                .collect::<Vec<_>>()
        };
        let event = match rebalance {
            Rebalance::Assign(list) => RebalanceEvent::Assigned(partitions(list)),
            Rebalance::Revoke(list) => RebalanceEvent::Revoked(partitions(list)),
            Rebalance::Error(error) => {
                warn!(%error, "rebalance error");
                return;
            }
        };
        if let Ok(mut events) = self.events.lock() {
            events.push(event);
        }
    }
}

impl RebalanceLog {
    pub(super) fn drain(&self) -> Vec<RebalanceEvent> {
        self.events
            .lock()
            .map(|mut events| std::mem::take(&mut *events))
            .unwrap_or_default()
    }
}

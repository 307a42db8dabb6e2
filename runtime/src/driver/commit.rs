//! Committing a batch: outputs, changelog records and input offsets, in one transaction or
//! (at-least-once) acknowledged first and then committed.

use std::time::Duration;

use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{FutureRecord, Producer};
use rdkafka::TopicPartitionList;

use super::session::Session;
use crate::{Delivery, Output, RuntimeError};

impl Session<'_> {
    /// Commits a batch and records the changelog positions its records reached.
    pub(super) async fn commit(
        &mut self,
        changelog: Option<&str>,
        outputs: &[Output],
        offsets: &TopicPartitionList,
    ) -> Result<(), RuntimeError> {
        let written = self.commit_outputs(outputs, offsets).await?;
        for (output, (partition, offset)) in outputs.iter().zip(written) {
            if Some(output.topic.as_str()) == changelog {
                let position = self.changelog_position.entry(partition).or_insert(0);
                *position = (*position).max(offset + 1);
            }
        }
        Ok(())
    }

    async fn commit_outputs(
        &self,
        outputs: &[Output],
        offsets: &TopicPartitionList,
    ) -> Result<Vec<(i32, i64)>, RuntimeError> {
        match self.config.delivery {
            Delivery::ExactlyOnce => {
                self.producer
                    .begin_transaction()
                    .map_err(RuntimeError::kafka("begin transaction"))?;
                let result = self.commit_transaction(outputs, offsets).await;
                if result.is_err() {
                    let _ = tokio::task::block_in_place(|| {
                        self.producer.abort_transaction(Duration::from_secs(30))
                    });
                }
                result
            }
            Delivery::AtLeastOnce => {
                let written = self.send_all(outputs).await?;
                self.consumer
                    .commit(offsets, CommitMode::Sync)
                    .map_err(RuntimeError::kafka("commit offsets"))?;
                Ok(written)
            }
        }
    }

    async fn commit_transaction(
        &self,
        outputs: &[Output],
        offsets: &TopicPartitionList,
    ) -> Result<Vec<(i32, i64)>, RuntimeError> {
        let written = self.send_all(outputs).await?;
        let metadata = self
            .consumer
            .group_metadata()
            .ok_or(RuntimeError::NoGroupMetadata)?;
        tokio::task::block_in_place(|| {
            self.producer
                .send_offsets_to_transaction(offsets, &metadata, Duration::from_secs(30))
                .map_err(RuntimeError::kafka("send offsets to transaction"))?;
            self.producer
                .commit_transaction(Duration::from_secs(60))
                .map_err(RuntimeError::kafka("commit transaction"))
        })?;
        Ok(written)
    }

    /// Enqueues every output and waits until each is acknowledged. Returns where each one was
    /// written (partition, offset), in the order of `outputs`.
    async fn send_all(&self, outputs: &[Output]) -> Result<Vec<(i32, i64)>, RuntimeError> {
        let mut deliveries = Vec::with_capacity(outputs.len());
        for output in outputs {
            let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(&output.topic);
            if let Some(key) = &output.key {
                record = record.key(key.as_slice());
            }
            if let Some(payload) = &output.payload {
                record = record.payload(payload.as_slice());
            }
            if let Some(partition) = output.partition {
                record = record.partition(partition);
            }
            let mut pending = record;
            loop {
                match self.producer.send_result(pending) {
                    Ok(delivery) => {
                        deliveries.push(delivery);
                        break;
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        pending = back;
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    Err((source, _)) => {
                        return Err(RuntimeError::Kafka {
                            operation: "produce",
                            source,
                        })
                    }
                }
            }
        }
        let mut written = Vec::with_capacity(deliveries.len());
        for delivery in deliveries {
            match delivery.await {
                Ok(Ok(delivered)) => written.push((delivered.partition, delivered.offset)),
                Ok(Err((source, _))) => {
                    return Err(RuntimeError::Kafka {
                        operation: "deliver",
                        source,
                    })
                }
                Err(_canceled) => {
                    return Err(RuntimeError::Kafka {
                        operation: "deliver",
                        source: KafkaError::Canceled,
                    })
                }
            }
        }
        Ok(written)
    }
}

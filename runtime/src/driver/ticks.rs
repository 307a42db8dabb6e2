//! Wall-clock punctuation: tick records appended to idle input partitions.

use std::time::{Duration, Instant};

use rdkafka::error::KafkaError;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureRecord, Producer};

use super::session::Session;
use crate::tick::{TICK_HEADER, TICK_KEY};
use crate::{Delivery, RuntimeError, Stage};

impl Session<'_> {
    /// The ticks due: one for each owned partition idle for `punctuate_after`. A tick's time is
    /// the partition's event time advanced by the idle wall-clock time, so event time moves at
    /// wall speed while nothing arrives.
    pub(super) fn due_ticks(&self, stage: &dyn Stage) -> Vec<(i32, i64)> {
        let Some(after) = self.config.punctuate_after else {
            return Vec::new();
        };
        let mut ticks = Vec::new();
        for (&partition, last) in &self.last_activity {
            let idle = last.elapsed();
            if idle < after {
                continue;
            }
            if let Some(event_time) = stage.event_time(partition) {
                let idle_ms = i64::try_from(idle.as_millis()).unwrap_or(i64::MAX);
                ticks.push((partition, event_time.saturating_add(idle_ms)));
            }
        }
        ticks
    }

    /// Writes `ticks` (partition, tick time) to the first input topic, in a transaction of
    /// their own in exactly-once mode. Returns how many were written.
    pub(super) async fn emit_ticks(&mut self, ticks: Vec<(i32, i64)>) -> Result<u64, RuntimeError> {
        let Some(topic) = self.config.inputs.first().cloned() else {
            return Ok(0);
        };
        if ticks.is_empty() {
            return Ok(0);
        }
        let records: Vec<(i32, [u8; 8])> =
            ticks.iter().map(|(p, ms)| (*p, ms.to_be_bytes())).collect();
        let transactional = self.config.delivery == Delivery::ExactlyOnce;
        if transactional {
            self.producer
                .begin_transaction()
                .map_err(RuntimeError::kafka("begin transaction"))?;
        }
        let result = self.send_ticks(&topic, &records).await;
        let result = match result {
            Ok(()) if transactional => tokio::task::block_in_place(|| {
                self.producer
                    .commit_transaction(Duration::from_secs(60))
                    .map_err(RuntimeError::kafka("commit transaction"))
            }),
            other => other,
        };
        if result.is_err() && transactional {
            let _ = tokio::task::block_in_place(|| {
                self.producer.abort_transaction(Duration::from_secs(30))
            });
        }
        result?;
        for (partition, _) in &ticks {
            self.last_activity.insert(*partition, Instant::now());
        }
        Ok(ticks.len() as u64)
    }

    async fn send_ticks(
        &self,
        topic: &str,
        records: &[(i32, [u8; 8])],
    ) -> Result<(), RuntimeError> {
        let mut deliveries = Vec::with_capacity(records.len());
        for (partition, value) in records {
            let headers = OwnedHeaders::new().insert(Header {
                key: TICK_HEADER,
                value: Some(value.as_slice()),
            });
            let record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic)
                .partition(*partition)
                .key(TICK_KEY)
                .headers(headers);
            let delivery =
                self.producer
                    .send_result(record)
                    .map_err(|(source, _)| RuntimeError::Kafka {
                        operation: "produce tick",
                        source,
                    })?;
            deliveries.push(delivery);
        }
        for delivery in deliveries {
            match delivery.await {
                Ok(Ok(_)) => {}
                Ok(Err((source, _))) => {
                    return Err(RuntimeError::Kafka {
                        operation: "deliver tick",
                        source,
                    })
                }
                Err(_canceled) => {
                    return Err(RuntimeError::Kafka {
                        operation: "deliver tick",
                        source: KafkaError::Canceled,
                    })
                }
            }
        }
        Ok(())
    }
}

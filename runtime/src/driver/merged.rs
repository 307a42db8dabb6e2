//! The session's batches in event-time order: consumed records go into the [`Merge`], and a
//! batch is what the merge releases. A partition holding many records waiting for another is
//! paused, so what is held stays bounded.

use std::time::Duration;

use rdkafka::consumer::Consumer;
use rdkafka::error::KafkaError;
use rdkafka::message::OwnedMessage;
use rdkafka::{Message, TopicPartitionList};
use tracing::{debug, warn};

use super::input::input_of;
use super::merge::Lane;
use super::session::Session;
use crate::tick::tick_time;
use crate::{RuntimeError, Shutdown, Stage};

impl Session<'_> {
    /// As [`Session::next_batch`], with the records released by the merge: up to `max_batch`,
    /// waiting at most `linger` after the first one (and, before the first, at most the idle
    /// poll time or the end of a wait for an empty partition). Waits for empty partitions are
    /// counted from this call on only.
    pub(super) async fn next_merged_batch(
        &mut self,
        stage: &mut dyn Stage,
        shutdown: &Shutdown,
    ) -> Result<Option<Vec<OwnedMessage>>, RuntimeError> {
        if let Some(merge) = self.merge.as_mut() {
            merge.restart_waits();
        }
        let mut batch: Vec<OwnedMessage> = Vec::new();
        let idle_until = tokio::time::Instant::now() + Duration::from_millis(200);
        let mut linger_until = None;
        loop {
            self.apply_rebalances(stage, &mut batch);
            self.release(&mut batch, &mut linger_until);
            let now = tokio::time::Instant::now();
            // Before the first record, a wait for an empty partition that ends after the idle
            // poll time is waited out here: the next call restarts waits, so returning empty
            // while one runs would restart it forever and starve the partitions that have input.
            let waiting = self
                .merge
                .as_ref()
                .and_then(|merge| merge.wake_at(now.into_std()))
                .map(tokio::time::Instant::from_std);
            let until = match (linger_until, waiting) {
                (Some(linger), _) => linger,
                (None, Some(wake)) => idle_until.max(wake),
                (None, None) => idle_until,
            };
            if batch.len() >= self.config.max_batch || now >= until {
                break;
            }
            let wake = self
                .merge
                .as_ref()
                .and_then(|merge| merge.wake_at(now.into_std()))
                .map_or(until, |wake| {
                    tokio::time::Instant::from_std(wake).min(until)
                });
            let received = tokio::select! {
                _ = shutdown.triggered() => return Ok(None),
                received = tokio::time::timeout_at(wake, self.consumer.recv()) => received,
            };
            match received {
                Ok(Ok(message)) => {
                    let message = message.detach();
                    self.apply_rebalances(stage, &mut batch);
                    if !self.stopped.contains(&message.partition()) {
                        self.hold(stage, message);
                    }
                }
                Ok(Err(KafkaError::PartitionEOF(partition))) => {
                    debug!(
                        stage = stage.name(),
                        partition, "input partition read to its end"
                    );
                    if let Some(merge) = self.merge.as_mut() {
                        merge.caught_up(partition);
                    }
                }
                Ok(Err(source)) => {
                    return Err(RuntimeError::Kafka {
                        operation: "consume",
                        source,
                    })
                }
                Err(_elapsed) => {}
            }
        }
        Ok(Some(batch))
    }

    /// Holds a consumed record in the merge under its order time, and pauses its partition
    /// once it holds `max_batch` records.
    fn hold(&mut self, stage: &dyn Stage, message: OwnedMessage) {
        let order_ms = tick_time(&message)
            .or_else(|| stage.order_time(&input_of(&message)))
            .unwrap_or(i64::MIN);
        let lane: Lane = (message.topic().to_owned(), message.partition());
        let offset = message.offset();
        let Some(merge) = self.merge.as_mut() else {
            return;
        };
        merge.push(lane.clone(), offset, order_ms, message);
        if merge.held(&lane) >= self.config.max_batch && self.full.insert(lane.clone()) {
            self.pause_lanes(&[lane], true);
        }
    }

    /// Moves what the merge releases into `batch` (up to `max_batch`), starts the linger at
    /// the first record, and resumes full partitions drained to half.
    fn release(
        &mut self,
        batch: &mut Vec<OwnedMessage>,
        linger_until: &mut Option<tokio::time::Instant>,
    ) {
        let Some(merge) = self.merge.as_mut() else {
            return;
        };
        let now = std::time::Instant::now();
        while batch.len() < self.config.max_batch {
            let Some(message) = merge.pop(now) else {
                break;
            };
            batch.push(message);
            linger_until.get_or_insert_with(|| tokio::time::Instant::now() + self.config.linger);
        }
        let drained: Vec<Lane> = self
            .full
            .iter()
            .filter(|lane| merge.held(lane) <= self.config.max_batch / 2)
            .cloned()
            .collect();
        if !drained.is_empty() {
            for lane in &drained {
                self.full.remove(lane);
            }
            self.pause_lanes(&drained, false);
        }
    }

    /// Pauses (or resumes) fetching `lanes`. A failure only loses the bound on what is held.
    fn pause_lanes(&self, lanes: &[Lane], pause: bool) {
        let mut list = TopicPartitionList::new();
        for (topic, partition) in lanes {
            list.add_partition(topic, *partition);
        }
        let result = if pause {
            self.consumer.pause(&list)
        } else {
            self.consumer.resume(&list)
        };
        if let Err(error) = result {
            warn!(?lanes, pause, %error, "pausing or resuming a partition held by the merge failed");
        }
    }
}

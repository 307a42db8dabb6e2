//! The driver's state and its steps: fill a batch from the consumer, drop revoked partitions,
//! land the batch in the backend, commit.

use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::BorrowedMessage;
use rdkafka::Message;
use sxfleet_runtime::error::error_chain;
use sxfleet_runtime::{Shutdown, Topics};
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::consumer::{commit, RevocationLog};
use super::dlq::{internal, DeadLetterWriter};
use super::route::{route, Record, Routed};
use crate::backend::{Backend, Retry, Seen};
use crate::batch::Batch;
use crate::config::SinkConfig;
use crate::error::SinkError;
use crate::stats::SinkStats;
use crate::tables::{Coords, TopicRole};

/// Why a batch stopped filling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closed {
    Full,
    Linger,
    Shutdown,
}

/// The driver's state apart from the consumer (whose messages borrow it).
pub struct Sink<'a, B> {
    pub config: &'a SinkConfig,
    pub topics: Topics,
    pub backend: B,
    pub dead_letters: DeadLetterWriter<'a>,
    pub shutdown: &'a Shutdown,
    pub batch: Batch,
    pub stats: SinkStats,
}

impl<'a, B: Backend> Sink<'a, B> {
    /// Reads records into the batch until one of its limits, its linger time or shutdown.
    pub async fn fill(
        &mut self,
        consumer: &StreamConsumer<RevocationLog>,
    ) -> Result<Closed, SinkError> {
        let limits = &self.config.batch;
        let mut deadline: Option<Instant> = None;
        loop {
            let message = tokio::select! {
                biased;
                () = self.shutdown.triggered() => return Ok(Closed::Shutdown),
                () = linger(deadline) => return Ok(Closed::Linger),
                message = consumer.recv() => message,
            };
            self.drop_revoked(consumer);
            match message {
                Ok(message) => {
                    if !self.handle(&message).await? {
                        return Ok(Closed::Shutdown);
                    }
                }
                Err(err) => {
                    self.stats.consumer_errors += 1;
                    warn!(error = %error_chain(&err), "consumer error");
                }
            }
            if deadline.is_none() && !self.batch.is_empty() {
                deadline = Some(Instant::now() + limits.linger);
            }
            if self.batch.is_full(limits.max_rows, limits.max_bytes) {
                return Ok(Closed::Full);
            }
        }
    }

    /// Routes one record into the batch. Returns false when shutdown stopped a dead-letter
    /// write (or the backend's answer): the record is then left out of the batch, so its
    /// offset is not committed.
    async fn handle(&mut self, message: &BorrowedMessage<'_>) -> Result<bool, SinkError> {
        let coords = Coords {
            topic: message.topic(),
            partition: message.partition(),
            offset: message.offset(),
        };
        let Some(role) = TopicRole::of(coords.topic, &self.topics) else {
            warn!(
                topic = coords.topic,
                "record from a topic the sink did not subscribe to"
            );
            return Ok(true);
        };
        let record = Record {
            coords,
            key: message.key(),
            payload: message.payload(),
            timestamp_ms: message.timestamp().to_millis(),
            tick_ms: sxfleet_runtime::tick::tick_time(message),
        };
        let bytes = record.payload.map_or(0, <[u8]>::len);
        let retry = self.retry();
        let landed = match self
            .backend
            .seen(role, coords, retry, &mut self.stats)
            .await
        {
            Seen::Stopped => return Ok(false),
            Seen::Landed => {
                self.stats.already_landed += 1;
                self.batch
                    .push(coords.topic, coords.partition, coords.offset, None, bytes);
                return Ok(true);
            }
            Seen::Route { landed } => landed,
        };
        self.stats.records += 1;
        let row = match route(role, &record) {
            Routed::Row(row) => Some(row),
            Routed::DeadLetter(dead) => {
                if !self
                    .dead_letters
                    .write(&mut self.stats, &dead, coords)
                    .await?
                {
                    return Ok(false);
                }
                None
            }
            Routed::UnreadableDeadLetter { detail } => {
                self.stats.unreadable_dead_letters += 1;
                warn!(topic = coords.topic, partition = coords.partition,
                    offset = coords.offset, %detail, "unreadable dead letter; skipped");
                None
            }
            Routed::Tombstone => {
                self.stats.tombstones += 1;
                None
            }
            Routed::Tick => {
                self.stats.ticks += 1;
                None
            }
            Routed::ControlCopy => {
                self.stats.control_copies += 1;
                None
            }
            Routed::Internal(detail) => return Err(internal(coords, detail)),
        };
        let row = match row {
            Some(_) if landed => {
                self.stats.already_landed += 1;
                None
            }
            row => row,
        };
        self.batch
            .push(coords.topic, coords.partition, coords.offset, row, bytes);
        Ok(true)
    }

    /// Applies revocations reported by the consumer since the last call.
    pub fn drop_revoked(&mut self, consumer: &StreamConsumer<RevocationLog>) {
        let revoked = consumer.context().take();
        if revoked.is_empty() {
            return;
        }
        self.backend.forget(&revoked);
        let dropped = self.batch.drop_partitions(&revoked);
        self.stats.revoked_rows += dropped as u64;
        info!(partitions = ?revoked, dropped_rows = dropped, "partitions revoked");
    }

    /// Lands the batch in the backend (rows it rejects dead-lettered), then commits its
    /// offsets. False if shutdown stopped the writes: nothing is committed then.
    pub async fn flush(
        &mut self,
        consumer: &StreamConsumer<RevocationLog>,
    ) -> Result<bool, SinkError> {
        let total = self.batch.rows();
        let retry = self.retry();
        let landed = self
            .backend
            .land(
                &mut self.batch,
                retry,
                &mut self.stats,
                &mut self.dead_letters,
            )
            .await?;
        if !landed {
            self.stats.abandoned_rows += total as u64;
            warn!(
                rows = total,
                "shutdown before the batch landed; not committing"
            );
            return Ok(false);
        }
        self.commit(consumer);
        Ok(true)
    }

    /// Commits the batch's offsets and empties it. A failed commit is logged and counted: the
    /// records are read again and found landed.
    fn commit(&mut self, consumer: &StreamConsumer<RevocationLog>) {
        match commit(consumer, &self.batch.commit_offsets()) {
            Ok(()) => {
                self.stats.commits += 1;
                debug!(bytes = self.batch.bytes(), "batch landed and committed");
            }
            Err(err) => {
                self.stats.commit_failures += 1;
                warn!(error = %error_chain(&err),
                    "commit failed after the write; the rows are skipped when read again");
            }
        }
        self.batch.clear();
    }

    fn retry(&self) -> Retry<'a> {
        Retry {
            initial: self.config.retry.initial,
            max: self.config.retry.max,
            shutdown: self.shutdown,
            write_timeout: self.config.insert_timeout,
        }
    }
}

/// Completes at `deadline`, never without one.
async fn linger(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

//! The sink driver: Kafka in, ClickHouse out, offsets committed after the inserts.
//!
//! Protocol, one batch at a time (effectively-once, see [`crate::landed`]):
//! 1. *Fill*: read records from the events, twin, DLQ and transitions topics and route each one
//!    ([`crate::route`]) into the batch, until it holds `max_rows` rows or `max_bytes` bytes,
//!    its linger time has passed since its first record, or shutdown triggers. A record that
//!    cannot be decoded is written to the DLQ topic (idempotent producer, retried) before its
//!    offset joins the batch. The first record of a partition since its assignment first asks
//!    ClickHouse which records from there on already landed; their rows are skipped.
//! 2. *Revoke*: rows and offsets of partitions taken away by a rebalance are dropped from the
//!    batch (never inserted, never committed), so the new owner reads them again.
//! 3. *Flush*: one RowBinary `INSERT` per non-empty table ([`crate::land`]): outages retried with
//!    back-off (rows that landed meanwhile dropped) until success or shutdown (then the run ends
//!    without committing); rows the server rejects dead-lettered with its message.
//! 4. *Commit*: the offset after the highest one handled, per partition, synchronously. A failed
//!    commit (e.g. during a rebalance) is logged and counted: the rows are in ClickHouse, and
//!    whoever reads those records again finds them landed and skips them.

use std::time::Duration;

use clickhouse::{RowOwned, RowWrite};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::BorrowedMessage;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use rdkafka::Message;
use sxfleet_runtime::driver::error_chain;
use sxfleet_runtime::{Shutdown, Topics};
use tokio::time::Instant;
use tracing::{debug, info, warn};

use crate::batch::Batch;
use crate::client::ClickHouse;
use crate::config::SinkConfig;
use crate::consumer::{commit, RevocationLog};
use crate::error::SinkError;
use crate::insert::{retry, Backoff, Retried};
use crate::land::Lander;
use crate::landed::{landed_offsets, Landed, Landing};
use crate::migrate::migrate;
use crate::route::{self, route, Record, Routed, TopicRole};
use crate::rows::{Coords, SourceRow};
pub use crate::stats::SinkStats;

/// Runs the sink until `shutdown` triggers: connects to ClickHouse, applies the migrations,
/// then consumes, inserts and commits batch after batch (see the module docs). On shutdown
/// the batch being filled is written and committed if ClickHouse accepts it on the first try.
///
/// # Errors
/// [`SinkError::Config`] for invalid settings; [`SinkError::ClickHouse`] when the server cannot
/// be reached at start-up or a migration fails; [`SinkError::Kafka`] when a Kafka client cannot
/// be created or subscribed; [`SinkError::Internal`] for a broken invariant (an embedded schema
/// that does not load). ClickHouse and Kafka failures after start-up are retried, not returned.
pub async fn run_sink(config: &SinkConfig, shutdown: &Shutdown) -> Result<SinkStats, SinkError> {
    config.validate()?;
    let ch = ClickHouse::connect(&config.clickhouse).await?;
    migrate(&ch).await?;
    let topics = config.topics();
    let consumer: StreamConsumer<RevocationLog> = config
        .kafka
        .consumer(&config.group_id)
        .create_with_context(RevocationLog::default())
        .map_err(SinkError::kafka("create consumer"))?;
    consumer
        .subscribe(&[
            &topics.events,
            &topics.twin,
            &topics.dlq,
            &topics.transitions,
        ])
        .map_err(SinkError::kafka("subscribe"))?;
    let producer: FutureProducer = config
        .kafka
        .producer(None, Duration::from_secs(60))
        .create()
        .map_err(SinkError::kafka("create producer"))?;
    info!(group = %config.group_id, events = %topics.events, twin = %topics.twin,
        dlq = %topics.dlq, transitions = %topics.transitions, database = ch.database(),
        "clickhouse sink started");
    let mut sink = Sink {
        config,
        topics,
        ch,
        producer,
        shutdown,
        batch: Batch::new(),
        landed: Landed::default(),
        stats: SinkStats::default(),
    };
    loop {
        let closed = sink.fill(&consumer).await?;
        sink.drop_revoked(&consumer);
        if !sink.batch.is_empty() && !sink.flush(&consumer).await? {
            break;
        }
        if closed == Closed::Shutdown || shutdown.is_triggered() {
            break;
        }
    }
    info!(stats = ?sink.stats, "clickhouse sink stopped");
    Ok(sink.stats)
}

/// Why a batch stopped filling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Closed {
    Full,
    Linger,
    Shutdown,
}

/// The driver's state apart from the consumer (whose messages borrow it).
struct Sink<'a> {
    config: &'a SinkConfig,
    topics: Topics,
    ch: ClickHouse,
    producer: FutureProducer,
    shutdown: &'a Shutdown,
    batch: Batch,
    /// What of each partition read since its assignment already landed.
    landed: Landed,
    stats: SinkStats,
}

impl Sink<'_> {
    /// Reads records into the batch until one of its limits, its linger time or shutdown.
    async fn fill(
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
    /// write: the record is then left out of the batch, so its offset is not committed.
    async fn handle(&mut self, message: &BorrowedMessage<'_>) -> Result<bool, SinkError> {
        let coords = Coords {
            topic: message.topic(),
            partition: message.partition(),
            offset: message.offset(),
        };
        let Some(role) = self.role(coords.topic) else {
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
        };
        if !self.landed.knows(coords.topic, coords.partition)
            && !self.learn_landed(role, coords).await
        {
            return Ok(false);
        }
        let bytes = record.payload.map_or(0, <[u8]>::len);
        self.stats.records += 1;
        let row = match route(role, &record) {
            Routed::Row(row) => Some(row),
            Routed::DeadLetter(dead) => {
                let encoded = sxfleet_schemas::encode(dead.as_ref())
                    .map_err(|err| internal(coords, error_chain(&err)))?;
                if !self
                    .write_dead_letter(&encoded, dead.node_id.as_deref(), coords)
                    .await
                {
                    return Ok(false);
                }
                self.stats.dead_lettered += 1;
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
        let landed = self
            .landed
            .take(coords.topic, coords.partition, coords.offset);
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

    fn role(&self, topic: &str) -> Option<TopicRole> {
        if topic == self.topics.events {
            Some(TopicRole::Events)
        } else if topic == self.topics.twin {
            Some(TopicRole::Twin)
        } else if topic == self.topics.dlq {
            Some(TopicRole::DeadLetters)
        } else if topic == self.topics.transitions {
            Some(TopicRole::Transitions)
        } else {
            None
        }
    }

    /// Writes a dead letter to the DLQ topic, retrying until it is acknowledged. False if
    /// shutdown came first.
    async fn write_dead_letter(
        &mut self,
        encoded: &[u8],
        key: Option<&str>,
        at: Coords<'_>,
    ) -> bool {
        let (producer, dlq) = (&self.producer, self.topics.dlq.as_str());
        let outcome = retry(
            "write dead letter",
            self.backoff(),
            self.shutdown,
            || async move {
                let mut record = FutureRecord::<str, [u8]>::to(dlq).payload(encoded);
                if let Some(key) = key {
                    record = record.key(key);
                }
                producer
                    .send(record, Timeout::After(Duration::from_secs(30)))
                    .await
                    .map(|_| ())
                    .map_err(|(err, _)| err)
            },
        )
        .await;
        match outcome {
            Retried::Done { failures } => {
                self.stats.retries += u64::from(failures);
                warn!(
                    topic = at.topic,
                    partition = at.partition,
                    offset = at.offset,
                    "undecodable record written to the DLQ topic"
                );
                true
            }
            Retried::Abandoned { failures } => {
                self.stats.retries += u64::from(failures);
                false
            }
        }
    }

    /// Lands the batch (one INSERT per non-empty table, see [`crate::land`]), dead-letters the
    /// rows ClickHouse rejected, then commits the offsets. False if shutdown stopped it:
    /// nothing is committed then.
    async fn flush(&mut self, consumer: &StreamConsumer<RevocationLog>) -> Result<bool, SinkError> {
        let client = self.ch.client();
        let lander = Lander {
            client: &client,
            timeout: Some(self.config.insert_timeout),
            backoff: self.backoff(),
            shutdown: self.shutdown,
        };
        let total = self.batch.rows();
        let rows = self.batch.take_rows();
        let abandon = |stats: &mut SinkStats| {
            stats.abandoned_rows += total as u64;
            warn!(
                rows = total,
                "shutdown before the batch landed; not committing"
            );
            Ok(false)
        };
        // New tables: one line each here (and a field in `TableRows`).
        let Some(n) = self.land(&lander, TopicRole::Events, rows.events).await? else {
            return abandon(&mut self.stats);
        };
        self.stats.events_inserted += n;
        let Some(n) = self.land(&lander, TopicRole::Twin, rows.node_state).await? else {
            return abandon(&mut self.stats);
        };
        self.stats.node_states_inserted += n;
        let Some(n) = self.land(&lander, TopicRole::DeadLetters, rows.dlq).await? else {
            return abandon(&mut self.stats);
        };
        self.stats.dlq_inserted += n;
        let Some(n) = self
            .land(&lander, TopicRole::Transitions, rows.transitions)
            .await?
        else {
            return abandon(&mut self.stats);
        };
        self.stats.transitions_inserted += n;
        match commit(consumer, &self.batch.commit_offsets()) {
            Ok(()) => {
                self.stats.commits += 1;
                debug!(bytes = self.batch.bytes(), "batch landed and committed");
            }
            Err(err) => {
                self.stats.commit_failures += 1;
                warn!(error = %error_chain(&err),
                    "commit failed after insert; the rows are skipped when read again");
            }
        }
        self.batch.clear();
        Ok(true)
    }

    /// Lands one table's rows and dead-letters those the server rejected. `None` once
    /// shutdown stopped it (also for every later table of the batch).
    async fn land<T>(
        &mut self,
        lander: &Lander<'_>,
        role: TopicRole,
        rows: Vec<T>,
    ) -> Result<Option<u64>, SinkError>
    where
        T: RowOwned + RowWrite + SourceRow + serde::Serialize,
    {
        if rows.is_empty() {
            return Ok(Some(0));
        }
        let landing = Landing::of(role);
        let landed = match lander.land(&landing, rows).await {
            Ok(landed) => landed,
            Err(abandoned) => {
                self.stats.retries += abandoned.failures;
                return Ok(None);
            }
        };
        self.stats.retries += landed.failures;
        self.stats.already_landed += landed.already_landed as u64;
        for (row, message) in &landed.rejected {
            self.stats.rejected_rows += 1;
            let at = row.source();
            warn!(table = landing.table, topic = at.topic, partition = at.partition,
                offset = at.offset, %message, "clickhouse rejected a row");
            if role == TopicRole::DeadLetters {
                // Dead-lettering a dead letter would feed the sink its own output.
                continue;
            }
            let dead = route::rejected(row, message, now_ms());
            let encoded =
                sxfleet_schemas::encode(&dead).map_err(|err| internal(at, error_chain(&err)))?;
            if !self
                .write_dead_letter(&encoded, dead.node_id.as_deref(), at)
                .await
            {
                return Ok(None);
            }
            self.stats.dead_lettered += 1;
        }
        Ok(Some(landed.inserted as u64))
    }

    /// Reads which records of the partition at `at` already landed (from `at` on), retrying
    /// until ClickHouse answers. False if shutdown came first.
    async fn learn_landed(&mut self, role: TopicRole, at: Coords<'_>) -> bool {
        let client = self.ch.client();
        let landing = Landing::of(role);
        let mut backoff = self.backoff();
        loop {
            match landed_offsets(&client, &landing, at.topic, at.partition, at.offset).await {
                Ok(offsets) => {
                    if !offsets.is_empty() {
                        info!(
                            table = landing.table,
                            topic = at.topic,
                            partition = at.partition,
                            from = at.offset,
                            rows = offsets.len(),
                            "rows past the committed offset already landed; skipping them"
                        );
                    }
                    self.landed.learn(at.topic, at.partition, offsets);
                    return true;
                }
                Err(err) => {
                    self.stats.retries += 1;
                    if self.shutdown.is_triggered() {
                        return false;
                    }
                    let delay = backoff.next_delay();
                    warn!(table = landing.table, error = %error_chain(&err),
                        retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        "reading landed offsets failed; retrying");
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        () = self.shutdown.triggered() => return false,
                    }
                }
            }
        }
    }

    /// Applies revocations reported by the consumer since the last call.
    fn drop_revoked(&mut self, consumer: &StreamConsumer<RevocationLog>) {
        let revoked = consumer.context().take();
        if revoked.is_empty() {
            return;
        }
        self.landed.forget(&revoked);
        let dropped = self.batch.drop_partitions(&revoked);
        self.stats.revoked_rows += dropped as u64;
        info!(partitions = ?revoked, dropped_rows = dropped, "partitions revoked");
    }

    fn backoff(&self) -> Backoff {
        Backoff::new(self.config.retry.initial, self.config.retry.max)
    }
}

/// Completes at `deadline`, never without one.
async fn linger(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Wall-clock time for the receive time of a dead letter (the driver may read the clock).
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn internal(at: Coords<'_>, detail: String) -> SinkError {
    SinkError::Internal {
        topic: at.topic.to_owned(),
        partition: at.partition,
        offset: at.offset,
        detail,
    }
}

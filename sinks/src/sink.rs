//! The sink driver: Kafka in, ClickHouse (or Parquet files) out, offsets committed after the
//! inserts.
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
//!
//! With the Parquet backend ([`crate::config::Backend::Parquet`]) step 3 writes one file per
//! table and input partition instead ([`crate::parquet`]), and records whose offsets already
//! landed in a file are skipped in step 1 (effectively-once by file names, not by a query).

use std::time::Duration;

use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::BorrowedMessage;
use rdkafka::producer::FutureProducer;
use rdkafka::Message;
use sxfleet_runtime::error::error_chain;
use sxfleet_runtime::{Shutdown, Topics};
use tokio::time::Instant;
use tracing::{info, warn};

use crate::batch::Batch;
use crate::client::ClickHouse;
use crate::config::{Backend, SinkConfig};
use crate::consumer::RevocationLog;
use crate::error::SinkError;
use crate::insert::Backoff;
use crate::landed::Landed;
use crate::migrate::migrate;
use crate::parquet::ParquetSink;
use crate::route::{route, Record, Routed, TopicRole};
use crate::rows::Coords;
pub use crate::stats::SinkStats;

mod flush;
#[path = "sink_parquet.rs"]
mod parquet_write;

/// Runs the sink until `shutdown` triggers: connects to ClickHouse and applies the migrations
/// (or opens the Parquet store and reads its landed offsets), then consumes, inserts and commits
/// batch after batch (see the module docs). On shutdown the batch being filled is written and
/// committed if the backend accepts it on the first try.
///
/// # Errors
/// [`SinkError::Config`] for invalid settings; [`SinkError::ClickHouse`] when the server cannot
/// be reached at start-up or a migration fails; [`SinkError::ParquetStore`] when the data
/// directory cannot be used; [`SinkError::ParquetEncode`] for a batch that does not fit its
/// Arrow tables (a bug); [`SinkError::Kafka`] when a Kafka client cannot
/// be created or subscribed; [`SinkError::Internal`] for a broken invariant (an embedded schema
/// that does not load). ClickHouse and Kafka failures after start-up are retried, not returned.
pub async fn run_sink(config: &SinkConfig, shutdown: &Shutdown) -> Result<SinkStats, SinkError> {
    config.validate()?;
    let store = match &config.backend {
        Backend::ClickHouse => {
            let ch = ClickHouse::connect(&config.clickhouse).await?;
            migrate(&ch).await?;
            Store::ClickHouse(Box::new(ch))
        }
        Backend::Parquet { dir } => Store::Parquet(ParquetSink::open(dir)?),
    };
    let topics = config.topics();
    let consumer: StreamConsumer<RevocationLog> = config
        .kafka
        .consumer(&config.group_id)
        .create_with_context(RevocationLog::default())
        .map_err(SinkError::kafka("create consumer"))?;
    consumer
        .subscribe(&TopicRole::ALL.map(|role| role.topic(&topics)))
        .map_err(SinkError::kafka("subscribe"))?;
    let producer: FutureProducer = config
        .kafka
        .producer(None, Duration::from_secs(60))
        .create()
        .map_err(SinkError::kafka("create producer"))?;
    info!(group = %config.group_id, events = %topics.events, twin = %topics.twin,
        dlq = %topics.dlq, transitions = %topics.transitions, target = %store.describe(),
        "sink started");
    let mut sink = Sink {
        config,
        topics,
        store,
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
    info!(stats = ?sink.stats, "sink stopped");
    Ok(sink.stats)
}

/// Why a batch stopped filling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Closed {
    Full,
    Linger,
    Shutdown,
}

/// Where the driver lands its batches.
enum Store {
    ClickHouse(Box<ClickHouse>),
    Parquet(ParquetSink),
}

impl Store {
    fn describe(&self) -> String {
        match self {
            Store::ClickHouse(ch) => format!("clickhouse database {}", ch.database()),
            Store::Parquet(parquet) => format!("parquet {}", parquet.store().dir().display()),
        }
    }
}

/// The driver's state apart from the consumer (whose messages borrow it).
struct Sink<'a> {
    config: &'a SinkConfig,
    topics: Topics,
    store: Store,
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
        match &self.store {
            Store::ClickHouse(_) => {
                if !self.landed.knows(coords.topic, coords.partition)
                    && !self.learn_landed(role, coords).await
                {
                    return Ok(false);
                }
            }
            Store::Parquet(parquet) if parquet.has_landed(coords) => {
                self.stats.already_landed += 1;
                self.batch
                    .push(coords.topic, coords.partition, coords.offset, None, bytes);
                return Ok(true);
            }
            Store::Parquet(_) => {}
        }
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

fn internal(at: Coords<'_>, detail: String) -> SinkError {
    SinkError::Internal {
        topic: at.topic.to_owned(),
        partition: at.partition,
        offset: at.offset,
        detail,
    }
}

//! The sink driver: Kafka in, ClickHouse (or Parquet files) out, offsets committed after the
//! inserts.
//!
//! Protocol, one batch at a time (effectively-once, see [`crate::backend::clickhouse::landed`]):
//! 1. *Fill*: read records from the sink's input topics (every [`TopicRole`]: events, twin,
//!    DLQ, transitions, drift, alerts, authority, domains, bundles, command status) and route
//!    each one ([`route`]) into the batch, until it holds `max_rows` rows or `max_bytes` bytes,
//!    its linger time has passed since its first record, or shutdown triggers. A record that
//!    cannot be decoded is written to the DLQ topic (idempotent producer, retried) before its
//!    offset joins the batch. The first record of a partition since its assignment first asks
//!    ClickHouse which records from there on already landed; their rows are skipped.
//! 2. *Revoke*: rows and offsets of partitions taken away by a rebalance are dropped from the
//!    batch (never inserted, never committed), so the new owner reads them again.
//! 3. *Flush*: one RowBinary `INSERT` per non-empty table
//!    ([`crate::backend::clickhouse::land`]): outages retried with back-off (rows that landed
//!    meanwhile dropped) until success or shutdown (then the run ends without committing); rows
//!    the server rejects dead-lettered with its message.
//! 4. *Commit*: the offset after the highest one handled, per partition, synchronously. A failed
//!    commit (e.g. during a rebalance) is logged and counted: the rows are in ClickHouse, and
//!    whoever reads those records again finds them landed and skips them.
//!
//! With the Parquet backend ([`crate::config::Backend::Parquet`]) step 3 writes one file per
//! table and input partition instead ([`crate::backend::parquet`]), and records whose offsets
//! already landed in a file are skipped in step 1 (effectively-once by file names, not by a
//! query). The driver sees either through [`crate::backend::Backend`].
//!
//! Layout:
//! - [`route`]: what one Kafka record becomes: a row, a dead letter, or nothing.
//! - `sink`: the loop's state and steps (fill, revoke, flush, commit).
//! - `dlq`: dead-letter writes to the DLQ topic.
//! - `consumer`: the rebalance context and synchronous offset commit.

use std::time::Duration;

use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::FutureProducer;
use sxfleet_runtime::Shutdown;
use tracing::info;

use crate::backend::clickhouse::{migrate::migrate, ClickHouse, ClickHouseBackend};
use crate::backend::parquet::ParquetBackend;
use crate::backend::Backend;
use crate::batch::Batch;
use crate::config::{self, SinkConfig};
use crate::error::SinkError;
use crate::retry::Backoff;
use crate::stats::SinkStats;
use crate::tables::TopicRole;
use consumer::RevocationLog;
use dlq::DeadLetterWriter;
use sink::{Closed, Sink};

mod consumer;
mod dlq;
pub mod route;
mod sink;

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
    match &config.backend {
        config::Backend::ClickHouse => {
            let ch = ClickHouse::connect(&config.clickhouse).await?;
            migrate(&ch).await?;
            run(config, shutdown, ClickHouseBackend::new(ch)).await
        }
        config::Backend::Parquet { dir } => run(config, shutdown, ParquetBackend::open(dir)?).await,
    }
}

/// The loop of [`run_sink`] over one backend.
async fn run<B: Backend>(
    config: &SinkConfig,
    shutdown: &Shutdown,
    backend: B,
) -> Result<SinkStats, SinkError> {
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
        dlq = %topics.dlq, transitions = %topics.transitions, target = %backend.describe(),
        "sink started");
    let dead_letters = DeadLetterWriter {
        producer,
        topic: topics.dlq.clone(),
        backoff: Backoff::new(config.retry.initial, config.retry.max),
        shutdown,
    };
    let mut sink = Sink {
        config,
        topics,
        backend,
        dead_letters,
        shutdown,
        batch: Batch::new(),
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

#[cfg(test)]
mod tests;

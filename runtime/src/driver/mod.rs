//! The consume-transform-produce loop around a [`Stage`].
//!
//! One session = one consumer + one producer + the stage's state restored from its changelog.
//! Any failed commit ends the session: the open transaction is aborted, the stage's state is
//! dropped, and a new session resumes from the committed offsets and restores the state again.
//! That keeps the error path small and the state always equal to what the committed log says.
//!
//! Layout (leaves first; none imports this module):
//! - `config`: [`StageRunConfig`] and [`StageStats`].
//! - `input`: consumed records as the stage sees them, and the offsets a batch commits.
//! - `rebalance`: the consumer context that records assignments and revocations.
//! - `merge`: the pure event-time ordered merge of input partitions ([`InputOrder::EventTime`]).
//! - `session`: one session's consumer, producer, owned partitions, restore and snapshots.
//! - `merged`: the session's batches as the merge releases them.
//! - `commit`: the session's commit path (one transaction, or flush then commit).
//! - `ticks`: the session's wall-clock punctuation (tick records into idle partitions).
//! - here: [`run_stage`] and one session's loop.

mod commit;
mod config;
mod input;
mod merge;
mod merged;
mod rebalance;
mod session;
mod ticks;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use rdkafka::consumer::stream_consumer::StreamConsumer;
use rdkafka::consumer::Consumer;
use rdkafka::producer::{FutureProducer, Producer};
use rdkafka::Message;
use tracing::{error, info, warn};

pub use self::config::{InputOrder, StageRunConfig, StageStats, DEFAULT_MAX_TASK_IDLE};
use self::input::{input_of, next_offsets};
use self::merge::Merge;
use self::rebalance::RebalanceLog;
use self::session::Session;
use crate::error::error_chain;
use crate::telemetry;
use crate::tick::tick_time;
use crate::{Delivery, Input, RuntimeError, Shutdown, Stage};

/// Runs `stage` until `shutdown` triggers. Retryable failures (Kafka unavailable, a failed
/// commit) start a new session after a back-off; internal errors stop the run.
///
/// # Errors
/// [`RuntimeError::Internal`] when the stage reports a broken invariant.
pub async fn run_stage(
    config: &StageRunConfig,
    stage: &mut dyn Stage,
    shutdown: &Shutdown,
) -> Result<StageStats, RuntimeError> {
    let mut stats = StageStats::default();
    let mut backoff = Duration::from_millis(500);
    let mut stopped = BTreeSet::new();
    loop {
        stats.sessions += 1;
        stage.reset();
        match run_session(config, stage, shutdown, &mut stats, &stopped).await {
            Ok(()) => return Ok(stats),
            Err(RuntimeError::Internal {
                stage: name,
                topic,
                partition,
                offset,
                detail,
            }) if partition >= 0 => {
                // A broken invariant in one partition stops that partition only: the batch is
                // aborted, and from the next session on the partition stays assigned but
                // paused, so nothing after the bad record is processed or committed.
                error!(stage = name, topic, partition, offset, detail, "partition stopped on an internal error; fix the cause and restart the stage to resume it");
                metrics::counter!(telemetry::PARTITIONS_STOPPED, "stage" => name).increment(1);
                stopped.insert(partition);
                stats.stopped_partitions = stopped.iter().copied().collect();
            }
            Err(error) if error.is_retryable() => {
                warn!(stage = stage.name(), error = %error_chain(&error), backoff_ms = backoff.as_millis() as u64, "session failed; restarting");
                metrics::counter!(telemetry::SESSIONS_FAILED, "stage" => stage.name()).increment(1);
                tokio::select! {
                    _ = shutdown.triggered() => return Ok(stats),
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
            Err(error) => {
                error!(stage = stage.name(), error = %error_chain(&error), "stage stopped on an internal error; fix the cause and restart it");
                metrics::counter!(telemetry::STAGES_STOPPED, "stage" => stage.name()).increment(1);
                return Err(error);
            }
        }
    }
}

async fn run_session(
    config: &StageRunConfig,
    stage: &mut dyn Stage,
    shutdown: &Shutdown,
    stats: &mut StageStats,
    stopped: &BTreeSet<i32>,
) -> Result<(), RuntimeError> {
    let transactional = config.delivery == Delivery::ExactlyOnce;
    let producer: FutureProducer = config
        .kafka
        .producer(
            transactional.then_some(config.transactional_id.as_str()),
            config.transaction_timeout,
        )
        .create()
        .map_err(RuntimeError::kafka("create producer"))?;
    if transactional {
        // Fences an earlier incarnation and aborts its open transaction, so the restore below
        // sees a stable changelog.
        tokio::task::block_in_place(|| producer.init_transactions(Duration::from_secs(60)))
            .map_err(RuntimeError::kafka("init transactions"))?;
    }
    let mut consumer_config = config.kafka.consumer(&config.group);
    let merge = match config.input_order {
        InputOrder::Arrival => None,
        InputOrder::EventTime { max_idle } => {
            // The merge stops waiting for a partition the consumer reports caught up.
            consumer_config.set("enable.partition.eof", "true");
            Some(Merge::new(max_idle))
        }
    };
    let consumer: StreamConsumer<RebalanceLog> = consumer_config
        .create_with_context(RebalanceLog::default())
        .map_err(RuntimeError::kafka("create consumer"))?;
    let topics: Vec<&str> = config.inputs.iter().map(String::as_str).collect();
    consumer
        .subscribe(&topics)
        .map_err(RuntimeError::kafka("subscribe"))?;
    info!(stage = stage.name(), group = %config.group, inputs = ?config.inputs, delivery = ?config.delivery, "session started");

    let mut session = Session {
        config,
        consumer,
        producer,
        owned: BTreeSet::new(),
        to_restore: BTreeSet::new(),
        changelog_position: BTreeMap::new(),
        last_snapshot: Instant::now(),
        last_activity: BTreeMap::new(),
        stopped,
        merge,
        full: BTreeSet::new(),
    };
    loop {
        let Some(batch) = session.next_batch(stage, shutdown).await? else {
            stats.snapshots += session.snapshot(stage);
            return Ok(());
        };
        session.restore_assigned(stage, stats)?;
        if batch.is_empty() {
            let due = session.due_ticks(stage);
            stats.ticks += session.emit_ticks(due).await?;
            continue;
        }
        let inputs: Vec<Input<'_>> = batch
            .iter()
            .filter(|message| tick_time(*message).is_none())
            .map(input_of)
            .collect();
        stage
            .prepare(&inputs)
            .await
            .map_err(|error| RuntimeError::Internal {
                stage: stage.name(),
                topic: config.inputs.join(","),
                partition: -1,
                offset: -1,
                detail: error.0,
            })?;
        let mut outputs = Vec::new();
        for message in &batch {
            session
                .last_activity
                .insert(message.partition(), Instant::now());
            let result = match tick_time(message) {
                Some(tick_ms) => stage.on_tick(message.partition(), tick_ms, &mut outputs),
                None => stage.process(&input_of(message), &mut outputs),
            };
            result.map_err(|error| RuntimeError::Internal {
                stage: stage.name(),
                topic: message.topic().to_owned(),
                partition: message.partition(),
                offset: message.offset(),
                detail: error.0,
            })?;
        }
        stage
            .flush(&mut outputs)
            .map_err(|error| RuntimeError::Internal {
                stage: stage.name(),
                topic: config.inputs.join(","),
                partition: -1,
                offset: -1,
                detail: error.0,
            })?;
        let offsets = next_offsets(&batch)?;
        let changelog = stage.changelog().map(str::to_owned);
        session
            .commit(changelog.as_deref(), &outputs, &offsets)
            .await?;
        stats.records_in += batch.len() as u64;
        stats.records_out += outputs.len() as u64;
        stats.batches += 1;
        metrics::counter!(telemetry::BATCHES_COMMITTED, "stage" => stage.name()).increment(1);
        if session.last_snapshot.elapsed() >= config.snapshot_interval {
            stats.snapshots += session.snapshot(stage);
        }
        let due = session.due_ticks(stage);
        stats.ticks += session.emit_ticks(due).await?;
    }
}

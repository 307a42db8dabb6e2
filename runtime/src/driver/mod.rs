//! The consume-transform-produce loop around a [`Stage`].
//!
//! One session = one consumer + one producer + the stage's state restored from its changelog.
//! Any failed commit ends the session: the open transaction is aborted, the stage's state is
//! dropped, and a new session resumes from the committed offsets and restores the state again.
//! That keeps the error path small and the state always equal to what the committed log says.

mod commit;
mod rebalance;
mod ticks;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rdkafka::consumer::stream_consumer::StreamConsumer;
use rdkafka::consumer::Consumer;
use rdkafka::message::OwnedMessage;
use rdkafka::producer::{FutureProducer, Producer};
use rdkafka::{Message, Offset, TopicPartitionList};
use tracing::{error, info, warn};

use self::rebalance::{RebalanceEvent, RebalanceLog};
use self::ticks::source_of;
use crate::error::error_chain;
use crate::restore::{restore, SnapshotPolicy};
use crate::telemetry;
use crate::tick::tick_time;
use crate::{Delivery, Input, KafkaConfig, RuntimeError, Shutdown, Stage};

/// How a stage is driven.
#[derive(Clone, Debug)]
pub struct StageRunConfig {
    /// Cluster settings.
    pub kafka: KafkaConfig,
    /// Consumer group (the application id); every instance of the stage uses the same one.
    pub group: String,
    /// Transactional id of this instance; unique per instance, stable across its restarts so a
    /// restarted instance fences its predecessor.
    pub transactional_id: String,
    /// Input topics (co-partitioned when the stage keeps state).
    pub inputs: Vec<String>,
    /// Exactly-once or at-least-once.
    pub delivery: Delivery,
    /// Most records in one batch (one transaction).
    pub max_batch: usize,
    /// How long a batch waits for more records after its first one.
    pub linger: Duration,
    /// `transaction.timeout.ms`: how long the broker waits before aborting a transaction of a
    /// writer that died. Bounds how long a restore after a crash may wait.
    pub transaction_timeout: Duration,
    /// Folder for local snapshots of the stage's state; `None` restores from the whole
    /// changelog every time.
    pub state_dir: Option<PathBuf>,
    /// How often (wall clock, after a commit) each owned partition's state is snapshotted.
    pub snapshot_interval: Duration,
    /// Snapshots older than this are not trusted at restore (see [`SnapshotPolicy`]).
    pub snapshot_max_age: Duration,
    /// Wall-clock punctuation: when an owned input partition has had no record for this long,
    /// a tick record is appended to it (see [`crate::tick::TICK_HEADER`]) so the stage's event-time timers
    /// fire while its nodes are silent. The tick goes through the log, so a replay of the log
    /// fires the same timers at the same places. `None` disables punctuation.
    pub punctuate_after: Option<Duration>,
}

impl StageRunConfig {
    /// Defaults for a stage in `group` reading `inputs`: exactly-once, batches of up to 5,000
    /// records or 50 ms, a 10 s transaction timeout.
    pub fn new(kafka: KafkaConfig, group: &str, inputs: Vec<String>) -> Self {
        Self {
            kafka,
            group: group.to_owned(),
            transactional_id: format!("{group}-0"),
            inputs,
            delivery: Delivery::ExactlyOnce,
            max_batch: 5_000,
            linger: Duration::from_millis(50),
            transaction_timeout: Duration::from_secs(10),
            state_dir: None,
            snapshot_interval: Duration::from_secs(60),
            snapshot_max_age: Duration::from_secs(12 * 3600),
            punctuate_after: None,
        }
    }
}

/// What a run did, for logs, tests and benchmarks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StageStats {
    /// Input records processed in committed batches.
    pub records_in: u64,
    /// Records written in committed batches (outputs and changelog).
    pub records_out: u64,
    /// Committed batches.
    pub batches: u64,
    /// Changelog records read while restoring.
    pub restored: u64,
    /// Entries loaded from local snapshots while restoring.
    pub restored_from_snapshots: u64,
    /// Snapshots written.
    pub snapshots: u64,
    /// Tick records appended for wall-clock punctuation.
    pub ticks: u64,
    /// Input partitions stopped by an internal error (assigned, paused, not processed).
    pub stopped_partitions: Vec<i32>,
    /// Sessions started (1 + number of recoveries).
    pub sessions: u64,
}

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

struct Session<'a> {
    config: &'a StageRunConfig,
    consumer: StreamConsumer<RebalanceLog>,
    producer: FutureProducer,
    /// Input partitions whose state is loaded.
    owned: BTreeSet<i32>,
    /// Newly assigned partitions whose state must be restored before processing.
    to_restore: BTreeSet<i32>,
    /// Per owned partition: the changelog position its state reflects (next offset to read).
    changelog_position: BTreeMap<i32, i64>,
    /// When snapshots were last written.
    last_snapshot: Instant,
    /// Per owned partition: when a record of it was last processed or a tick was sent to it.
    last_activity: BTreeMap<i32, Instant>,
    /// Partitions stopped by an internal error: kept assigned and paused.
    stopped: &'a BTreeSet<i32>,
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
    let consumer: StreamConsumer<RebalanceLog> = config
        .kafka
        .consumer(&config.group)
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

impl Session<'_> {
    /// Collects up to `max_batch` records, waiting at most `linger` after the first one.
    /// Returns `None` on shutdown. Records of partitions revoked meanwhile are dropped: their
    /// next owner resumes from the committed offset.
    async fn next_batch(
        &mut self,
        stage: &mut dyn Stage,
        shutdown: &Shutdown,
    ) -> Result<Option<Vec<OwnedMessage>>, RuntimeError> {
        let mut batch: Vec<OwnedMessage> = Vec::new();
        let idle = Duration::from_millis(200);
        let first = tokio::select! {
            _ = shutdown.triggered() => return Ok(None),
            received = tokio::time::timeout(idle, self.consumer.recv()) => received,
        };
        let deadline = tokio::time::Instant::now() + self.config.linger;
        let mut received = first;
        loop {
            match received {
                Ok(Ok(message)) => {
                    let message = message.detach();
                    self.apply_rebalances(stage, &mut batch);
                    if !self.stopped.contains(&message.partition()) {
                        batch.push(message);
                    }
                }
                Ok(Err(source)) => {
                    return Err(RuntimeError::Kafka {
                        operation: "consume",
                        source,
                    })
                }
                Err(_elapsed) => {
                    self.apply_rebalances(stage, &mut batch);
                    break;
                }
            }
            if batch.len() >= self.config.max_batch {
                self.apply_rebalances(stage, &mut batch);
                break;
            }
            received = tokio::time::timeout_at(deadline, self.consumer.recv()).await;
        }
        Ok(Some(batch))
    }

    fn apply_rebalances(&mut self, stage: &mut dyn Stage, batch: &mut Vec<OwnedMessage>) {
        for event in self.consumer.context().drain() {
            match event {
                RebalanceEvent::Revoked(partitions) => {
                    let revoked: BTreeSet<i32> = partitions.iter().map(|(_, p)| *p).collect();
                    batch.retain(|m| !revoked.contains(&m.partition()));
                    for partition in revoked {
                        stage.revoke(partition);
                        self.owned.remove(&partition);
                        self.to_restore.remove(&partition);
                        self.changelog_position.remove(&partition);
                        self.last_activity.remove(&partition);
                    }
                    info!(stage = stage.name(), ?partitions, "partitions revoked");
                }
                RebalanceEvent::Assigned(partitions) => {
                    let mut paused = TopicPartitionList::new();
                    for (topic, partition) in &partitions {
                        if self.stopped.contains(partition) {
                            paused.add_partition(topic, *partition);
                        } else if !self.owned.contains(partition) {
                            self.to_restore.insert(*partition);
                        }
                    }
                    if paused.count() > 0 {
                        if let Err(error) = self.consumer.pause(&paused) {
                            warn!(stage = stage.name(), %error, "pausing stopped partitions failed");
                        }
                    }
                    info!(stage = stage.name(), ?partitions, "partitions assigned");
                }
            }
        }
    }

    fn restore_assigned(
        &mut self,
        stage: &mut dyn Stage,
        stats: &mut StageStats,
    ) -> Result<(), RuntimeError> {
        while let Some(partition) = self.to_restore.pop_first() {
            if let Some(changelog) = stage.changelog().map(str::to_owned) {
                let policy = self.config.state_dir.as_deref().map(|dir| SnapshotPolicy {
                    dir,
                    max_age: self.config.snapshot_max_age,
                    now_ms: wall_clock_ms(),
                });
                let restored = tokio::task::block_in_place(|| {
                    restore(&self.config.kafka, stage, &changelog, partition, policy)
                })?;
                stats.restored += restored.from_changelog;
                stats.restored_from_snapshots += restored.from_snapshot;
                self.changelog_position.insert(partition, restored.position);
            }
            self.owned.insert(partition);
            self.last_activity.insert(partition, Instant::now());
        }
        Ok(())
    }

    /// Snapshots every owned partition whose changelog position is known. Runs right after a
    /// commit (or at shutdown), when memory equals the committed changelog. Returns how many
    /// were written; a failed write is logged and costs only restore time later.
    fn snapshot(&mut self, stage: &dyn Stage) -> u64 {
        self.last_snapshot = Instant::now();
        let Some(dir) = self.config.state_dir.as_deref() else {
            return 0;
        };
        let mut written = 0;
        for (&partition, &position) in &self.changelog_position {
            match stage.save_snapshot(dir, partition, position, wall_clock_ms()) {
                Ok(()) => written += 1,
                Err(error) => {
                    warn!(stage = stage.name(), partition, error = %error_chain(&error), "snapshot not written")
                }
            }
        }
        metrics::counter!(telemetry::SNAPSHOTS_WRITTEN, "stage" => stage.name()).increment(written);
        written
    }
}

/// Wall-clock time in epoch ms. Used only to stamp and age snapshot files, never for state.
fn wall_clock_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The offsets to commit after `batch`: one past the last record of each partition.
/// A consumed record as the stage sees it.
fn input_of(message: &OwnedMessage) -> Input<'_> {
    Input {
        topic: message.topic(),
        partition: message.partition(),
        offset: message.offset(),
        key: message.key(),
        payload: message.payload(),
        timestamp_ms: message.timestamp().to_millis(),
        source: source_of(message),
    }
}

fn next_offsets(batch: &[OwnedMessage]) -> Result<TopicPartitionList, RuntimeError> {
    let mut last: BTreeMap<(&str, i32), i64> = BTreeMap::new();
    for message in batch {
        let entry = last
            .entry((message.topic(), message.partition()))
            .or_insert(-1);
        *entry = (*entry).max(message.offset());
    }
    let mut offsets = TopicPartitionList::new();
    for ((topic, partition), offset) in last {
        offsets
            .add_partition_offset(topic, partition, Offset::Offset(offset + 1))
            .map_err(RuntimeError::kafka("build offsets"))?;
    }
    Ok(offsets)
}

//! How a stage is driven ([`StageRunConfig`]) and what a run did ([`StageStats`]).

use std::path::PathBuf;
use std::time::Duration;

use crate::config::{Delivery, KafkaConfig};

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
    /// Snapshots older than this are not trusted at restore (see [`crate::restore::SnapshotPolicy`]).
    pub snapshot_max_age: Duration,
    /// Wall-clock punctuation: when an owned input partition has had no record for this long,
    /// a tick record is appended to it (see [`crate::tick::TICK_HEADER`]) so the stage's event-time timers
    /// fire while its nodes are silent. The tick goes through the log, so a replay of the log
    /// fires the same timers at the same places. `None` disables punctuation.
    pub punctuate_after: Option<Duration>,
    /// In which order records of different input partitions reach the stage.
    pub input_order: InputOrder,
}

/// In which order the driver hands records of different input partitions to the stage. Within
/// a partition the order is always the log's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputOrder {
    /// As the consumer delivers them: partitions interleave by fetch timing. For stages whose
    /// partitions are independent (each partition's state sees only its own log).
    Arrival,
    /// Merged by [`crate::Stage::order_time`] (tick records by their tick time): the driver
    /// holds consumed records per partition and releases the smallest time among the
    /// partitions' heads (ties: lower topic, partition, offset). While an owned partition has
    /// nothing held it waits for it, at most `max_idle` per batch (from when a release first
    /// waits for it), and not at all once the consumer reported the end of that partition. For a stage whose outputs
    /// interleave records of several input partitions (the normalizer), so the same input log
    /// gives the same output order whatever the fetch timing. Records held, not yet processed,
    /// are never committed.
    EventTime {
        /// The longest wait for an empty partition (Kafka Streams' `max.task.idle.ms`).
        max_idle: Duration,
    },
}

/// Default longest wait for an empty partition in [`InputOrder::EventTime`].
pub const DEFAULT_MAX_TASK_IDLE: Duration = Duration::from_millis(500);

impl StageRunConfig {
    /// Defaults for a stage in `group` reading `inputs`: exactly-once, batches of up to 5,000
    /// records or 50 ms, a 10 s transaction timeout, partitions in arrival order.
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
            input_order: InputOrder::Arrival,
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

//! One session of a stage: its consumer and producer, the partitions it owns and restores,
//! and the batches it reads. Its commit path is `commit.rs`, its punctuation `ticks.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rdkafka::consumer::stream_consumer::StreamConsumer;
use rdkafka::consumer::Consumer;
use rdkafka::message::OwnedMessage;
use rdkafka::producer::FutureProducer;
use rdkafka::{Message, TopicPartitionList};
use tracing::{info, warn};

use super::config::{StageRunConfig, StageStats};
use super::merge::{Lane, Merge};
use super::rebalance::{RebalanceEvent, RebalanceLog};
use crate::error::error_chain;
use crate::restore::{restore, SnapshotPolicy};
use crate::telemetry;
use crate::{RuntimeError, Shutdown, Stage};

pub(super) struct Session<'a> {
    pub(super) config: &'a StageRunConfig,
    pub(super) consumer: StreamConsumer<RebalanceLog>,
    pub(super) producer: FutureProducer,
    /// Input partitions whose state is loaded.
    pub(super) owned: BTreeSet<i32>,
    /// Newly assigned partitions whose state must be restored before processing.
    pub(super) to_restore: BTreeSet<i32>,
    /// Per owned partition: the changelog position its state reflects (next offset to read).
    pub(super) changelog_position: BTreeMap<i32, i64>,
    /// When snapshots were last written.
    pub(super) last_snapshot: Instant,
    /// Per owned partition: when a record of it was last processed or a tick was sent to it.
    pub(super) last_activity: BTreeMap<i32, Instant>,
    /// Partitions stopped by an internal error: kept assigned and paused.
    pub(super) stopped: &'a BTreeSet<i32>,
    /// With [`super::InputOrder::EventTime`]: consumed records not yet released to a batch.
    pub(super) merge: Option<Merge<OwnedMessage>>,
    /// Partitions paused because the merge holds `max_batch` of their records.
    pub(super) full: BTreeSet<Lane>,
}

impl Session<'_> {
    /// Collects up to `max_batch` records, waiting at most `linger` after the first one, in
    /// arrival order (or as the merge releases them, see `merged.rs`). Returns `None` on
    /// shutdown. Records of partitions revoked meanwhile are dropped, held ones too: their next
    /// owner resumes from the committed offset.
    pub(super) async fn next_batch(
        &mut self,
        stage: &mut dyn Stage,
        shutdown: &Shutdown,
    ) -> Result<Option<Vec<OwnedMessage>>, RuntimeError> {
        if self.merge.is_some() {
            return self.next_merged_batch(stage, shutdown).await;
        }
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

    pub(super) fn apply_rebalances(
        &mut self,
        stage: &mut dyn Stage,
        batch: &mut Vec<OwnedMessage>,
    ) {
        for event in self.consumer.context().drain() {
            match event {
                RebalanceEvent::Revoked(partitions) => {
                    let revoked: BTreeSet<i32> = partitions.iter().map(|(_, p)| *p).collect();
                    batch.retain(|m| !revoked.contains(&m.partition()));
                    if let Some(merge) = self.merge.as_mut() {
                        for lane in &partitions {
                            merge.revoke(lane);
                            self.full.remove(lane);
                        }
                    }
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
                        } else {
                            if !self.owned.contains(partition) {
                                self.to_restore.insert(*partition);
                            }
                            if let Some(merge) = self.merge.as_mut() {
                                merge.assign((topic.clone(), *partition));
                            }
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

    pub(super) fn restore_assigned(
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
    pub(super) fn snapshot(&mut self, stage: &dyn Stage) -> u64 {
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

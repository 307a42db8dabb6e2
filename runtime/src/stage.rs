//! The contract between a pure stage core and the driver.

use std::path::Path;

use futures::future::BoxFuture;

pub use crate::snapshot::SnapshotError;

/// What a loaded snapshot covered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotInfo {
    /// The changelog position it reflects (the next offset to read).
    pub next_offset: i64,
    /// When it was written (wall clock, epoch ms).
    pub written_ms: i64,
    /// Entries loaded.
    pub entries: u64,
}

/// One input record, borrowed from the consumer.
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    /// Topic it was read from.
    pub topic: &'a str,
    /// Partition it was read from.
    pub partition: i32,
    /// Offset in that partition.
    pub offset: i64,
    /// Message key, if any.
    pub key: Option<&'a [u8]>,
    /// Message value; `None` for a tombstone.
    pub payload: Option<&'a [u8]>,
    /// The message's Kafka timestamp in epoch ms (create or log-append time), if any. Stages use
    /// it as the ingest time: it is part of the log, so a replay sees the same value.
    pub timestamp_ms: Option<i64>,
    /// Value of the record's [`SOURCE_HEADER`] header, if any: which door a raw record came
    /// through (the HTTP ingest API writes `http`).
    pub source: Option<&'a [u8]>,
}

/// Header naming where a raw record entered the pipeline (e.g. `http`).
pub const SOURCE_HEADER: &str = "sxfleet-source";

/// One record a stage wants written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// Destination topic.
    pub topic: String,
    /// Explicit partition (changelogs are co-partitioned with the input); `None` lets the
    /// producer's partitioner choose by key.
    pub partition: Option<i32>,
    /// Message key.
    pub key: Option<Vec<u8>>,
    /// Message value; `None` writes a tombstone.
    pub payload: Option<Vec<u8>>,
}

/// A broken invariant inside a stage. Bad *input* is not an error: the stage writes a DLQ
/// record for it and goes on. This stops the partition instead (logged, and counted in
/// `sxfleet_partitions_stopped_total`).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InternalError(pub String);

/// A pure stage core, driven by [`crate::driver::run_stage`].
///
/// The driver calls, for every batch: [`Stage::restore`] for newly assigned partitions (fed
/// from the changelog, if the stage has one), then [`Stage::prepare`] once, then
/// [`Stage::process`] for each record (in offset order within a partition; across partitions
/// in arrival order, or by [`Stage::order_time`] when the driver merges them, see
/// [`crate::driver::InputOrder`]), then [`Stage::flush`]; everything these return is written
/// atomically with the input offsets (in exactly-once mode). After a failed commit the driver discards the stage's
/// state with [`Stage::reset`] and restores it again.
///
/// A keyed stateful stage gets this trait from the adapter in [`crate::keyed`] (its store and
/// timers glue written once); any other stage implements it directly.
pub trait Stage: Send {
    /// Short name for logs and metrics.
    fn name(&self) -> &'static str;

    /// The compacted changelog this stage's state lives in, co-partitioned with its input;
    /// `None` for a stateless stage.
    fn changelog(&self) -> Option<&str>;

    /// Feeds one changelog record of `partition` while restoring. `value` is `None` for a
    /// tombstone.
    ///
    /// # Errors
    /// [`InternalError`] when a changelog record cannot be read back (a format the stage does
    /// not know): restoring must never silently produce wrong state.
    fn restore(
        &mut self,
        partition: i32,
        key: &[u8],
        value: Option<&[u8]>,
    ) -> Result<(), InternalError>;

    /// Loads `partition`'s state from its local snapshot under `dir`, replacing what is held.
    /// Stateless stages keep the default (no snapshot).
    ///
    /// # Errors
    /// [`SnapshotError`] when a snapshot exists but cannot be used; the driver then drops the
    /// partition's state and restores from the whole changelog.
    fn load_snapshot(
        &mut self,
        _dir: &Path,
        _partition: i32,
    ) -> Result<Option<SnapshotInfo>, SnapshotError> {
        Ok(None)
    }

    /// Writes `partition`'s state as a snapshot under `dir`, stamped with the changelog
    /// position `next_offset` it reflects. Called only right after a commit.
    ///
    /// # Errors
    /// [`SnapshotError`] when the file cannot be written (the next restore reads more of the
    /// changelog; nothing else is lost).
    fn save_snapshot(
        &self,
        _dir: &Path,
        _partition: i32,
        _next_offset: i64,
        _now_ms: i64,
    ) -> Result<(), SnapshotError> {
        Ok(())
    }

    /// Drops the state of a partition this instance no longer owns.
    fn revoke(&mut self, partition: i32);

    /// Drops all state (after an aborted transaction the state is restored again).
    fn reset(&mut self);

    /// Called once per batch, before its records are processed, with its input records (tick
    /// records left out). A stage that must fetch something over the network to process them
    /// (e.g. writer schemas) does it here, asynchronously, so a slow service pauses only this
    /// stage's task and not the stages joined with it; [`Stage::process`] then does no I/O.
    /// Stages without such needs keep the default.
    ///
    /// # Errors
    /// [`InternalError`] on a broken invariant; the driver aborts the batch and stops the stage.
    fn prepare<'a>(
        &'a mut self,
        _inputs: &'a [Input<'a>],
    ) -> BoxFuture<'a, Result<(), InternalError>> {
        Box::pin(std::future::ready(Ok(())))
    }

    /// Applies one input record, appending whatever it produces to `out`.
    ///
    /// # Errors
    /// [`InternalError`] when the stage finds a broken invariant; the driver aborts the batch
    /// and stops that input partition (it stays assigned and paused) while the others go on.
    fn process(&mut self, input: &Input<'_>, out: &mut Vec<Output>) -> Result<(), InternalError>;

    /// Handles a tick record of `partition` (wall-clock punctuation written into the input
    /// log by the driver): the partition's event time has reached `tick_ms`, so event-time
    /// timers due by then fire. Stages without timers keep the default.
    ///
    /// # Errors
    /// [`InternalError`] when firing a timer finds a broken invariant.
    fn on_tick(
        &mut self,
        _partition: i32,
        _tick_ms: i64,
        _out: &mut Vec<Output>,
    ) -> Result<(), InternalError> {
        Ok(())
    }

    /// The time `input` is ordered by when the driver merges the stage's input partitions
    /// ([`crate::driver::InputOrder::EventTime`]): normally the event time the record carries.
    /// The default is the record's Kafka timestamp. Never called for tick records (ordered by
    /// their tick time). `None` releases the record as soon as it is a partition's head.
    fn order_time(&self, input: &Input<'_>) -> Option<i64> {
        input.timestamp_ms
    }

    /// The event time `partition` has reached (the latest event or tick time applied), if the
    /// stage tracks one; the driver advances it by punctuation while the partition is idle.
    fn event_time(&self, _partition: i32) -> Option<i64> {
        None
    }

    /// Called once per batch before the commit: appends changelog records for the state changed
    /// in this batch (one per key, coalesced).
    ///
    /// # Errors
    /// [`InternalError`] when changed state cannot be written; the batch is not committed.
    fn flush(&mut self, out: &mut Vec<Output>) -> Result<(), InternalError>;
}

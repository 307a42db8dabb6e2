//! What the sink driver needs of a backend: has a record landed, and land a batch. The
//! driver is generic over [`Backend`]; ClickHouse and Parquet implement it.

use std::future::Future;
use std::time::Duration;

use futures::future::BoxFuture;
use sxfleet_runtime::Shutdown;
use sxfleet_schemas::DeadLetter;

use crate::batch::{Batch, Partition};
use crate::error::SinkError;
use crate::retry::Backoff;
use crate::stats::SinkStats;
use crate::tables::{Coords, TopicRole};

/// How a backend waits out failures: back-off between tries, shutdown to give up.
#[derive(Clone, Copy)]
pub struct Retry<'a> {
    /// First delay between tries.
    pub initial: Duration,
    /// Longest delay between tries.
    pub max: Duration,
    /// Triggered: stop retrying.
    pub shutdown: &'a Shutdown,
    /// Timeout of one write (an `INSERT`).
    pub write_timeout: Duration,
}

impl Retry<'_> {
    /// A fresh back-off.
    pub fn backoff(&self) -> Backoff {
        Backoff::new(self.initial, self.max)
    }
}

/// Whether a record about to be routed already landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// Its row (if any) is already in the backend and it need not be routed again: count it
    /// and commit past it (Parquet: the file names cover its offset).
    Landed,
    /// Route it; `landed` says its row is already in the backend and must be dropped
    /// (ClickHouse knows the landed rows, not which records gave none).
    Route {
        /// Its row already landed.
        landed: bool,
    },
    /// Shutdown came before the backend could tell.
    Stopped,
}

/// Where a backend hands the rows it rejected (bad data) to be dead-lettered.
pub trait Rejects: Send {
    /// Writes `dead`, replacing the row read at `at`, to the DLQ topic. False if shutdown
    /// came first.
    ///
    /// # Errors
    /// [`SinkError::Internal`] when the dead letter does not encode (a bug).
    fn reject<'a>(
        &'a mut self,
        stats: &'a mut SinkStats,
        dead: DeadLetter,
        at: Coords<'a>,
    ) -> BoxFuture<'a, Result<bool, SinkError>>;
}

/// A place the sink lands its batches in.
pub trait Backend: Send {
    /// Where, for the log.
    fn describe(&self) -> String;

    /// Whether the record of `role` at `at` already landed (retried until the backend
    /// answers or shutdown).
    fn seen(
        &mut self,
        role: TopicRole,
        at: Coords<'_>,
        retry: Retry<'_>,
        stats: &mut SinkStats,
    ) -> impl Future<Output = Seen> + Send;

    /// Forgets what it knew of `revoked` partitions.
    fn forget(&mut self, revoked: &[Partition]);

    /// Lands every row of `batch`, retried until it succeeds or shutdown; rows the backend
    /// rejects go to `rejects`. Counts what landed in `stats`. False if shutdown stopped it:
    /// the batch must not be committed then.
    ///
    /// # Errors
    /// [`SinkError::ParquetEncode`] or [`SinkError::Internal`] for a bug.
    fn land(
        &mut self,
        batch: &mut Batch,
        retry: Retry<'_>,
        stats: &mut SinkStats,
        rejects: &mut dyn Rejects,
    ) -> impl Future<Output = Result<bool, SinkError>> + Send;
}

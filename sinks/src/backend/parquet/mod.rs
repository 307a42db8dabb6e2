//! The embedded backend of the sink: the same tables as ClickHouse, as Parquet files.
//!
//! Effectively-once: every file is named after the input partition and offset range its rows
//! came from and appears atomically ([`files`]); at start the sink reads the highest landed
//! offset per input partition from the names and skips records at or below it (their offsets
//! are still committed), and Kafka offsets are committed only after the batch's files are in
//! place. A crash anywhere therefore leaves each row in exactly one file. Ranges of two files of
//! one partition may overlap when a restart re-read records that had landed: the skipped records
//! give no rows, so no row is in two files. One sink writes a directory at a time.
//!
//! Layout:
//! - [`files`]: file names, the landed-offset scan, atomic writes.
//! - [`store`]: the directory of tables and the encoding of a batch into files.
//! - [`query`]: DataFusion over the Parquet tables: SQL, the `*_final` views, the rollup views,
//!   the overview.
//! - `views`: the `*_final` views and the analytics views a session gets.
//! - [`snapshot`]: sessions kept across readers, the `*_final` rows held in memory and folded
//!   with the files added since.

pub mod files;
pub mod query;
pub mod snapshot;
pub mod store;
mod views;

use std::collections::BTreeMap;
use std::sync::Arc;

pub use store::{encode, ParquetStore, PendingFile};

use super::api::{Backend, Rejects, Retry, Seen};
use crate::batch::{Batch, Partition};
use crate::error::{FileError, SinkError};
use crate::retry::{retry, Retried};
use crate::stats::SinkStats;
use crate::tables::{Coords, TopicRole};

/// The Parquet backend as the sink driver holds it: the store and what has landed in it.
#[derive(Debug)]
pub struct ParquetBackend {
    store: ParquetStore,
    /// Highest landed offset per input topic and partition (by topic first, so a lookup
    /// needs no allocation).
    landed: BTreeMap<String, BTreeMap<i32, i64>>,
}

impl ParquetBackend {
    /// Opens the store in `dir` and reads which input offsets have landed.
    ///
    /// # Errors
    /// [`FileError::Io`] when the directories cannot be created or read.
    pub fn open(dir: &std::path::Path) -> Result<Self, FileError> {
        let store = ParquetStore::open(dir)?;
        let mut sink = Self {
            store,
            landed: BTreeMap::new(),
        };
        for ((topic, partition), last) in sink.store.landed()? {
            sink.record(topic, partition, last);
        }
        Ok(sink)
    }

    /// The store.
    pub fn store(&self) -> &ParquetStore {
        &self.store
    }

    /// True when the record at `at` already has its row (if any) in a file.
    pub fn has_landed(&self, at: Coords<'_>) -> bool {
        self.landed
            .get(at.topic)
            .and_then(|partitions| partitions.get(&at.partition))
            .is_some_and(|&last| at.offset <= last)
    }

    /// Records the ranges of `files`, now written, as landed.
    pub fn mark_landed(&mut self, files: &[PendingFile]) {
        for file in files {
            let range = &file.range;
            self.record(range.topic.clone(), range.partition, range.last);
        }
    }

    fn record(&mut self, topic: String, partition: i32, last: i64) {
        let highest = self
            .landed
            .entry(topic)
            .or_default()
            .entry(partition)
            .or_insert(last);
        *highest = (*highest).max(last);
    }
}

impl Backend for ParquetBackend {
    fn describe(&self) -> String {
        format!("parquet {}", self.store.dir().display())
    }

    async fn seen(
        &mut self,
        _role: TopicRole,
        at: Coords<'_>,
        _retry: Retry<'_>,
        _stats: &mut SinkStats,
    ) -> Seen {
        if self.has_landed(at) {
            Seen::Landed
        } else {
            Seen::Route { landed: false }
        }
    }

    fn forget(&mut self, _revoked: &[Partition]) {}

    /// One file per table and input partition, each written atomically, retried with
    /// back-off. Nothing is rejected: a row that does not fit its Arrow table is a bug.
    async fn land(
        &mut self,
        batch: &mut Batch,
        retry_with: Retry<'_>,
        stats: &mut SinkStats,
        _rejects: &mut dyn Rejects,
    ) -> Result<bool, SinkError> {
        let files = Arc::new(encode(batch)?);
        let store = &self.store;
        let outcome = retry(
            "write parquet files",
            retry_with.backoff(),
            retry_with.shutdown,
            || store.write(files.clone()),
        )
        .await;
        match outcome {
            Retried::Done { failures } => {
                stats.retries += u64::from(failures);
                self.mark_landed(&files);
                for rows in batch.tables() {
                    stats.add_inserted(rows.table(), rows.len() as u64);
                }
                Ok(true)
            }
            Retried::Abandoned { failures } => {
                stats.retries += u64::from(failures);
                Ok(false)
            }
        }
    }
}

#[cfg(test)]
mod tests;

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
//! - [`arrow`]: pure row -> Arrow conversion from a column list per table.
//! - [`tables`]: the column lists of the sink's tables.
//! - [`files`]: file names, the landed-offset scan, atomic writes.
//! - [`store`]: the directory of tables and the encoding of a batch into files.

pub mod arrow;
pub mod files;
pub mod store;
mod tables;

use std::collections::BTreeMap;

pub use files::FileError;
pub use store::{encode, tables, ParquetStore, PendingFile};

use crate::rows::Coords;

/// The Parquet backend as the sink driver holds it: the store and what has landed in it.
#[derive(Debug)]
pub struct ParquetSink {
    store: ParquetStore,
    /// Highest landed offset per input topic and partition (by topic first, so a lookup
    /// needs no allocation).
    landed: BTreeMap<String, BTreeMap<i32, i64>>,
}

impl ParquetSink {
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

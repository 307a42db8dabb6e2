//! The Parquet store: a directory with one sub-directory per table, and the encoding of a sink
//! batch into one file per (table, input partition).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;

use super::files::{landed_offsets, write_atomically, FileRange};
use crate::batch::Batch;
use crate::error::FileError;
use crate::tables::{self, arrow::ConvertError};

/// One file to write: a table's rows from one input partition of a batch.
#[derive(Debug)]
pub struct PendingFile {
    /// Table (directory).
    pub table: &'static str,
    /// Input partition and offsets (file name).
    pub range: FileRange,
    /// The rows.
    pub data: RecordBatch,
}

/// The files for `batch`: for each table, one per input partition that gave it rows. Pure.
///
/// # Errors
/// [`ConvertError`] for a row that does not fit its Arrow table (a bug in row building).
pub fn encode(batch: &Batch) -> Result<Vec<PendingFile>, ConvertError> {
    let ranges = batch.partition_ranges();
    let mut files = Vec::new();
    for rows in batch.tables() {
        for (index, data) in rows.record_batches()? {
            let Some(((topic, partition), first, last)) = ranges.get(index) else {
                continue;
            };
            files.push(PendingFile {
                table: rows.table(),
                range: FileRange {
                    topic: topic.clone(),
                    partition: *partition,
                    first: *first,
                    last: *last,
                },
                data,
            });
        }
    }
    Ok(files)
}

/// A directory of Parquet tables the sink writes into.
#[derive(Clone, Debug)]
pub struct ParquetStore {
    dir: PathBuf,
    /// The table directories.
    tables: Vec<&'static str>,
}

impl ParquetStore {
    /// Opens `dir`, creating it and the directory of every landed table if needed.
    ///
    /// # Errors
    /// [`FileError::Io`] when a directory cannot be created.
    pub fn open(dir: &Path) -> Result<Self, FileError> {
        let names = tables::landed().iter().map(|table| table.name);
        Self::open_tables(dir, names.collect())
    }

    /// Opens `dir` for the tables named `tables` (the landed ones and, in tests, others).
    ///
    /// # Errors
    /// [`FileError::Io`] when a directory cannot be created.
    pub fn open_tables(dir: &Path, tables: Vec<&'static str>) -> Result<Self, FileError> {
        for table in &tables {
            let path = dir.join(table);
            fs::create_dir_all(&path).map_err(|source| FileError::Io {
                operation: "create directory",
                path,
                source,
            })?;
        }
        Ok(Self {
            dir: dir.to_owned(),
            tables,
        })
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The highest offset landed per input (topic, partition), from the file names; removes
    /// leftovers of interrupted writes.
    ///
    /// # Errors
    /// [`FileError::Io`] when a table directory cannot be read.
    pub fn landed(&self) -> Result<BTreeMap<(String, i32), i64>, FileError> {
        let dirs: Vec<PathBuf> = self
            .tables
            .iter()
            .map(|table| self.dir.join(table))
            .collect();
        landed_offsets(&dirs)
    }

    /// Writes `files` one by one, each atomically, on a blocking thread. Idempotent: a file
    /// written again gets the same name and the same rows.
    ///
    /// # Errors
    /// The first [`FileError`]; files renamed before it stay (they are complete).
    pub async fn write(&self, files: Arc<Vec<PendingFile>>) -> Result<(), FileError> {
        let dir = self.dir.clone();
        let joined = tokio::task::spawn_blocking(move || {
            for file in files.iter() {
                write_atomically(&dir.join(file.table), &file.range, &file.data)?;
            }
            Ok(())
        })
        .await;
        joined.unwrap_or_else(|err| {
            Err(FileError::Io {
                operation: "join writer thread for",
                path: self.dir.clone(),
                source: std::io::Error::other(err),
            })
        })
    }
}

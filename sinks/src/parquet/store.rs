//! The Parquet store: a directory with one sub-directory per table, and the encoding of a sink
//! batch into one file per (table, input partition).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;

use super::arrow::{record_batch, schema, ArrowTable, ConvertError};
use super::files::{landed_offsets, write_atomically, FileError, FileRange};
use crate::batch::Batch;
use crate::rows::{
    AlertRow, AuthorityRow, DlqRow, DriftRow, EventRow, NodeStateRow, TransitionRow,
};

/// Every table of the store with its Arrow schema. Adding a table: one line here and one in
/// [`encode`].
pub fn tables() -> Vec<(&'static str, SchemaRef)> {
    vec![
        (EventRow::TABLE, schema::<EventRow>()),
        (NodeStateRow::TABLE, schema::<NodeStateRow>()),
        (DlqRow::TABLE, schema::<DlqRow>()),
        (TransitionRow::TABLE, schema::<TransitionRow>()),
        (DriftRow::TABLE, schema::<DriftRow>()),
        (AlertRow::TABLE, schema::<AlertRow>()),
        (AuthorityRow::TABLE, schema::<AuthorityRow>()),
    ]
}

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
    let mut files = Vec::new();
    encode_table(batch, batch.events(), &mut files)?;
    encode_table(batch, batch.node_state(), &mut files)?;
    encode_table(batch, batch.dlq(), &mut files)?;
    encode_table(batch, batch.transitions(), &mut files)?;
    encode_table(batch, batch.drift(), &mut files)?;
    encode_table(batch, batch.alerts(), &mut files)?;
    encode_table(batch, batch.authority(), &mut files)?;
    Ok(files)
}

fn encode_table<R: ArrowTable>(
    batch: &Batch,
    rows: &[R],
    files: &mut Vec<PendingFile>,
) -> Result<(), ConvertError> {
    let from = batch.row_partitions(R::TABLE);
    for (index, ((topic, partition), first, last)) in batch.partition_ranges().iter().enumerate() {
        let mine: Vec<&R> = rows
            .iter()
            .zip(from)
            .filter(|(_, &p)| p == index)
            .map(|(row, _)| row)
            .collect();
        if mine.is_empty() {
            continue;
        }
        files.push(PendingFile {
            table: R::TABLE,
            range: FileRange {
                topic: topic.clone(),
                partition: *partition,
                first: *first,
                last: *last,
            },
            data: record_batch(&mine)?,
        });
    }
    Ok(())
}

/// A directory of Parquet tables the sink writes into.
#[derive(Clone, Debug)]
pub struct ParquetStore {
    dir: PathBuf,
}

impl ParquetStore {
    /// Opens `dir`, creating it and every table directory if needed.
    ///
    /// # Errors
    /// [`FileError::Io`] when a directory cannot be created.
    pub fn open(dir: &Path) -> Result<Self, FileError> {
        for (table, _) in tables() {
            let path = dir.join(table);
            fs::create_dir_all(&path).map_err(|source| FileError::Io {
                operation: "create directory",
                path,
                source,
            })?;
        }
        Ok(Self {
            dir: dir.to_owned(),
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
        let dirs: Vec<PathBuf> = tables()
            .into_iter()
            .map(|(table, _)| self.dir.join(table))
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

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;

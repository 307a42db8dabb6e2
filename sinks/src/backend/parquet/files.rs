//! Parquet file names and atomic writes.
//!
//! A file holds the rows one batch took from one input partition for one table:
//! `<dir>/<table>/part-<topic>-<partition>-<first_offset>-<last_offset>.parquet`. It is written
//! under a hidden temporary name (`.part-....parquet.tmp`), synced, then renamed into place and
//! the directory synced, so a reader or a restart sees either the whole file or none of it.
//! The names alone say which input offsets have landed ([`landed_offsets`]). Files with a
//! `node_id` column carry a bloom filter of it, so a query of one node reads few files.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use datafusion::arrow::array::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::parquet::schema::types::ColumnPath;

use crate::error::FileError;

/// Extension of the finished files.
pub const EXTENSION: &str = ".parquet";
const PREFIX: &str = "part-";
const TEMP_SUFFIX: &str = ".tmp";
/// The column with a bloom filter in every file that has it.
const NODE_ID: &str = "node_id";

/// The input records a file accounts for: one partition of one topic, an offset range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileRange {
    /// Input topic.
    pub topic: String,
    /// Input partition.
    pub partition: i32,
    /// First offset of the batch in that partition.
    pub first: i64,
    /// Last (highest) offset of the batch in that partition.
    pub last: i64,
}

impl FileRange {
    /// `part-<topic>-<partition>-<first>-<last>.parquet`.
    pub fn file_name(&self) -> String {
        format!(
            "{PREFIX}{}-{}-{}-{}{EXTENSION}",
            self.topic, self.partition, self.first, self.last
        )
    }

    /// Parses [`FileRange::file_name`]; `None` for any other name (temporary files too). Topic
    /// names may contain `-`, so the numbers are taken from the right.
    pub fn parse(name: &str) -> Option<Self> {
        let stem = name.strip_prefix(PREFIX)?.strip_suffix(EXTENSION)?;
        let mut parts = stem.rsplitn(4, '-');
        let last = parts.next()?.parse().ok()?;
        let first = parts.next()?.parse().ok()?;
        let partition = parts.next()?.parse().ok()?;
        let topic = parts.next().filter(|topic| !topic.is_empty())?;
        Some(Self {
            topic: topic.to_owned(),
            partition,
            first,
            last,
        })
    }
}

fn io_error<'a>(
    operation: &'static str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> FileError + 'a {
    move |source| FileError::Io {
        operation,
        path: path.to_owned(),
        source,
    }
}

/// The highest landed offset per input (topic, partition), over the files of `table_dirs`.
/// Removes leftover temporary files of an interrupted write on the way.
///
/// # Errors
/// [`FileError::Io`] when a directory cannot be read or a leftover removed.
pub fn landed_offsets(table_dirs: &[PathBuf]) -> Result<BTreeMap<(String, i32), i64>, FileError> {
    let mut landed = BTreeMap::new();
    for dir in table_dirs {
        for entry in fs::read_dir(dir).map_err(io_error("read directory", dir))? {
            let entry = entry.map_err(io_error("read directory", dir))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') && name.ends_with(TEMP_SUFFIX) {
                let path = entry.path();
                fs::remove_file(&path).map_err(io_error("remove leftover", &path))?;
                continue;
            }
            if let Some(range) = FileRange::parse(&name) {
                let highest = landed
                    .entry((range.topic, range.partition))
                    .or_insert(range.last);
                *highest = (*highest).max(range.last);
            }
        }
    }
    Ok(landed)
}

/// The names of the finished files in `dir` ([`FileRange::file_name`]s; temporary files of a
/// write under way are not among them).
///
/// # Errors
/// [`FileError::Io`] when the directory cannot be read.
pub fn finished_files(dir: &Path) -> Result<BTreeSet<String>, FileError> {
    let mut names = BTreeSet::new();
    for entry in fs::read_dir(dir).map_err(io_error("read directory", dir))? {
        let name = entry.map_err(io_error("read directory", dir))?.file_name();
        let name = name.to_string_lossy();
        if FileRange::parse(&name).is_some() {
            names.insert(name.into_owned());
        }
    }
    Ok(names)
}

/// Writes `batch` to `dir/<range's file name>` atomically (temporary file, sync, rename, sync
/// of the directory). Blocking I/O: call it off the async runtime.
///
/// # Errors
/// [`FileError`] when the file cannot be written or renamed; the temporary file is removed.
pub fn write_atomically(
    dir: &Path,
    range: &FileRange,
    batch: &RecordBatch,
) -> Result<PathBuf, FileError> {
    let name = range.file_name();
    let temp = dir.join(format!(".{name}{TEMP_SUFFIX}"));
    let path = dir.join(name);
    let written = write_file(&temp, batch).and_then(|()| {
        fs::rename(&temp, &path).map_err(io_error("rename", &temp))?;
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_error("sync directory", dir))
    });
    if written.is_err() {
        // Best effort: a leftover is also removed at the next start.
        let _ = fs::remove_file(&temp);
    }
    written.map(|()| path)
}

fn write_file(path: &Path, batch: &RecordBatch) -> Result<(), FileError> {
    let file = File::create(path).map_err(io_error("create", path))?;
    let parquet = |source| FileError::Parquet {
        path: path.to_owned(),
        source,
    };
    // A node's rows are in few of a table's files; a bloom filter of the file's node ids lets a
    // query of one node (the UI's node page) skip the others. At most one id per row, so the
    // row count bounds the distinct values (the filter takes about a byte per row).
    let node_id = ColumnPath::from(NODE_ID);
    let rows = u64::try_from(batch.num_rows()).unwrap_or(u64::MAX);
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_column_bloom_filter_enabled(node_id.clone(), true)
        .set_column_bloom_filter_ndv(node_id, rows.max(1))
        .build();
    let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(props)).map_err(parquet)?;
    writer.write(batch).map_err(parquet)?;
    let file = writer.into_inner().map_err(parquet)?;
    file.sync_all().map_err(io_error("sync", path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_round_trip_with_dashes_and_dots_in_the_topic() {
        let range = FileRange {
            topic: "demo-17-fleet.events.v1".to_owned(),
            partition: 3,
            first: 10,
            last: 99,
        };
        let name = range.file_name();
        assert_eq!(name, "part-demo-17-fleet.events.v1-3-10-99.parquet");
        assert_eq!(FileRange::parse(&name), Some(range));
    }

    #[test]
    fn other_names_do_not_parse() {
        for name in [
            ".part-t-0-1-2.parquet.tmp",
            "part-t-0-1-2.csv",
            "part--0-1-2.parquet",
            "part-t-x-1-2.parquet",
            "part-0-1-2.parquet",
        ] {
            assert_eq!(FileRange::parse(name), None, "{name}");
        }
    }
}

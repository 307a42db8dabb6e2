//! DataFusion sessions over a data directory kept across readers, so that a page of the UI does
//! not re-read every file and re-rank every row of the replacing tables per query.
//!
//! A [`Snapshot`] is the data directory as its finished files were at one moment: each table is
//! read from exactly those files, and each replacing table's `<table>_final` is computed once
//! and held in memory. [`Snapshots::session`] reuses the current snapshot while no file has
//! been added (and, to bound the work under a sink that lands a batch every few hundred
//! milliseconds, for at least [`REUSE_FOR`] after it was taken). When files were
//! added, only they are read: the winner of a key over all rows is the winner over the earlier
//! winners and the new rows (see `views::final_select`), so the new `_final` rows are the old ones
//! folded with the new files. A file that went away (a directory reset) makes a new snapshot
//! from scratch. Files appear atomically ([`super::files`]), so a listed file is whole.

use std::collections::hash_map::Entry as Slot;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::array::{AsArray, RecordBatch, UInt32Array};
use datafusion::arrow::compute::{cast, take_record_batch};
use datafusion::arrow::datatypes::{DataType, Int32Type, Int64Type, UInt64Type};
use datafusion::arrow::row::{OwnedRow, RowConverter, SortField};
use datafusion::datasource::listing::ListingTableUrl;
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use tokio::sync::Mutex;

use super::files::finished_files;
use super::query::{self, listing_table_of, QueryError};
use super::views::{self, Finals};
use crate::analytics::dialect::Dialect;
use crate::tables::ddl::Replacing;
use crate::tables::{self, Entry};

/// The snapshots of one data directory; clones share them.
#[derive(Clone)]
pub struct Snapshots {
    dir: PathBuf,
    tables: &'static [Entry],
    reuse_for: Duration,
    current: Arc<Mutex<Option<Snapshot>>>,
}

impl fmt::Debug for Snapshots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshots")
            .field("dir", &self.dir)
            .field("reuse_for", &self.reuse_for)
            .finish_non_exhaustive()
    }
}

/// The landed tables as their files were when it was taken.
struct Snapshot {
    taken: Instant,
    /// The finished files read, per table.
    files: BTreeMap<&'static str, BTreeSet<String>>,
    /// The rows of `<table>_final` per replacing table.
    finals: BTreeMap<&'static str, Vec<RecordBatch>>,
    ctx: SessionContext,
}

/// How long a snapshot is reused although files were added, by default: a page is then at
/// most this much older than the files (it says how fresh it is from the data it shows).
pub const REUSE_FOR: Duration = Duration::from_secs(1);

impl Snapshots {
    /// The snapshots of the landed tables ([`tables::landed`]) under `dir`, reused for
    /// [`REUSE_FOR`]; nothing is read before the first [`Snapshots::session`].
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self::of(dir, tables::landed(), REUSE_FOR)
    }

    /// The snapshots of `tables` under `dir`, each reused for at least `reuse_for`.
    pub fn of(dir: impl Into<PathBuf>, tables: &'static [Entry], reuse_for: Duration) -> Self {
        Self {
            dir: dir.into(),
            tables,
            reuse_for,
            current: Arc::new(Mutex::new(None)),
        }
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A session over the current snapshot, taken anew (reading only the added files) when
    /// files were added and it is older than its reuse time ([`REUSE_FOR`] by default). Callers at the same
    /// time wait for one new snapshot rather than each taking one.
    ///
    /// # Errors
    /// [`QueryError::NoTables`] when the directory has no table directory;
    /// [`QueryError::Files`] when one cannot be listed; [`QueryError::DataFusion`] when a file
    /// cannot be read.
    pub async fn session(&self) -> Result<SessionContext, QueryError> {
        let mut current = self.current.lock().await;
        if let Some(snapshot) = current.as_ref() {
            if snapshot.taken.elapsed() < self.reuse_for {
                return Ok(snapshot.ctx.clone());
            }
        }
        let files = self.list()?;
        if let Some(snapshot) = current.as_mut() {
            if snapshot.files == files {
                snapshot.taken = Instant::now();
                return Ok(snapshot.ctx.clone());
            }
        }
        // Fold the added files into the previous winners, unless a file went away.
        let previous = current.take().filter(|old| {
            old.files
                .iter()
                .all(|(table, names)| files.get(table).is_some_and(|now| names.is_subset(now)))
        });
        let snapshot = self.take(files, previous).await?;
        let ctx = snapshot.ctx.clone();
        *current = Some(snapshot);
        Ok(ctx)
    }

    /// The finished files per table directory that exists.
    fn list(&self) -> Result<BTreeMap<&'static str, BTreeSet<String>>, QueryError> {
        let mut files = BTreeMap::new();
        for table in self.tables {
            let dir = self.dir.join(table.name);
            if dir.is_dir() {
                files.insert(table.name, finished_files(&dir)?);
            }
        }
        if files.is_empty() {
            return Err(QueryError::NoTables(self.dir.display().to_string()));
        }
        Ok(files)
    }

    async fn take(
        &self,
        files: BTreeMap<&'static str, BTreeSet<String>>,
        previous: Option<Snapshot>,
    ) -> Result<Snapshot, QueryError> {
        let (old_files, mut old_finals) = previous
            .map(|old| (old.files, old.finals))
            .unwrap_or_default();
        let ctx = SessionContext::new();
        let mut finals = BTreeMap::new();
        for table in self.tables {
            let names = files.get(table.name);
            let urls = self.urls(table.name, names.into_iter().flatten())?;
            ctx.register_table(table.name, self.provider(table, urls)?)?;
            let Some(replacing) = &table.replacing else {
                continue;
            };
            let before = old_files.get(table.name);
            let earlier = old_finals.remove(table.name);
            let added = names
                .into_iter()
                .flatten()
                .filter(|name| before.is_none_or(|before| !before.contains(*name)));
            let added = self.urls(table.name, added)?;
            let rows = match earlier {
                Some(earlier) if added.is_empty() => earlier,
                earlier => {
                    // The earlier winners and the added files' rows, ranked together.
                    let reading = SessionContext::new();
                    reading.register_table("added", self.provider(table, added)?)?;
                    let mut rows = earlier.unwrap_or_default();
                    rows.extend(query::run(&reading, "SELECT * FROM added").await?);
                    with_schema(table, winners(replacing, &rows)?)?
                }
            };
            let name = Dialect::DataFusion.final_table(replacing.table);
            ctx.register_table(name, Arc::new(in_memory(table, &rows)?))?;
            finals.insert(table.name, rows);
        }
        views::create(&ctx, self.tables, Finals::Registered).await?;
        Ok(Snapshot {
            taken: Instant::now(),
            files,
            finals,
            ctx,
        })
    }

    fn urls<'a>(
        &self,
        table: &str,
        names: impl IntoIterator<Item = &'a String>,
    ) -> Result<Vec<ListingTableUrl>, QueryError> {
        let dir = self.dir.join(table);
        let url = |name: &String| ListingTableUrl::parse(dir.join(name).to_string_lossy());
        Ok(names.into_iter().map(url).collect::<Result<_, _>>()?)
    }

    /// The table over `urls`, or an empty one without files (so every view plans).
    fn provider(
        &self,
        table: &Entry,
        urls: Vec<ListingTableUrl>,
    ) -> Result<Arc<dyn datafusion::catalog::TableProvider>, QueryError> {
        if urls.is_empty() {
            return Ok(Arc::new(MemTable::try_new(table.schema(), vec![vec![]])?));
        }
        Ok(listing_table_of(urls, table.schema())?)
    }
}

/// A row's rank (version, partition, offset: higher wins), its batch and its index there.
type Place = ((u64, i32, i64), usize, u32);

/// The rows of `<table>_final` among `rows`: per key, the row that is first in the order of
/// `views::final_select` (version, partition, offset, all descending; the first read among
/// equals). The same rows as that query, found with one hash map instead of a sort.
fn winners(replacing: &Replacing, rows: &[RecordBatch]) -> Result<Vec<RecordBatch>, QueryError> {
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    let schema = first.schema();
    let index = |name: &str| schema.index_of(name);
    let keys: Vec<usize> = replacing
        .key
        .iter()
        .map(|c| index(c))
        .collect::<Result<_, _>>()?;
    let version = replacing.version.map(index).transpose()?;
    let (partition, offset) = (index("partition")?, index("offset")?);
    let fields = keys
        .iter()
        .map(|&i| SortField::new(schema.field(i).data_type().clone()));
    let converter = RowConverter::new(fields.collect())?;
    // Per key: the best row so far, and where it is.
    let mut best: HashMap<OwnedRow, Place> = HashMap::new();
    for (at, batch) in rows.iter().enumerate() {
        let columns: Vec<_> = keys.iter().map(|&i| Arc::clone(batch.column(i))).collect();
        let converted = converter.convert_columns(&columns)?;
        let versions = match version {
            Some(i) => Some(cast(batch.column(i), &DataType::UInt64)?),
            None => None,
        };
        let versions = versions.as_ref().map(|v| v.as_primitive::<UInt64Type>());
        let partitions = cast(batch.column(partition), &DataType::Int32)?;
        let partitions = partitions.as_primitive::<Int32Type>();
        let offsets = cast(batch.column(offset), &DataType::Int64)?;
        let offsets = offsets.as_primitive::<Int64Type>();
        for row in 0..batch.num_rows() {
            let rank = (
                versions.map_or(0, |v| v.value(row)),
                partitions.value(row),
                offsets.value(row),
            );
            let index = u32::try_from(row)
                .map_err(|_| QueryError::Shape(format!("a batch of {row}+ rows")))?;
            let place = (rank, at, index);
            match best.entry(converted.row(row).owned()) {
                Slot::Vacant(vacant) => {
                    vacant.insert(place);
                }
                Slot::Occupied(mut occupied) if occupied.get().0 < rank => {
                    occupied.insert(place);
                }
                Slot::Occupied(_) => {}
            }
        }
    }
    let mut taken: Vec<Vec<u32>> = vec![Vec::new(); rows.len()];
    for (_, at, row) in best.into_values() {
        taken[at].push(row);
    }
    let mut out = Vec::new();
    for (batch, mut indices) in rows.iter().zip(taken) {
        if indices.is_empty() {
            continue;
        }
        indices.sort_unstable();
        out.push(take_record_batch(batch, &UInt32Array::from(indices))?);
    }
    Ok(out)
}

/// `rows` with `table`'s schema (a query's answer may name its columns' nullability
/// differently).
fn with_schema(table: &Entry, rows: Vec<RecordBatch>) -> Result<Vec<RecordBatch>, QueryError> {
    let schema = table.schema();
    let recast =
        |batch: RecordBatch| RecordBatch::try_new(schema.clone(), batch.columns().to_vec());
    Ok(rows.into_iter().map(recast).collect::<Result<_, _>>()?)
}

/// `rows` as a table of `table`'s schema, in one partition per core so scans run in parallel.
fn in_memory(table: &Entry, rows: &[RecordBatch]) -> Result<MemTable, QueryError> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let mut partitions = vec![Vec::new(); cores];
    for (i, batch) in rows.iter().enumerate() {
        partitions[i % cores].push(batch.clone());
    }
    Ok(MemTable::try_new(table.schema(), partitions)?)
}

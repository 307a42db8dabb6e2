//! Rows of any table, so one batch and one router serve the whole list: [`TableRow`] (one row),
//! [`AnyRows`] (one table's rows in a batch, with the input partition of each), and [`Entry`]
//! (a table of the list without its type). Pure.

use std::any::Any;
use std::fmt;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use sxfleet_schemas::{decode, CodecError};

use super::arrow::{record_batch, schema, ConvertError};
use super::ddl::Replacing;
use super::role::TopicRole;
use super::row::{Coordinates, Coords, RowError};
use super::table::Table;
use crate::caps::ServerCaps;

/// A row of one of the tables.
pub struct TableRow {
    table: &'static str,
    row: Box<dyn ErasedRow>,
    rows: fn() -> Box<dyn AnyRows>,
}

impl TableRow {
    /// A row of table `T`.
    pub fn new<T: Table>(row: T::Row) -> Self {
        Self {
            table: T::NAME,
            row: Box::new(row),
            rows: || Box::new(Rows::<T>::default()),
        }
    }

    /// The table's name.
    pub fn table(&self) -> &'static str {
        self.table
    }

    /// An empty set of rows of the row's table, to push it into.
    pub fn new_rows(&self) -> Box<dyn AnyRows> {
        (self.rows)()
    }

    /// The row, if it is one of table `T`.
    pub fn get<T: Table>(&self) -> Option<&T::Row> {
        self.row.as_any().downcast_ref()
    }
}

impl Clone for TableRow {
    fn clone(&self) -> Self {
        Self {
            table: self.table,
            row: self.row.clone_row(),
            rows: self.rows,
        }
    }
}

impl fmt::Debug for TableRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple(self.table).field(&self.row).finish()
    }
}

impl PartialEq for TableRow {
    fn eq(&self, other: &Self) -> bool {
        self.table == other.table && self.row.eq_row(other.row.as_ref())
    }
}

/// What [`TableRow`] needs of a row type.
trait ErasedRow: fmt::Debug + Send + Sync {
    fn as_any(&self) -> &dyn Any;
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
    fn clone_row(&self) -> Box<dyn ErasedRow>;
    fn eq_row(&self, other: &dyn ErasedRow) -> bool;
}

impl<R: Clone + fmt::Debug + PartialEq + Send + Sync + 'static> ErasedRow for R {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
    fn clone_row(&self) -> Box<dyn ErasedRow> {
        Box::new(self.clone())
    }
    fn eq_row(&self, other: &dyn ErasedRow) -> bool {
        other.as_any().downcast_ref::<R>() == Some(self)
    }
}

/// The rows of table `T` in a batch, in the order their records were read, and for each the
/// index of its input partition in the batch.
pub struct Rows<T: Table> {
    /// The rows.
    pub rows: Vec<T::Row>,
    /// Input partition index of each row.
    pub from: Vec<usize>,
}

impl<T: Table> fmt::Debug for Rows<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rows")
            .field("table", &T::NAME)
            .field("rows", &self.rows)
            .field("from", &self.from)
            .finish()
    }
}

impl<T: Table> Default for Rows<T> {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            from: Vec::new(),
        }
    }
}

/// One table's rows of a batch, whatever the table.
pub trait AnyRows: fmt::Debug + Send + Sync {
    /// The table's name.
    fn table(&self) -> &'static str;
    /// Number of rows.
    fn len(&self) -> usize;
    /// True without rows.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Adds `row` read from the partition at index `from`; hands it back if it belongs to
    /// another table.
    fn push(&mut self, row: TableRow, from: usize) -> Result<(), TableRow>;
    /// Drops the rows whose partition index is flagged in `gone`, then renumbers the rest
    /// with `new_index` (old index -> new index).
    fn drop_partitions(&mut self, gone: &[bool], new_index: &[usize]);
    /// Moves the rows out, leaving none.
    fn take(&mut self) -> Box<dyn AnyRows>;
    /// The rows as Arrow record batches, one per input partition index that has rows.
    ///
    /// # Errors
    /// [`ConvertError`] for a row that does not fit its Arrow table (a bug in row building).
    fn record_batches(&self) -> Result<Vec<(usize, RecordBatch)>, ConvertError>;
    /// The rows as [`Rows`] of their table, for typed access.
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
    /// The rows as [`Rows`] of their table, for typed access.
    fn as_any(&self) -> &dyn Any;
}

impl<T: Table> AnyRows for Rows<T> {
    fn table(&self) -> &'static str {
        T::NAME
    }
    fn len(&self) -> usize {
        self.rows.len()
    }
    fn push(&mut self, row: TableRow, from: usize) -> Result<(), TableRow> {
        if row.table != T::NAME || !row.row.as_any().is::<T::Row>() {
            return Err(row);
        }
        if let Ok(row) = row.row.into_any().downcast::<T::Row>() {
            self.rows.push(*row);
            self.from.push(from);
        }
        Ok(())
    }
    fn drop_partitions(&mut self, gone: &[bool], new_index: &[usize]) {
        let is_gone = |index: &usize| gone.get(*index).copied().unwrap_or(false);
        let mut keep = self.from.iter().map(|index| !is_gone(index));
        self.rows.retain(|_| keep.next().unwrap_or(true));
        self.from.retain(|index| !is_gone(index));
        for index in &mut self.from {
            *index = new_index.get(*index).copied().unwrap_or(0);
        }
    }
    fn take(&mut self) -> Box<dyn AnyRows> {
        Box::new(std::mem::take(self))
    }
    fn record_batches(&self) -> Result<Vec<(usize, RecordBatch)>, ConvertError> {
        let columns = T::columns();
        let mut partitions: Vec<usize> = self.from.clone();
        partitions.sort_unstable();
        partitions.dedup();
        let mut out = Vec::with_capacity(partitions.len());
        for index in partitions {
            let mine: Vec<&T::Row> = (self.rows.iter().zip(&self.from))
                .filter(|(_, &p)| p == index)
                .map(|(row, _)| row)
                .collect();
            out.push((index, record_batch(T::NAME, &columns, &mine)?));
        }
        Ok(out)
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// What a payload of a table's role became.
pub type Decoded = Result<Result<TableRow, RowError>, CodecError>;

/// A table of the list without its type: what the generic machinery needs of it.
#[derive(Clone, Copy)]
pub struct Entry {
    /// [`Table::NAME`].
    pub name: &'static str,
    /// [`Table::ROLE`].
    pub role: TopicRole,
    /// [`Table::COORDINATES`].
    pub coordinates: Coordinates,
    /// [`Table::REPLACING`].
    pub replacing: Option<Replacing>,
    schema: fn() -> SchemaRef,
    decode: fn(&[u8], Coords<'_>) -> Decoded,
    rows: fn() -> Box<dyn AnyRows>,
    create: fn(&str, &ServerCaps) -> String,
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("name", &self.name)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl Entry {
    /// Table `T`.
    pub fn of<T: Table>() -> Self {
        Self {
            name: T::NAME,
            role: T::ROLE,
            coordinates: T::COORDINATES,
            replacing: T::REPLACING,
            schema: || schema(&T::columns()),
            decode: decode_row::<T>,
            rows: || Box::new(Rows::<T>::default()),
            create: T::create,
        }
    }

    /// The Arrow schema of the table's Parquet files.
    pub fn schema(&self) -> SchemaRef {
        (self.schema)()
    }

    /// Decodes a payload of the table's role and builds its row.
    ///
    /// # Errors
    /// The outer [`CodecError`] when the payload does not decode, the inner [`RowError`] when
    /// the record does not fit the table.
    pub fn decode(&self, payload: &[u8], at: Coords<'_>) -> Decoded {
        (self.decode)(payload, at)
    }

    /// An empty set of the table's rows.
    pub fn rows(&self) -> Box<dyn AnyRows> {
        (self.rows)()
    }

    /// [`Table::create`].
    pub fn create(&self, database: &str, caps: &ServerCaps) -> String {
        (self.create)(database, caps)
    }
}

fn decode_row<T: Table>(payload: &[u8], at: Coords<'_>) -> Decoded {
    let record = decode::<T::Record>(payload)?;
    Ok(T::row(&record, at).map(TableRow::new::<T>))
}

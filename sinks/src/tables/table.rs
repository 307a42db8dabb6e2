//! The [`Table`] trait every landed table implements, and what its row must be.

use std::fmt::Debug;

use serde::Serialize;
use sxfleet_schemas::Canonical;

use super::arrow::Column;
use super::ddl::Replacing;
use super::role::TopicRole;
use super::row::{Coordinates, Coords, RowError, SourceRow};
use crate::caps::ServerCaps;

/// A row that can land in either backend: RowBinary for ClickHouse, JSON for a dead letter,
/// its coordinates for the effectively-once check.
pub trait LandedRow:
    SourceRow
    + Serialize
    + clickhouse::RowOwned
    + clickhouse::RowWrite
    + Clone
    + Debug
    + PartialEq
    + Send
    + Sync
    + 'static
{
}

impl<R> LandedRow for R where
    R: SourceRow
        + Serialize
        + clickhouse::RowOwned
        + clickhouse::RowWrite
        + Clone
        + Debug
        + PartialEq
        + Send
        + Sync
        + 'static
{
}

/// One landed table: what it is called, where its records come from, how a row is built, its
/// ClickHouse definition and its Arrow columns.
pub trait Table: 'static {
    /// Table name in ClickHouse, directory in the Parquet store.
    const NAME: &'static str;
    /// The input topic its records come from.
    const ROLE: TopicRole;
    /// The columns holding each row's Kafka coordinates.
    const COORDINATES: Coordinates = Coordinates::PLAIN;
    /// How it collapses under `FINAL`; `None` for a plain MergeTree.
    const REPLACING: Option<Replacing> = None;
    /// The decoded record a row is built from.
    type Record: Canonical;
    /// The row.
    type Row: LandedRow;

    /// The row for `record`, read at `at`. Pure.
    ///
    /// # Errors
    /// [`RowError`] for a record that does not fit the table.
    fn row(record: &Self::Record, at: Coords<'_>) -> Result<Self::Row, RowError>;

    /// The `CREATE TABLE IF NOT EXISTS` statement on a server with `caps`, exactly as its
    /// migration runs it (migrations use this; shipped texts never change).
    fn create(database: &str, caps: &ServerCaps) -> String;

    /// The columns, with the ClickHouse table's names and order, for Arrow.
    fn columns() -> Vec<Column<Self::Row>>;
}

//! The landed tables: one file per table (its row, how the row is built from a decoded record
//! and its Kafka coordinates, its DDL, its Arrow columns), the [`Table`] trait they implement,
//! and [`each`], the one list of them. Routing, batching, the landed-offsets query, the stats,
//! the Parquet schemas and the DataFusion registration are all derived from that list.
//!
//! Layout:
//! - [`events`], [`node_state`], [`dlq`], [`transitions`], [`drift_evaluations`], [`alerts`],
//!   [`authority_audit`]: the tables.
//! - [`any`]: rows of any table ([`TableRow`], [`AnyRows`]) and the type-erased [`Entry`].
//! - [`role`]: the sink's input topics ([`TopicRole`]).
//! - [`row`]: Kafka coordinates, [`RowError`], the conversions row building shares.
//! - [`enums`]: the Enum8 value tables shared by DDL, rows and queries.
//! - [`ddl`]: SQL pieces every definition shares, table names, migration step kinds.
//! - [`arrow`]: pure row -> Arrow conversion from a column list.
//!
//! Adding a table: a file here implementing [`Table`], one line in [`each`], and one migration
//! step with its [`Table::create`] (`backend/clickhouse/migrate.rs`).

pub mod alerts;
pub mod any;
pub mod arrow;
pub mod authority_audit;
pub mod ddl;
pub mod dlq;
pub mod drift_evaluations;
pub mod enums;
pub mod events;
pub mod node_state;
pub mod role;
pub mod row;
pub mod transitions;

use std::fmt::Debug;
use std::sync::OnceLock;

use datafusion::arrow::datatypes::SchemaRef;
use serde::Serialize;
use sxfleet_schemas::Canonical;

pub use any::{AnyRows, Entry, Rows, TableRow};
use arrow::Column;
use ddl::Replacing;
pub use role::TopicRole;
pub use row::{Coordinates, Coords, RowError, SourceRow};

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

/// Something done once per table of the list.
pub trait Visit {
    /// Called with each table in turn.
    fn table<T: Table>(&mut self);
}

/// The one list of landed tables, in landing order. A new table is one line here.
pub fn each(visit: &mut impl Visit) {
    visit.table::<events::Events>();
    visit.table::<node_state::NodeState>();
    visit.table::<dlq::Dlq>();
    visit.table::<transitions::Transitions>();
    visit.table::<drift_evaluations::DriftEvaluations>();
    visit.table::<alerts::Alerts>();
    visit.table::<authority_audit::AuthorityAudit>();
}

/// Every table of [`each`] as an [`Entry`], in the same order.
pub fn landed() -> &'static [Entry] {
    static ENTRIES: OnceLock<Vec<Entry>> = OnceLock::new();
    ENTRIES.get_or_init(|| {
        struct Collect(Vec<Entry>);
        impl Visit for Collect {
            fn table<T: Table>(&mut self) {
                self.0.push(Entry::of::<T>());
            }
        }
        let mut collect = Collect(Vec::new());
        each(&mut collect);
        collect.0
    })
}

/// The landed table named `name`.
pub fn named(name: &str) -> Option<&'static Entry> {
    landed().iter().find(|entry| entry.name == name)
}

/// The tables that take records of `role`.
pub fn of_role(role: TopicRole) -> impl Iterator<Item = &'static Entry> {
    landed().iter().filter(move |entry| entry.role == role)
}

/// Every landed table with its Arrow schema.
pub fn schemas() -> Vec<(&'static str, SchemaRef)> {
    landed()
        .iter()
        .map(|entry| (entry.name, entry.schema()))
        .collect()
}

#[cfg(test)]
mod tests;

//! The landed tables: one file per table (its row, how the row is built from a decoded record
//! and its Kafka coordinates, its DDL, its Arrow columns), the [`Table`] trait they implement,
//! and [`each`], the one list of them. Routing, batching, the landed-offsets query, the stats,
//! the Parquet schemas and the DataFusion registration are all derived from that list.
//!
//! Layout:
//! - [`events`], [`node_state`], [`dlq`], [`transitions`], [`drift_evaluations`], [`alerts`],
//!   [`authority_audit`], [`domains`], [`policy_bundles`], [`commands`]: the tables.
//! - [`table`]: the [`Table`] trait.
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
pub mod commands;
pub mod ddl;
pub mod dlq;
pub mod domains;
pub mod drift_evaluations;
pub mod enums;
pub mod events;
pub mod node_state;
pub mod policy_bundles;
pub mod role;
pub mod row;
pub mod table;
pub mod transitions;

use std::sync::OnceLock;

pub use any::{AnyRows, Entry, Rows, TableRow};
pub use role::TopicRole;
pub use row::{Coordinates, Coords, RowError, SourceRow};
pub use table::{LandedRow, Table};

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
    visit.table::<domains::Domains>();
    visit.table::<policy_bundles::PolicyBundles>();
    visit.table::<commands::Commands>();
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

/// The table that takes the records of `role` (each role lands in one table; the DLQ table
/// takes the normalizer's and the sink's own dead letters, both on the DLQ topic).
pub fn of_role(role: TopicRole) -> Option<&'static Entry> {
    landed().iter().find(|entry| entry.role == role)
}

#[cfg(test)]
mod tests;

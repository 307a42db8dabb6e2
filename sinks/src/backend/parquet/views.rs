//! The views of a DataFusion session over the landed tables: a `<table>_final` view per
//! replacing table (the rows ClickHouse's `FINAL` reads) and the analytics views of the
//! ClickHouse database ([`rollups`], [`hierarchy`], [`topology`], [`commands`],
//! [`domain_minute`]), each created when the tables it reads are registered.

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::datasource::MemTable;
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;

use crate::analytics::dialect::Dialect;
use crate::analytics::{commands, domain_minute, hierarchy, rollups, topology};
use crate::tables::ddl::{table, Replacing};
use crate::tables::Entry;

/// Whether [`create`] creates the `<table>_final` views or finds them registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Finals {
    /// Create them as views over the tables.
    Views,
    /// They are registered already, held in memory by a snapshot ([`super::snapshot`]), which also holds
    /// the views of [`HELD`] in memory.
    Registered,
}

/// The views a snapshot computes once and holds in memory: aggregates over `_final` rows that
/// cost far more than the queries reading them (`command_latest`: a dozen ordered
/// `last_value`s per command, read by `rollouts` and `safe_to_advance`).
const HELD: [&str; 1] = [table::COMMAND_LATEST];

/// The `<table>_final` views of the replacing tables among `tables` (unless `finals` says they
/// are registered), and every analytics view whose tables are among them.
pub(super) async fn create(
    ctx: &SessionContext,
    tables: &[Entry],
    finals: Finals,
) -> Result<(), DataFusionError> {
    for table in tables {
        match &table.replacing {
            Some(replacing) if finals == Finals::Views => {
                let view = Dialect::DataFusion.final_table(replacing.table);
                let select = final_select(replacing, &table.schema());
                ctx.sql(&format!("CREATE VIEW {view} AS {select}")).await?;
            }
            _ => {}
        }
    }
    let has = |wanted: &str| tables.iter().any(|table| table.name == wanted);
    let mut views = Vec::new();
    if has(table::NODE_STATE) {
        views.extend(rollups::rollup_selects(
            Dialect::DataFusion,
            table::NODE_STATE,
        ));
    }
    if [table::NODE_STATE, table::DOMAINS, table::AUTHORITY_AUDIT]
        .into_iter()
        .all(has)
    {
        views.extend(hierarchy::selects(Dialect::DataFusion, ""));
        views.extend(topology::selects(Dialect::DataFusion, ""));
    }
    if has(table::COMMANDS) {
        views.extend(commands::selects(Dialect::DataFusion, ""));
    }
    for (view, select) in views {
        if finals == Finals::Registered && HELD.contains(&view) {
            // Before the views that read it are planned: a view's plan keeps its sources.
            let rows = ctx.sql(&select).await?;
            let schema = Arc::new(rows.schema().as_arrow().clone());
            let held = MemTable::try_new(schema, vec![rows.collect().await?])?;
            ctx.register_table(view, Arc::new(held))?;
        } else {
            ctx.sql(&format!("CREATE VIEW {view} AS\n{select}")).await?;
        }
    }
    if [table::TRANSITIONS, table::DRIFT_EVALUATIONS, table::ALERTS]
        .into_iter()
        .all(has)
    {
        // ClickHouse keeps this rollup up to date with materialized views; here it is a view
        // over the same aggregates of the same tables.
        let rows = domain_minute::union_select(Dialect::DataFusion);
        ctx.sql(&format!("CREATE VIEW {} AS {rows}", table::DOMAIN_MINUTE))
            .await?;
    }
    Ok(())
}

/// The rows of `<table>_final`, with the table's columns: per sorting key, the row with the
/// highest version, and among equal versions (or without a version column) the one read last
/// from the topic, the row ClickHouse inserted last. A key's records come from one partition
/// (the topics are keyed by node, by alert subject or by domain), so that is the highest
/// `(partition, offset)`. A snapshot finds the same rows without SQL
/// ([`super::snapshot`]).
fn final_select(replacing: &Replacing, schema: &SchemaRef) -> String {
    let quoted = |column: &str| format!("\"{column}\"");
    let columns: Vec<String> = schema.fields().iter().map(|f| quoted(f.name())).collect();
    let key: Vec<String> = replacing.key.iter().map(|c| quoted(c)).collect();
    let order: Vec<String> = (replacing.version.iter().copied())
        .chain(["partition", "offset"])
        .map(|c| format!("{} DESC", quoted(c)))
        .collect();
    format!(
        "SELECT {columns} FROM \
         (SELECT *, row_number() OVER (PARTITION BY {key} ORDER BY {order}) AS sxfleet_rank \
         FROM {source}) WHERE sxfleet_rank = 1",
        source = replacing.table,
        columns = columns.join(", "),
        key = key.join(", "),
        order = order.join(", "),
    )
}

//! SQL over the Parquet tables with DataFusion: every table directory of a data directory is a
//! listing table with the schema the sink writes, next to views that read the replacing tables
//! the way ClickHouse's `FINAL` does, and the rollup views of the ClickHouse database.
//!
//! ClickHouse -> DataFusion: `<table> FINAL` is the view `<table>_final` for each replacing
//! table ([`crate::tables::Table::REPLACING`]: `node_state`, `transitions`,
//! `drift_evaluations`, `alerts`, `authority_audit`, `domains`, `policy_bundles`, `commands`);
//! `domain_rollup`, `rollout_status`, `attention_queue` (`crate::analytics::rollups`),
//! `domain_tree_rollup`, `domain_authority`, `masters_of_record`, `assignments`
//! (`crate::analytics::hierarchy`), `relay_paths`, `edges` and `relay_health`
//! (`crate::analytics::topology`), `command_latest` and `rollouts` (`crate::analytics::commands`)
//! are views of the same names (created by `views`); `count()` is `count(*)`, `ARRAY JOIN` is
//! `unnest`, and an
//! Enum8 column already reads as its symbol (no `toString`); `docs/embedded.md` has the whole
//! table, and every query of `docs/sql-cookbook.md` has its DataFusion twin there.
//! [`fleet_summary`] gives the same [`Summary`] as [`crate::analytics::summary::fleet_summary`]
//! on the same data.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::datasource::MemTable;
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;

use super::files::EXTENSION;
use super::views::{self, Finals};
use crate::analytics::dialect::Dialect;
use crate::analytics::summary::{hours_text, tree_sql, Summary, SummarySql, TreeLine};
use crate::tables::ddl::table;
use crate::tables::enums::{self, Enum8Values};
use crate::tables::{self, Entry};

/// A failed embedded query.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The data directory has no table directories.
    #[error("{0} holds no table directory (events, node_state, ...): nothing has landed there")]
    NoTables(String),
    /// Planning or running the query failed (bad SQL, unreadable file, ...).
    #[error("query failed")]
    DataFusion(#[from] DataFusionError),
    /// A table directory could not be listed.
    #[error(transparent)]
    Files(#[from] crate::error::FileError),
    /// Formatting the result failed.
    #[error("formatting the result failed")]
    Format(#[from] ArrowError),
    /// A result had a shape the caller did not expect (a bug in the SQL).
    #[error("unexpected result shape: {0}")]
    Shape(String),
}

/// How [`render`] prints a result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A boxed text table.
    Table,
    /// CSV with a header line.
    Csv,
    /// One JSON array of objects.
    Json,
    /// Tab-separated values without a header, as ClickHouse's `TabSeparated` prints them:
    /// floats in their shortest form (`3.75`, `1`), nulls as `\N`, lists as Arrow shows them.
    /// Answers of both backends compare as text in this format.
    TabSeparated,
}

/// A session with every table directory under `dir` registered (a table that has no directory
/// yet is registered empty), a `<table>_final` view for each replacing table, the rollup views,
/// the hierarchy and topology views and the command views (see `views`).
///
/// # Errors
/// [`QueryError::NoTables`] when `dir` has no table directory; [`QueryError::DataFusion`] when a
/// table cannot be registered.
pub async fn session(dir: &Path) -> Result<SessionContext, QueryError> {
    session_of(dir, tables::landed()).await
}

/// [`session`] over the directories of `tables` (the landed ones and, in tests, others); the
/// views are created when the tables they read are among `tables`.
///
/// # Errors
/// As [`session`].
pub async fn session_of(dir: &Path, tables: &[Entry]) -> Result<SessionContext, QueryError> {
    let ctx = SessionContext::new();
    let mut landed = 0;
    for table in tables {
        let path = dir.join(table.name);
        let schema = table.schema();
        if path.is_dir() {
            ctx.register_table(table.name, listing_table(&path, schema)?)?;
            landed += 1;
        } else {
            // Nothing landed in this table yet: an empty one, so every view plans.
            ctx.register_table(
                table.name,
                Arc::new(MemTable::try_new(schema, vec![vec![]])?),
            )?;
        }
    }
    if landed == 0 {
        return Err(QueryError::NoTables(dir.display().to_string()));
    }
    views::create(&ctx, tables, Finals::Views).await?;
    Ok(ctx)
}

/// A session like [`session_of`] over rows held in memory: each table of `tables` with its
/// record batches (none for an empty table). For tests and in-process checks of the views.
///
/// # Errors
/// [`QueryError::DataFusion`] when a batch does not have its table's schema.
pub async fn session_in_memory(
    tables: &[(Entry, Vec<RecordBatch>)],
) -> Result<SessionContext, QueryError> {
    let ctx = SessionContext::new();
    for (table, batches) in tables {
        let provider = MemTable::try_new(table.schema(), vec![batches.clone()])?;
        ctx.register_table(table.name, Arc::new(provider))?;
    }
    let entries: Vec<Entry> = tables.iter().map(|(table, _)| *table).collect();
    views::create(&ctx, &entries, Finals::Views).await?;
    Ok(ctx)
}

fn listing_table(path: &Path, schema: SchemaRef) -> Result<Arc<ListingTable>, DataFusionError> {
    // A trailing separator makes the URL a directory (every file below it).
    let url = ListingTableUrl::parse(format!("{}/", path.display()))?;
    listing_table_of(vec![url], schema)
}

/// A table over the Parquet files `urls` (files, or directories with a trailing separator).
pub(super) fn listing_table_of(
    urls: Vec<ListingTableUrl>,
    schema: SchemaRef,
) -> Result<Arc<ListingTable>, DataFusionError> {
    let options =
        ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(EXTENSION);
    let config = ListingTableConfig::new_with_multi_paths(urls)
        .with_listing_options(options)
        .with_schema(schema);
    Ok(Arc::new(ListingTable::try_new(config)?))
}

/// Runs `sql` and collects the result.
///
/// # Errors
/// [`QueryError::DataFusion`] for SQL that does not plan or run.
pub async fn run(ctx: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>, QueryError> {
    Ok(ctx.sql(sql).await?.collect().await?)
}

/// `batches` printed as `format`.
///
/// # Errors
/// [`QueryError::Format`] when a column cannot be written in that format (e.g. a list in CSV).
pub fn render(batches: &[RecordBatch], format: Format) -> Result<String, QueryError> {
    use datafusion::arrow::{csv, json, util::pretty};
    match format {
        Format::Table => Ok(pretty::pretty_format_batches(batches)?.to_string()),
        Format::Csv => {
            let mut writer = csv::WriterBuilder::new()
                .with_header(true)
                .build(Vec::new());
            for batch in batches {
                writer.write(batch)?;
            }
            Ok(String::from_utf8_lossy(&writer.into_inner()).into_owned())
        }
        Format::Json => {
            let mut writer = json::ArrayWriter::new(Vec::new());
            let refs: Vec<&RecordBatch> = batches.iter().collect();
            writer.write_batches(&refs)?;
            writer.finish()?;
            Ok(String::from_utf8_lossy(&writer.into_inner()).into_owned())
        }
        Format::TabSeparated => tab_separated(batches),
    }
}

fn tab_separated(batches: &[RecordBatch]) -> Result<String, QueryError> {
    use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
    let mut out = String::new();
    for batch in batches {
        let mut columns = Vec::with_capacity(batch.num_columns());
        for column in batch.columns() {
            let column = match column.data_type() {
                DataType::Float32 | DataType::Float64 => cast(column, &DataType::Float64)?,
                _ => Arc::clone(column),
            };
            columns.push(column);
        }
        let options = FormatOptions::default();
        for row in 0..batch.num_rows() {
            for (i, column) in columns.iter().enumerate() {
                if i > 0 {
                    out.push('\t');
                }
                if column.is_null(row) {
                    out.push_str("\\N");
                } else if let Some(floats) = column.as_primitive_opt::<Float64Type>() {
                    out.push_str(&floats.value(row).to_string());
                } else {
                    out.push_str(
                        &ArrayFormatter::try_new(column, &options)?
                            .value(row)
                            .to_string(),
                    );
                }
            }
            out.push('\n');
        }
    }
    Ok(out)
}

/// The overview queries of [`crate::analytics::summary::summary_sql`] in DataFusion's dialect, over
/// `node_state_final`, with the same labels and row order (Enum8 columns by code).
pub fn summary_sql() -> SummarySql {
    let from = Dialect::DataFusion.final_table(table::NODE_STATE);
    let by_name = |column: &str| {
        format!(
            "SELECT {column} AS label, count(*) AS nodes FROM {from} \
             GROUP BY {column} ORDER BY {column}"
        )
    };
    let by_code = |column: &str, values: Enum8Values| {
        let cases: String = values
            .iter()
            .map(|(name, code)| format!(" WHEN '{name}' THEN {code}"))
            .collect();
        format!(
            "SELECT label, nodes FROM (SELECT {column} AS label, count(*) AS nodes, \
             CASE {column}{cases} END AS code FROM {from} GROUP BY {column}) ORDER BY code"
        )
    };
    SummarySql {
        total: format!("SELECT count(*) FROM {from}"),
        breakdowns: [
            by_name("region"),
            by_code("connectivity", enums::CONNECTIVITY),
            by_code("lifecycle_phase", enums::LIFECYCLE_PHASE),
            by_name("reported_version"),
            by_code("drift_status", enums::DRIFT_STATUS),
            by_code("trust_state", enums::TRUST_STATE),
        ],
    }
}

/// The fleet overview over the Parquet tables (see [`summary_sql`]).
///
/// # Errors
/// [`QueryError::DataFusion`] when `node_state` is missing or unreadable.
pub async fn fleet_summary(ctx: &SessionContext) -> Result<Summary, QueryError> {
    let sql = summary_sql();
    let total = labelled_counts(&run(ctx, &sql.total).await?, false)?;
    let total_nodes = total.first().map_or(0, |(_, count)| *count);
    let [region, connectivity, phase, version, drift, trust] = &sql.breakdowns;
    Ok(Summary {
        total_nodes,
        by_region: labelled_counts(&run(ctx, region).await?, true)?,
        by_connectivity: labelled_counts(&run(ctx, connectivity).await?, true)?,
        by_lifecycle_phase: labelled_counts(&run(ctx, phase).await?, true)?,
        by_reported_version: labelled_counts(&run(ctx, version).await?, true)?,
        by_drift_status: labelled_counts(&run(ctx, drift).await?, true)?,
        by_trust: labelled_counts(&run(ctx, trust).await?, true)?,
        tree: match tree_sql(Dialect::DataFusion) {
            Some(sql) => tree_lines(&run(ctx, &sql).await?)?,
            None => Vec::new(),
        },
    })
}

/// The rows of the cookbook's `fleet_tree` as [`TreeLine`]s.
///
/// # Errors
/// [`QueryError::Shape`] for other columns; [`QueryError::Format`] for uncastable ones.
fn tree_lines(batches: &[RecordBatch]) -> Result<Vec<TreeLine>, QueryError> {
    let mut out = Vec::new();
    for batch in batches {
        if batch.num_columns() != 8 {
            let columns = batch.num_columns();
            return Err(QueryError::Shape(format!(
                "{columns} tree columns, expected 8"
            )));
        }
        let text = |i: usize| cast(batch.column(i), &DataType::Utf8);
        let int = |i: usize| cast(batch.column(i), &DataType::Int64);
        let (id, level, status, authority) = (text(0)?, text(2)?, text(4)?, text(6)?);
        let (depth, nodes, drift) = (int(1)?, int(3)?, int(5)?);
        let hours = cast(batch.column(7), &DataType::Float64)?;
        let hours = hours.as_primitive::<Float64Type>();
        for row in 0..batch.num_rows() {
            let string = |a: &dyn Array| a.as_string::<i32>().value(row).to_owned();
            let number = |a: &dyn Array| a.as_primitive::<Int64Type>().value(row);
            out.push(TreeLine {
                domain_id: string(&id),
                depth: number(&depth),
                level: string(&level),
                nodes: u64::try_from(number(&nodes)).unwrap_or(0),
                shown_status: string(&status),
                drift_objects: number(&drift),
                authority: string(&authority),
                sync_debt_h: hours_text(hours.value(row)),
            });
        }
    }
    Ok(out)
}

/// Rows of `(label, count)` (or of `(count)` without a label) as Rust values.
///
/// # Errors
/// [`QueryError::Shape`] for other columns; [`QueryError::Format`] for uncastable ones.
pub fn labelled_counts(
    batches: &[RecordBatch],
    labelled: bool,
) -> Result<Vec<(String, u64)>, QueryError> {
    let mut out = Vec::new();
    let count_at = usize::from(labelled);
    for batch in batches {
        if batch.num_columns() != count_at + 1 {
            return Err(QueryError::Shape(format!(
                "{} columns, expected {}",
                batch.num_columns(),
                count_at + 1
            )));
        }
        let counts = cast(batch.column(count_at), &DataType::Int64)?;
        let counts = counts.as_primitive::<Int64Type>();
        let labels = if labelled {
            Some(cast(batch.column(0), &DataType::Utf8)?)
        } else {
            None
        };
        for row in 0..batch.num_rows() {
            let label = match &labels {
                Some(labels) if !labels.is_null(row) => labels.as_string::<i32>().value(row),
                _ => "",
            };
            let count = u64::try_from(counts.value(row))
                .map_err(|_| QueryError::Shape(format!("negative count for {label:?}")))?;
            out.push((label.to_owned(), count));
        }
    }
    Ok(out)
}

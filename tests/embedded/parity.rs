//! Every query of `docs/sql-cookbook.md`, in both dialects, on the same landed data: the
//! ClickHouse query against the server, its DataFusion twin against the Parquet files, and the
//! answers compared value by value, row order included.
//!
//! Results have mixed column types, so each cell is compared as normalized text:
//! - NULL is `NULL`; so is a non-finite float (ClickHouse's JSON writes `nan` and `inf` as null);
//! - an integer is its decimal digits, whatever its width or sign (ClickHouse's JSON quotes
//!   64-bit integers, which reads the same);
//! - a float is rounded to 6 decimals, trailing zeros and point dropped, so `45` and `45.0`
//!   agree (summation order may differ between engines in the last bits, never at 6 decimals);
//! - text, an Enum8 symbol included, is itself;
//! - `DateTime('UTC')` and `Timestamp(Second, "UTC")` are `YYYY-MM-DD hh:mm:ss`;
//! - an array is `[a, b]` of its normalized items.
//!
//! Column names are compared too: a twin names its columns as the ClickHouse query does.

use std::path::Path;
use std::process::Command;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Float32Type, Float64Type};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::prelude::SessionContext;
use serde_json::Value;
use sxfleet_sinks::cookbook::{self, Dialect, Params, Query};
use sxfleet_sinks::{query, ClickHouse};

/// A result: column names, then each row's normalized cells (see the module header).
#[derive(Debug, PartialEq)]
pub struct Answer {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// A float as the comparison sees it.
fn float(value: f64) -> String {
    if !value.is_finite() {
        return "NULL".to_owned();
    }
    let fixed = format!("{value:.6}");
    let trimmed = fixed.trim_end_matches('0').trim_end_matches('.');
    match trimmed {
        "-0" => "0".to_owned(),
        other => other.to_owned(),
    }
}

/// `sql`'s answer from ClickHouse, read as `JSONCompact`.
pub async fn clickhouse(ch: &ClickHouse, sql: &str) -> Result<Answer, String> {
    let mut cursor = ch
        .client()
        .query(sql)
        .fetch_bytes("JSONCompact")
        .map_err(|e| format!("{sql}: {e}"))?;
    let bytes = cursor.collect().await.map_err(|e| format!("{sql}: {e}"))?;
    let json: Value = serde_json::from_slice(&bytes).map_err(|e| format!("{sql}: {e}"))?;
    let columns = json["meta"]
        .as_array()
        .ok_or("no meta")?
        .iter()
        .map(|column| column["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    let rows = json["data"]
        .as_array()
        .ok_or("no data")?
        .iter()
        .map(|row| {
            let cells = row.as_array().map(Vec::as_slice).unwrap_or_default();
            cells.iter().map(json_cell).collect()
        })
        .collect();
    Ok(Answer { columns, rows })
}

fn json_cell(value: &Value) -> String {
    match value {
        Value::Null => "NULL".to_owned(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(u)) => u.to_string(),
            (None, None) => float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(text) => text.clone(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(json_cell).collect();
            format!("[{}]", items.join(", "))
        }
        other => other.to_string(),
    }
}

/// `sql`'s answer from DataFusion over the Parquet tables.
pub async fn datafusion(ctx: &SessionContext, sql: &str) -> Result<Answer, String> {
    let batches = query::run(ctx, sql)
        .await
        .map_err(|e| format!("{sql}: {e:?}"))?;
    let columns = batches
        .first()
        .map(|batch| {
            let schema = batch.schema();
            schema.fields().iter().map(|f| f.name().clone()).collect()
        })
        .unwrap_or_default();
    let mut rows = Vec::new();
    for batch in &batches {
        for row in 0..batch.num_rows() {
            let cells = batch.columns().iter().map(|c| arrow_cell(c.as_ref(), row));
            rows.push(cells.collect::<Result<Vec<_>, _>>()?);
        }
    }
    Ok(Answer { columns, rows })
}

fn arrow_cell(array: &dyn Array, row: usize) -> Result<String, String> {
    if array.is_null(row) {
        return Ok("NULL".to_owned());
    }
    Ok(match array.data_type() {
        DataType::Float64 => float(array.as_primitive::<Float64Type>().value(row)),
        DataType::Float32 => float(f64::from(array.as_primitive::<Float32Type>().value(row))),
        DataType::List(_) => {
            let items = array.as_list::<i32>().value(row);
            let items: Vec<String> = (0..items.len())
                .map(|i| arrow_cell(items.as_ref(), i))
                .collect::<Result<_, _>>()?;
            format!("[{}]", items.join(", "))
        }
        _ => {
            let time = Some("%Y-%m-%d %H:%M:%S");
            let options = FormatOptions::default()
                .with_timestamp_format(time)
                .with_timestamp_tz_format(time);
            let formatter = ArrayFormatter::try_new(array, &options).map_err(|e| e.to_string())?;
            formatter.value(row).to_string()
        }
    })
}

/// The cookbook queries of `dialect`, each with the node ids it runs for: every node of `nodes`
/// for a query with `{node_id}`, none (`""`) for the others.
fn instances(dialect: Dialect, nodes: &[String]) -> Vec<(Query, String, String)> {
    let mut out = Vec::new();
    for query in cookbook::queries(cookbook::DOCUMENT, dialect) {
        if query.sql.contains("{node_id}") {
            for node in nodes {
                out.push((query.clone(), node.clone(), query.for_node(node)));
            }
        } else {
            out.push((query.clone(), String::new(), query.bind(&Params::default())));
        }
    }
    out
}

/// Runs every cookbook query in both dialects (node queries once per node of `nodes`) and
/// asserts equal answers. Returns, per `(name, node)`, how many rows the answer had.
pub async fn compare_cookbook(
    ch: &ClickHouse,
    ctx: &SessionContext,
    nodes: &[String],
) -> Vec<(String, String, usize)> {
    let clickhouse_queries = instances(Dialect::ClickHouse, nodes);
    let datafusion_queries = instances(Dialect::DataFusion, nodes);
    let key = |(q, node, _): &(Query, String, String)| (q.name.clone(), node.clone());
    assert_eq!(
        clickhouse_queries.iter().map(key).collect::<Vec<_>>(),
        datafusion_queries.iter().map(key).collect::<Vec<_>>(),
        "one twin per cookbook query"
    );
    let mut sizes = Vec::new();
    for ((query, node, ch_sql), (_, _, df_sql)) in
        clickhouse_queries.iter().zip(&datafusion_queries)
    {
        let from_clickhouse = clickhouse(ch, ch_sql).await.unwrap();
        let from_parquet = datafusion(ctx, df_sql).await.unwrap();
        let what = format!("{} {node}", query.name);
        println!("{what}: {} rows", from_clickhouse.rows.len());
        if !from_parquet.rows.is_empty() {
            assert_eq!(from_parquet.columns, from_clickhouse.columns, "{what}");
        }
        assert_eq!(
            from_parquet.rows, from_clickhouse.rows,
            "{what}\n--- ClickHouse:\n{ch_sql}\n--- DataFusion:\n{df_sql}"
        );
        sizes.push((query.name.clone(), node.clone(), from_clickhouse.rows.len()));
    }
    sizes
}

/// `sxfleet query --data-dir dir --format json` prints, for every DataFusion query of the
/// cookbook (node queries for `node`), exactly what the library's session renders.
pub async fn cli_answers_the_cookbook(dir: &Path, ctx: &SessionContext, node: &str) {
    let nodes = [node.to_owned()];
    for (query, _, sql) in instances(Dialect::DataFusion, &nodes) {
        let output = Command::new(env!("CARGO_BIN_EXE_sxfleet"))
            .args(["query", "--format", "json", "--data-dir"])
            .arg(dir)
            .arg(&sql)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{}: {stderr}", query.name);
        let batches = query::run(ctx, &sql).await.unwrap();
        let want = query::render(&batches, query::Format::Json).unwrap();
        let got = String::from_utf8_lossy(&output.stdout);
        assert_eq!(got.trim_end(), want.trim_end(), "{}", query.name);
    }
}

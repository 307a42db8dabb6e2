//! Every query of `docs/sql-cookbook.md`, in both dialects, on the same landed data: the
//! ClickHouse query against the server, its DataFusion twin against the Parquet files, and the
//! answers compared value by value, row order included.
//!
//! Results have mixed column types, so each cell is compared as normalized text, as
//! `sxfleet_sinks::answer` reads both backends' answers (the library the UI shows them with).
//! Column names are compared too: a twin names its columns as the ClickHouse query does.

use std::path::Path;
use std::process::Command;

use datafusion::prelude::SessionContext;
use sxfleet_sinks::cookbook::{self, Dialect, Params, Query};
use sxfleet_sinks::{query, ClickHouse, Reader};

/// The cookbook queries of `dialect`, each with the node ids it runs for: every node of `nodes`
/// for a query with `{node_id}`, none (`""`) for the others; `{command_id}` is `command`.
fn instances(dialect: Dialect, nodes: &[String], command: &str) -> Vec<(Query, String, String)> {
    let mut out = Vec::new();
    let bind = |query: &Query, node_id: &str| {
        query.bind(&Params {
            node_id,
            command_id: command,
            ..Params::default()
        })
    };
    for query in cookbook::queries(cookbook::DOCUMENT, dialect) {
        if query.sql.contains("{node_id}") {
            for node in nodes {
                out.push((query.clone(), node.clone(), bind(&query, node)));
            }
        } else {
            out.push((query.clone(), String::new(), bind(&query, "")));
        }
    }
    out
}

/// Runs every cookbook query in both dialects (node queries once per node of `nodes`) and
/// asserts equal answers; a command query shows `command`. Returns, per `(name, node)`, how many
/// rows the answer had.
pub async fn compare_cookbook(
    ch: &ClickHouse,
    ctx: &SessionContext,
    nodes: &[String],
    command: &str,
) -> Vec<(String, String, usize)> {
    let clickhouse_queries = instances(Dialect::ClickHouse, nodes, command);
    let datafusion_queries = instances(Dialect::DataFusion, nodes, command);
    let key = |(q, node, _): &(Query, String, String)| (q.name.clone(), node.clone());
    assert_eq!(
        clickhouse_queries.iter().map(key).collect::<Vec<_>>(),
        datafusion_queries.iter().map(key).collect::<Vec<_>>(),
        "one twin per cookbook query"
    );
    let from_ch = Reader::clickhouse(ch.client(), "ClickHouse");
    let from_df = Reader::datafusion(ctx.clone(), "Parquet");
    let mut sizes = Vec::new();
    for ((query, node, ch_sql), (_, _, df_sql)) in
        clickhouse_queries.iter().zip(&datafusion_queries)
    {
        let from_clickhouse = from_ch.sql(ch_sql).await.unwrap();
        let from_parquet = from_df.sql(df_sql).await.unwrap();
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
    for (query, _, sql) in instances(Dialect::DataFusion, &nodes, "") {
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

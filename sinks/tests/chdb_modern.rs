//! The DDL, applied twice, and the overview queries on a current ClickHouse engine: chDB
//! (`pip install chdb-core`), run in process by `tests/python/chdb_check.py`. The caps come
//! from chDB's own `version()`, so the modern branches of the DDL (LowCardinality, codecs) are
//! the ones exercised. Rows go in as JSONEachRow of the same row structs the sink inserts.
//!
//! Needs `$SXFLEET_PYTHON` (else `python3`) with chDB; fails, never skips, when it is missing.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::{fleet, random_name, samples, TWIN_AT};
use serde_json::json;
use sxfleet_sinks::analytics::status::check::{rule_check_sql, rule_in_rust};
use sxfleet_sinks::cookbook::Dialect;
use sxfleet_sinks::migrate::MIGRATIONS;
use sxfleet_sinks::summary::tree_sql;
use sxfleet_sinks::tables::ddl;
use sxfleet_sinks::tables::events::event_row;
use sxfleet_sinks::tables::node_state::node_state_row;
use sxfleet_sinks::tables::transitions::transition_row;
use sxfleet_sinks::tables::Coords;
use sxfleet_sinks::{cookbook, summary_sql, ServerCaps, Summary};

/// Runs `steps` (SQL, optional answer name) in one fresh chDB session.
fn chdb(steps: &[(String, Option<&str>)]) -> BTreeMap<String, String> {
    let python = std::env::var("SXFLEET_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/chdb_check.py");
    let manifest = std::env::temp_dir().join(format!("{}.json", random_name("sxfleet-chdb-")));
    let steps: Vec<_> = steps
        .iter()
        .map(|(sql, name)| json!({"sql": sql, "name": name}))
        .collect();
    std::fs::write(&manifest, json!({ "steps": steps }).to_string()).expect("write manifest");
    let output = Command::new(&python)
        .arg(&script)
        .arg(&manifest)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python} (set SXFLEET_PYTHON): {e}"));
    let _ = std::fs::remove_file(&manifest);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "chdb_check.py failed ({}):\n{stderr}",
        output.status
    );
    serde_json::from_slice(&output.stdout).expect("answers")
}

/// The steps that create database `db` with every migration applied on a server with `caps`.
fn migrated(db: &str, caps: &ServerCaps) -> Vec<(String, Option<&'static str>)> {
    let mut steps = vec![
        (ddl::create_database(db), None),
        (ddl::schema_migrations(db), None),
    ];
    for migration in MIGRATIONS {
        for step in (migration.steps)(db, caps) {
            steps.push((step.sql(db, caps), None));
        }
    }
    steps
}

/// An `INSERT` of `rows` (JSON objects, one a line) into `table` of `db`.
fn insert_json(db: &str, table: &str, rows: &[String]) -> String {
    format!(
        "INSERT INTO {} FORMAT JSONEachRow\n{}",
        ddl::qualified(db, table),
        rows.join("\n")
    )
}

fn parse_breakdown(tsv: &str) -> Vec<(String, u64)> {
    tsv.lines()
        .map(|line| {
            let (label, count) = line.split_once('\t').expect("two columns");
            (label.to_owned(), count.parse().expect("count"))
        })
        .collect()
}

#[test]
fn modern_ddl_and_overview_run_on_chdb() {
    let version = chdb(&[("SELECT version()".to_owned(), Some("version"))]);
    let caps = ServerCaps::from_version(&version["version"]).expect("version");
    assert!(caps.major >= 24, "{caps}");
    assert!(
        caps.low_cardinality && caps.codecs && caps.row_binary_validation,
        "{caps}"
    );

    let db = "fleet_chdb";
    let mut steps: Vec<(String, Option<&str>)> = Vec::new();
    // Everything twice: every statement must be idempotent on this server too.
    for _ in 0..2 {
        steps.push((ddl::create_database(db), None));
        steps.push((ddl::schema_migrations(db), None));
        for migration in MIGRATIONS {
            for step in (migration.steps)(db, &caps) {
                steps.push((step.sql(db, &caps), None));
            }
        }
    }
    let columns = format!(
        "SELECT table, name, type FROM system.columns WHERE database = '{db}' \
         AND name IN ('region', 'event_time_ms', 'reason_code', 'rtt_ms', 'from_state') \
         ORDER BY table, name"
    );
    steps.push((columns, Some("columns")));

    let rows: Vec<String> = fleet::twins()
        .iter()
        .map(|n| serde_json::to_string(&node_state_row(n, TWIN_AT).expect("row")).expect("json"))
        .collect();
    let table = ddl::qualified(db, ddl::table::NODE_STATE);
    for part in [&rows[..4], &rows[4..]] {
        let sql = format!(
            "INSERT INTO {table} FORMAT JSONEachRow\n{}",
            part.join("\n")
        );
        steps.push((sql, None));
    }
    let at = Coords {
        topic: "t.ev",
        partition: 2,
        offset: 9,
    };
    let event = event_row(&samples::heartbeat_event("edge-1", 3), at).expect("row");
    let sql = format!(
        "INSERT INTO {} FORMAT JSONEachRow\n{}",
        ddl::qualified(db, ddl::table::EVENTS),
        serde_json::to_string(&event).expect("json")
    );
    steps.push((sql, None));
    let sql = format!(
        "SELECT kind, source, event_time, event_time_ms, offset FROM {}",
        ddl::qualified(db, ddl::table::EVENTS)
    );
    steps.push((sql, Some("event")));

    // The same ledger entry inserted twice (a replayed batch) is one row under FINAL.
    let table = ddl::qualified(db, ddl::table::TRANSITIONS);
    let entry = samples::connectivity_transition("edge-1", 4);
    for offset in [5, 6] {
        let at = Coords {
            topic: "t.tr",
            partition: 1,
            offset,
        };
        let row = transition_row(&entry, at).expect("row");
        let json = serde_json::to_string(&row).expect("json");
        steps.push((
            format!("INSERT INTO {table} FORMAT JSONEachRow\n{json}"),
            None,
        ));
    }
    let sql = format!(
        "SELECT machine, at, from_state, to_state, applied, latency_ms, phase, seq, count() \
         FROM {table} FINAL GROUP BY machine, at, from_state, to_state, applied, latency_ms, \
         phase, seq"
    );
    steps.push((sql, Some("transitions")));
    // The materialized view saw both inserts (the rollup counts inserted rows; the sink never
    // inserts a landed row twice).
    let sql = format!(
        "SELECT domain_id, minute, sum(transitions), sum(entered_delayed) FROM {} \
         GROUP BY domain_id, minute",
        ddl::qualified(db, ddl::table::DOMAIN_MINUTE)
    );
    steps.push((sql, Some("rollup")));

    let sql = summary_sql(db);
    let names = [
        "region",
        "connectivity",
        "phase",
        "version",
        "drift",
        "trust",
    ];
    steps.push((sql.total.clone(), Some("total")));
    for (query, name) in sql.breakdowns.iter().zip(names) {
        steps.push((query.clone(), Some(name)));
    }
    steps.push((format!("USE {db}"), None));
    steps.push((tree_sql(Dialect::ClickHouse).expect("tree"), Some("tree")));

    let answers = chdb(&steps);
    assert_eq!(
        answers["columns"],
        "dlq\treason_code\tLowCardinality(String)\n\
         events\tevent_time_ms\tInt64\n\
         node_state\tregion\tLowCardinality(String)\n\
         node_state\trtt_ms\tNullable(Float64)\n\
         policy_bundles\tevent_time_ms\tInt64\n\
         transitions\tfrom_state\tLowCardinality(String)\n"
    );
    assert_eq!(
        answers["transitions"],
        "CONNECTIVITY\t2026-02-25 06:13:24\tlive\tdelayed\t1\t812.5\tACTIVE\t4\t1\n"
    );
    assert_eq!(
        answers["rollup"],
        "region-a/a1\t2026-02-25 06:13:00\t2\t2\n"
    );
    assert_eq!(
        answers["event"],
        "HEARTBEAT\tHTTP\t2026-02-25 06:13:23\t1772000003123\t9\n"
    );
    let summary = Summary {
        total_nodes: answers["total"].trim().parse().expect("total"),
        by_region: parse_breakdown(&answers["region"]),
        by_connectivity: parse_breakdown(&answers["connectivity"]),
        by_lifecycle_phase: parse_breakdown(&answers["phase"]),
        by_reported_version: parse_breakdown(&answers["version"]),
        by_drift_status: parse_breakdown(&answers["drift"]),
        by_trust: parse_breakdown(&answers["trust"]),
        tree: Vec::new(),
    };
    assert_eq!(answers["tree"], "", "no twin has a domain path");
    assert_eq!(summary, fleet::expected_summary());
}

/// Every query of `docs/sql-cookbook.md` runs on the current engine, over the tables the
/// migrations create, with the hand-built fleet in `node_state`.
#[test]
fn cookbook_queries_run_on_chdb() {
    let version = chdb(&[("SELECT version()".to_owned(), Some("version"))]);
    let caps = ServerCaps::from_version(&version["version"]).expect("version");
    let db = "fleet_cookbook";
    let mut steps = migrated(db, &caps);
    let rows: Vec<String> = fleet::twins()
        .iter()
        .map(|n| serde_json::to_string(&node_state_row(n, TWIN_AT).expect("row")).expect("json"))
        .collect();
    let table = ddl::qualified(db, ddl::table::NODE_STATE);
    steps.push((
        format!(
            "INSERT INTO {table} FORMAT JSONEachRow\n{}",
            rows.join("\n")
        ),
        None,
    ));
    steps.push((format!("USE {db}"), None));
    let queries = cookbook::queries(cookbook::DOCUMENT, cookbook::Dialect::ClickHouse);
    let names: Vec<String> = queries.iter().map(|q| q.name.clone()).collect();
    for (query, name) in queries.iter().zip(&names) {
        steps.push((query.for_node("d"), Some(name.as_str())));
    }
    let answers = chdb(&steps);
    for name in &names {
        assert!(answers.contains_key(name), "{name} did not answer");
    }
    // The connectivity breakdown matches the overview's, computed by other SQL.
    let by_mode = parse_breakdown(&answers["fleet_connectivity"]);
    assert_eq!(by_mode, fleet::expected_summary().by_connectivity);
    // `d`'s latest twin (version 5) is the one the node queries see.
    assert!(
        answers["node_replay"].starts_with("d\tREPLAYING\t"),
        "{}",
        answers["node_replay"]
    );
}

/// Seed 000's fleet (`samples::tree`) in `node_state`, `domains` and `policy_bundles` on the
/// current engine: the hierarchy and topology queries answer what they answer on 18.16 and on
/// the Parquet backend (`tests/hierarchy.rs`), and the status rule's SQL says what the Rust rule
/// says.
#[test]
fn hierarchy_queries_answer_on_chdb() {
    use sxfleet_sinks::samples::tree as seed;
    use sxfleet_sinks::tables::domains::domain_row;
    use sxfleet_sinks::tables::policy_bundles::bundle_row;

    let version = chdb(&[("SELECT version()".to_owned(), Some("version"))]);
    let caps = ServerCaps::from_version(&version["version"]).expect("version");
    let db = "fleet_tree";
    let mut steps = migrated(db, &caps);
    let twins: Vec<String> = seed::twins()
        .iter()
        .map(|n| serde_json::to_string(&node_state_row(n, TWIN_AT).expect("row")).expect("json"))
        .collect();
    let domains: Vec<String> = seed::domains()
        .iter()
        .map(|d| serde_json::to_string(&domain_row(d, TWIN_AT).expect("row")).expect("json"))
        .collect();
    let bundles: Vec<String> = common::tree::bundles()
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let at = Coords {
                offset: i as i64,
                ..TWIN_AT
            };
            serde_json::to_string(&bundle_row(b, at).expect("row")).expect("json")
        })
        .collect();
    for (table, rows) in [
        (ddl::table::NODE_STATE, &twins),
        (ddl::table::DOMAINS, &domains),
        (ddl::table::POLICY_BUNDLES, &bundles),
    ] {
        steps.push((insert_json(db, table, rows), None));
    }
    steps.push((format!("USE {db}"), None));
    steps.push((rule_check_sql(Dialect::ClickHouse), Some("rule")));
    let expected = common::tree::expected();
    let names: Vec<String> = (0..expected.len()).map(|i| format!("q{i}")).collect();
    for ((name, params, _), key) in expected.iter().zip(&names) {
        let sql = common::tree::query(name, Dialect::ClickHouse).bind(params);
        steps.push((sql, Some(key.as_str())));
    }
    let answers = chdb(&steps);
    assert_eq!(answers["rule"], rule_in_rust());
    for ((name, params, want), key) in expected.iter().zip(&names) {
        assert_eq!(&answers[key], want, "{name} {params:?}");
    }
}

/// The command ledger of `samples::commands` in `commands` and its twins in `node_state` on the
/// current engine: the command views and the cookbook's command queries answer what they
/// answer on 18.16 and on the Parquet backend (`tests/commands.rs`).
#[test]
fn command_queries_answer_on_chdb() {
    use sxfleet_sinks::samples::commands::{statuses, twins};
    use sxfleet_sinks::tables::commands::command_row;

    let version = chdb(&[("SELECT version()".to_owned(), Some("version"))]);
    let caps = ServerCaps::from_version(&version["version"]).expect("version");
    let db = "fleet_commands";
    let mut steps = migrated(db, &caps);
    let twins: Vec<String> = twins()
        .iter()
        .map(|n| serde_json::to_string(&node_state_row(n, TWIN_AT).expect("row")).expect("json"))
        .collect();
    let commands: Vec<String> = statuses()
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let at = Coords {
                offset: i as i64,
                ..TWIN_AT
            };
            serde_json::to_string(&command_row(s, at).expect("row")).expect("json")
        })
        .collect();
    for (table, rows) in [
        (ddl::table::NODE_STATE, &twins),
        (ddl::table::COMMANDS, &commands),
    ] {
        steps.push((insert_json(db, table, rows), None));
    }
    steps.push((format!("USE {db}"), None));
    let checks = common::commands::view_checks();
    let expected = common::commands::expected();
    let mut queries: Vec<(String, String)> = checks
        .iter()
        .map(|(sql, want)| ((*sql).to_owned(), want.clone()))
        .collect();
    queries.push((
        common::commands::twin_query(Dialect::ClickHouse),
        common::commands::twin_answer(),
    ));
    for (name, params, want) in &expected {
        let sql = common::tree::query(name, Dialect::ClickHouse).bind(params);
        queries.push((sql, want.clone()));
    }
    let names: Vec<String> = (0..queries.len()).map(|i| format!("q{i}")).collect();
    for ((sql, _), key) in queries.iter().zip(&names) {
        steps.push((sql.clone(), Some(key.as_str())));
    }
    let answers = chdb(&steps);
    for ((sql, want), key) in queries.iter().zip(&names) {
        assert_eq!(&answers[key], want, "{sql}");
    }
}

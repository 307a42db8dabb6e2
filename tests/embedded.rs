//! The embedded backend against ClickHouse on the same input: the pipeline runs once, two sinks
//! (one per backend, each with its own consumer group) land the same topics, and the analyst
//! queries must give equal answers in ClickHouse and in DataFusion over the Parquet files: the
//! fleet overview, the counts per table, a few breakdowns, and every query of the SQL cookbook
//! against its DataFusion twin (`embedded/parity.rs`), also through `sxfleet query`. The input is
//! a simulated fleet with its control plane plus the projections scenario
//! (`common/scenario.rs`), so every cookbook panel has rows: drift, a quarantine, a replay in
//! flight, open and resolved alerts, master changes and a rejected write. Then a Parquet sink
//! reads the same topics again from the start (its offsets lost, as after a crash between the
//! file rename and the commit) and must not land a single row twice.

mod common;
#[path = "embedded/parity.rs"]
mod parity;

use std::path::Path;
use std::time::{Duration, Instant};

use common::scenario;
use sxfleet::pipeline::{self, PipelineConfig};
use sxfleet_ingest::NormalizerConfig;
use sxfleet_runtime::{KafkaConfig, Shutdown};
use sxfleet_simulator::{messages_for_rounds, RawMessage, SimConfig};
use sxfleet_sinks::summary::fleet_summary;
use sxfleet_sinks::tables::ddl::table;
use sxfleet_sinks::tables::TopicRole;
use sxfleet_sinks::{query, Backend, ClickHouse, ClickHouseConfig, SinkStats};
use tokio::task::JoinHandle;

const NODES: u32 = 300;
const LIMIT: Duration = Duration::from_secs(240);

/// The same question in both dialects, each answering rows of `(label, number)`.
struct Question {
    what: &'static str,
    clickhouse: &'static str,
    datafusion: &'static str,
}

const QUESTIONS: &[Question] = &[
    Question {
        what: "rows per table (replacing tables read as FINAL)",
        clickhouse: "SELECT 'events', count() FROM events UNION ALL \
                     SELECT 'dlq', count() FROM dlq UNION ALL \
                     SELECT 'node_state', count() FROM node_state FINAL UNION ALL \
                     SELECT 'transitions', count() FROM transitions FINAL UNION ALL \
                     SELECT 'drift_evaluations', count() FROM drift_evaluations FINAL UNION ALL \
                     SELECT 'alerts', count() FROM alerts FINAL UNION ALL \
                     SELECT 'authority_audit', count() FROM authority_audit FINAL",
        datafusion: "SELECT 'events', count(*) FROM events UNION ALL \
                     SELECT 'dlq', count(*) FROM dlq UNION ALL \
                     SELECT 'node_state', count(*) FROM node_state_final UNION ALL \
                     SELECT 'transitions', count(*) FROM transitions_final UNION ALL \
                     SELECT 'drift_evaluations', count(*) FROM drift_evaluations_final UNION ALL \
                     SELECT 'alerts', count(*) FROM alerts_final UNION ALL \
                     SELECT 'authority_audit', count(*) FROM authority_audit_final",
    },
    Question {
        what: "events per kind",
        clickhouse: "SELECT toString(kind) AS label, count() FROM events \
                     GROUP BY label ORDER BY label",
        datafusion: "SELECT kind AS label, count(*) FROM events GROUP BY kind ORDER BY label",
    },
    Question {
        what: "events per hour of event time",
        clickhouse: "SELECT toString(toStartOfHour(event_time)) AS label, count() FROM events \
                     GROUP BY label ORDER BY label",
        datafusion: "SELECT to_char(date_trunc('hour', event_time), '%Y-%m-%d %H:%M:%S') \
                     AS label, count(*) FROM events GROUP BY label ORDER BY label",
    },
    Question {
        what: "event checksums",
        clickhouse: "SELECT 'seq', sum(seq) FROM events UNION ALL \
                     SELECT 'nodes', uniqExact(node_id) FROM events UNION ALL \
                     SELECT 'event_time_ms', toUInt64(sum(event_time_ms) % 1000000007) FROM events",
        datafusion: "SELECT 'seq', sum(seq) FROM events UNION ALL \
                     SELECT 'nodes', count(DISTINCT node_id) FROM events UNION ALL \
                     SELECT 'event_time_ms', sum(event_time_ms) % 1000000007 FROM events",
    },
    Question {
        what: "dead letters per reason",
        clickhouse:
            "SELECT reason_code, count() FROM dlq GROUP BY reason_code ORDER BY reason_code",
        datafusion:
            "SELECT reason_code, count(*) FROM dlq GROUP BY reason_code ORDER BY reason_code",
    },
    Question {
        what: "ledger entries per machine and target state",
        clickhouse: "SELECT concat(toString(machine), ':', to_state) AS label, count() \
                     FROM transitions FINAL GROUP BY label ORDER BY label",
        datafusion: "SELECT concat(machine, ':', to_state) AS label, count(*) \
                     FROM transitions_final GROUP BY label ORDER BY label",
    },
    Question {
        what: "nodes per health and versions applied",
        clickhouse: "SELECT toString(health) AS label, sum(version) FROM node_state FINAL \
                     GROUP BY label ORDER BY label",
        datafusion: "SELECT health AS label, sum(version) FROM node_state_final \
                     GROUP BY health ORDER BY label",
    },
];

/// Four malformed raw messages, so the DLQ table has rows.
fn malformed() -> Vec<(String, Vec<u8>)> {
    [
        &b"{\"type\":\"heartbeat\","[..],
        b"[1,2,3]",
        br#"{"type":"heartbeat","node_id":"sx-bad-1","ts":"2026-02-27T00:00:00Z","seq":1,"health":"GREAT"}"#,
        br#"{"type":"teleport","node_id":"sx-bad-1","ts":"2026-02-27T00:00:00Z","seq":1}"#,
    ]
    .iter()
    .map(|bytes| ("sx-bad-1".to_owned(), bytes.to_vec()))
    .collect()
}

fn spawn_sink(
    config: &PipelineConfig,
    ch: &ClickHouseConfig,
    stop: &Shutdown,
) -> JoinHandle<SinkStats> {
    let (config, ch, stop) = (config.clone(), ch.clone(), stop.clone());
    tokio::spawn(async move {
        pipeline::run_sink(&config, &ch, sxfleet_sinks::BatchConfig::default(), &stop)
            .await
            .unwrap()
    })
}

async fn clickhouse_answer(ch: &ClickHouse, sql: &str) -> Result<Vec<(String, u64)>, String> {
    let rows = ch
        .client()
        .query(sql)
        .fetch_all::<(String, u64)>()
        .await
        .map_err(|e| format!("{sql}: {e}"))?;
    Ok(in_union_order(sql, rows))
}

async fn parquet_answer(dir: &Path, sql: &str) -> Result<Vec<(String, u64)>, String> {
    let ctx = query::session(dir).await.map_err(|e| e.to_string())?;
    let batches = query::run(&ctx, sql)
        .await
        .map_err(|e| format!("{sql}: {e:?}"))?;
    let rows = query::labelled_counts(&batches, true).map_err(|e| e.to_string())?;
    Ok(in_union_order(sql, rows))
}

/// A `UNION ALL` comes back in no fixed order (from either engine): order its rows by where
/// their constant label appears in `sql`. Other results keep their order.
fn in_union_order(sql: &str, mut rows: Vec<(String, u64)>) -> Vec<(String, u64)> {
    if sql.contains("UNION ALL") {
        let order = |label: &str| sql.find(&format!("'{label}'")).unwrap_or(usize::MAX);
        rows.sort_by_key(|(label, _)| order(label));
    }
    rows
}

/// Records consumer group `group` has committed on `topic` (4 partitions), summed.
async fn committed(bootstrap: &str, group: &str, topic: &str) -> i64 {
    let (bootstrap, group, topic) = (bootstrap.to_owned(), group.to_owned(), topic.to_owned());
    tokio::task::spawn_blocking(move || {
        common::kafka::GroupProgress::new(&bootstrap, &group, &topic, 4)
            .get()
            .0
    })
    .await
    .unwrap()
}

/// Every Parquet file under `dir`, as `table/name`, sorted.
fn parquet_files(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    for table in std::fs::read_dir(dir).unwrap() {
        let table = table.unwrap();
        for file in std::fs::read_dir(table.path()).unwrap() {
            let name = file.unwrap().file_name().to_string_lossy().into_owned();
            files.push(format!("{}/{name}", table.file_name().to_string_lossy()));
        }
    }
    files.sort();
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parquet_and_clickhouse_give_equal_answers_and_a_replay_lands_nothing_twice() {
    let services = common::services();
    let prefix = format!("{}.", common::unique("embedded"));
    let config = PipelineConfig::new(KafkaConfig::new(&services.kafka), &prefix);
    pipeline::create_topics(&config).await.unwrap();
    let ch_config = ClickHouseConfig::new(&services.clickhouse, common::unique("fleet_embedded"));
    let _cleanup = common::Cleanup::new(&services.kafka, &prefix)
        .database(&services.clickhouse, &ch_config.database);
    let data = tempfile::tempdir().unwrap();

    let sim = SimConfig {
        nodes: NODES,
        seed: 11,
        outage_rate: 0.0,
        ..SimConfig::default()
    };
    // Two waves, the second sent once the first has landed, so every node has superseded
    // versions in `node_state` and the replacing semantics matter.
    let first_wave = messages_for_rounds(&sim, 2).unwrap();
    let all = messages_for_rounds(&sim, 4).unwrap();
    let payloads = |messages: &[RawMessage]| -> Vec<Vec<u8>> {
        messages.iter().map(|m| m.payload.clone()).collect()
    };
    assert_eq!(payloads(&all[..first_wave.len()]), payloads(&first_wave));
    let node_messages = |messages: &[RawMessage]| {
        let control = messages.iter().filter(|m| m.control).count();
        (messages.len() - control) as u64
    };
    let records = |messages: &[RawMessage]| -> Vec<(String, Vec<u8>)> {
        messages
            .iter()
            .map(|m| (m.key.clone(), m.payload.clone()))
            .collect()
    };
    // The scenario's control plane goes with the first wave, its nodes with the second.
    let mut input = records(&first_wave);
    input.extend(malformed());
    input.extend(scenario::control());
    common::produce(&services.kafka, &config.topics.raw, &input).await;

    let processors_stop = Shutdown::new();
    let normalizer = {
        let (config, stop) = (config.clone(), processors_stop.clone());
        tokio::spawn(async move {
            pipeline::run_normalizer(&config, NormalizerConfig::default(), &stop)
                .await
                .unwrap()
        })
    };
    let twin = {
        let (config, stop) = (config.clone(), processors_stop.clone());
        tokio::spawn(async move { pipeline::run_twin(&config, &stop).await.unwrap() })
    };
    // Two sinks over the same topics, each with its own consumer group.
    let mut into_clickhouse = config.clone();
    into_clickhouse.app_prefix = format!("{prefix}ch-");
    let mut into_parquet = config.clone();
    into_parquet.app_prefix = format!("{prefix}pq-");
    into_parquet.sink_backend = Backend::Parquet {
        dir: data.path().to_owned(),
    };
    let sinks_stop = Shutdown::new();
    let ch_sink = spawn_sink(&into_clickhouse, &ch_config, &sinks_stop);
    let pq_sink = spawn_sink(&into_parquet, &ch_config, &sinks_stop);

    let ch = ClickHouse::connect(&ch_config).await.unwrap();
    let counts = QUESTIONS[0].clickhouse;
    // The simulated fleet's rows, the scenario's nodes left out.
    let scenario_nodes: Vec<String> = scenario::NODES.iter().map(|n| format!("'{n}'")).collect();
    let not_scenario = format!("node_id NOT IN ({})", scenario_nodes.join(", "));
    let simulated = format!(
        "SELECT 'events', count() FROM events WHERE {not_scenario} UNION ALL \
         SELECT 'dlq', count() FROM dlq WHERE {not_scenario} UNION ALL \
         SELECT 'node_state', count() FROM node_state FINAL WHERE {not_scenario}"
    );
    let landed = |events: u64| {
        let (ch, simulated) = (&ch, &simulated);
        move || async move {
            let got = clickhouse_answer(ch, simulated).await?;
            let want_events = ("events".to_owned(), events);
            let want_dlq = ("dlq".to_owned(), 4);
            let want_nodes = ("node_state".to_owned(), u64::from(NODES));
            if got.contains(&want_events) && got.contains(&want_dlq) && got.contains(&want_nodes) {
                Ok(())
            } else {
                Err(format!("{got:?}"))
            }
        }
    };
    common::eventually(
        LIMIT,
        "the first wave in ClickHouse",
        landed(node_messages(&first_wave)),
    )
    .await;
    let mut second_wave = records(&all[first_wave.len()..]);
    second_wave.extend(scenario::nodes());
    common::produce(&services.kafka, &config.topics.raw, &second_wave).await;
    common::eventually(
        LIMIT,
        "both waves in ClickHouse",
        landed(node_messages(&all)),
    )
    .await;
    let settled_sql = scenario::settled_sql();
    common::eventually(LIMIT, "the scenario's nodes in ClickHouse", || async {
        let settled: u64 = ch
            .client()
            .query(&settled_sql)
            .fetch_one()
            .await
            .map_err(|e| e.to_string())?;
        if settled == scenario::NODES.len() as u64 {
            Ok(())
        } else {
            Err(format!("{settled} nodes settled"))
        }
    })
    .await;
    processors_stop.trigger();
    normalizer.await.unwrap();
    twin.await.unwrap();
    // Nothing new arrives now: wait until ClickHouse's counts stand still, then until the
    // Parquet files hold the same counts.
    let settled = {
        let deadline = Instant::now() + LIMIT;
        let mut previous = None;
        loop {
            tokio::time::sleep(Duration::from_secs(2)).await;
            let now = clickhouse_answer(&ch, counts).await.unwrap();
            if previous.as_ref() == Some(&now) {
                break now;
            }
            assert!(
                Instant::now() < deadline,
                "ClickHouse counts still moving: {now:?}"
            );
            previous = Some(now);
        }
    };
    common::eventually(LIMIT, "the Parquet files to hold the same rows", || async {
        let got = parquet_answer(data.path(), QUESTIONS[0].datafusion).await?;
        if got == settled {
            Ok(())
        } else {
            Err(format!("{got:?} vs {settled:?}"))
        }
    })
    .await;
    sinks_stop.trigger();
    let ch_stats = ch_sink.await.unwrap();
    let pq_stats = pq_sink.await.unwrap();
    let events = settled.iter().find(|(table, _)| table == "events").unwrap();
    assert_eq!(pq_stats.inserted(table::EVENTS), events.1);
    assert_eq!(
        ch_stats.inserted(table::EVENTS),
        pq_stats.inserted(table::EVENTS)
    );
    assert_eq!(pq_stats.already_landed, 0);

    let versions = parquet_answer(data.path(), "SELECT 'all', count(*) FROM node_state")
        .await
        .unwrap();
    assert!(
        versions[0].1 > u64::from(NODES),
        "superseded twins: {versions:?}"
    );

    // The analyst queries: the same answers from both backends.
    for question in QUESTIONS {
        let from_clickhouse = clickhouse_answer(&ch, question.clickhouse).await.unwrap();
        let from_parquet = parquet_answer(data.path(), question.datafusion)
            .await
            .unwrap();
        assert!(!from_clickhouse.is_empty(), "{}", question.what);
        assert_eq!(from_parquet, from_clickhouse, "{}", question.what);
    }
    let ch_summary = fleet_summary(&ch.client(), ch.database()).await.unwrap();
    let ctx = query::session(data.path()).await.unwrap();
    let pq_summary = query::fleet_summary(&ctx).await.unwrap();
    let all_nodes = u64::from(NODES) + scenario::NODES.len() as u64;
    assert_eq!(ch_summary.total_nodes, all_nodes);
    assert_eq!(pq_summary, ch_summary);

    // Every cookbook query against its DataFusion twin; the node panels for the scenario's
    // nodes and for a drifted simulated node.
    let drifted: String = ch
        .client()
        .query(&format!(
            "SELECT node_id FROM node_state FINAL WHERE drift_status = 'DRIFTED' \
             AND {not_scenario} ORDER BY node_id LIMIT 1"
        ))
        .fetch_one()
        .await
        .unwrap();
    // A command of the fleet's rollouts, and the node it is for.
    let (command, commanded): (String, String) = ch
        .client()
        .query("SELECT command_id, node_id FROM commands ORDER BY command_id, node_id LIMIT 1")
        .fetch_one()
        .await
        .unwrap();
    let mut nodes: Vec<String> = scenario::NODES.map(str::to_owned).to_vec();
    nodes.push(drifted);
    nodes.push(commanded.clone());
    let sizes = parity::compare_cookbook(&ch, &ctx, &nodes, &command).await;
    // Not vacuous: every query answers rows, each node panel for every node, except the drift
    // diff, which shows only a node with configuration differences, and the command ledger,
    // which shows only the command's node.
    for (name, node, rows) in &sizes {
        // No relay of these few rounds fails and these nodes declare no edges: both queries
        // are checked with rows on seed 000's fleet and the lab fleet (tests/fleet_graph.rs).
        // n-forged's domain governs no bundle and nothing commands it.
        let empty_allowed = (name == "node_drift_diff" && node != "n-drift")
            || (name == "command_ledger" && *node != commanded)
            || (matches!(name.as_str(), "node_desired_config" | "node_commands")
                && node == "n-forged")
            || name == "failing_relays"
            || name == "node_neighbours";
        assert!(*rows > 0 || empty_allowed, "{name} {node}: no rows");
    }
    parity::cli_answers_the_cookbook(data.path(), &ctx, "n-replay").await;

    // A Parquet sink that lost its offsets reads everything again: every record is skipped as
    // landed, no file is added, and the answers do not change.
    let files_before = parquet_files(data.path());
    let mut replay = into_parquet.clone();
    replay.app_prefix = format!("{prefix}pq-replay-");
    let replay_stop = Shutdown::new();
    let replay_sink = spawn_sink(&replay, &ch_config, &replay_stop);
    for topic in TopicRole::ALL.map(|role| role.topic(&config.topics)) {
        let first = committed(&services.kafka, &into_parquet.app_id("sink"), topic).await;
        assert!(first > 0, "{topic}");
        let group = replay.app_id("sink");
        common::wait_committed(&services.kafka, &group, topic, 4, Some(first), LIMIT).await;
    }
    replay_stop.trigger();
    let replay_stats = replay_sink.await.unwrap();
    assert!(replay_stats.already_landed > 0, "{replay_stats:?}");
    let inserted = replay_stats.inserted_total();
    assert_eq!(inserted, 0, "{replay_stats:?}");
    assert_eq!(parquet_files(data.path()), files_before);
    let again = parquet_answer(data.path(), QUESTIONS[0].datafusion)
        .await
        .unwrap();
    assert_eq!(again, settled);
}

//! The thin end-to-end slice on the real broker and server: raw JSON on `fleet.raw.v1` ->
//! normalizer -> `fleet.events.v1` -> twin processor (changelog-backed) -> `fleet.twin.v1` ->
//! ClickHouse sink -> `events`, `node_state`, `dlq`.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use sxfleet::pipeline::{self, PipelineConfig};
use sxfleet_ingest::NormalizerConfig;
use sxfleet_runtime::{KafkaConfig, Shutdown};
use sxfleet_simulator::{messages_for_rounds, RawMessage, SimConfig};
use sxfleet_sinks::{BatchConfig, ClickHouse, ClickHouseConfig};
use tokio::task::JoinHandle;

const NODES: u32 = 1_000;
const LIMIT: Duration = Duration::from_secs(240);

/// What a node's last messages say, computed from the raw JSON independently of the pipeline.
#[derive(Clone, Debug, Default, PartialEq)]
struct Expected {
    region: String,
    messages: u64,
    last_seq: u64,
    rtt_ms: f64,
    uptime_s: i64,
    health: String,
    reported_version: String,
}

fn expectations(messages: &[RawMessage]) -> BTreeMap<String, Expected> {
    let mut nodes: BTreeMap<String, Expected> = BTreeMap::new();
    for message in messages {
        let json: Value = serde_json::from_slice(&message.payload).unwrap();
        let Some(node_id) = json["node_id"].as_str() else {
            continue; // control-plane records
        };
        let node = nodes.entry(node_id.to_owned()).or_default();
        node.messages += 1;
        node.last_seq = json["seq"].as_u64().unwrap();
        match json["type"].as_str().unwrap() {
            "register" => node.region = json["region"].as_str().unwrap().to_owned(),
            "heartbeat" => {
                node.rtt_ms = json["rtt_ms"].as_f64().unwrap();
                node.uptime_s = json["uptime_s"].as_i64().unwrap();
                node.health = json["health"].as_str().unwrap().to_owned();
            }
            "snapshot" => {
                node.reported_version = json["reported_version"].as_str().unwrap().to_owned()
            }
            _ => {}
        }
    }
    nodes
}

/// Ten malformed messages, each with the reason code the DLQ must give it.
fn malformed() -> Vec<(&'static str, Vec<u8>)> {
    let hb = |extra: &str| {
        format!(
            r#"{{"type":"heartbeat","node_id":"sx-bad-1","ts":"2026-02-27T00:00:00Z",{extra}}}"#
        )
        .into_bytes()
    };
    vec![
        ("invalid_json", b"{\"type\":\"heartbeat\",".to_vec()),
        ("not_an_object", b"[1,2,3]".to_vec()),
        ("missing_field", hb(r#""health":"OK""#)),
        ("bad_enum", hb(r#""seq":1,"health":"GREAT""#)),
        ("wrong_type", hb(r#""seq":1,"rtt_ms":"fast""#)),
        ("out_of_range", hb(r#""seq":1,"loss_pct":140"#)),
        ("unknown_type", br#"{"type":"teleport","node_id":"sx-bad-1","ts":"2026-02-27T00:00:00Z","seq":1}"#.to_vec()),
        ("bad_id", br#"{"type":"link","node_id":"bad id!","ts":"2026-02-27T00:00:00Z","seq":1,"state":"lost"}"#.to_vec()),
        ("bad_timestamp", br#"{"type":"link","node_id":"sx-bad-1","ts":"27/02/2026","seq":1,"state":"lost"}"#.to_vec()),
        ("future_timestamp", br#"{"type":"link","node_id":"sx-bad-1","ts":"2999-01-01T00:00:00Z","seq":1,"state":"lost"}"#.to_vec()),
    ]
}

#[derive(Debug, Deserialize, clickhouse::Row)]
struct StateRow {
    node_id: String,
    region: String,
    rtt_ms: Option<f64>,
    uptime_s: Option<i64>,
    health: String,
    reported_version: String,
    last_seq: u64,
    version: u64,
    events_applied: u64,
}

async fn node_states(ch: &ClickHouse) -> Result<BTreeMap<String, StateRow>, String> {
    let rows: Vec<StateRow> = ch
        .client()
        .query(
            "SELECT node_id, region, rtt_ms, uptime_s, toString(health) AS health, \
             reported_version, last_seq, version, events_applied FROM node_state FINAL",
        )
        .fetch_all()
        .await
        .map_err(|e| e.to_string())?;
    Ok(rows.into_iter().map(|r| (r.node_id.clone(), r)).collect())
}

async fn count(ch: &ClickHouse, table: &str) -> Result<u64, String> {
    ch.client()
        .query(&format!("SELECT count() FROM {table}"))
        .fetch_one()
        .await
        .map_err(|e| e.to_string())
}

fn spawn_twin(
    config: &PipelineConfig,
    stop: &Shutdown,
) -> JoinHandle<sxfleet_runtime::driver::StageStats> {
    let (config, stop) = (config.clone(), stop.clone());
    tokio::spawn(async move { pipeline::run_twin(&config, &stop).await.unwrap() })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thousand_nodes_land_in_clickhouse_and_twins_restore_from_the_changelog() {
    let services = common::services();
    let prefix = format!("{}.", common::unique("slice"));
    let config = PipelineConfig::new(KafkaConfig::new(&services.kafka), &prefix);
    pipeline::create_topics(&config).await.unwrap();
    let database = common::unique("fleet_slice");
    let _cleanup =
        common::Cleanup::new(&services.kafka, &prefix).database(&services.clickhouse, &database);
    let ch_config = ClickHouseConfig::new(&services.clickhouse, &database);
    let ch = ClickHouse::connect(&ch_config).await.unwrap();
    sxfleet_sinks::migrate(&ch).await.unwrap();

    let sim = SimConfig {
        nodes: NODES,
        seed: 7,
        outage_rate: 0.0,
        // Control-plane changes would move twins without a node message; this test counts
        // twin versions against node messages (tests/projections.rs covers the control plane).
        control_plane: false,
        ..SimConfig::default()
    };
    let raw = messages_for_rounds(&sim, 3).unwrap();
    let mut expected = expectations(&raw);
    assert_eq!(expected.len(), NODES as usize);
    let node_messages: u64 = expected.values().map(|e| e.messages).sum();
    let mut input: Vec<(String, Vec<u8>)> = raw
        .iter()
        .map(|m| (m.key.clone(), m.payload.clone()))
        .collect();
    let bad = malformed();
    input.extend(
        bad.iter()
            .map(|(_, bytes)| ("sx-bad-1".to_owned(), bytes.clone())),
    );
    common::produce(&services.kafka, &config.topics.raw, &input).await;

    let stop = Shutdown::new();
    let normalizer = {
        let (config, stop) = (config.clone(), stop.clone());
        tokio::spawn(async move {
            pipeline::run_normalizer(&config, NormalizerConfig::default(), &stop)
                .await
                .unwrap()
        })
    };
    let sink = {
        let (config, ch_config, stop) = (config.clone(), ch_config.clone(), stop.clone());
        tokio::spawn(async move {
            pipeline::run_sink(&config, &ch_config, BatchConfig::default(), &stop)
                .await
                .unwrap()
        })
    };
    let twin_stop = Shutdown::new();
    let twin = spawn_twin(&config, &twin_stop);

    // Every node lands once in node_state FINAL with its last reported values.
    let states = common::eventually(LIMIT, "1,000 twins with their last values", || async {
        let states = node_states(&ch).await?;
        let complete = states.len() == NODES as usize
            && states
                .values()
                .all(|s| s.version == expected[&s.node_id].messages);
        if complete {
            Ok(states)
        } else {
            Err(format!("{} twins", states.len()))
        }
    })
    .await;
    for (node_id, want) in &expected {
        let got = &states[node_id];
        assert_eq!(got.region, want.region, "{node_id}");
        assert_eq!(got.rtt_ms, Some(want.rtt_ms), "{node_id}");
        assert_eq!(got.uptime_s, Some(want.uptime_s), "{node_id}");
        assert_eq!(got.health, want.health, "{node_id}");
        assert_eq!(got.reported_version, want.reported_version, "{node_id}");
        assert_eq!(got.last_seq, want.last_seq, "{node_id}");
        assert_eq!(got.events_applied, want.messages, "{node_id}");
    }
    let events = common::eventually(LIMIT, "every node event in `events`", || async {
        let n = count(&ch, "events").await?;
        if n == node_messages {
            Ok(n)
        } else {
            Err(format!("{n} of {node_messages}"))
        }
    })
    .await;
    assert_eq!(events, node_messages);

    // Exactly one DLQ record per malformed message, with the expected reason.
    #[derive(Debug, Deserialize, clickhouse::Row)]
    struct DlqRow {
        reason_code: String,
        detail: String,
        original: String,
    }
    let dlq: Vec<DlqRow> = common::eventually(LIMIT, "10 DLQ rows", || async {
        let rows: Vec<DlqRow> = ch
            .client()
            .query("SELECT reason_code, detail, original FROM dlq ORDER BY reason_code")
            .fetch_all()
            .await
            .map_err(|e| e.to_string())?;
        if rows.len() >= bad.len() {
            Ok(rows)
        } else {
            Err(format!("{} rows", rows.len()))
        }
    })
    .await;
    let mut want_codes: Vec<&str> = bad.iter().map(|(code, _)| *code).collect();
    want_codes.sort_unstable();
    let got_codes: Vec<&str> = dlq.iter().map(|r| r.reason_code.as_str()).collect();
    assert_eq!(got_codes, want_codes);
    for row in &dlq {
        assert!(!row.detail.is_empty());
        let original = bad
            .iter()
            .find(|(code, _)| *code == row.reason_code)
            .unwrap();
        assert_eq!(row.original.as_bytes(), original.1.as_slice());
    }

    // Stop the twin processor, send one more heartbeat for 100 nodes, start it again: the
    // restored state continues each twin's version and keeps its region (which only the
    // register event before the restart carried).
    twin_stop.trigger();
    let first_run = twin.await.unwrap();
    let versions_before: BTreeMap<String, u64> = states
        .iter()
        .map(|(id, s)| (id.clone(), s.version))
        .collect();
    assert!(first_run.records_in >= node_messages);
    let restarted: Vec<String> = expected.keys().take(100).cloned().collect();
    let more: Vec<(String, Vec<u8>)> = restarted
        .iter()
        .map(|node_id| {
            let want = expected.get_mut(node_id).unwrap();
            want.messages += 1;
            want.last_seq += 1;
            want.rtt_ms = 777.0;
            let json = format!(
                r#"{{"type":"heartbeat","node_id":"{node_id}","ts":"2026-02-27T06:00:00Z","seq":{},"rtt_ms":777.0,"health":"OK","uptime_s":1}}"#,
                want.last_seq
            );
            (node_id.clone(), json.into_bytes())
        })
        .collect();
    common::produce(&services.kafka, &config.topics.raw, &more).await;
    let twin_stop = Shutdown::new();
    let twin = spawn_twin(&config, &twin_stop);
    common::eventually(LIMIT, "restarted twins", || async {
        let states = node_states(&ch).await?;
        let done = restarted.iter().filter(|id| {
            states
                .get(*id)
                .is_some_and(|s| s.rtt_ms == Some(777.0) && s.last_seq == expected[*id].last_seq)
        });
        let n = done.count();
        if n == restarted.len() {
            Ok(())
        } else {
            Err(format!("{n} of {} updated", restarted.len()))
        }
    })
    .await;
    let states = node_states(&ch).await.unwrap();
    for node_id in &restarted {
        let (got, want) = (&states[node_id], &expected[node_id]);
        // 06:00 is hours after the node's last heartbeat: its silence timer fires first
        // (AUTONOMOUS), then the heartbeat brings it back; each change is a new version, and
        // the count continues from the restored twin's.
        assert_eq!(
            got.version,
            versions_before[node_id] + 2,
            "version continues from the restored twin"
        );
        assert_eq!(got.events_applied, want.messages);
        assert_eq!(
            got.region, want.region,
            "region comes from the restored twin"
        );
        assert_eq!(got.last_seq, want.last_seq);
    }
    // The connectivity ledger of a restarted node, from ClickHouse: the silence timer fired
    // when the partition's event time jumped to 06:00, then the heartbeat brought it back.
    let node = &restarted[0];
    let ledger: Vec<(String, String)> = common::eventually(LIMIT, "the ledger", || async {
        let rows: Vec<(String, String)> = ch
            .client()
            .query(&format!(
                "SELECT to_state, reason FROM transitions FINAL \
                 WHERE node_id = '{node}' AND machine = 'CONNECTIVITY' ORDER BY seq"
            ))
            .fetch_all()
            .await
            .map_err(|e| e.to_string())?;
        if rows.len() >= 3 {
            Ok(rows)
        } else {
            Err(format!("{rows:?}"))
        }
    })
    .await;
    let pairs: Vec<(&str, &str)> = ledger
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(pairs[0].0, "live");
    assert_eq!(
        pairs[pairs.len() - 2..],
        [
            ("autonomous", "silence"),
            ("returning", "connection_detected")
        ]
    );
    twin_stop.trigger();
    let second_run = twin.await.unwrap();
    assert!(
        second_run.restored >= u64::from(NODES),
        "restored {} twins",
        second_run.restored
    );
    assert_eq!(second_run.records_in, restarted.len() as u64);

    stop.trigger();
    normalizer.await.unwrap();
    sink.await.unwrap();
}

//! ClickHouse outage (issue 6): the sink lands a steady stream of events into a private
//! ClickHouse server (`dev/services clickhouse-private`, own data and ports, so the shared one
//! keeps serving the other tests), the server is stopped for 60 s in the middle of the load and
//! started again; the sink backs off, catches up, and every event is in the table exactly once
//! with its content.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use sxfleet::pipeline::{self, PipelineConfig};
use sxfleet_private_clickhouse::PrivateClickHouse;
use sxfleet_runtime::{KafkaConfig, Shutdown};
use sxfleet_schemas::encode;
use sxfleet_sinks::samples;
use sxfleet_sinks::{run_sink, ClickHouse, ClickHouseConfig, SinkConfig};

const PARTITIONS: i32 = 4;
const NODES: i64 = 400;
const ROUNDS: i64 = 100;
const OUTAGE: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clickhouse_outage_loses_and_duplicates_nothing() {
    let services = common::services();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(common::unique("clickhouse"));
    let server = PrivateClickHouse::start(&dir).unwrap();
    let prefix = format!("{}.", common::unique("sinkoutage"));
    let _cleanup = common::Cleanup::new(&services.kafka, &prefix);
    let mut pipeline = PipelineConfig::new(KafkaConfig::new(&services.kafka), &prefix);
    pipeline.partitions = PARTITIONS;
    pipeline::create_topics(&pipeline).await.unwrap();
    let mut config = SinkConfig {
        clickhouse: ClickHouseConfig::new(server.url(), "fleet_outage"),
        kafka: pipeline.kafka.clone(),
        topic_prefix: prefix.clone(),
        group_id: format!("{prefix}sink"),
        ..SinkConfig::default()
    };
    config.batch.max_rows = 1_000;
    config.batch.linger = Duration::from_millis(200);
    config.retry.max = Duration::from_secs(4);
    config.insert_timeout = Duration::from_secs(10);
    let shutdown = Shutdown::new();
    let sink = {
        let (config, shutdown) = (config.clone(), shutdown.clone());
        tokio::spawn(async move { run_sink(&config, &shutdown).await })
    };

    // 40,000 events, a round of 400 about every 0.9 s (producing takes ~0.3 s): ~90 s of load.
    let events_topic = pipeline.topics.events.clone();
    let kafka = services.kafka.clone();
    let producer = tokio::spawn(async move {
        for round in 1..=ROUNDS {
            let records: Vec<(String, Vec<u8>)> = (0..NODES)
                .map(|n| {
                    let event = samples::heartbeat_event(&format!("sx-out-{n:03}"), round);
                    (event.node_id.clone(), encode(&event).unwrap())
                })
                .collect();
            common::produce(&kafka, &events_topic, &records).await;
            tokio::time::sleep(Duration::from_millis(600)).await;
        }
    });

    let ch = ClickHouse::connect(&config.clickhouse).await.unwrap();
    let count = |ch: ClickHouse| async move {
        ch.client()
            .query("SELECT count() FROM events")
            .fetch_one::<u64>()
            .await
            .map_err(|err| err.to_string())
    };
    let before = common::eventually(Duration::from_secs(60), "rows landing", || {
        let ch = ch.clone();
        async move {
            let rows = count(ch).await?;
            if rows >= 5_000 {
                Ok(rows)
            } else {
                Err(format!("{rows} rows"))
            }
        }
    })
    .await;
    server.stop().unwrap();
    let stopped = Instant::now();
    println!("clickhouse stopped with {before} rows landed");
    tokio::time::sleep(OUTAGE).await;
    assert!(!sink.is_finished(), "the sink gave up during the outage");
    server.resume().unwrap();
    println!("clickhouse started again after {:?}", stopped.elapsed());

    producer.await.unwrap();
    let total = (NODES * ROUNDS) as u64;
    common::eventually(Duration::from_secs(120), "every row landed", || {
        let ch = ch.clone();
        async move {
            let rows = count(ch).await?;
            if rows >= total {
                Ok(())
            } else {
                Err(format!("{rows} of {total} rows"))
            }
        }
    })
    .await;
    let group = config.group_id.clone();
    let topic = pipeline.topics.events.clone();
    let limit = Duration::from_secs(60);
    common::wait_committed(&services.kafka, &group, &topic, PARTITIONS, None, limit).await;
    // Time for a duplicate, if any, to arrive.
    tokio::time::sleep(Duration::from_secs(2)).await;
    shutdown.trigger();
    let stats = sink.await.unwrap().unwrap();
    println!("{stats:?}");
    assert!(stats.retries > 0, "the outage was not noticed: {stats:?}");

    let (rows, records, nodes, seqs): (u64, u64, u64, i64) = ch
        .client()
        .query(
            "SELECT count(), uniqExact(partition, offset), uniqExact(node_id), \
             toInt64(sum(seq)) FROM events",
        )
        .fetch_one()
        .await
        .unwrap();
    assert_eq!(rows, total, "rows");
    assert_eq!(records, total, "distinct source records");
    assert_eq!(nodes, NODES as u64, "nodes");
    assert_eq!(seqs, NODES * ROUNDS * (ROUNDS + 1) / 2, "sum of seq");
}

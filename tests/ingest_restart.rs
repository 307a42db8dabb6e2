//! The normalizer's per-node state survives a restart: after a stop, a new run restores the
//! seqs already forwarded and the events still held from the changelog, so re-sent messages
//! stay duplicates and a gap filled after the restart releases the held event in order.

mod common;

use std::time::Duration;

use serde_json::json;
use sxfleet::pipeline::{self, PipelineConfig};
use sxfleet_ingest::NormalizerConfig;
use sxfleet_runtime::{KafkaConfig, Shutdown};
use sxfleet_schemas::{decode, FleetEvent};

const NODES: usize = 20;

fn heartbeat(node: usize, seq: i64) -> (String, Vec<u8>) {
    let node_id = format!("sx-restart-{node:02}");
    let value = json!({"type": "heartbeat", "node_id": node_id, "seq": seq,
                       "ts": "2026-01-01T00:00:00Z"});
    (node_id, value.to_string().into_bytes())
}

async fn run_until_committed(config: &PipelineConfig, instance: &str, records: i64) {
    let mut config = config.clone();
    config.instance = instance.to_owned();
    let normalizer = NormalizerConfig {
        reorder_window: Duration::from_secs(3600),
        ..NormalizerConfig::default()
    };
    let stop = Shutdown::new();
    let task = {
        let (config, stop) = (config.clone(), stop.clone());
        tokio::spawn(async move { pipeline::run_normalizer(&config, normalizer, &stop).await })
    };
    common::wait_committed(
        &common::services().kafka,
        &config.app_id("normalizer"),
        &config.topics.raw,
        config.partitions,
        Some(records),
        Duration::from_secs(60),
    )
    .await;
    stop.trigger();
    task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dedupe_and_held_events_survive_a_restart() {
    let services = common::services();
    let prefix = format!("{}.", common::unique("ingest_restart"));
    let _cleanup = common::Cleanup::new(&services.kafka, &prefix);
    let config = PipelineConfig::new(KafkaConfig::new(&services.kafka), &prefix);
    pipeline::create_topics(&config).await.unwrap();

    // Before the restart: seqs 1..=30 and 32 (held: 31 is missing).
    let first: Vec<_> = (0..NODES)
        .flat_map(|n| (1..=30).chain([32]).map(move |s| heartbeat(n, s)))
        .collect();
    common::produce(&services.kafka, &config.topics.raw, &first).await;
    run_until_committed(&config, "a", first.len() as i64).await;

    // After: every earlier message again, then 31 and 33.
    let second: Vec<_> = first
        .iter()
        .cloned()
        .chain((0..NODES).flat_map(|n| [31, 33].map(|s| heartbeat(n, s))))
        .collect();
    common::produce(&services.kafka, &config.topics.raw, &second).await;
    run_until_committed(&config, "b", (first.len() + second.len()) as i64).await;

    let (kafka, topic, partitions) = (
        services.kafka.clone(),
        config.topics.events.clone(),
        config.partitions,
    );
    let records = tokio::task::spawn_blocking(move || {
        common::kafka::read_committed(&kafka, &topic, partitions)
    })
    .await
    .unwrap();
    let mut seqs = std::collections::BTreeMap::<String, Vec<i64>>::new();
    for record in &records {
        let event: FleetEvent = decode(record.3.as_deref().unwrap()).unwrap();
        seqs.entry(event.node_id).or_default().push(event.seq);
    }
    assert_eq!(seqs.len(), NODES);
    for (node, got) in seqs {
        assert_eq!(got, (1..=33).collect::<Vec<i64>>(), "{node}");
    }
}

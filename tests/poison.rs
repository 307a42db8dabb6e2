//! Poison input: a record on the events topic the processor cannot decode goes to the DLQ with
//! its original bytes and a reason, and the partition goes on with the records after it.

mod common;

use std::time::Duration;

use sxfleet::pipeline::{self, PipelineConfig};
use sxfleet_processors::TwinStage;
use sxfleet_runtime::{run_stage, KafkaConfig, Shutdown};
use sxfleet_schemas::{
    decode, encode, DeadLetter, EventPayload, FleetEvent, Health, Heartbeat, Source,
};

fn heartbeat(node_id: &str, seq: i64) -> Vec<u8> {
    encode(&FleetEvent {
        event_id: format!("{node_id}:{seq}"),
        node_id: node_id.to_owned(),
        seq,
        event_time_ms: 1_772_150_400_000 + seq,
        received_ms: 1_772_150_400_000 + seq,
        source: Source::KafkaRaw,
        replayed: false,
        payload: EventPayload::Heartbeat(Heartbeat {
            rtt_ms: Some(5.0),
            loss_pct: None,
            bandwidth_kbps: None,
            backlog_messages: None,
            health: Health::Ok,
            uptime_s: None,
            via: None,
            battery_pct: None,
        }),
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undecodable_event_is_dead_lettered_and_the_partition_goes_on() {
    let services = common::services();
    let prefix = format!("{}.", common::unique("poison"));
    let _cleanup = common::Cleanup::new(&services.kafka, &prefix);
    let config = PipelineConfig::new(KafkaConfig::new(&services.kafka), &prefix);
    pipeline::create_topics(&config).await.unwrap();
    let garbage = b"\x00\x00\x00\x03\xe9 not avro".to_vec();
    let records = vec![
        ("node-p".to_owned(), heartbeat("node-p", 1)),
        ("node-p".to_owned(), garbage.clone()),
        ("node-p".to_owned(), heartbeat("node-p", 2)),
    ];
    common::produce(&services.kafka, &config.topics.events, &records).await;

    let run = config.run_config("twin", vec![config.topics.events.clone()]);
    let mut stage = TwinStage::new(&config.app_id("twin"), config.topics.clone());
    let stop = Shutdown::new();
    let dlq_topic = config.topics.dlq.clone();
    let kafka = services.kafka.clone();
    let (group, events) = (run.group.clone(), config.topics.events.clone());
    let watcher = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let letters = common::eventually(Duration::from_secs(90), "a DLQ record", || {
                let (kafka, topic) = (kafka.clone(), dlq_topic.clone());
                async move {
                    let records = tokio::task::spawn_blocking(move || {
                        common::kafka::read_committed(&kafka, &topic, 4)
                    })
                    .await
                    .unwrap();
                    if records.is_empty() {
                        Err("none yet".to_owned())
                    } else {
                        Ok(records)
                    }
                }
            })
            .await;
            // ... and every input record committed, so the state below is final.
            let limit = Duration::from_secs(60);
            common::wait_committed(&kafka, &group, &events, 4, Some(3), limit).await;
            stop.trigger();
            letters
        })
    };
    run_stage(&run, &mut stage, &stop).await.unwrap();
    let letters = watcher.await.unwrap();
    assert_eq!(letters.len(), 1);
    let (_, _, key, value) = &letters[0];
    assert_eq!(key.as_slice(), b"node-p");
    let letter: DeadLetter = decode(value.as_deref().unwrap()).unwrap();
    assert_eq!(letter.reason_code, "undecodable");
    assert_eq!(letter.stage, "processor");
    assert_eq!(letter.original, garbage);
    assert_eq!(letter.source_offset, Some(1));
    assert!(!letter.detail.is_empty());
    // The event after the poison one was applied too.
    let nodes: Vec<_> = (0..4).flat_map(|p| stage.nodes(p)).collect();
    assert_eq!(nodes.len(), 1, "one node in all partitions");
    let (node_id, state) = nodes[0];
    assert_eq!(node_id, "node-p");
    let twin = &state.twin;
    assert_eq!((twin.last_seq, twin.events_applied), (2, 2));
}

//! The same input gives the same outcome, whatever the timing (issue 12, item 6): one raw
//! input — four nodes on two raw partitions (register, heartbeats, snapshots, a lost link and
//! a replay) and a control plane on the two others (domains, bundles, a master claim,
//! assignments dated before, between and after the node events) — is produced into fresh
//! topics three ways and run through the normalizer and the processor each time, with the
//! consumers fetching the partitions differently. Every run must write the same twins,
//! transitions, drift evaluations and alerts (Kafka coordinates and receive times aside):
//! the normalizer merges its raw partitions by event time, so the interleaving of control
//! copies and node events on each events partition does not depend on fetch timing.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::producer::{FutureProducer, FutureRecord};
use serde::Serialize;
use serde_json::Value;
use sxfleet::pipeline::{self, PipelineConfig};
use sxfleet_runtime::{KafkaConfig, Shutdown};
use sxfleet_schemas::{decode, Alert, Canonical, DriftReport, Node, StateTransition};

const LIMIT: Duration = Duration::from_secs(120);
const PARTITIONS: i32 = 4;

/// Epoch ms of the scenario's start, 2026-03-01T00:00:00Z.
const T0: i64 = 1_772_323_200_000;

/// One raw record: raw partition, key, JSON, event time (s after [`T0`], under an hour).
struct Raw {
    partition: i32,
    key: String,
    json: String,
    at_s: i64,
}

fn ts(at_s: i64) -> String {
    format!("2026-03-01T00:{:02}:{:02}Z", at_s / 60, at_s % 60)
}

/// The control plane, keyed by domain (or bundle) on raw partitions 2 and 3: domains and a
/// master claim before the nodes exist, a bundle and its assignment between their events,
/// a newer bundle and its assignment after their snapshots.
fn control() -> Vec<Raw> {
    let bundle = |id: &str, target: &str| {
        format!(
            r#""bundle_id":"{id}","version":"{target}","target_version":"{target}","policy_version":"policy-v2.1","config":{{"stir.enforcement_mode":"hard","rate_limit.max_cps":2000}}"#
        )
    };
    let claim = r#""authority":{"controller_id":"ctl-a","level":"REGION","epoch":3}"#;
    let records = [
        (3, "global", 0, r#""type":"domain","domain_id":"global","level":"GLOBAL""#.to_owned()),
        (2, "region-a", 0, r#""type":"domain","domain_id":"region-a","parent_id":"global","level":"REGION""#.to_owned()),
        (2, "edge-a1", 1, r#""type":"domain","domain_id":"edge-a1","parent_id":"region-a","level":"ZONE""#.to_owned()),
        (2, "region-a", 2, r#""type":"authority","domain_id":"region-a","controller_id":"ctl-a","level":"REGION","epoch":3"#.to_owned()),
        (3, "b-1", 65, format!(r#""type":"policy_bundle",{}"#, bundle("b-1", "1.4.7"))),
        (2, "region-a", 70, format!(r#""type":"assign","bundle_id":"b-1","domain_id":"region-a",{claim}"#)),
        (3, "b-2", 190, format!(r#""type":"policy_bundle",{}"#, bundle("b-2", "1.4.8"))),
        (2, "region-a", 195, format!(r#""type":"assign","bundle_id":"b-2","domain_id":"region-a",{claim}"#)),
    ];
    records
        .into_iter()
        .map(|(partition, key, at_s, fields)| Raw {
            partition,
            key: key.to_owned(),
            json: format!(r#"{{{fields},"ts":"{}"}}"#, ts(at_s)),
            at_s,
        })
        .collect()
}

/// Four nodes of edge-a1 on raw partitions 0 and 1, heartbeating every 20 s from 60 s to
/// 180 s: n-1 and n-2 report snapshots after the first assignment (in spec, drifted), n-3
/// before it, n-4 loses its link and replays two events.
fn nodes() -> Vec<Raw> {
    let mut records = Vec::new();
    for (index, node) in ["n-1", "n-2", "n-3", "n-4"].into_iter().enumerate() {
        let partition = (index / 2) as i32;
        let mut lines: Vec<(i64, String)> = vec![(
            60,
            r#""type":"register","kind":"EDGE","domain_id":"edge-a1","region":"region-a","zone":"edge-a1","firmware":{"version":"2.1.3","signature":"sig-a"}"#.to_owned(),
        )];
        for at_s in (61..=181).step_by(20) {
            if node != "n-4" || !(100..150).contains(&at_s) {
                lines.push((
                    at_s,
                    r#""type":"heartbeat","rtt_ms":40,"loss_pct":0,"health":"OK""#.to_owned(),
                ));
            }
        }
        let snapshot = |version: &str, cps: u32| {
            format!(
                r#""type":"snapshot","reported_version":"{version}","policy_version":"policy-v2.1","config":{{"stir.enforcement_mode":"hard","rate_limit.max_cps":{cps}}}"#
            )
        };
        match node {
            "n-1" => lines.push((80, snapshot("1.4.7", 2000))),
            "n-2" => lines.push((85, snapshot("1.4.6", 1500))),
            "n-3" => lines.push((62, snapshot("1.4.7", 2000))),
            _ => {
                lines.push((90, snapshot("1.4.7", 2000)));
                lines.push((100, r#""type":"link","state":"lost""#.to_owned()));
                lines.push((130, r#""type":"link","state":"detected""#.to_owned()));
                lines.push((
                    140,
                    r#""type":"replay","phase":"begin","session_id":"rs-1","backlog_total":2"#
                        .to_owned(),
                ));
                let carried = |seq: u32, at_s: i64| {
                    format!(
                        r#"{{"type":"heartbeat","node_id":"n-4","ts":"{}","seq":{seq},"health":"OK"}}"#,
                        ts(at_s)
                    )
                };
                lines.push((145, format!(
                    r#""type":"replay","phase":"chunk","session_id":"rs-1","chunk_seq":1,"backlog_total":2,"events":[{},{}]"#,
                    carried(1_000, 110),
                    carried(1_001, 120)
                )));
                lines.push((
                    150,
                    r#""type":"replay","phase":"end","session_id":"rs-1","backlog_total":2"#
                        .to_owned(),
                ));
            }
        }
        lines.sort_by_key(|(at_s, _)| *at_s);
        // A record's seq is its event time in seconds: increasing, with room for the two
        // replayed events between the lost link and its return.
        for (at_s, fields) in lines {
            records.push(Raw {
                partition,
                key: node.to_owned(),
                json: format!(
                    r#"{{{fields},"node_id":"{node}","ts":"{}","seq":{at_s}}}"#,
                    ts(at_s)
                ),
                at_s,
            });
        }
    }
    // Each partition's log is in event-time order, and the same log in every way below: the
    // merge orders partitions against each other, never a partition's own records.
    records.sort_by_key(|raw| raw.at_s);
    records
}

/// The ways the same records are produced: which goes first, and how the consumers fetch.
#[derive(Clone, Copy, Debug)]
enum Way {
    /// Control records first; default fetching (whole partitions per fetch).
    ControlFirst,
    /// Control records last; one record batch per partition and fetch, so partitions arrive
    /// interleaved record by record.
    ControlLast,
    /// Everything in event-time order; default fetching.
    Interleaved,
}

impl Way {
    fn records(self) -> Vec<Raw> {
        let (control, nodes) = (control(), nodes());
        match self {
            Way::ControlFirst => control.into_iter().chain(nodes).collect(),
            Way::ControlLast => nodes.into_iter().chain(control).collect(),
            Way::Interleaved => {
                let mut all: Vec<Raw> = control.into_iter().chain(nodes).collect();
                all.sort_by_key(|raw| raw.at_s);
                all
            }
        }
    }

    fn kafka(self, bootstrap: &str) -> KafkaConfig {
        let mut kafka = KafkaConfig::new(bootstrap);
        if let Way::ControlLast = self {
            kafka
                .properties
                .insert("max.partition.fetch.bytes".into(), "1".into());
        }
        kafka
    }
}

/// What one run wrote, per output topic and key, in log order, Kafka coordinates left out.
type Outcome = BTreeMap<&'static str, BTreeMap<String, Vec<Value>>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_raw_input_gives_the_same_outputs_whatever_the_order_it_arrives_in() {
    let mut outcomes = Vec::new();
    for way in [Way::ControlFirst, Way::ControlLast, Way::Interleaved] {
        outcomes.push((way, run(way).await));
    }
    let (_, first) = &outcomes[0];
    let twins = &first["twins"];
    assert_eq!(twins.len(), 4, "a twin per node: {:?}", twins.keys());
    assert!(
        first["drift"].values().map(Vec::len).sum::<usize>() >= 3,
        "drift evaluations: {:?}",
        first["drift"]
    );
    for (way, outcome) in &outcomes[1..] {
        for (topic, by_key) in first {
            assert_eq!(
                by_key.keys().collect::<Vec<_>>(),
                outcome[topic].keys().collect::<Vec<_>>(),
                "{topic}: keys of {way:?} vs {:?}",
                outcomes[0].0
            );
            for (key, records) in by_key {
                assert_eq!(
                    records, &outcome[topic][key],
                    "{topic} of {key}: {way:?} vs {:?}",
                    outcomes[0].0
                );
            }
        }
    }
}

/// Produces the input `way`'s way into fresh topics, runs the normalizer and the processor
/// until both committed everything, and reads what they wrote.
async fn run(way: Way) -> Outcome {
    let services = common::services();
    let prefix = format!("{}.", common::unique("determinism"));
    let _cleanup = common::Cleanup::new(&services.kafka, &prefix);
    let mut config = PipelineConfig::new(way.kafka(&services.kafka), &prefix);
    config.partitions = PARTITIONS;
    // Everything is in the log before the stages start, so the merge never waits out its
    // bound; a long one keeps a slow fetch on a busy machine from passing a partition.
    config.max_task_idle = Duration::from_secs(10);
    pipeline::create_topics(&config).await.unwrap();
    let records = way.records();
    produce(&services.kafka, &config.topics.raw, &records).await;

    let stop = Shutdown::new();
    let normalizer = {
        let (config, stop) = (config.clone(), stop.clone());
        tokio::spawn(async move {
            pipeline::run_normalizer(&config, config.normalizer.clone(), &stop).await
        })
    };
    let twin = {
        let (config, stop) = (config.clone(), stop.clone());
        tokio::spawn(async move { pipeline::run_twin(&config, &stop).await })
    };
    let raw_group = config.app_id("normalizer");
    common::wait_committed(
        &services.kafka,
        &raw_group,
        &config.topics.raw,
        PARTITIONS,
        Some(records.len() as i64),
        LIMIT,
    )
    .await;
    let events = read(&services.kafka, &config.topics.events).await;
    let ends: i64 = (0..PARTITIONS)
        .map(|p| {
            events
                .iter()
                .filter(|r| r.0 == p)
                .map(|r| r.1 + 1)
                .max()
                .unwrap_or(0)
        })
        .sum();
    common::wait_committed(
        &services.kafka,
        &config.app_id("twin"),
        &config.topics.events,
        PARTITIONS,
        Some(ends),
        LIMIT,
    )
    .await;
    stop.trigger();
    let normalized = normalizer.await.unwrap().unwrap();
    let processed = twin.await.unwrap().unwrap();
    assert!(normalized.stopped_partitions.is_empty(), "{normalized:?}");
    assert!(processed.stopped_partitions.is_empty(), "{processed:?}");

    let topics = &config.topics;
    let mut outcome = Outcome::new();
    // A twin is written once per batch in which it changed, so only its last version is
    // comparable; every other output is written per change.
    let mut twins = outputs::<Node>(&services.kafka, &topics.twin).await;
    for versions in twins.values_mut() {
        versions.drain(..versions.len().saturating_sub(1));
    }
    outcome.insert("twins", twins);
    outcome.insert(
        "transitions",
        outputs::<StateTransition>(&services.kafka, &topics.transitions).await,
    );
    outcome.insert(
        "drift",
        outputs::<DriftReport>(&services.kafka, &topics.drift).await,
    );
    outcome.insert(
        "alerts",
        outputs::<Alert>(&services.kafka, &topics.alerts).await,
    );
    outcome
}

/// Writes `records` to their raw partitions one at a time (each its own record batch), each
/// with its event time plus 2 s as its Kafka timestamp (the receive time).
async fn produce(bootstrap: &str, topic: &str, records: &[Raw]) {
    let producer: FutureProducer = KafkaConfig::new(bootstrap)
        .producer(None, Duration::from_secs(30))
        .create()
        .unwrap();
    for raw in records {
        let record = FutureRecord::to(topic)
            .partition(raw.partition)
            .key(raw.key.as_bytes())
            .payload(raw.json.as_bytes())
            .timestamp(T0 + raw.at_s * 1000 + 2_000);
        producer
            .send(record, Duration::from_secs(30))
            .await
            .unwrap();
    }
}

async fn read(bootstrap: &str, topic: &str) -> Vec<common::kafka::Record> {
    let (bootstrap, topic) = (bootstrap.to_owned(), topic.to_owned());
    tokio::task::spawn_blocking(move || {
        common::kafka::read_committed(&bootstrap, &topic, PARTITIONS)
    })
    .await
    .unwrap()
}

/// Every record of `topic` decoded as `T`, as JSON with ingest-time fields masked, per key
/// in log order.
async fn outputs<T: Canonical + Serialize>(
    bootstrap: &str,
    topic: &str,
) -> BTreeMap<String, Vec<Value>> {
    let mut by_key: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (_, _, key, value) in read(bootstrap, topic).await {
        let Some(value) = value else { continue };
        let decoded: T = decode(&value).unwrap();
        let mut json = serde_json::to_value(&decoded).unwrap();
        mask(&mut json);
        by_key
            .entry(String::from_utf8(key).unwrap())
            .or_default()
            .push(json);
    }
    by_key
}

/// Blanks the fields that record when a record was received rather than what happened.
fn mask(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            for (name, field) in fields.iter_mut() {
                if name == "received_ms" {
                    *field = Value::Null;
                } else {
                    mask(field);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask),
        _ => {}
    }
}

//! The HTTP ingest API against the real broker, driven with curl: the examples of
//! docs/ingest.md, auth failure, oversize bodies, Kafka unavailable, and a replay upload that
//! breaks off and is resumed, read back through the normalizer.

mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use common::http::{check_doc_examples, curl, deployment, post, read_async};
use sxfleet::pipeline::{self, PipelineConfig};
use sxfleet_ingest::http::config::{HttpConfig, TokenConfig};
use sxfleet_ingest::http::{router, serve_on};
use sxfleet_ingest::NormalizerConfig;
use sxfleet_runtime::{KafkaConfig, Shutdown};
use sxfleet_schemas::{decode, DeadLetter, FleetEvent, Source};

const NODE_TOKEN: &str = "node-1-secret";
const RELAY_TOKEN: &str = "relay-secret";

fn http_config() -> HttpConfig {
    let token = |token: &str, principal: &str, nodes: &[&str]| TokenConfig {
        token: token.to_owned(),
        principal: principal.to_owned(),
        nodes: nodes.iter().map(|n| (*n).to_owned()).collect(),
        controllers: vec![],
    };
    HttpConfig {
        max_body_bytes: 64 * 1024,
        write_timeout: Duration::from_secs(5),
        tokens: vec![
            token(NODE_TOKEN, "sx-node-1", &["sx-node-1"]),
            token(RELAY_TOKEN, "relay-7", &["sx-node-2", "sx-node-3"]),
            token("replayer", "sx-r-1", &["sx-r-1"]),
        ],
        ..HttpConfig::default()
    }
}

/// Starts the API writing to `kafka` and the topics of `config`; returns its base URL.
async fn start(config: &PipelineConfig, kafka: KafkaConfig, stop: &Shutdown) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let txn = common::unique("http");
    let app = router(http_config(), kafka, &config.topics, &txn).unwrap();
    let stop = stop.clone();
    tokio::spawn(async move { serve_on(listener, app, &stop).await });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_documented_curl_examples_answer_as_documented() {
    let config = deployment("http_doc").await;
    let _cleanup = common::Cleanup::new(&common::services().kafka, config.topics.prefix());
    let stop = Shutdown::new();
    let url = start(&config, config.kafka.clone(), &stop).await;
    let env = [
        ("SXFLEET_HTTP", url),
        ("NODE_TOKEN", NODE_TOKEN.to_owned()),
        ("RELAY_TOKEN", RELAY_TOKEN.to_owned()),
    ];
    check_doc_examples("Examples", &env, 3).await;
    // 1 + 3 lines accepted onto the raw topic, 3 rejected ones in the DLQ, all from HTTP.
    let raw = read_async(config.topics.raw.clone(), config.partitions).await;
    assert_eq!(raw.len(), 4);
    let letters = read_async(config.topics.dlq.clone(), config.partitions).await;
    let letters: Vec<DeadLetter> = letters
        .iter()
        .map(|r| decode(r.3.as_deref().unwrap()).unwrap())
        .collect();
    let mut reasons: Vec<&str> = letters.iter().map(|l| l.reason_code.as_str()).collect();
    reasons.sort_unstable();
    assert_eq!(reasons, vec!["bad_enum", "forbidden_node", "invalid_json"]);
    assert!(letters.iter().all(|l| l.source == Source::Http));
    assert!(letters.iter().any(|l| l.original == b"not json"));
    stop.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_tokens_oversize_bodies_and_an_unreachable_kafka_write_nothing() {
    let config = deployment("http_refuse").await;
    let _cleanup = common::Cleanup::new(&common::services().kafka, config.topics.prefix());
    let stop = Shutdown::new();
    let url = start(&config, config.kafka.clone(), &stop).await;
    let line = r#"{"type":"heartbeat","node_id":"sx-node-1","ts":"2026-01-01T00:00:00Z","seq":1}"#;
    let events = format!("{url}/v1/events");

    let reply = curl(post(&events, None, line)).await;
    assert_eq!(reply.status, 401);
    let reply = curl(post(&events, Some("wrong"), line)).await;
    assert_eq!(reply.status, 401);
    assert!(reply.body.contains("unauthorized"));

    let big = format!("{line}\n").repeat(64 * 1024 / line.len() + 10);
    let reply = curl(post(&events, Some(NODE_TOKEN), &big)).await;
    assert_eq!(reply.status, 413, "{}", reply.body);

    // The same API pointed at a port where nothing listens: a retryable status, in time.
    let dead = start(&config, KafkaConfig::new("127.0.0.1:1"), &stop).await;
    let started = std::time::Instant::now();
    let reply = curl(post(&format!("{dead}/v1/events"), Some(NODE_TOKEN), line)).await;
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert!(reply
        .headers
        .iter()
        .any(|(k, v)| k == "retry-after" && v == "1"));
    assert!(started.elapsed() < Duration::from_secs(20));

    // Nothing of any of these reached the topics.
    assert!(read_async(config.topics.raw.clone(), config.partitions)
        .await
        .is_empty());
    assert!(read_async(config.topics.dlq.clone(), config.partitions)
        .await
        .is_empty());

    // And a good request on the working API is written.
    let reply = curl(post(&events, Some(NODE_TOKEN), line)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        read_async(config.topics.raw.clone(), config.partitions)
            .await
            .len(),
        1
    );
    stop.trigger();
}

fn message(seq: i64, ts: &str, rest: &str) -> String {
    format!(r#"{{"node_id":"sx-r-1","seq":{seq},"ts":"{ts}",{rest}}}"#)
}

fn heartbeat(seq: i64) -> String {
    let ts = format!("2026-01-01T00:{seq:02}:00Z");
    message(seq, &ts, r#""type":"heartbeat""#)
}

fn replay(seq: i64, phase: &str, chunk: Option<(i64, &[i64])>) -> String {
    let mut rest = format!(r#""type":"replay","phase":"{phase}","session_id":"rs-9""#);
    if let Some((chunk_seq, seqs)) = chunk {
        let events: Vec<String> = seqs.iter().map(|&s| heartbeat(s)).collect();
        rest.push_str(&format!(
            r#","chunk_seq":{chunk_seq},"events":[{}]"#,
            events.join(",")
        ));
    }
    message(seq, "2026-01-01T01:00:00Z", &rest)
}

/// Sends the head of a request announcing `body` and only half of the body, then drops the
/// connection.
fn interrupted_post(addr: SocketAddr, path: &str, token: &str, body: &str) {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream
        .write_all(&body.as_bytes()[..body.len() / 2])
        .unwrap();
    stream.flush().unwrap();
    drop(stream);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replay_upload_broken_off_and_resumed_lands_each_event_once_in_order() {
    let config = deployment("http_replay").await;
    let _cleanup = common::Cleanup::new(&common::services().kafka, config.topics.prefix());
    let stop = Shutdown::new();
    let url = start(&config, config.kafka.clone(), &stop).await;
    let token = Some("replayer");
    // Live: 1..3, then the node went offline (4..9 buffered) and came back with 10.
    let live = [1, 2, 3, 10].map(heartbeat).join("\n");
    let reply = curl(post(&format!("{url}/v1/events"), token, &live)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    // Replay: BEGIN and chunk 1 go through...
    let first = [
        replay(11, "begin", None),
        replay(12, "chunk", Some((1, &[4, 5, 6]))),
    ];
    let reply = curl(post(&format!("{url}/v1/replay"), token, &first.join("\n"))).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    // ...chunk 2 and END break off mid-body...
    let second = [
        replay(13, "chunk", Some((2, &[7, 8, 9]))),
        replay(14, "end", None),
    ];
    let addr: SocketAddr = url.trim_start_matches("http://").parse().unwrap();
    tokio::task::spawn_blocking(move || {
        interrupted_post(addr, "/v1/replay", "replayer", &second.join("\n"))
    })
    .await
    .unwrap();
    // ...and the node resumes from chunk 1 (it did not see chunk 2 acknowledged).
    let resumed = [
        replay(12, "chunk", Some((1, &[4, 5, 6]))),
        replay(13, "chunk", Some((2, &[7, 8, 9]))),
        replay(14, "end", None),
    ];
    let reply = curl(post(
        &format!("{url}/v1/replay"),
        token,
        &resumed.join("\n"),
    ))
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        read_async(config.topics.raw.clone(), config.partitions)
            .await
            .len(),
        4 + 2 + 3,
        "the broken request wrote nothing"
    );

    let normalizer_stop = Shutdown::new();
    let task = {
        let (config, stop) = (config.clone(), normalizer_stop.clone());
        tokio::spawn(async move {
            pipeline::run_normalizer(&config, NormalizerConfig::default(), &stop).await
        })
    };
    let services = common::services();
    common::wait_committed(
        &services.kafka,
        &config.app_id("normalizer"),
        &config.topics.raw,
        config.partitions,
        Some(9),
        Duration::from_secs(60),
    )
    .await;
    normalizer_stop.trigger();
    task.await.unwrap().unwrap();

    let events: Vec<FleetEvent> = read_async(config.topics.events.clone(), config.partitions)
        .await
        .iter()
        .map(|r| decode(r.3.as_deref().unwrap()).unwrap())
        .collect();
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    // Live in order; the BEGIN releases 10 (waiting for the backlog 4..=9); each chunk's events
    // follow their chunk marker, once, however often the chunk was sent.
    assert_eq!(
        seqs,
        vec![1, 2, 3, 10, 11, 12, 4, 5, 6, 13, 7, 8, 9, 14],
        "each seq once, in order"
    );
    for event in &events {
        assert_eq!(event.source, Source::Http);
        assert_eq!(
            event.replayed,
            (4..=9).contains(&event.seq),
            "{}",
            event.seq
        );
        if event.seq <= 10 {
            // Heartbeats keep their own (original) event time: minute `seq` of the day.
            assert_eq!(event.event_time_ms, 1_767_225_600_000 + event.seq * 60_000);
        }
    }
    assert!(read_async(config.topics.dlq.clone(), config.partitions)
        .await
        .is_empty());
    stop.trigger();
}

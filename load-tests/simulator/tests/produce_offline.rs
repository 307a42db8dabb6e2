//! The producer's accounting, pacing and shutdown, without a broker: the
//! bootstrap address points at a closed port, so every message that gets
//! enqueued must come back as a counted delivery failure.

use std::time::Duration;

use futures::stream;
use rdkafka::ClientConfig;
use sxfleet_simulator::{
    messages_for_rounds, produce, producer_config, ProduceError, ProduceOptions, Progress,
    SimConfig, StopReason,
};
use tokio::sync::watch;

fn unreachable_broker() -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", "127.0.0.1:1")
        .set("message.timeout.ms", "300")
        .set("log_level", "0");
    config
}

fn options(topic: &str) -> ProduceOptions {
    ProduceOptions {
        progress: Progress::Hidden,
        ..ProduceOptions::new(topic)
    }
}

fn sample(rounds: u64) -> Vec<sxfleet_simulator::RawMessage> {
    let config = SimConfig {
        nodes: 5,
        ..SimConfig::default()
    };
    messages_for_rounds(&config, rounds).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn producer_settings_are_forced_or_defaulted() {
    let mut base = unreachable_broker();
    base.set("acks", "1").set("compression.type", "zstd");
    let config = producer_config(&base);
    assert_eq!(config.get("acks"), Some("all"));
    assert_eq!(config.get("enable.idempotence"), Some("true"));
    assert_eq!(config.get("compression.type"), Some("zstd"));
    assert_eq!(config.get("linger.ms"), Some("5"));
    assert_eq!(config.get("bootstrap.servers"), Some("127.0.0.1:1"));
}

#[tokio::test]
async fn undeliverable_messages_are_counted_not_dropped() {
    let msgs = sample(1);
    let total = msgs.len() as u64;
    let (_tx, rx) = watch::channel(false);
    let summary = produce(&unreachable_broker(), &options("t"), stream::iter(msgs), rx)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(summary.stopped_by, StopReason::Exhausted);
    assert_eq!((summary.sent, summary.failed), (0, total));
    assert!(!summary.errors.is_empty());
    match summary.ensure_delivered() {
        Err(ProduceError::Undelivered {
            failed, attempted, ..
        }) => {
            assert_eq!((failed, attempted), (total, total));
        }
        other => panic!("expected Undelivered, got {other:?}"),
    }
}

#[tokio::test]
async fn rate_and_duration_bound_what_is_sent() {
    let msgs = sample(50);
    let opts = ProduceOptions {
        rate: Some(100.0),
        duration: Some(Duration::from_millis(300)),
        max_in_flight: 8,
        ..options("t")
    };
    let (_tx, rx) = watch::channel(false);
    let summary = produce(&unreachable_broker(), &opts, stream::iter(msgs), rx)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(summary.stopped_by, StopReason::Duration);
    assert_eq!(summary.sent, 0);
    // 100/s for 0.3 s, less what the in-flight cap held back.
    assert!(
        (2..=40).contains(&summary.failed),
        "failed {}",
        summary.failed
    );
}

#[tokio::test]
async fn shutdown_stops_sending() {
    let (tx, rx) = watch::channel(false);
    let endless = stream::iter(sample(2).into_iter().cycle());
    let opts = ProduceOptions {
        rate: Some(200.0),
        ..options("t")
    };
    let stop = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        tx.send_replace(true);
        // Keep the sender alive until the run ends.
        tokio::time::sleep(Duration::from_secs(30)).await;
    });
    let summary = produce(&unreachable_broker(), &opts, endless, rx)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    stop.abort();
    assert_eq!(summary.stopped_by, StopReason::Shutdown);
    assert!(
        summary.failed > 0 && summary.failed < 100,
        "failed {}",
        summary.failed
    );
}

#[tokio::test]
async fn invalid_options_are_rejected() {
    let (_tx, rx) = watch::channel(false);
    for opts in [
        ProduceOptions {
            max_in_flight: 0,
            ..options("t")
        },
        ProduceOptions {
            rate: Some(0.0),
            ..options("t")
        },
    ] {
        let result = produce(
            &unreachable_broker(),
            &opts,
            stream::iter(sample(0)),
            rx.clone(),
        )
        .await;
        assert!(
            matches!(result, Err(ProduceError::InvalidOptions(_))),
            "{opts:?}"
        );
    }
}

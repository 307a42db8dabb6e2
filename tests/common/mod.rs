//! Shared by the integration tests: the real services, unique names, polling.

#![allow(dead_code)] // each test binary uses a different part of this module

use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Where the services answer.
pub struct Services {
    /// Kafka bootstrap servers.
    pub kafka: String,
    /// ClickHouse HTTP endpoint.
    pub clickhouse: String,
}

/// Starts Kafka and ClickHouse through the project's script (idempotent, once per process).
pub fn services() -> &'static Services {
    static SERVICES: OnceLock<Services> = OnceLock::new();
    SERVICES.get_or_init(|| {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/dev/services");
        let status = Command::new(script)
            .arg("up")
            .status()
            .expect("dev/services runs");
        assert!(status.success(), "dev/services up failed");
        Services {
            kafka: std::env::var("KAFKA_BOOTSTRAP").unwrap_or_else(|_| "127.0.0.1:9092".into()),
            clickhouse: std::env::var("CLICKHOUSE_URL")
                .unwrap_or_else(|_| "http://127.0.0.1:8123".into()),
        }
    })
}

/// A name no other test run uses: `<base>_<random hex>`.
pub fn unique(base: &str) -> String {
    format!("{base}_{}", uuid::Uuid::new_v4().simple())
}

/// Polls `check` every 500 ms until it returns `Some`, or fails after `limit` with the last
/// state `describe` gives.
pub async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let deadline = Instant::now() + limit;
    loop {
        match check().await {
            Ok(value) => return value,
            Err(state) if Instant::now() > deadline => {
                panic!("timed out after {limit:?} waiting for {what}; last state: {state}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}

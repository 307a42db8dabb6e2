//! Settings of the ClickHouse sink.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use sxfleet_runtime::{KafkaConfig, Topics};

use crate::backend::clickhouse::ClickHouseConfig;
use crate::error::SinkError;

/// Everything [`crate::run_sink`] needs. Deserialized from the `[sink]` section of the
/// pipeline's configuration; every field has a default. `Debug` output redacts the ClickHouse
/// password and the Kafka property values.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SinkConfig {
    /// Where the rows land: ClickHouse (default) or Parquet files.
    pub backend: Backend,
    /// ClickHouse endpoint, database (default `fleet`), user and password (used by the
    /// ClickHouse backend).
    pub clickhouse: ClickHouseConfig,
    /// Kafka cluster settings.
    pub kafka: KafkaConfig,
    /// Prefix of every topic name (empty in production; tests use a random one). The sink
    /// reads the events, twin, DLQ, transitions, drift, alerts and authority topics, and writes undecodable records to the
    /// DLQ topic.
    pub topic_prefix: String,
    /// Consumer group id; offsets are committed under it.
    pub group_id: String,
    /// Batch limits.
    pub batch: BatchConfig,
    /// Back-off between failed tries of an insert or a dead-letter write.
    pub retry: RetryConfig,
    /// Longest wait for one `INSERT` (sending and the server's answer) before it counts as
    /// failed and is retried, e.g. `"60s"`.
    #[serde(with = "humantime_serde")]
    pub insert_timeout: Duration,
}

impl Default for SinkConfig {
    fn default() -> Self {
        Self {
            backend: Backend::ClickHouse,
            clickhouse: ClickHouseConfig::default(),
            kafka: KafkaConfig::default(),
            topic_prefix: String::new(),
            group_id: "sxfleet-sink-clickhouse".to_owned(),
            batch: BatchConfig::default(),
            retry: RetryConfig::default(),
            insert_timeout: Duration::from_secs(60),
        }
    }
}

impl SinkConfig {
    /// The topic names for [`SinkConfig::topic_prefix`].
    pub fn topics(&self) -> Topics {
        Topics::with_prefix(&self.topic_prefix)
    }

    /// Checks the values serde cannot.
    ///
    /// # Errors
    /// [`SinkError::Config`] naming the first bad field.
    pub fn validate(&self) -> Result<(), SinkError> {
        let bad = |what: &str| Err(SinkError::Config(what.to_owned()));
        if self.group_id.is_empty() {
            return bad("group_id is empty");
        }
        if self.batch.max_rows == 0 {
            return bad("batch.max_rows is 0");
        }
        if self.batch.max_bytes == 0 {
            return bad("batch.max_bytes is 0");
        }
        if self.retry.initial.is_zero() || self.retry.max < self.retry.initial {
            return bad("retry needs 0 < initial <= max");
        }
        if matches!(&self.backend, Backend::Parquet { dir } if dir.as_os_str().is_empty()) {
            return bad("backend.dir is empty");
        }
        if self.insert_timeout.is_zero() {
            return bad("insert_timeout is 0");
        }
        Ok(())
    }
}

/// Where the sink lands its tables.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "snake_case")]
pub enum Backend {
    /// The ClickHouse server of [`SinkConfig::clickhouse`] (migrations applied at start).
    #[serde(rename = "clickhouse")]
    ClickHouse,
    /// Parquet files under `dir`, one sub-directory per table (see [`crate::backend::parquet`]).
    Parquet {
        /// The data directory, e.g. `"data/fleet"`.
        dir: PathBuf,
    },
}

/// When a batch is closed and written. A batch closes at whichever limit it reaches first.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BatchConfig {
    /// Most rows in a batch, over all tables.
    pub max_rows: usize,
    /// Most Kafka payload bytes in a batch (a proxy for the size of the inserts).
    pub max_bytes: usize,
    /// How long a batch stays open after its first record, e.g. `"500ms"`.
    #[serde(with = "humantime_serde")]
    pub linger: Duration,
}

impl Default for BatchConfig {
    /// 20,000 rows, 16 MiB, 500 ms.
    fn default() -> Self {
        Self {
            max_rows: 20_000,
            max_bytes: 16 * 1024 * 1024,
            linger: Duration::from_millis(500),
        }
    }
}

/// Exponential back-off of retried external calls.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryConfig {
    /// Wait after the first failure, e.g. `"100ms"`; doubled after each further failure.
    #[serde(with = "humantime_serde")]
    pub initial: Duration,
    /// Longest wait between two tries, e.g. `"30s"`.
    #[serde(with = "humantime_serde")]
    pub max: Duration,
}

impl Default for RetryConfig {
    /// 100 ms doubling up to 30 s.
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(30),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let config = SinkConfig::default();
        assert!(config.validate().is_ok());
        assert_eq!(config.clickhouse.database, "fleet");
        assert_eq!(config.backend, Backend::ClickHouse);
        assert_eq!(config.topics().events, "fleet.events.v1");
    }

    #[test]
    fn deserializes_with_durations_and_rejects_unknown_fields() {
        let json = r#"{
            "clickhouse": {"url": "http://ch:8123", "database": "f2", "password": "s3cret"},
            "topic_prefix": "t1.",
            "batch": {"max_rows": 10, "linger": "250ms"},
            "retry": {"max": "5s"}
        }"#;
        let config: SinkConfig = serde_json::from_str(json).unwrap();
        assert_eq!(config.clickhouse.url, "http://ch:8123");
        assert_eq!(config.batch.max_rows, 10);
        assert_eq!(config.batch.max_bytes, 16 * 1024 * 1024);
        assert_eq!(config.batch.linger, Duration::from_millis(250));
        assert_eq!(config.retry.max, Duration::from_secs(5));
        assert_eq!(config.topics().dlq, "t1.fleet.dlq.v1");
        let parquet: SinkConfig =
            serde_json::from_str(r#"{"backend": {"kind": "parquet", "dir": "d/f"}}"#).unwrap();
        assert_eq!(parquet.backend, Backend::Parquet { dir: "d/f".into() });
        let debug = format!("{config:?}");
        assert!(!debug.contains("s3cret"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");

        let err = serde_json::from_str::<SinkConfig>(r#"{"batch": {"rows": 1}}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `rows`"), "{err}");
    }

    #[test]
    fn validate_names_the_bad_field() {
        let mut config = SinkConfig::default();
        config.batch.max_rows = 0;
        let err = config.validate().unwrap_err();
        assert!(err.to_string().contains("batch.max_rows"), "{err}");
    }
}

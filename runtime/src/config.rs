//! Kafka client settings shared by every stage, and the delivery choice.

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::ClientConfig;
use serde::Deserialize;

/// How a stage delivers its outputs relative to its input offsets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// Outputs, changelog records and input offsets commit in one Kafka transaction; readers
    /// use `read_committed`. Needs a cluster with transactions.
    #[default]
    ExactlyOnce,
    /// Outputs are flushed, then offsets committed. A crash between the two replays the batch,
    /// so downstream may see duplicates. For clusters without transactions.
    AtLeastOnce,
}

/// Connection settings for the Kafka cluster.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaConfig {
    /// `bootstrap.servers`, e.g. `127.0.0.1:9092`.
    pub bootstrap: String,
    /// Extra librdkafka properties applied to every client (for example `security.protocol`).
    /// Values are redacted in `Debug` output, since they may hold credentials.
    pub properties: BTreeMap<String, String>,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        Self {
            bootstrap: "127.0.0.1:9092".to_owned(),
            properties: BTreeMap::new(),
        }
    }
}

impl std::fmt::Debug for KafkaConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<&String> = self.properties.keys().collect();
        f.debug_struct("KafkaConfig")
            .field("bootstrap", &self.bootstrap)
            .field("properties", &format_args!("{keys:?} (values redacted)"))
            .finish()
    }
}

impl KafkaConfig {
    /// Settings for a broker at `bootstrap` with no extra properties.
    pub fn new(bootstrap: impl Into<String>) -> Self {
        Self {
            bootstrap: bootstrap.into(),
            properties: BTreeMap::new(),
        }
    }

    /// A base client configuration: bootstrap servers plus the extra properties.
    pub fn client(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.bootstrap);
        for (key, value) in &self.properties {
            config.set(key, value);
        }
        config
    }

    /// A consumer in `group` that never commits on its own and reads only committed data, with
    /// cooperative-sticky assignment (a rebalance moves only the partitions that change owner;
    /// the others keep processing and keep their state).
    pub fn consumer(&self, group: &str) -> ClientConfig {
        let mut config = self.client();
        config
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("isolation.level", "read_committed")
            .set("partition.assignment.strategy", "cooperative-sticky")
            .set("session.timeout.ms", "10000")
            .set("heartbeat.interval.ms", "1000");
        config
    }

    /// An idempotent producer (acks=all), transactional when `transactional_id` is given.
    pub fn producer(
        &self,
        transactional_id: Option<&str>,
        transaction_timeout: Duration,
    ) -> ClientConfig {
        let mut config = self.client();
        config
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "5")
            .set("compression.type", "lz4")
            .set("message.timeout.ms", "60000");
        if let Some(id) = transactional_id {
            // librdkafka requires message.timeout.ms <= transaction.timeout.ms.
            let timeout_ms = transaction_timeout.as_millis().to_string();
            config
                .set("transactional.id", id)
                .set("transaction.timeout.ms", &timeout_ms)
                .set("message.timeout.ms", &timeout_ms);
        }
        config
    }
}

//! What a test leaves on the shared services is deleted when its [`Cleanup`] guard drops, also
//! when the test fails: the topics (changelogs included) and consumer groups whose names start
//! with the test's unique prefix, and the ClickHouse databases it names. A broker once died
//! mid-CI under 19,873 partitions that earlier runs had left behind.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};

/// Deletes a test's Kafka topics, consumer groups and ClickHouse databases when dropped.
/// Declare it right after the prefix, so it drops after everything that uses the names.
#[must_use = "the clean-up runs when the guard drops"]
pub struct Cleanup {
    kafka: String,
    prefix: String,
    clickhouse: Option<String>,
    databases: Vec<String>,
}

impl Cleanup {
    /// Everything on `kafka` whose name starts with `prefix` (a [`super::unique`] name).
    pub fn new(kafka: &str, prefix: &str) -> Self {
        assert!(
            prefix.len() > 16,
            "clean-up prefix {prefix:?} is not a unique test name"
        );
        Self {
            kafka: kafka.to_owned(),
            prefix: prefix.to_owned(),
            clickhouse: None,
            databases: Vec::new(),
        }
    }

    /// Also drops ClickHouse database `name` on the server at `clickhouse` (HTTP URL).
    pub fn database(mut self, clickhouse: &str, name: &str) -> Self {
        self.clickhouse = Some(clickhouse.to_owned());
        self.databases.push(name.to_owned());
        self
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let (kafka, prefix) = (self.kafka.clone(), self.prefix.clone());
        let (clickhouse, databases) = (self.clickhouse.clone(), self.databases.clone());
        // A thread of its own: the guard may drop inside a runtime, where blocking is refused.
        let done = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                delete_kafka(&kafka, &prefix).await;
                if let Some(url) = clickhouse {
                    drop_databases(&url, &databases).await;
                }
            });
        });
        let _ = done.join();
    }
}

/// Deletes the topics and groups named `<prefix>...` (best effort: a clean-up never fails a
/// test; a group with live members stays).
async fn delete_kafka(bootstrap: &str, prefix: &str) {
    let client = sxfleet_runtime::KafkaConfig::new(bootstrap).client();
    let (Ok(admin), Ok(consumer)) = (
        client.create::<AdminClient<DefaultClientContext>>(),
        client.create::<BaseConsumer>(),
    ) else {
        return;
    };
    let timeout = Duration::from_secs(10);
    let topics: Vec<String> = consumer
        .fetch_metadata(None, timeout)
        .map(|metadata| {
            let names = metadata.topics().iter().map(|topic| topic.name());
            names
                .filter(|name| name.starts_with(prefix))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let groups: Vec<String> = consumer
        .fetch_group_list(None, timeout)
        .map(|list| {
            let names = list.groups().iter().map(|group| group.name());
            names
                .filter(|name| name.starts_with(prefix))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let options = AdminOptions::new().operation_timeout(Some(timeout));
    if !topics.is_empty() {
        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
        let _ = admin.delete_topics(&names, &options).await;
    }
    if !groups.is_empty() {
        let names: Vec<&str> = groups.iter().map(String::as_str).collect();
        let _ = admin.delete_groups(&names, &options).await;
    }
}

async fn drop_databases(url: &str, databases: &[String]) {
    let client = clickhouse::Client::default().with_url(url);
    for name in databases {
        let _ = client
            .query(&format!("DROP DATABASE IF EXISTS `{name}`"))
            .execute()
            .await;
    }
}

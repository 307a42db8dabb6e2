//! Kafka side of the end-to-end tests: fresh topics, producing, running the sink.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use sxfleet_runtime::topics::{ensure_topics, TopicSpec};
use sxfleet_runtime::{KafkaConfig, Shutdown, Topics};
use sxfleet_sinks::{run_sink, ClickHouse, SinkConfig, SinkStats};
use tokio::task::JoinHandle;

use super::{kafka_bootstrap, random_name, try_tsv, TestDb};

/// Seven of the sink's input topics under a random prefix (events, twins, DLQ, ledger and
/// command status with 4 partitions each; domains and bundles with 1, as the processor writes
/// them), and a producer.
pub struct TestTopics {
    pub kafka: KafkaConfig,
    pub topics: Topics,
    pub producer: FutureProducer,
}

impl TestTopics {
    pub async fn create() -> Self {
        let kafka = KafkaConfig::new(kafka_bootstrap());
        let topics = Topics::with_prefix(&format!("{}.", random_name("t")));
        ensure_topics(&kafka, &Self::specs(&topics))
            .await
            .expect("create topics");
        let producer = kafka
            .producer(None, Duration::from_secs(60))
            .create()
            .expect("producer");
        Self {
            kafka,
            topics,
            producer,
        }
    }

    fn specs(topics: &Topics) -> [TopicSpec; 7] {
        [
            TopicSpec::new(&topics.events, 4),
            TopicSpec::new(&topics.twin, 4).compacted(),
            TopicSpec::new(&topics.dlq, 4),
            TopicSpec::new(&topics.transitions, 4),
            TopicSpec::new(&topics.domains, 1).compacted(),
            TopicSpec::new(&topics.bundles, 1).compacted(),
            TopicSpec::new(&topics.command_status, 4),
        ]
    }

    /// Sink settings for these topics and `db`, a fresh group, short linger and back-off.
    pub fn sink_config(&self, db: &TestDb) -> SinkConfig {
        let mut config = SinkConfig {
            clickhouse: db.config(),
            kafka: self.kafka.clone(),
            topic_prefix: self.topics.prefix().to_owned(),
            group_id: random_name("g"),
            ..SinkConfig::default()
        };
        config.batch.linger = Duration::from_millis(200);
        config.retry.max = Duration::from_secs(1);
        config
    }

    /// Produces one record and returns where it landed: (partition, offset).
    pub async fn produce(&self, topic: &str, key: &str, payload: Option<&[u8]>) -> (i32, i64) {
        let mut record = FutureRecord::<str, [u8]>::to(topic).key(key);
        if let Some(payload) = payload {
            record = record.payload(payload);
        }
        self.producer
            .send(record, Timeout::After(Duration::from_secs(30)))
            .await
            .map(|delivery| (delivery.partition, delivery.offset))
            .map_err(|(err, _)| err)
            .expect("produce")
    }

    pub async fn delete(self) {
        let admin: AdminClient<DefaultClientContext> = self.kafka.client().create().expect("admin");
        let specs = Self::specs(&self.topics);
        let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        let _ = admin.delete_topics(&names, &AdminOptions::new()).await;
    }
}

/// Runs the sink in a task until `shutdown` triggers.
pub fn start(config: &SinkConfig, shutdown: &Shutdown) -> JoinHandle<SinkStats> {
    let (config, shutdown) = (config.clone(), shutdown.clone());
    tokio::spawn(async move { run_sink(&config, &shutdown).await.expect("run_sink") })
}

/// Polls `sql` (a single number) until it equals `want` or 60 s pass. Errors (the sink has
/// not created the database yet) count as 0.
pub async fn wait_for(ch: &ClickHouse, sql: &str, want: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let got: u64 = match try_tsv(ch, sql).await {
            Ok(text) => text.trim().parse().unwrap_or(0),
            Err(_) => 0,
        };
        if got == want {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{sql}: {got}, want {want}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Runs the sink with `config` on the Parquet backend in `dir` until `count_sql` (one count,
/// in DataFusion) answers `want`, or fails after 60 s; then stops it and opens a DataFusion
/// session over what landed.
pub async fn land_in_parquet(
    config: &SinkConfig,
    dir: &std::path::Path,
    count_sql: &str,
    want: u64,
) -> datafusion::prelude::SessionContext {
    use sxfleet_sinks::query::session;
    let mut config = config.clone();
    config.backend = sxfleet_sinks::Backend::Parquet {
        dir: dir.to_owned(),
    };
    let shutdown = Shutdown::new();
    let sink = start(&config, &shutdown);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let want = format!("{want}\n");
    loop {
        let landed = match session(dir).await {
            Ok(ctx) => super::tree::df_tsv(&ctx, count_sql).await,
            Err(_) => String::new(),
        };
        if landed == want {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "parquet: {landed}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    shutdown.trigger();
    sink.await.expect("join");
    session(dir).await.expect("session")
}

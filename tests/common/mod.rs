//! Shared by the integration tests: the real services, unique names, polling.

#![allow(dead_code)] // each test binary uses a different part of this module

pub mod browser;
pub mod cleanup;
pub mod http;
pub mod process;
pub mod registry;
pub mod run;

pub use cleanup::Cleanup;

use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub mod scenario;

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

/// Produces `(key, value)` records to `topic` with an idempotent producer, in order, and waits
/// until the broker acknowledged every one.
pub async fn produce(bootstrap: &str, topic: &str, records: &[(String, Vec<u8>)]) {
    let records: Vec<_> = records
        .iter()
        .map(|(key, value)| (key.as_str(), value.as_slice(), None))
        .collect();
    send(bootstrap, topic, &records).await;
}

/// As [`produce`], each record with the given Kafka timestamp (epoch ms): two runs of the same
/// input then see the same receive times.
pub async fn produce_at(bootstrap: &str, topic: &str, records: &[(String, Vec<u8>, i64)]) {
    let records: Vec<_> = records
        .iter()
        .map(|(key, value, at)| (key.as_str(), value.as_slice(), Some(*at)))
        .collect();
    send(bootstrap, topic, &records).await;
}

async fn send(bootstrap: &str, topic: &str, records: &[(&str, &[u8], Option<i64>)]) {
    use rdkafka::producer::{FutureProducer, FutureRecord};
    let producer: FutureProducer = sxfleet_runtime::KafkaConfig::new(bootstrap)
        .producer(None, Duration::from_secs(30))
        .create()
        .expect("producer");
    for chunk in records.chunks(20_000) {
        let deliveries = chunk.iter().map(|(key, payload, at)| {
            let mut record = FutureRecord::to(topic)
                .key(key.as_bytes())
                .payload(*payload);
            if let Some(at) = at {
                record = record.timestamp(*at);
            }
            producer.send(record, Duration::from_secs(60))
        });
        for delivery in futures::future::join_all(deliveries).await {
            delivery.expect("record delivered");
        }
    }
}

/// Waits until consumer group `group` has committed `target` records of `topic` in all (the
/// sum over its partitions), or the topic's high watermarks when `target` is `None`; returns
/// the committed count. Fails the test after `limit`.
pub async fn wait_committed(
    bootstrap: &str,
    group: &str,
    topic: &str,
    partitions: i32,
    target: Option<i64>,
    limit: Duration,
) -> i64 {
    let (bootstrap, group, topic) = (bootstrap.to_owned(), group.to_owned(), topic.to_owned());
    tokio::task::spawn_blocking(move || {
        let progress = kafka::GroupProgress::new(&bootstrap, &group, &topic, partitions);
        let deadline = Instant::now() + limit;
        loop {
            let (done, high) = progress.get();
            if done >= target.unwrap_or(high) {
                return done;
            }
            assert!(
                Instant::now() < deadline,
                "{group} committed {done} of {} records of {topic} in {limit:?}",
                target.unwrap_or(high)
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    })
    .await
    .expect("progress thread")
}

/// Every committed record of the events and the DLQ topic of `topics` (see
/// [`kafka::read_committed`]), read on a blocking thread.
pub async fn read_events_and_dlq(
    bootstrap: &str,
    topics: &sxfleet_runtime::Topics,
    partitions: i32,
) -> (Vec<kafka::Record>, Vec<kafka::Record>) {
    let kafka = bootstrap.to_owned();
    let (events, dlq) = (topics.events.clone(), topics.dlq.clone());
    tokio::task::spawn_blocking(move || {
        (
            kafka::read_committed(&kafka, &events, partitions),
            kafka::read_committed(&kafka, &dlq, partitions),
        )
    })
    .await
    .expect("reader thread")
}

/// splitmix64: a tiny seeded generator, so a failing run can be replayed from its seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A delay between `low` and `high` milliseconds.
    pub fn delay(&mut self, low: u64, high: u64) -> Duration {
        Duration::from_millis(low + self.next() % (high - low + 1))
    }
}

/// The seed of a kill test: `CRASH_SEED` if set, else the clock; printed so a run can be
/// replayed.
pub fn crash_seed() -> u64 {
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
            now.map_or(1, |d| d.as_nanos() as u64)
        });
    println!("CRASH_SEED={seed}");
    seed
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

/// Kafka helpers shared by the tests that read topics and consumer groups directly.
pub mod kafka {
    use std::time::{Duration, Instant};

    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

    fn client(bootstrap: &str) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", bootstrap);
        config
    }

    /// High watermark of each of `partitions` partitions of `topic`. A partition whose leader
    /// is still being elected (a topic just created answers `NotLeaderForPartition` for a
    /// moment) is asked again for up to 30 s.
    pub fn high_watermarks(bootstrap: &str, topic: &str, partitions: i32) -> Vec<i64> {
        let consumer: BaseConsumer = client(bootstrap).create().unwrap();
        (0..partitions)
            .map(|p| {
                let deadline = Instant::now() + Duration::from_secs(30);
                loop {
                    match consumer.fetch_watermarks(topic, p, Duration::from_secs(10)) {
                        Ok((_, high)) => break high,
                        Err(e) if Instant::now() < deadline => {
                            eprintln!("watermarks of {topic}/{p}: {e}; asking again");
                            std::thread::sleep(Duration::from_millis(200));
                        }
                        Err(e) => panic!("watermarks of {topic}/{p}: {e}"),
                    }
                }
            })
            .collect()
    }

    /// Watches how far consumer group `group` has got on `topic`, with one client for the
    /// whole test (a client per poll loads a busy 2-core machine enough to time out).
    pub struct GroupProgress {
        consumer: BaseConsumer,
        topic: String,
        partitions: i32,
    }

    impl GroupProgress {
        /// A watcher of `group` on the `partitions` partitions of `topic`.
        pub fn new(bootstrap: &str, group: &str, topic: &str, partitions: i32) -> Self {
            let mut config = client(bootstrap);
            config
                .set("group.id", group)
                .set("enable.auto.commit", "false")
                .set("isolation.level", "read_committed");
            Self {
                consumer: config.create().unwrap(),
                topic: topic.to_owned(),
                partitions,
            }
        }

        /// (records the group has committed, records in the topic), summed over partitions.
        /// A broker that does not answer in time is asked again, for up to a minute.
        pub fn get(&self) -> (i64, i64) {
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                match self.try_get() {
                    Ok(progress) => return progress,
                    Err(error) if Instant::now() < deadline => {
                        eprintln!("progress of {}: {error}; asking again", self.topic);
                        std::thread::sleep(Duration::from_millis(200));
                    }
                    Err(error) => panic!("progress of {}: {error}", self.topic),
                }
            }
        }

        fn try_get(&self) -> Result<(i64, i64), rdkafka::error::KafkaError> {
            let timeout = Duration::from_secs(10);
            let mut list = TopicPartitionList::new();
            let mut total = 0;
            for p in 0..self.partitions {
                list.add_partition(&self.topic, p);
                total += self.consumer.fetch_watermarks(&self.topic, p, timeout)?.1;
            }
            let offsets = self.consumer.committed_offsets(list, timeout)?;
            let done = (0..self.partitions)
                .map(|p| {
                    offsets
                        .find_partition(&self.topic, p)
                        .and_then(|e| e.offset().to_raw())
                        .unwrap_or(0)
                        .max(0)
                })
                .sum();
            Ok((done, total))
        }
    }

    /// One committed record: partition, offset, key, value.
    pub type Record = (i32, i64, Vec<u8>, Option<Vec<u8>>);

    /// Every committed record of `topic` from the beginning to the current high watermark of
    /// each partition, in partition order. Transaction markers and aborted records advance the
    /// position without yielding a message, so the end is known from `position()`.
    pub fn read_committed(bootstrap: &str, topic: &str, partitions: i32) -> Vec<Record> {
        let highs = high_watermarks(bootstrap, topic, partitions);
        let mut config = client(bootstrap);
        config
            .set("group.id", "sxfleet-test-reader")
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "false")
            .set("isolation.level", "read_committed");
        let consumer: BaseConsumer = config.create().unwrap();
        let mut list = TopicPartitionList::new();
        for p in 0..partitions {
            list.add_partition_offset(topic, p, Offset::Beginning)
                .unwrap();
        }
        consumer.assign(&list).unwrap();
        let mut records = Vec::new();
        let mut positions = vec![0i64; partitions as usize];
        let deadline = Instant::now() + Duration::from_secs(120);
        while positions.iter().zip(&highs).any(|(pos, high)| pos < high) {
            assert!(
                Instant::now() < deadline,
                "reading {topic}: stuck at {positions:?} of {highs:?}"
            );
            match consumer.poll(Duration::from_millis(100)) {
                Some(Ok(m)) => {
                    let p = m.partition();
                    positions[p as usize] = positions[p as usize].max(m.offset() + 1);
                    if m.offset() < highs[p as usize] {
                        records.push((
                            p,
                            m.offset(),
                            m.key().unwrap_or_default().to_vec(),
                            m.payload().map(<[u8]>::to_vec),
                        ));
                    }
                }
                Some(Err(error)) => panic!("reading {topic}: {error}"),
                None => {
                    let now = consumer.position().unwrap();
                    for p in 0..partitions {
                        if let Some(next) = now
                            .find_partition(topic, p)
                            .and_then(|e| e.offset().to_raw())
                        {
                            positions[p as usize] = positions[p as usize].max(next);
                        }
                    }
                }
            }
        }
        records.sort_by_key(|r| (r.0, r.1));
        records
    }
}

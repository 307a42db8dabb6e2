//! Effectively-once under `kill -9` (issue 6): the real `sxfleet sink` binary lands 200,000
//! records (events, twins, ledger entries, dead letters on 4 partitions each) in ClickHouse
//! while it is killed with SIGKILL at random moments and restarted, 12 times. Afterwards each
//! table must hold exactly the rows built from the source topics by the pure router: the
//! same count and the same content checksum as a reference database filled from the topics
//! in one go, and no two rows from the same record (the Replacing tables, `node_state` and
//! `transitions`, compared under `FINAL`, as they are queried).
//!
//! Kill moments come from a seeded RNG; the seed is printed and `CRASH_SEED=<n>` replays it.

mod common;

use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Rng;
use sxfleet::pipeline::{self, PipelineConfig};
use sxfleet_runtime::KafkaConfig;
use sxfleet_schemas::encode;
use sxfleet_sinks::backend::clickhouse::insert::insert_rows;
use sxfleet_sinks::batch::Batch;
use sxfleet_sinks::driver::route::{route, Record, Routed};
use sxfleet_sinks::samples;
use sxfleet_sinks::tables::ddl::table;
use sxfleet_sinks::tables::{dlq::Dlq, events::Events, node_state::NodeState};
use sxfleet_sinks::tables::{transitions::Transitions, Coords, TopicRole};
use sxfleet_sinks::{migrate, ClickHouse, ClickHouseConfig};

const PARTITIONS: i32 = 4;
const NODES: i64 = 1_500;
/// Per node: 100 events, 20 twin versions, 10 ledger entries; plus 5,000 dead letters.
const EVENTS: i64 = 100;
const TWINS: i64 = 20;
const ENTRIES: i64 = 10;
const DEAD_LETTERS: i64 = 5_000;
const TOTAL: u64 = (NODES * (EVENTS + TWINS + ENTRIES) + DEAD_LETTERS) as u64;
/// Rows of the tables that never merge rows away (`events`, `dlq`).
const MERGE_TREE_ROWS: u64 = (NODES * EVENTS + DEAD_LETTERS) as u64;
const KILLS: usize = 12;
const BATCH_ROWS: usize = 2_000;

const TABLES: [(&str, TopicRole); 4] = [
    (table::EVENTS, TopicRole::Events),
    (table::NODE_STATE, TopicRole::Twin),
    (table::TRANSITIONS, TopicRole::Transitions),
    (table::DLQ, TopicRole::DeadLetters),
];

fn node_id(n: i64) -> String {
    format!("sx-sink-{n:04}")
}

/// Three domains, so the per-domain rollup has groups to keep apart.
fn domain_id(n: i64) -> String {
    format!("domain-{}", n % 3)
}

/// Records to produce: (key, encoded value).
type Records = Vec<(String, Vec<u8>)>;

/// The load, per topic role, round by round over the nodes.
fn load() -> Vec<(TopicRole, Records)> {
    let mut events = Vec::new();
    let mut twins = Vec::new();
    let mut entries = Vec::new();
    for round in 1..=EVENTS {
        for n in 0..NODES {
            let id = node_id(n);
            let mut event = samples::heartbeat_event(&id, round);
            event.received_ms += n;
            events.push((id.clone(), encode(&event).unwrap()));
            if round <= TWINS {
                let mut twin = samples::node(&id, round);
                twin.updated_ms += round * 1_000 + n;
                twins.push((id.clone(), encode(&twin).unwrap()));
            }
            if round <= ENTRIES {
                let mut entry = if round % 3 == 0 {
                    samples::lifecycle_violation(&id, round)
                } else {
                    samples::connectivity_transition(&id, round)
                };
                entry.domain_id = domain_id(n);
                entries.push((id, encode(&entry).unwrap()));
            }
        }
    }
    let dead = (0..DEAD_LETTERS)
        .map(|i| {
            let mut dead = samples::dead_letter();
            dead.source_offset = Some(i);
            dead.node_id = Some(node_id(i % NODES));
            (node_id(i % NODES), encode(&dead).unwrap())
        })
        .collect();
    vec![
        (TopicRole::Events, events),
        (TopicRole::Twin, twins),
        (TopicRole::Transitions, entries),
        (TopicRole::DeadLetters, dead),
    ]
}

fn topic(config: &PipelineConfig, role: TopicRole) -> &str {
    role.topic(&config.topics)
}

/// One `sxfleet sink` subprocess; killed (SIGKILL) when dropped.
struct Sink {
    child: Child,
    log: PathBuf,
}

impl Sink {
    fn start(config: &PipelineConfig, ch: &ClickHouseConfig, run: usize) -> Self {
        let log = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("{}sink-{run}.log", config.topics.prefix()));
        let child = Command::new(env!("CARGO_BIN_EXE_sxfleet"))
            .args(["--kafka", &config.kafka.bootstrap])
            .args(["--topic-prefix", config.topics.prefix()])
            .args(["--partitions", &PARTITIONS.to_string()])
            .args(["--clickhouse", &ch.url, "--database", &ch.database])
            .args(["sink", "--batch-rows", &BATCH_ROWS.to_string()])
            .env("RUST_LOG", "warn,sxfleet_sinks=info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Self { child, log }
    }

    fn assert_alive(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            panic!("sxfleet sink exited with {status}; log:\n{log}");
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Rows in the sink's plain MergeTree tables (0 before the migrations ran): the progress
/// measure, since merges shrink the Replacing tables.
async fn landed(ch: &ClickHouse) -> u64 {
    let mut total = 0;
    for name in [table::EVENTS, table::DLQ] {
        let sql = format!("SELECT count() FROM {}", name);
        total += ch
            .client()
            .query(&sql)
            .fetch_one::<u64>()
            .await
            .unwrap_or(0);
    }
    total
}

/// Waits until more than `above` rows landed; `sink` must stay alive meanwhile.
async fn wait_landed(ch: &ClickHouse, sink: &mut Sink, above: u64, limit: Duration) -> u64 {
    let deadline = Instant::now() + limit;
    loop {
        let now = landed(ch).await;
        if now > above {
            return now;
        }
        sink.assert_alive();
        assert!(
            Instant::now() < deadline,
            "stuck at {now} rows for {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// (count, checksum, distinct source records) of a table: the checksum sums a hash of each
/// whole row. Replacing tables are read with `FINAL` (a merge may already have replaced rows
/// in one database and not yet in the other).
async fn fingerprint(ch: &ClickHouse, name: &str) -> (u64, u64, u64) {
    let replacing = [table::NODE_STATE, table::TRANSITIONS].contains(&name);
    let sql = format!(
        "SELECT count(), sum(cityHash64(toString(tuple(*)))), uniqExact({}) FROM {name}{}",
        match name {
            table::DLQ => "dlq_topic, dlq_partition, dlq_offset",
            _ => "topic, partition, offset",
        },
        if replacing { " FINAL" } else { "" }
    );
    ch.client().query(&sql).fetch_one().await.unwrap()
}

/// Per domain: (ledger entries, entered DELAYED, lifecycle violations) from `domain_minute`.
async fn rollup(ch: &ClickHouse) -> Vec<(String, u64, u64, u64)> {
    let sql = format!(
        "SELECT domain_id, sum(transitions), sum(entered_delayed), sum(lifecycle_violations) \
         FROM {} GROUP BY domain_id ORDER BY domain_id",
        table::DOMAIN_MINUTE
    );
    ch.client().query(&sql).fetch_all().await.unwrap()
}

/// What [`rollup`] must say about the load: per node `ENTRIES` entries, every third a
/// violation and the others a change to DELAYED.
fn rollup_of_the_load() -> Vec<(String, u64, u64, u64)> {
    let mut per_domain = std::collections::BTreeMap::<String, (u64, u64, u64)>::new();
    for n in 0..NODES {
        let counts = per_domain.entry(domain_id(n)).or_default();
        for round in 1..=ENTRIES {
            counts.0 += 1;
            if round % 3 == 0 {
                counts.2 += 1;
            } else {
                counts.1 += 1;
            }
        }
    }
    per_domain
        .into_iter()
        .map(|(domain, (all, delayed, violations))| (domain, all, delayed, violations))
        .collect()
}

/// Fills the reference database with the rows the router builds from the source topics.
async fn reference(config: &PipelineConfig, ch: &ClickHouse) {
    migrate(ch).await.unwrap();
    for (_, role) in TABLES {
        let name = topic(config, role).to_owned();
        let records = common::kafka::read_committed(&config.kafka.bootstrap, &name, PARTITIONS);
        let mut batch = Batch::new();
        for (partition, offset, key, value) in &records {
            let record = Record {
                coords: Coords {
                    topic: &name,
                    partition: *partition,
                    offset: *offset,
                },
                key: Some(key),
                payload: value.as_deref(),
                timestamp_ms: None,
                tick_ms: None,
            };
            let Routed::Row(row) = route(role, &record) else {
                panic!("{name} {partition}@{offset} is not a row");
            };
            batch.push(&name, *partition, *offset, Some(row), 0);
        }
        let client = ch.client();
        for chunk in batch.table::<Events>().chunks(20_000) {
            insert_rows(&client, table::EVENTS, chunk, None)
                .await
                .unwrap();
        }
        for chunk in batch.table::<NodeState>().chunks(20_000) {
            insert_rows(&client, table::NODE_STATE, chunk, None)
                .await
                .unwrap();
        }
        for chunk in batch.table::<Transitions>().chunks(20_000) {
            insert_rows(&client, table::TRANSITIONS, chunk, None)
                .await
                .unwrap();
        }
        for chunk in batch.table::<Dlq>().chunks(20_000) {
            insert_rows(&client, table::DLQ, chunk, None).await.unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sink_survives_kill_9_without_loss_or_duplicates() {
    let services = common::services();
    let mut rng = Rng(common::crash_seed());

    let prefix = format!("{}.", common::unique("sinkcrash"));
    let mut config = PipelineConfig::new(KafkaConfig::new(&services.kafka), &prefix);
    config.partitions = PARTITIONS;
    pipeline::create_topics(&config).await.unwrap();
    for (role, records) in load() {
        common::produce(&services.kafka, topic(&config, role), &records).await;
    }
    let db = ClickHouseConfig::new(&services.clickhouse, common::unique("sinkcrash"));
    let reference_db = ClickHouseConfig::new(&services.clickhouse, format!("{}_ref", db.database));
    let _cleanup = common::Cleanup::new(&services.kafka, &prefix)
        .database(&services.clickhouse, &db.database)
        .database(&services.clickhouse, &reference_db.database);
    let ch = ClickHouse::connect(&db).await.unwrap();

    // Kill -9 after the run landed something new, at a random moment up to 0.7 s later.
    let started = Instant::now();
    let mut seen = 0;
    let mut during_load = 0;
    for run in 0..KILLS {
        let mut sink = Sink::start(&config, &db, run);
        wait_landed(&ch, &mut sink, seen, Duration::from_secs(90)).await;
        tokio::time::sleep(rng.delay(0, 700)).await;
        sink.kill();
        seen = landed(&ch).await;
        if seen < MERGE_TREE_ROWS {
            during_load += 1;
        }
        println!("kill {}: {seen} rows landed", run + 1);
    }
    assert!(
        during_load >= 10,
        "only {during_load} kills before the load landed"
    );
    let mut sink = Sink::start(&config, &db, KILLS);
    for (_, role) in TABLES {
        let name = topic(&config, role);
        let group = config.app_id("sink");
        let limit = Duration::from_secs(180);
        common::wait_committed(&services.kafka, &group, name, PARTITIONS, None, limit).await;
        sink.assert_alive();
    }
    // Let a duplicate, if any, arrive before counting.
    tokio::time::sleep(Duration::from_secs(2)).await;
    sink.kill();
    println!(
        "landed {TOTAL} rows in {:?} with {KILLS} kills",
        started.elapsed()
    );

    let reference_ch = ClickHouse::connect(&reference_db).await.unwrap();
    reference(&config, &reference_ch).await;
    let want = [
        (table::EVENTS, NODES * EVENTS),
        (table::NODE_STATE, NODES),
        (table::TRANSITIONS, NODES * ENTRIES),
        (table::DLQ, DEAD_LETTERS),
    ];
    for (name, rows) in want {
        let got = fingerprint(&ch, name).await;
        let expected = fingerprint(&reference_ch, name).await;
        println!("{name}: sink {got:?}, from the topics {expected:?}");
        assert_eq!(expected.0, rows as u64, "{name}: reference rows");
        assert_eq!(got, expected, "{name}: (count, checksum, distinct records)");
        assert_eq!(got.0, got.2, "{name}: a record landed twice");
    }
    // The rollup fed by materialized views saw every ledger row exactly once too.
    let rollup = rollup(&ch).await;
    assert_eq!(rollup, rollup_of_the_load(), "domain_minute");
    assert_eq!(rollup, self::rollup(&reference_ch).await);
}

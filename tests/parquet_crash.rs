//! Effectively-once of the Parquet backend under `kill -9`, on the real broker: the sink runs as
//! the real `sxfleet sink --backend parquet` binary and is killed with SIGKILL 0-2 ms after the
//! first new file appears (mostly before the batch's offsets are committed), restarted each time over
//! the same data directory and consumer group. Afterwards the files must hold every input event
//! exactly once: as many rows as events, one per Kafka offset, and the same content checksum.
//!
//! Kill moments come from a seeded RNG; the seed is printed and `CRASH_SEED=<n>` replays it.

mod common;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::kafka::GroupProgress;
use sxfleet::pipeline::{self, PipelineConfig};
use sxfleet_runtime::KafkaConfig;
use sxfleet_schemas::{encode, EventPayload, FleetEvent, Health, Heartbeat, Source};
use sxfleet_sinks::query;

const NODES: i64 = 500;
const CHUNKS: i64 = 6;
const SEQS_PER_CHUNK: i64 = 10;
const PARTITIONS: i32 = 4;

fn heartbeat(n: i64, seq: i64) -> (String, Vec<u8>) {
    let node_id = format!("sx-pq-{n:04}");
    let t = 1_767_225_600_000 + seq * 60_000 + n;
    let event = FleetEvent {
        event_id: FleetEvent::derived_event_id(&node_id, seq),
        node_id: node_id.clone(),
        seq,
        event_time_ms: t,
        received_ms: t + 5,
        source: Source::KafkaRaw,
        replayed: false,
        payload: EventPayload::Heartbeat(Heartbeat {
            rtt_ms: Some((n * 7 + seq) as f64),
            loss_pct: None,
            bandwidth_kbps: None,
            backlog_messages: None,
            health: Health::Ok,
            uptime_s: Some(seq * 60),
            via: None,
            battery_pct: None,
        }),
    };
    (node_id, encode(&event).unwrap())
}

/// Chunk `c`: every node's heartbeats `c * SEQS_PER_CHUNK + 1 ..= (c + 1) * SEQS_PER_CHUNK`.
fn chunk(c: i64) -> Vec<(String, Vec<u8>)> {
    let seqs = c * SEQS_PER_CHUNK + 1..=(c + 1) * SEQS_PER_CHUNK;
    seqs.flat_map(|seq| (0..NODES).map(move |n| heartbeat(n, seq)))
        .collect()
}

/// One `sxfleet sink --backend parquet` subprocess; killed (SIGKILL) when dropped.
struct SinkProcess {
    child: Child,
}

impl SinkProcess {
    fn start(config: &PipelineConfig, data: &Path, run: usize) -> Self {
        let log = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("{}parquet-sink-{run}.log", config.topics.prefix()));
        let child = Command::new(env!("CARGO_BIN_EXE_sxfleet"))
            .args(["--kafka", &config.kafka.bootstrap])
            .args(["--topic-prefix", config.topics.prefix()])
            .args(["--partitions", &PARTITIONS.to_string()])
            .arg("--data-dir")
            .arg(data)
            .args(["sink", "--backend", "parquet"])
            .env("RUST_LOG", "warn,sxfleet_sinks=info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(log).unwrap())
            .spawn()
            .unwrap();
        Self { child }
    }

    fn assert_alive(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!("sxfleet sink exited with {status}");
        }
    }
}

impl Drop for SinkProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn event_files(data: &Path) -> usize {
    std::fs::read_dir(data.join("events")).map_or(0, |dir| {
        dir.filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".parquet"))
            .count()
    })
}

/// splitmix64, seeded, so a failing run can be replayed.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

async fn answer(data: &Path, sql: &str) -> u64 {
    let ctx = query::session(data).await.unwrap();
    let batches = query::run(&ctx, sql).await.unwrap();
    query::labelled_counts(&batches, false).unwrap()[0].1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parquet_sink_lands_every_event_once_under_repeated_kill_9() {
    let services = common::services();
    let prefix = format!("{}.", common::unique("pqcrash"));
    let _cleanup = common::Cleanup::new(&services.kafka, &prefix);
    let config = PipelineConfig::new(KafkaConfig::new(&services.kafka), &prefix);
    pipeline::create_topics(&config).await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut seed: u64 = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    println!("CRASH_SEED={seed}");

    // One chunk of input per run; each run is killed soon after it lands new files.
    let mut kills = 0;
    for c in 0..CHUNKS {
        common::produce(&services.kafka, &config.topics.events, &chunk(c)).await;
        let before = event_files(data.path());
        let mut sink = SinkProcess::start(&config, data.path(), c as usize);
        let deadline = Instant::now() + Duration::from_secs(120);
        while event_files(data.path()) == before {
            sink.assert_alive();
            assert!(Instant::now() < deadline, "run {c} landed no file");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // 0-2 ms: usually while the batch's other files are renamed or its offsets committed.
        tokio::time::sleep(Duration::from_millis(next(&mut seed) % 3)).await;
        drop(sink);
        kills += 1;
    }
    assert_eq!(kills, CHUNKS);

    // A last run drains what is left and commits the end of every partition.
    let total = NODES * CHUNKS * SEQS_PER_CHUNK;
    let mut sink = SinkProcess::start(&config, data.path(), CHUNKS as usize);
    let group = config.app_id("sink");
    let (bootstrap, topic) = (services.kafka.clone(), config.topics.events.clone());
    let progress = tokio::task::spawn_blocking(move || {
        GroupProgress::new(&bootstrap, &group, &topic, PARTITIONS)
    });
    let progress = progress.await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let (done, high) = progress.get();
        assert_eq!(high, total);
        if done == high {
            break;
        }
        sink.assert_alive();
        assert!(Instant::now() < deadline, "committed {done} of {high}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(sink);

    let rows = answer(data.path(), "SELECT count(*) FROM events").await;
    let offsets = answer(
        data.path(),
        "SELECT count(*) FROM (SELECT DISTINCT \"partition\", \"offset\" FROM events)",
    )
    .await;
    let ids = answer(data.path(), "SELECT count(DISTINCT event_id) FROM events").await;
    let seq_sum = answer(data.path(), "SELECT sum(seq) FROM events").await;
    let per_node: i64 = (1..=CHUNKS * SEQS_PER_CHUNK).sum();
    assert_eq!(rows, total as u64, "rows");
    assert_eq!(offsets, total as u64, "distinct offsets");
    assert_eq!(ids, total as u64, "distinct event ids");
    assert_eq!(seq_sum, (per_node * NODES) as u64, "checksum");
}

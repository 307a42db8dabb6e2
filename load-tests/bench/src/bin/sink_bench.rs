//! Sink throughput per CPU-second, next to ClickHouse's own ways of loading the same rows.
//!
//! ```text
//! cargo run --release -p sxfleet-bench --bin sink_bench -- [--rows N] [--kafka ADDR] [--broker-pid PID]
//! ```
//! One run starts a private ClickHouse server (`dev/services clickhouse-private`), so its CPU
//! time is this benchmark's alone, and loads the same N `events` rows three ways into it:
//! 1. `sxfleet sink`: N canonical events (Avro) on a fresh 4-partition topic, landed by
//!    `run_sink` (in this process) until the table holds N rows;
//! 2. `clickhouse-client`: the rows the sink landed, exported as a Native file, bulk-inserted
//!    with `INSERT ... FORMAT Native` from that file;
//! 3. the Kafka table engine: the same rows as TabSeparated messages (one per row) on another
//!    topic, consumed by a `Kafka` table and a materialized view into a copy of `events`
//!    (18.16's Kafka engine reads no Avro, hence the text format).
//!
//! CPU seconds are read from `/proc`: this process (the sink), the finished client child, and the
//! server; the broker's with `--broker-pid`. The figure is rows per CPU-second of loader + server,
//! and its ratio to `clickhouse-client`'s. Nothing here asserts a timing.

use std::fmt::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Parser;
use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use sxfleet_bench::{children_cpu, pid_cpu, process_cpu};
use sxfleet_private_clickhouse::PrivateClickHouse;
use sxfleet_runtime::topics::{ensure_topics, TopicSpec};
use sxfleet_runtime::{KafkaConfig, Shutdown, Topics};
use sxfleet_schemas::{encode, EventPayload, FleetEvent, Health, Heartbeat, Source};
use sxfleet_sinks::{run_sink, ClickHouse, ClickHouseConfig, SinkConfig};

/// The most one loader may take before the run gives up.
const LIMIT: Duration = Duration::from_secs(300);
const DATABASE: &str = "bench";

/// Sink benchmark against a private ClickHouse and the real Kafka broker.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Rows to load each way.
    #[arg(long, default_value_t = 200_000)]
    rows: u64,
    /// Kafka bootstrap servers.
    #[arg(long, env = "SXFLEET_KAFKA", default_value = "127.0.0.1:9092")]
    kafka: String,
    /// Node ids the events are spread over.
    #[arg(long, default_value_t = 1_000)]
    nodes: u64,
    /// Partitions of the topics the run creates.
    #[arg(long, default_value_t = 4)]
    partitions: i32,
    /// Pid of the broker (see `dev/services status`): also report its CPU seconds.
    #[arg(long)]
    broker_pid: Option<u32>,
}

/// One loader's figures.
struct Row {
    name: &'static str,
    wall: Duration,
    loader_cpu: Duration,
    server_cpu: Duration,
    broker_cpu: Option<Duration>,
}

impl Row {
    fn per_cpu_s(&self, rows: u64) -> f64 {
        rows as f64 / (self.loader_cpu + self.server_cpu).as_secs_f64().max(0.001)
    }
}

/// CPU seconds so far of (this process, its finished children, the server, the broker).
struct Clocks {
    server: u32,
    broker: Option<u32>,
}

impl Clocks {
    fn read(&self) -> anyhow::Result<[Duration; 4]> {
        let broker = self.broker.map(pid_cpu).transpose()?.unwrap_or_default();
        Ok([
            process_cpu()?,
            children_cpu()?,
            pid_cpu(self.server)?,
            broker,
        ])
    }

    fn row(
        &self,
        name: &'static str,
        started: (Instant, [Duration; 4]),
        own: bool,
    ) -> anyhow::Result<Row> {
        let now = self.read()?;
        let used = |i: usize| now[i].saturating_sub(started.1[i]);
        Ok(Row {
            name,
            wall: started.0.elapsed(),
            loader_cpu: if own { used(0) } else { used(1) },
            server_cpu: used(2),
            broker_cpu: self.broker.map(|_| used(3)),
        })
    }
}

fn event(n: u64, nodes: u64) -> FleetEvent {
    let node_id = format!("bench-{:05}", n % nodes);
    let seq = (n / nodes + 1) as i64;
    let t = 1_767_225_600_000 + seq * 30_000 + (n % nodes) as i64;
    let k = n as i64;
    FleetEvent {
        event_id: FleetEvent::derived_event_id(&node_id, seq),
        node_id,
        seq,
        event_time_ms: t,
        received_ms: t + 40,
        source: Source::KafkaRaw,
        replayed: false,
        payload: EventPayload::Heartbeat(Heartbeat {
            rtt_ms: Some((k % 900) as f64 + 0.5),
            loss_pct: Some((k % 7) as f64 / 2.0),
            bandwidth_kbps: Some(1_000 + k % 9_000),
            backlog_messages: Some(k % 11),
            health: if k % 5 == 0 {
                Health::Degraded
            } else {
                Health::Ok
            },
            uptime_s: Some(seq * 30),
            via: None,
            battery_pct: None,
        }),
    }
}

async fn produce(
    producer: &FutureProducer,
    topic: &str,
    records: &[(String, Vec<u8>)],
) -> anyhow::Result<()> {
    for chunk in records.chunks(20_000) {
        let sends = chunk.iter().map(|(key, value)| {
            producer.send(
                FutureRecord::to(topic).key(key).payload(value),
                Duration::from_secs(60),
            )
        });
        for delivery in futures::future::join_all(sends).await {
            delivery.map_err(|(err, _)| err).context("produce")?;
        }
    }
    Ok(())
}

async fn count(ch: &ClickHouse, table: &str) -> u64 {
    let sql = format!("SELECT count() FROM {table}");
    ch.client()
        .query(&sql)
        .fetch_one::<u64>()
        .await
        .unwrap_or(0)
}

async fn wait_rows(ch: &ClickHouse, table: &str, rows: u64) -> anyhow::Result<()> {
    let deadline = Instant::now() + LIMIT;
    while count(ch, table).await < rows {
        if Instant::now() > deadline {
            bail!("{table} did not reach {rows} rows in {LIMIT:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

async fn sql(ch: &ClickHouse, statement: &str) -> anyhow::Result<()> {
    ch.server_client()
        .query(statement)
        .execute()
        .await
        .with_context(|| statement.to_owned())
}

async fn export(ch: &ClickHouse, format: &str) -> anyhow::Result<Vec<u8>> {
    let query = format!("SELECT * FROM {DATABASE}.events ORDER BY partition, offset");
    let mut cursor = ch.server_client().query(&query).fetch_bytes(format)?;
    Ok(cursor.collect().await?.to_vec())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    sxfleet_bench::init_tracing();
    let args = Args::parse();
    let run = uuid::Uuid::new_v4().simple().to_string();
    let dir = std::env::temp_dir().join(format!("sink-bench-{run}"));
    let server = PrivateClickHouse::start(&dir)?;
    let clocks = Clocks {
        server: server.pid()?,
        broker: args.broker_pid,
    };
    let kafka = KafkaConfig::new(&args.kafka);
    let topics = Topics::with_prefix(&format!("bench-{run}."));
    let tsv_topic = format!("bench-{run}.events.tsv");
    let mut specs: Vec<TopicSpec> = [
        &topics.events,
        &topics.twin,
        &topics.dlq,
        &topics.transitions,
        &tsv_topic,
    ]
    .into_iter()
    .map(|name| TopicSpec::new(name, args.partitions))
    .collect();
    specs[1] = specs[1].clone().compacted();
    ensure_topics(&kafka, &specs).await?;
    let producer: FutureProducer = kafka.producer(None, Duration::from_secs(60)).create()?;
    let records: Vec<(String, Vec<u8>)> = (0..args.rows)
        .map(|n| {
            let event = event(n, args.nodes);
            Ok((event.node_id.clone(), encode(&event)?))
        })
        .collect::<anyhow::Result<_>>()?;
    produce(&producer, &topics.events, &records).await?;
    eprintln!("produced {} events", records.len());

    // 1. The sink.
    let mut config = SinkConfig {
        clickhouse: ClickHouseConfig::new(server.url(), DATABASE),
        kafka: kafka.clone(),
        topic_prefix: topics.prefix().to_owned(),
        group_id: format!("bench-{run}-sink"),
        ..SinkConfig::default()
    };
    config.batch.linger = Duration::from_millis(200);
    let ch = ClickHouse::connect(&config.clickhouse).await?;
    let started = (Instant::now(), clocks.read()?);
    let shutdown = Shutdown::new();
    let sink = {
        let (config, shutdown) = (config.clone(), shutdown.clone());
        tokio::spawn(async move { run_sink(&config, &shutdown).await })
    };
    wait_rows(&ch, &format!("{DATABASE}.events"), args.rows).await?;
    let sink_row = clocks.row("sxfleet sink", started, true)?;
    shutdown.trigger();
    let stats = sink.await??;
    eprintln!("sink: {stats:?}");

    // 2. clickhouse-client from a Native file.
    let file = dir.join("events.native");
    std::fs::write(&file, export(&ch, "Native").await?)?;
    sql(
        &ch,
        &format!("CREATE TABLE {DATABASE}.events_client AS {DATABASE}.events"),
    )
    .await?;
    let started = (Instant::now(), clocks.read()?);
    let status = Command::new("clickhouse-client")
        .args(["--host", "127.0.0.1", "--port", &server.tcp.to_string()])
        .args([
            "--query",
            &format!("INSERT INTO {DATABASE}.events_client FORMAT Native"),
        ])
        .stdin(std::fs::File::open(&file)?)
        .stdout(Stdio::null())
        .status()
        .context("running clickhouse-client")?;
    if !status.success() {
        bail!("clickhouse-client: {status}");
    }
    let client_row = clocks.row("clickhouse-client", started, false)?;
    let landed = count(&ch, &format!("{DATABASE}.events_client")).await;
    if landed != args.rows {
        bail!(
            "clickhouse-client inserted {landed} rows, not {}",
            args.rows
        );
    }

    // 3. The Kafka table engine over the same rows as TabSeparated messages.
    let tsv = export(&ch, "TabSeparated").await?;
    let lines: Vec<(String, Vec<u8>)> = tsv
        .split_inclusive(|b| *b == b'\n')
        .map(|line| (String::new(), line.to_vec()))
        .collect();
    produce(&producer, &tsv_topic, &lines).await?;
    // The engine's consumer starts at the end of a partition without a committed offset:
    // commit the beginning for its group first.
    let engine_group = format!("bench-{run}-engine");
    let mut start = TopicPartitionList::new();
    for partition in 0..args.partitions {
        start.add_partition_offset(&tsv_topic, partition, Offset::Offset(0))?;
    }
    let committer: BaseConsumer = kafka.consumer(&engine_group).create()?;
    committer.commit(&start, CommitMode::Sync)?;
    drop(committer);
    sql(
        &ch,
        &format!("CREATE TABLE {DATABASE}.events_kafka AS {DATABASE}.events"),
    )
    .await?;
    sql(&ch, &format!(
        "CREATE TABLE {DATABASE}.events_queue AS {DATABASE}.events ENGINE = Kafka('{}', '{tsv_topic}', '{engine_group}', 'TabSeparated')",
        args.kafka
    ))
    .await?;
    let started = (Instant::now(), clocks.read()?);
    sql(&ch, &format!(
        "CREATE MATERIALIZED VIEW {DATABASE}.events_mv TO {DATABASE}.events_kafka AS SELECT * FROM {DATABASE}.events_queue"
    ))
    .await?;
    wait_rows(&ch, &format!("{DATABASE}.events_kafka"), args.rows).await?;
    let engine_row = clocks.row("kafka table engine", started, false)?;
    sql(&ch, &format!("DROP TABLE {DATABASE}.events_mv")).await?;
    let extra = count(&ch, &format!("{DATABASE}.events_kafka")).await;

    let rows = [sink_row, client_row, engine_row];
    let base = rows[1].per_cpu_s(args.rows);
    let mut text = String::new();
    let _ = writeln!(
        text,
        "sink_bench | {} build | {} rows of events | private ClickHouse 18.16 (pid {}) | kafka {}",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        args.rows,
        clocks.server,
        args.kafka
    );
    let _ = writeln!(
        text,
        "{:<19} {:>7} {:>9} {:>9} {:>9} {:>8} {:>11} {:>9}",
        "loader", "wall s", "rows/s", "load cpu", "srv cpu", "brk cpu", "rows/cpu-s", "x client"
    );
    for row in &rows {
        let broker = row
            .broker_cpu
            .map_or_else(|| "-".to_owned(), |d| format!("{:.2}", d.as_secs_f64()));
        let _ = writeln!(
            text,
            "{:<19} {:>7.2} {:>9.0} {:>9.2} {:>9.2} {:>8} {:>11.0} {:>9.3}",
            row.name,
            row.wall.as_secs_f64(),
            args.rows as f64 / row.wall.as_secs_f64(),
            row.loader_cpu.as_secs_f64(),
            row.server_cpu.as_secs_f64(),
            broker,
            row.per_cpu_s(args.rows),
            row.per_cpu_s(args.rows) / base
        );
    }
    let _ = writeln!(
        text,
        "kafka engine table holds {extra} rows (the engine delivers at least once)"
    );
    print!("{text}");
    drop(server);
    let admin: AdminClient<DefaultClientContext> = kafka.client().create()?;
    let names: Vec<&str> = specs.iter().map(|spec| spec.name.as_str()).collect();
    admin.delete_topics(&names, &AdminOptions::new()).await?;
    Ok(())
}

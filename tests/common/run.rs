//! One pipeline run on the real services: normalizer, processor and two sinks (ClickHouse and
//! Parquet, each with its own consumer group) over the same topics, and the answers of both
//! backends.

use std::path::Path;
use std::time::Duration;

use sxfleet::pipeline::{self, PipelineConfig};
use sxfleet_runtime::{KafkaConfig, Shutdown};
use sxfleet_sinks::cookbook::{self, Dialect, Params};
use sxfleet_sinks::{query, Backend, ClickHouse, ClickHouseConfig};
use tokio::task::JoinHandle;

/// How long a run may take to show an answer.
pub const LIMIT: Duration = Duration::from_secs(300);

/// One pipeline run: normalizer, processor and the two sinks, stopped by `stop`.
pub struct Run {
    pub config: PipelineConfig,
    pub ch: ClickHouse,
    pub data: tempfile::TempDir,
    stop: Shutdown,
    tasks: Vec<JoinHandle<()>>,
}

impl Run {
    /// Creates the topics (`partitions` each), produces `records` (key, JSON, event time, used
    /// as the Kafka timestamp) and starts every stage.
    pub async fn start(
        name: &str,
        partitions: i32,
        records: &[(String, Vec<u8>, i64)],
    ) -> (Self, super::Cleanup) {
        let services = super::services();
        let prefix = format!("{}.", super::unique(name));
        let mut config = PipelineConfig::new(KafkaConfig::new(&services.kafka), &prefix);
        config.partitions = partitions;
        pipeline::create_topics(&config).await.unwrap();
        let clickhouse = ClickHouseConfig::new(
            &services.clickhouse,
            super::unique(&format!("fleet_{name}")),
        );
        let cleanup = super::Cleanup::new(&services.kafka, &prefix)
            .database(&services.clickhouse, &clickhouse.database);
        super::produce_at(&services.kafka, &config.topics.raw, records).await;

        let data = tempfile::tempdir().unwrap();
        let stop = Shutdown::new();
        let mut tasks = Vec::new();
        {
            let (config, stop) = (config.clone(), stop.clone());
            tasks.push(tokio::spawn(async move {
                pipeline::run_normalizer(&config, config.normalizer.clone(), &stop)
                    .await
                    .unwrap();
            }));
        }
        {
            let (config, stop) = (config.clone(), stop.clone());
            tasks.push(tokio::spawn(async move {
                pipeline::run_twin(&config, &stop).await.unwrap();
            }));
        }
        let mut into_clickhouse = config.clone();
        into_clickhouse.app_prefix = format!("{prefix}ch-");
        let mut into_parquet = config.clone();
        into_parquet.app_prefix = format!("{prefix}pq-");
        into_parquet.sink_backend = Backend::Parquet {
            dir: data.path().to_owned(),
        };
        for sink in [into_clickhouse, into_parquet] {
            let (clickhouse, stop) = (clickhouse.clone(), stop.clone());
            tasks.push(tokio::spawn(async move {
                pipeline::run_sink(
                    &sink,
                    &clickhouse,
                    sxfleet_sinks::BatchConfig::default(),
                    &stop,
                )
                .await
                .unwrap();
            }));
        }
        let ch = connect(&clickhouse).await;
        let run = Self {
            config,
            ch,
            data,
            stop,
            tasks,
        };
        (run, cleanup)
    }

    /// Waits until both backends answer `sql` (ClickHouse text; DataFusion's twin `df`) with
    /// `want`.
    pub async fn both_answer(&self, what: &str, sql: &str, df: &str, want: &str) {
        super::eventually(LIMIT, &format!("{what} in ClickHouse"), || async {
            let got = clickhouse_tsv(&self.ch, sql).await?;
            if got == want {
                Ok(())
            } else {
                Err(got)
            }
        })
        .await;
        super::eventually(LIMIT, &format!("{what} in Parquet"), || async {
            let got = parquet_tsv(self.data.path(), df).await?;
            if got == want {
                Ok(())
            } else {
                Err(got)
            }
        })
        .await;
    }

    /// The cookbook query `name` bound to `params`, answered by both backends alike; returns
    /// the answer. The two sinks land on their own: a backend still behind the other gets up
    /// to [`LIMIT`] to catch up.
    pub async fn cookbook_answer(&self, name: &str, params: &Params<'_>) -> String {
        let ch = cookbook_query(name, Dialect::ClickHouse).bind(params);
        let df = cookbook_query(name, Dialect::DataFusion).bind(params);
        let what = format!("{name}: Parquet and ClickHouse alike");
        super::eventually(LIMIT, &what, || async {
            let answer = clickhouse_tsv(&self.ch, &ch).await?;
            let parquet = parquet_tsv(self.data.path(), &df).await?;
            if parquet == answer {
                Ok(answer)
            } else {
                Err(format!("Parquet:\n{parquet}ClickHouse:\n{answer}"))
            }
        })
        .await
    }

    /// The trigger that stops the run (for services a test adds to it).
    pub fn stopper(&self) -> Shutdown {
        self.stop.clone()
    }

    pub async fn stop(self) {
        self.stop.trigger();
        for task in self.tasks {
            task.await.unwrap();
        }
    }
}

pub async fn connect(config: &ClickHouseConfig) -> ClickHouse {
    super::eventually(LIMIT, "the sink's database", || async {
        let ch = ClickHouse::connect(config)
            .await
            .map_err(|e| e.to_string())?;
        ch.client()
            .query("SELECT count() FROM schema_migrations")
            .fetch_one::<u64>()
            .await
            .map_err(|e| e.to_string())?;
        Ok(ch)
    })
    .await
}

pub async fn clickhouse_tsv(ch: &ClickHouse, sql: &str) -> Result<String, String> {
    let mut cursor = ch
        .client()
        .query(sql)
        .fetch_bytes("TabSeparated")
        .map_err(|e| e.to_string())?;
    let bytes = cursor.collect().await.map_err(|e| format!("{sql}: {e}"))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

pub async fn parquet_tsv(dir: &Path, sql: &str) -> Result<String, String> {
    let ctx = query::session(dir).await.map_err(|e| e.to_string())?;
    let batches = query::run(&ctx, sql)
        .await
        .map_err(|e| format!("{sql}: {e:?}"))?;
    query::render(&batches, query::Format::TabSeparated).map_err(|e| e.to_string())
}

pub fn cookbook_query(name: &str, dialect: Dialect) -> cookbook::Query {
    cookbook::queries(cookbook::DOCUMENT, dialect)
        .into_iter()
        .find(|q| q.name == name)
        .unwrap_or_else(|| panic!("no cookbook query {name}"))
}

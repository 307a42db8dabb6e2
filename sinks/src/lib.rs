//! ClickHouse sink of the fleet pipeline, with an embedded Parquet + DataFusion backend.
//!
//! Lands canonical events, digital twins, dead letters, the connectivity/lifecycle ledger
//! (transitions), drift evaluations, alerts and authority decisions from Kafka in ClickHouse:
//! versioned DDL migrations applied at start-up, pure row building, and a driver that batches
//! rows per table, inserts each batch in one RowBinary `INSERT` per table and commits the Kafka
//! offsets only after every insert of the batch returned. Effectively-once: every row carries
//! its record's Kafka coordinates, and what landed past the last commit is read back from the
//! table and skipped (see `docs/contracts.md`).
//!
//! The DDL and queries run on Debian's ClickHouse 18.16 and on current releases; features
//! newer than 18.16 are gated on the [`ServerCaps`] detected at start-up.
//!
//! Without ClickHouse the same tables land as Parquet files ([`parquet`], effectively-once by
//! file names that carry their input offsets) and [`query`] answers SQL over them.
//!
//! Layout (from a Kafka record to a ClickHouse row):
//! - [`config`]: the sink's settings ([`SinkConfig`]).
//! - [`sink`]: the driver, [`run_sink`]: fill, revoke, flush, commit; `stats`: [`SinkStats`].
//!   Its output side (landing a batch, dead letters, landed offsets) is `sink/flush.rs`.
//! - `consumer`: the driver's rebalance context and synchronous offset commit.
//! - [`route`]: what one Kafka record becomes: a row, a dead letter, or nothing.
//! - [`rows`]: pure row building from decoded schema values and Kafka coordinates.
//! - [`batch`]: rows per table and offsets per partition of the batch being filled.
//! - [`landed`]: which records of a partition already landed ([`landed::Landing`] per role).
//! - [`land`]: landing one table's rows: retry outages, skip landed rows, bisect rejections.
//! - [`insert`]: one `INSERT` per table and batch, and the back-off retry loop.
//! - [`client`]: ClickHouse settings and a connection fitted to the server.
//! - [`caps`]: server version parsing and the feature flags derived from it.
//! - [`ddl`]: table definitions and the Enum8 value tables shared with the rows; the rollup
//!   views in both dialects; `domain_minute`, the rollup per domain and minute (materialized
//!   views in ClickHouse, a view over the same aggregates in DataFusion).
//! - [`dialect`]: ClickHouse vs DataFusion SQL, where the two differ.
//! - [`mod@migrate`]: the migration list and the idempotent migrator.
//! - [`summary`]: the fleet overview queries and their printed report.
//! - [`cookbook`]: the analyst queries of `docs/sql-cookbook.md` per dialect, read from the
//!   document.
//! - [`parquet`]: the embedded backend: Arrow conversion, Parquet files, landed offsets.
//! - [`query`]: DataFusion over the Parquet tables: SQL, the `*_final` views, the rollup views,
//!   the overview.
//! - [`error`]: error types, classed by who must act.

pub mod batch;
pub mod caps;
pub mod client;
pub mod config;
mod consumer;
pub mod cookbook;
pub mod ddl;
pub mod dialect;
pub mod error;
pub mod insert;
pub mod land;
pub mod landed;
pub mod migrate;
pub mod parquet;
pub mod query;
pub mod route;
pub mod rows;
pub mod sink;
mod stats;
pub mod summary;

pub use caps::ServerCaps;
pub use client::{ClickHouse, ClickHouseConfig};
pub use config::{Backend, BatchConfig, RetryConfig, SinkConfig};
pub use error::{ClickHouseError, ErrorClass, SinkError};
pub use migrate::{migrate, MigrationReport};
pub use sink::{run_sink, SinkStats};
pub use summary::{fleet_summary, summary_sql, Summary, SummarySql};

/// Sample schema values for the unit tests, shared with the integration tests.
#[cfg(test)]
#[path = "../tests/common/samples.rs"]
mod samples;

//! ClickHouse sink of the fleet pipeline, with an embedded Parquet + DataFusion backend.
//!
//! Lands canonical events, digital twins, dead letters, the connectivity/lifecycle ledger
//! (transitions), drift evaluations, alerts, authority decisions, domains, policy bundles and
//! command status records from Kafka in ClickHouse:
//! versioned DDL migrations applied at start-up, pure row building, and a driver that batches
//! rows per table, inserts each batch in one RowBinary `INSERT` per table and commits the Kafka
//! offsets only after every insert of the batch returned. Effectively-once: every row carries
//! its record's Kafka coordinates, and what landed past the last commit is read back from the
//! table and skipped (see `docs/contracts.md`).
//!
//! The DDL and queries run on Debian's ClickHouse 18.16 and on current releases; features
//! newer than 18.16 are gated on the [`ServerCaps`] detected at start-up.
//!
//! Without ClickHouse the same tables land as Parquet files ([`backend::parquet`],
//! effectively-once by file names that carry their input offsets) and [`query`] answers SQL
//! over them.
//!
//! Every landed table is one file under [`tables`] and one line in [`tables::each`]; the
//! router, the batch, the landed-offsets query, the stats, the Parquet schemas and the
//! DataFusion registration all work from that list.
//!
//! Layout (leaves first; a module imports only modules above it in this list):
//! - [`caps`]: server version parsing and the feature flags derived from it.
//! - [`retry`]: the back-off retry loop around external calls.
//! - [`tables`]: the [`tables::Table`] trait, one file per table (row, builder, DDL, Arrow
//!   columns), the list; the shared Enum8 value tables, coordinates and DDL pieces.
//! - [`error`]: error types, classed by who must act.
//! - [`stats`]: [`SinkStats`], the counters of a run.
//! - [`dead_letters`]: the sink's own dead letters (reason codes, rejected rows).
//! - [`batch`]: rows per table and offsets per partition of the batch being filled.
//! - [`analytics`]: rollup views, `domain_minute`, dialects, the cookbook, the overview.
//! - [`backend`]: the [`backend::Backend`] trait; ClickHouse (client, migrations, inserts,
//!   landed offsets) and Parquet (files, store, DataFusion [`query`]) behind it.
//! - [`config`]: the sink's settings ([`SinkConfig`]).
//! - [`driver`]: [`run_sink`]: route, fill, revoke, flush, commit.
//! - `samples` (feature `samples`, and in unit tests): sample schema values for tests.

pub mod analytics;
pub mod backend;
pub mod batch;
pub mod caps;
pub mod config;
pub mod dead_letters;
pub mod driver;
pub mod error;
pub mod retry;
#[cfg(any(test, feature = "samples"))]
pub mod samples;
pub mod stats;
pub mod tables;

pub use analytics::answer::{self, Answer};
pub use analytics::cookbook;
pub use analytics::source::{AnswerError, Reader, Source};
pub use analytics::summary::{self, fleet_summary, summary_sql, Summary, SummarySql};
pub use backend::clickhouse::migrate::{self, migrate, MigrationReport};
pub use backend::clickhouse::{ClickHouse, ClickHouseConfig};
pub use backend::parquet::query;
pub use caps::ServerCaps;
pub use config::{Backend, BatchConfig, RetryConfig, SinkConfig};
pub use driver::run_sink;
pub use error::{ClickHouseError, ErrorClass, SinkError};
pub use stats::SinkStats;

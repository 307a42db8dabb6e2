//! Where the sink lands its batches: the [`Backend`] trait and its two implementations.
//!
//! Layout:
//! - [`api`]: [`Backend`] (has a record landed, land a batch) and what it is given.
//! - [`clickhouse`]: the ClickHouse server: connection, migrations, inserts, landed offsets.
//! - [`parquet`]: Parquet files in a directory, and DataFusion over them.

pub mod api;
pub mod clickhouse;
pub mod parquet;

pub use api::{Backend, Rejects, Retry, Seen};

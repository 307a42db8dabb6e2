//! Analytics over the landed tables, in both SQL dialects: the rollup views, `domain_minute`,
//! the cookbook of analyst queries and the fleet overview.
//!
//! Layout:
//! - [`dialect`]: ClickHouse vs DataFusion SQL, where the two differ.
//! - [`rollups`]: `domain_rollup`, `rollout_status`, `attention_queue`, written once for both.
//! - [`domain_minute`]: the rollup per domain and minute (materialized views in ClickHouse, a
//!   view over the same aggregates in DataFusion).
//! - [`cookbook`]: the analyst queries of `docs/sql-cookbook.md` per dialect.
//! - [`summary`]: the fleet overview queries and their printed report.

pub mod cookbook;
pub mod dialect;
pub mod domain_minute;
pub mod rollups;
pub mod summary;

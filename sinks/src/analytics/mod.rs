//! Analytics over the landed tables, in both SQL dialects: the rollup views, `domain_minute`,
//! the cookbook of analyst queries and the fleet overview.
//!
//! Layout:
//! - [`dialect`]: ClickHouse vs DataFusion SQL, where the two differ.
//! - [`rollups`]: `domain_rollup`, `rollout_status`, `attention_queue`, written once for both.
//! - [`status`]: the status rule of a domain's rollup row and its connectivity summary, in
//!   Rust and in SQL.
//! - [`domain_minute`]: the rollup per domain and minute (materialized views in ClickHouse, a
//!   view over the same aggregates in DataFusion).
//! - [`hierarchy`]: the subtree rollup, domain authority, masters of record and assignments
//!   views, per dialect.
//! - [`topology`]: the relay path, edge and relay health views, per dialect.
//! - [`commands`]: the command and rollout views, per dialect, and the rollout safety rule.
//! - [`cookbook`]: the analyst queries of `docs/sql-cookbook.md` per dialect, and the one
//!   place where ids, symbols and numbers are bound into them.
//! - [`answer`]: an answer as normalized text cells, alike from ClickHouse and DataFusion.
//! - [`source`]: a backend to answer the cookbook from ([`source::Source`], typed errors).
//! - [`summary`]: the fleet overview queries and their printed report.

pub mod answer;
pub mod commands;
pub mod cookbook;
pub mod dialect;
pub mod domain_minute;
pub mod hierarchy;
pub mod rollups;
pub mod source;
pub mod status;
pub mod summary;
pub mod topology;

//! Stateful processors: projections over canonical events, kept as changelog-backed state.
//!
//! Each projection is a pure function over (state, event); the stages here adapt them to the
//! runtime, which restores their state from the changelog and commits outputs, changelog and
//! input offsets together.
//!
//! Layout:
//! - [`twin`]: the twin's own fields (identity, runtime, actual state, supply chain).
//! - [`node`]: a node's whole state (twin + machines) moved by events and timer firings.
//! - [`connectivity`]: the connectivity spectrum state machine, sync debt and replay progress.
//! - [`lifecycle`]: the lifecycle state machine of seed 004 (3A), violations recorded.
//! - [`drift`]: desired bundle vs reported snapshot: version, config and policy drift, score.
//! - [`authority`]: master-of-record per domain, last-write-wins, split-brain detection.
//! - [`stage`]: the twin processor stage and its store.

pub mod authority;
pub mod connectivity;
pub mod drift;
pub mod lifecycle;
pub mod node;
pub mod stage;
pub mod twin;

pub use stage::{TwinStage, TWIN_STORE};

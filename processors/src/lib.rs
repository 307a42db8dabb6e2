//! Stateful processors: projections over canonical events, kept as changelog-backed state.
//!
//! Each projection is a pure function over (state, event); the stages here adapt them to the
//! runtime, which restores their state from the changelog and commits outputs, changelog and
//! input offsets together.
//!
//! Layout:
//! - [`twin`]: the digital-twin projection (identity, connectivity, runtime, lifecycle basics).
//! - [`stage`]: the twin processor stage and its store.

pub mod stage;
pub mod twin;

pub use stage::{TwinStage, TWIN_STORE};

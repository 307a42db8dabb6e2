//! Stateful processors: projections over canonical events, kept as changelog-backed state.
//!
//! Each projection is a pure function over (state, event); the stages here adapt them to the
//! runtime, which restores their state from the changelog and commits outputs, changelog and
//! input offsets together.
//!
//! Layout (a module with submodules, its unit tests' `tests.rs` included, is a folder with a
//! `mod.rs`; modules import each other as a tree: no import cycles, parent and child included,
//! so shared types live in the leaf that defines them and the parent re-exports them):
//! - [`twin`]: the twin's own fields (identity, runtime, actual state, supply chain).
//! - [`node`]: a node's whole state (twin + machines) moved by events and timer firings.
//!   - `node::topology`: the node's declared edges ([`node::TopologyState`]).
//!   - [`node::commands`]: the node's command book moved with its lifecycle.
//! - [`connectivity`]: the connectivity spectrum state machine, sync debt and replay progress.
//!   - `connectivity::config`: its thresholds ([`connectivity::ConnectivityConfig`]).
//!   - `connectivity::debt`: the refresh instants of a silent node's sync debt.
//! - [`lifecycle`]: the lifecycle state machine of seed 004 (3A), violations recorded.
//!   - [`lifecycle::actions`]: what commands do to the lifecycle.
//! - [`command`]: the command machine of one node (acceptance, hold and release, delivery,
//!   acks, expiry, retention, rollouts; [`command::CommandBook`]).
//! - [`drift`]: desired bundle vs reported snapshot: version, config and policy drift, score.
//!   - `drift::resolve`: which bundle applies to a node ([`drift::DesiredResolver`]).
//!   - `drift::version`: version comparison and gap severity ([`drift::compare_versions`]).
//!   - `drift::versioned`: last-write-wins with versioning ([`drift::decide`]).
//! - [`authority`]: master-of-record per domain, last-write-wins, split-brain detection.
//!   - `authority::records`: stamps, audit records, split brains, rejections, outputs.
//! - [`trust`]: attestation and firmware-signature checks against the enrollment baseline.
//! - [`attention`]: the attention score and its raise/resolve hysteresis.
//! - [`control`]: the control plane as one partition sees it (authority, desired state).
//!   - `control::status`: a domain's authority status and upstream sync debt
//!     ([`control::authority_status`]).
//!   - `control::sync`: federation sync reports ([`control::SyncReports`]).
//!   - `control::domains`: the published domain records ([`control::DomainBook`]).
//!   - `control::versions`: bundle and domain version decisions and their audit records.
//!   - `control::audit`: audit records of authority decisions.
//!   - [`control::commands`]: a command's authority check and audit record, a rollout's
//!     issuer, a domain's time offset.
//! - [`derived`]: desired state, drift, authority and attention of a node, recomputed.
//! - [`fold`]: one node's whole step (machines, then derived projections).
//! - [`config`]: thresholds and weights of every projection ([`ProjectionConfig`]).
//! - [`entry`]: what the store holds (nodes and the control state).
//! - [`stage`]: the fleet processor stage and its store.
//!   - `stage::commands`: `COMMAND` control records (node and domain targets).

pub mod attention;
pub mod authority;
pub mod command;
pub mod config;
pub mod connectivity;
pub mod control;
pub mod derived;
pub mod drift;
pub mod entry;
pub mod fold;
pub mod lifecycle;
pub mod node;
pub mod stage;
pub mod trust;
pub mod twin;

pub use config::ProjectionConfig;

pub use stage::{TwinStage, TWIN_STORE};

//! Fleet simulator and load generator for the Souverix fleet pipeline.
//!
//! Generates a deterministic stream of raw `fleet.raw.v1` messages for a
//! simulated fleet shaped like the federation of seed 000 (global, regions A
//! and B, edge zones A1, A2, B1 and the autonomous zone C) with relays, declared
//! edges and relay failures, and produces such a stream to Kafka at a chosen rate.
//! Same config and seed, same bytes. Used by `sxfleet simulate`, `sxfleet demo`,
//! the end-to-end tests and the benchmarks (`sxfleet-bench`). Also builds the
//! fixed seed 000 scenario ([`scenario::seed000`]) the rollup tests assert against.
//!
//! Layout:
//! - [`wire`]: the raw JSON contract as written (message structs, enums, timestamps).
//! - [`message`]: [`RawMessage`], one keyed record for the raw topic.
//! - [`federation`]: the domain hierarchy of seed 000 and how nodes spread over its zones.
//! - [`fleet`]: each node's fixed identity (kind, hardware batch, firmware, inventory).
//! - [`behaviour`]: how a node changes over time (link class, health, outages, upgrades).
//! - [`control_plane`]: the claims, bundle and assignments the simulator declares.
//! - [`scenario`]: the seed 000 scenario (fixed records and the figures they produce).
//! - [`topology`]: relay paths, declared edges and the relay failures the simulator injects.
//! - [`sim`]: [`SimConfig`] and the [`Simulator`] iterator of [`RawMessage`]s.
//! - [`pacing`]: the pure rate limiter behind the producer.
//! - [`mod@produce`]: async Kafka producer with pacing, bounded in-flight sends,
//!   progress bar, shutdown and a [`ProduceSummary`].

pub mod behaviour;
pub mod control_plane;
pub mod federation;
pub mod fleet;
pub mod message;
pub mod pacing;
pub mod produce;
pub mod scenario;
pub mod sim;
pub mod topology;
pub mod wire;

pub use message::RawMessage;
pub use produce::{
    produce, produce_with, producer_config, ProduceError, ProduceOptions, ProduceSummary, Progress,
    StopReason,
};
pub use sim::{
    messages_for_rounds, SimConfig, SimError, Simulator, DEFAULT_START_MS, REPLAY_CHUNK_EVENTS,
};

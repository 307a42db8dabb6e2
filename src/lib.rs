//! `sxfleet`: the Souverix fleet pipeline as one binary.
//!
//! This crate wires the stages together; each stage's logic lives in its own crate
//! (`sxfleet-ingest`, `sxfleet-processors`, `sxfleet-sinks`) and the Kafka glue in
//! `sxfleet-runtime`.
//!
//! Layout:
//! - [`pipeline`]: topic creation and the runners of each stage, alone or all in one process.
//! - [`demo`]: the README's demo: the pipeline on a simulated fleet, then a summary.

pub mod demo;
pub mod pipeline;

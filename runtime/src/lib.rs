//! Kafka runtime glue shared by every stage of the pipeline.
//!
//! Stages (normalizer, processors, sinks) are pure cores; this crate is the thin driver around
//! them: it owns the consumer, the (transactional) producer, offsets, changelog restore and
//! shutdown, so a stage only says what one input record turns into.
//!
//! Layout:
//! - [`config`]: Kafka client settings and the [`Delivery`] choice.
//! - [`topics`]: the pipeline's topic names (with a per-deployment prefix) and topic creation.
//! - [`stage`]: the [`Stage`] trait the driver drives (a stage implements it directly or gets
//!   it from [`keyed`]), and its input/output records.
//! - [`driver`]: the consume-transform-produce loop (exactly-once or at-least-once), its
//!   commit path, rebalance handling and wall-clock punctuation (tick records).
//! - [`records`]: canonical output values and DLQ records for rejected input.
//! - [`restore`]: reading a changelog partition back into a stage before it processes anything.
//! - [`store`]: state stores: per-partition maps with a compacted changelog.
//! - [`keyed`]: the adapter of every keyed stateful stage: a [`keyed::Fold`] plus its store and
//!   timers, driven as a [`Stage`] (restore, snapshots, ticks, changelog flushes written once).
//! - [`snapshot`]: local snapshot files of store partitions (bounded restore time).
//! - [`timers`]: event-time timers per key, fired as the partition's event time passes them.
//! - [`tick`]: tick records (wall-clock punctuation) and how every reader recognises them.
//! - [`telemetry`]: metric names.
//! - [`shutdown`]: the shutdown trigger passed into every `run`.
//! - [`error`]: the runtime's error type, classed by who must act, and [`error::error_chain`].

pub mod config;
pub mod driver;
pub mod error;
pub mod keyed;
pub mod records;
pub mod restore;
pub mod shutdown;
pub mod snapshot;
pub mod stage;
pub mod store;
pub mod telemetry;
pub mod tick;
pub mod timers;
pub mod topics;

pub use config::{Delivery, KafkaConfig};
pub use driver::{run_stage, StageRunConfig};
pub use error::RuntimeError;
pub use shutdown::Shutdown;
pub use stage::{Input, Output, Stage};
pub use topics::Topics;

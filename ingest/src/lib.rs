//! Normalizers: raw input -> canonical Avro events on Kafka, or a DLQ record with a reason.
//!
//! The core ([`normalize`]) is pure: bytes and a receive time in, canonical records or a
//! rejection out. [`stage::NormalizerStage`] runs it on the raw Kafka topic through the runtime.
//!
//! Layout:
//! - [`normalize`]: the raw contract for node events, and the entry point.
//! - `control`: the raw contract for control-plane records.
//! - `fields`: typed reads of JSON fields that fail with precise reasons.
//! - [`reject`]: reason codes and rejections.
//! - [`stage`]: the Kafka stage.

mod control;
mod fields;
pub mod normalize;
mod payloads;
pub mod reject;
pub mod stage;

pub use normalize::{normalize, Normalized, NormalizerConfig, RawContext, Rejected, UnknownFields};
pub use reject::{ReasonCode, Rejection};
pub use stage::NormalizerStage;

//! Normalizers: raw input -> canonical Avro events on Kafka, or a DLQ record with a reason.
//!
//! The cores are pure: [`normalize`] turns bytes and a receive time into canonical records or
//! a rejection; [`admit`] applies a node's message to the node's state (keys and signatures,
//! replay chunks, seq dedupe and ordering). [`stage::NormalizerStage`] runs both on the raw
//! Kafka topic through the runtime; [`http`] is the HTTP ingest API in front of that topic.
//!
//! Layout:
//! - [`normalize`]: the raw contract for node events, and the entry point.
//! - [`config`]: the normalizer's settings.
//! - [`avro_raw`]: Avro raw messages (Confluent wire format) -> the raw contract's JSON object.
//! - [`registry`]: writer schemas by id from a schema registry (cached, retried).
//! - `payloads`: builders of the larger node-event payloads and of replay messages.
//! - `control`: the raw contract for control-plane records.
//! - `fields`: typed reads of JSON fields that fail with precise reasons.
//! - [`signature`]: ed25519 signatures over canonical JSON.
//! - [`order`]: per-node seq dedupe and the reorder buffer.
//! - [`admit`]: the per-node state and what one message does to it.
//! - [`reject`]: reason codes and rejections.
//! - [`stage`]: the Kafka stage.
//! - [`http`]: the HTTP ingest API (NDJSON batches, bearer tokens or TLS client certificates,
//!   live and replay lanes, plain HTTP or HTTPS).
//! - [`telemetry`]: metric names.

pub mod admit;
pub mod avro_raw;
pub mod config;
mod control;
mod fields;
pub mod http;
pub mod normalize;
pub mod order;
mod payloads;
pub mod registry;
pub mod reject;
pub mod signature;
pub mod stage;
pub mod telemetry;

pub use normalize::{
    normalize, normalize_map, parse_object, Normalized, NormalizerConfig, RawContext, Rejected,
    SignatureMode, UnknownFields,
};
pub use registry::{RegistryUrl, SchemaRegistry, SchemaRegistryConfig};
pub use reject::{ReasonCode, Rejection};
pub use stage::{NormalizerStage, NODE_STORE};

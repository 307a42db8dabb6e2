//! Normalizers: raw input -> canonical Avro events on Kafka, or a DLQ record with a reason.
//!
//! The cores are pure: [`normalize`] turns bytes and a receive time into canonical records or
//! a rejection; [`admit`] applies a node's message to the node's state (keys and signatures,
//! replay chunks, seq dedupe and ordering). [`stage::NormalizerStage`] runs both on the raw
//! Kafka topic through the runtime; [`http`] is the HTTP ingest API in front of that topic.
//!
//! Modules form a tree: the leaves (reasons, contexts, settings, metric names) import nothing
//! else of this crate, the pure cores build on them, and the entry points (the stage, the HTTP
//! server) sit on top.
//!
//! Layout:
//! - [`reject`]: reason codes, rejections and what a rejected message told about itself.
//! - [`context`]: where and when a raw message arrived.
//! - [`telemetry`]: metric names, and the one place each is bumped.
//! - [`config`]: the normalizer's settings.
//! - [`normalize`]: the raw contract for node events and control records, and the entry point
//!   (field readers, shared rules, payload and control-record builders under it).
//! - [`avro_raw`]: Avro raw messages (Confluent wire format) -> the raw contract's JSON object.
//! - [`registry`]: writer schemas by id from a schema registry (cached, retried, looked up
//!   asynchronously before a batch is processed).
//! - [`signature`]: ed25519 signatures over canonical JSON.
//! - [`order`]: per-node seq dedupe and the reorder buffer.
//! - [`admit`]: the per-node state and what one message does to it.
//! - [`stage`]: the Kafka stage.
//! - [`http`]: the HTTP ingest API (NDJSON batches, bearer tokens or TLS client certificates,
//!   live and replay lanes, plain HTTP or HTTPS).

pub mod admit;
pub mod avro_raw;
pub mod config;
pub mod context;
pub mod http;
pub mod normalize;
pub mod order;
pub mod registry;
pub mod reject;
pub mod signature;
pub mod stage;
pub mod telemetry;

pub use config::{NormalizerConfig, SignatureMode, UnknownFields};
pub use context::RawContext;
pub use normalize::{normalize, normalize_map, parse_object, Normalized};
pub use registry::{RegistryUrl, SchemaRegistry, SchemaRegistryConfig};
pub use reject::{ReasonCode, Rejected, Rejection};
pub use stage::{NormalizerStage, NODE_STORE};

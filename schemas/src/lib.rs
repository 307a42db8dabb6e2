//! `sxfleet-schemas`: the canonical event model of the Souverix fleet pipeline, its Avro schemas
//! and a codec for the Confluent wire format (magic byte 0, 4-byte big-endian schema id, Avro
//! binary datum). No I/O: every stage depends on this crate, and it depends on no client.
//!
//! The `.avsc` files under `schemas/avro/` are the source of truth; they are embedded with
//! `include_str!` and parsed once. Each top-level schema has a fixed id in [`catalog`], so no
//! schema registry is required.
//!
//! ```
//! use sxfleet_schemas::{decode, encode, EventPayload, FleetEvent, Link, LinkState, Source};
//!
//! let event = FleetEvent {
//!     event_id: FleetEvent::derived_event_id("edge-42", 7),
//!     node_id: "edge-42".into(),
//!     seq: 7,
//!     event_time_ms: 1_772_000_000_000,
//!     received_ms: 1_772_000_000_150,
//!     source: Source::KafkaRaw,
//!     replayed: false,
//!     payload: EventPayload::Link(Link { state: LinkState::Lost, via: None }),
//! };
//! let bytes = encode(&event)?;
//! assert_eq!(&bytes[..5], &[0, 0, 0, 0x04, 0x03]); // magic 0, schema id 1027 (FleetEvent v4)
//! assert_eq!(decode::<FleetEvent>(&bytes)?, event);
//! # Ok::<(), sxfleet_schemas::CodecError>(())
//! ```
//!
//! # Layout
//! - [`catalog`]: schema ids, topics and the embedded `.avsc` sources.
//! - `compiled`: parses the schemas once, inlines shared types, caches writers and readers
//!   ([`schema`], [`expanded_schema_json`]).
//! - [`codec`]: the [`Canonical`] trait, [`encode`], [`encode_into`], [`decode`],
//!   [`peek_schema_id`].
//! - [`error`]: [`CodecError`] (with its [`ErrorClass`]) and [`PayloadError`].
//! - [`model`]: the Rust types: shared types ([`model::common`]), [`FleetEvent`],
//!   [`ControlEvent`], the [`Node`] twin, [`DeadLetter`] and the other canonical objects
//!   ([`model::objects`]), commands ([`CommandRequest`], [`Command`], [`CommandAck`],
//!   [`CommandStatus`] in [`model::command`]), the federation's published [`Domain`] and [`BundleVersion`]
//!   ([`model::federation`]), the [`StateTransition`] ledger entry ([`model::transition`]) and
//!   the processor's analytic outputs [`DriftReport`], [`Alert`], [`AuthorityDecision`]
//!   ([`model::outputs`]). `model::payload_union` holds the macro that declares each envelope's
//!   payload enum and generates its wire record ([`FleetEventWire`], [`ControlEventWire`]).

#![warn(missing_docs)]

pub mod catalog;
pub mod codec;
mod compiled;
pub mod error;
pub mod model;

pub use codec::{decode, encode, encode_into, peek_schema_id, Canonical, HEADER_LEN, MAGIC};
pub use compiled::{expanded_schema_json, schema};
pub use error::{CodecError, ErrorClass, PayloadError, SchemaLoadError};
pub use model::command::{
    AckStatus, Command, CommandAck, CommandKind, CommandRequest, CommandState, CommandStatus,
    CommandTarget, Delivery,
};
pub use model::common::{
    AttestationResult, AuthorityClaim, AuthorityLevel, ConnectivityMode, DomainLevel, DomainSync,
    EventKind, Firmware, Hardware, Health, Inventory, LifecyclePhase, LinkQuality, NodeKind,
    Source,
};
pub use model::control_event::{
    Assign, AssignTarget, AuthorityClaimEvent, ControlEvent, ControlEventWire, ControlKind,
    ControlPayload, DomainDef, FederationSync, SyncDirection,
};
pub use model::dead_letter::{stage, DeadLetter};
pub use model::federation::{BundleVersion, Domain, UpstreamSync};
pub use model::fleet_event::{
    Attestation, EdgeDecl, EdgeRelation, EdgeState, EventPayload, FleetEvent, FleetEventWire,
    Heartbeat, Lifecycle, Link, LinkState, Register, Replay, ReplayPhase, Snapshot, TrustViolation,
};
pub use model::node::{
    ActualState, AttestationStatus, DesiredState, Node, NodeAttention, NodeAuthority,
    NodeConnectivity, NodeDrift, NodeEdge, NodeLifecycle, NodeMaintenance, NodeRuntime, NodeTrust,
    ReplayProgress, SupplyChain, SyncDebt,
};
pub use model::objects::{
    Artifact, ArtifactKind, Observation, ObservationKind, PolicyBundle, Relay, RelayKind, Timeline,
    Transition,
};
pub use model::outputs::{Alert, AuthorityDecision, ConfigFieldDiff, DriftReport};
pub use model::transition::{StateTransition, TransitionMachine};
pub use model::{AvroEnum, EpochMillis, StringMap};

//! The other canonical objects of seed 004 section 1: Relay, PolicyBundle, Observation,
//! Artifact, Timeline (Domain lives in [`super::federation`], Command in [`super::command`]).

use serde::{Deserialize, Serialize};

use super::avro_enum;
use super::common::{EventKind, Health, LifecyclePhase, LinkQuality};
use super::{EpochMillis, StringMap};
use crate::catalog;
use crate::codec::plain_canonical;

avro_enum! {
    /// Kind of relay.
    pub enum RelayKind {
        /// Message broker.
        Broker = "BROKER",
        /// Gateway.
        Gateway = "GATEWAY",
        /// Satellite link.
        Satellite = "SATELLITE",
        /// Store-and-forward hop.
        StoreAndForward = "STORE_AND_FORWARD",
        /// A kind added after this schema version.
        Unknown = "UNKNOWN",
    }
}

/// Communication/control intermediary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Relay {
    /// Immutable relay id.
    pub relay_id: String,
    /// Display name.
    pub name: Option<String>,
    /// Kind of relay.
    pub kind: RelayKind,
    /// Domain it belongs to.
    pub domain_id: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Next hops towards the control plane, in preference order.
    pub upstream_ids: Vec<String>,
    /// Last reported health.
    pub health: Health,
    /// Upstream link quality.
    pub link_quality: LinkQuality,
    /// Event time of the last report.
    pub last_seen_ms: Option<EpochMillis>,
    /// Messages held for forwarding.
    pub backlog_messages: Option<i64>,
}

/// Desired-state definition (also the POLICY_BUNDLE payload of a [`crate::ControlEvent`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyBundle {
    /// Bundle id.
    pub bundle_id: String,
    /// Version of the bundle.
    pub version: String,
    /// Software version required.
    pub target_version: String,
    /// Policy version required.
    pub policy_version: String,
    /// Desired configuration.
    pub config: StringMap,
    /// Rollout constraints.
    pub constraints: StringMap,
}

avro_enum! {
    /// Event or snapshot.
    pub enum ObservationKind {
        /// A point event.
        Event = "EVENT",
        /// A state snapshot.
        Snapshot = "SNAPSHOT",
        /// A kind added after this schema version.
        Unknown = "UNKNOWN",
    }
}

/// Index entry for a telemetry event or snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// Emitting node.
    pub node_id: String,
    /// Event time.
    pub observed_ms: EpochMillis,
    /// Event or snapshot.
    pub kind: ObservationKind,
    /// Kind of the underlying FleetEvent, when it is one.
    pub event_kind: Option<EventKind>,
    /// `event_id` of the underlying FleetEvent, when it is one.
    pub event_id: Option<String>,
    /// Where the full record lives, e.g. `"kafka://fleet.events.v1/3/1234"`.
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    /// Summary values.
    pub summary: StringMap,
}

avro_enum! {
    /// Kind of artifact.
    pub enum ArtifactKind {
        /// Software.
        Software = "SOFTWARE",
        /// Firmware.
        Firmware = "FIRMWARE",
        /// A kind added after this schema version.
        Unknown = "UNKNOWN",
    }
}

/// Signed software or firmware payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifact {
    /// Unique artifact id.
    pub artifact_id: String,
    /// Software or firmware.
    pub kind: ArtifactKind,
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Content digest, e.g. `"sha256:..."`.
    pub digest: String,
    /// Signature; `None` means unsigned.
    pub signature: Option<String>,
    /// SBOM reference.
    pub sbom_ref: Option<String>,
    /// Provenance statement or reference.
    pub provenance: Option<String>,
    /// Further attestation references.
    pub attestations: Vec<String>,
    /// Build time.
    pub created_ms: Option<EpochMillis>,
}

/// Lifecycle timeline of a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeline {
    /// Node.
    pub node_id: String,
    /// Current phase.
    pub phase: LifecyclePhase,
    /// Current precise state.
    pub state: String,
    /// Transitions, oldest first.
    pub transitions: Vec<Transition>,
}

/// One state change of a [`Timeline`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// Event time.
    pub at_ms: EpochMillis,
    /// State left; `None` for the first transition.
    pub from: Option<String>,
    /// State entered.
    pub to: String,
    /// Why.
    pub reason: Option<String>,
    /// Causing event; `None` for timer-driven transitions.
    pub event_id: Option<String>,
}

plain_canonical!(
    Relay => catalog::RELAY,
    PolicyBundle => catalog::POLICY_BUNDLE,
    Observation => catalog::OBSERVATION,
    Artifact => catalog::ARTIFACT,
    Timeline => catalog::TIMELINE,
);

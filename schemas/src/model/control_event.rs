//! `ControlEvent` (topic `fleet.control.v1`, keyed by domain id or bundle id): control-plane
//! records. Same domain/wire split as [`crate::FleetEvent`].

use serde::{Deserialize, Serialize};

use super::command::CommandRequest;
use super::common::{AuthorityClaim, AuthorityLevel, DomainLevel, DomainSync, Source};
use super::objects::PolicyBundle;
use super::payload_union::payload_union;
use super::{avro_enum, EpochMillis};
use crate::catalog;

avro_enum! {
    /// Kind of a [`ControlEvent`]; names its payload.
    pub enum ControlKind {
        /// [`DomainDef`] payload.
        Domain = "DOMAIN",
        /// [`PolicyBundle`] payload.
        PolicyBundle = "POLICY_BUNDLE",
        /// [`Assign`] payload.
        Assign = "ASSIGN",
        /// [`AuthorityClaimEvent`] payload.
        Authority = "AUTHORITY",
        /// A kind added after this schema version; such a record cannot be interpreted.
        Unknown = "UNKNOWN",
        /// [`FederationSync`] payload (added in ControlEvent v2).
        Sync = "SYNC",
        /// [`CommandRequest`] payload (added in ControlEvent v3).
        Command = "COMMAND",
    }
}

avro_enum! {
    /// Which way a federation sync goes.
    pub enum SyncDirection {
        /// With the parent domain's control plane.
        Upstream = "UPSTREAM",
        /// With a child domain's control plane.
        Downstream = "DOWNSTREAM",
        /// A direction added after this schema version.
        Unknown = "UNKNOWN",
    }
}

avro_enum! {
    /// What an assignment targets.
    pub enum AssignTarget {
        /// A domain: every node in it.
        Domain = "DOMAIN",
        /// One node.
        Node = "NODE",
    }
}

/// Declaration of a trust/authority domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainDef {
    /// Domain id.
    pub domain_id: String,
    /// Parent domain; `None` for a root.
    pub parent_id: Option<String>,
    /// Scope.
    pub level: DomainLevel,
    /// Autonomy policy.
    pub autonomy: Option<String>,
    /// Version of the declaration; `None` means 0.
    pub version: Option<i64>,
    /// Sync settings of the domain's control plane.
    pub sync: Option<DomainSync>,
    /// Local time as minutes east of UTC (maintenance windows); `None`: the nearest ancestor's,
    /// else UTC.
    pub utc_offset_minutes: Option<i32>,
}

/// Assignment of a policy bundle to a domain or node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assign {
    /// Assigned bundle.
    pub bundle_id: String,
    /// Whether `target_id` is a domain or a node.
    pub target_kind: AssignTarget,
    /// Domain id or node id.
    pub target_id: String,
    /// Authority the assignment is made under.
    pub authority: AuthorityClaim,
}

/// A controller claims master-of-record for a domain at an epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorityClaimEvent {
    /// Domain claimed.
    pub domain_id: String,
    /// Claiming controller.
    pub controller_id: String,
    /// Level it acts at.
    pub level: AuthorityLevel,
    /// Monotonic authority epoch.
    pub epoch: i64,
}

/// A control plane's sync state for one direction with one peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FederationSync {
    /// Reporting control plane.
    pub controller_id: String,
    /// Domain it serves (also the record key).
    pub domain_id: String,
    /// Upstream or downstream.
    pub direction: SyncDirection,
    /// The other control plane.
    pub peer: String,
    /// Time of the last completed sync.
    pub last_sync_ms: EpochMillis,
    /// Expected interval between syncs, in ms.
    pub frequency_ms: Option<i64>,
    /// Sync mode.
    pub mode: Option<String>,
    /// Changes waiting to be synced.
    pub pending_changes: i64,
}

/// A control-plane record. Serde sees it as the wire record.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "ControlEventWire")]
pub struct ControlEvent {
    /// Event id.
    pub event_id: String,
    /// Kafka key: the domain id, or the bundle id for a policy bundle.
    pub key: String,
    /// Event time.
    pub event_time_ms: EpochMillis,
    /// Ingest time: raw Kafka message timestamp or HTTP receive time.
    pub received_ms: EpochMillis,
    /// How the record entered the pipeline.
    pub source: Source,
    /// What is declared.
    pub payload: ControlPayload,
}

payload_union! {
    event: ControlEvent,
    record: "ControlEvent",
    entry: catalog::CONTROL_EVENT,
    kind: ControlKind,
    view: ControlEventView,
    fields {
        event_id: String,
        key: String,
        event_time_ms: EpochMillis,
        received_ms: EpochMillis,
        source: Source,
    }
    /// `ControlEvent` exactly as the Avro record; [`ControlEvent::try_from`] checks it.
    pub struct ControlEventWire;
    /// Payload of a [`ControlEvent`], one variant per [`ControlKind`] (except `Unknown`).
    pub enum ControlPayload {
        /// Domain declaration.
        Domain(DomainDef) => domain,
        /// Policy bundle definition.
        PolicyBundle(PolicyBundle) => policy_bundle,
        /// Bundle assignment.
        Assign(Assign) => assign,
        /// Authority claim.
        Authority(AuthorityClaimEvent) => authority,
        // `default`: the field was added in ControlEvent v2 (schema id 1020).
        /// Federation sync report.
        Sync(FederationSync) => #[serde(default)] sync,
        // `default`: the field was added in ControlEvent v3.
        /// A command issued by an operator or controller.
        Command(CommandRequest) => #[serde(default)] command,
    }
}

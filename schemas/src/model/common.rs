//! Shared named types (`avro/common/`), used by several top-level schemas.

use serde::{Deserialize, Serialize};

use super::avro_enum;

avro_enum! {
    /// Where a record entered the pipeline.
    pub enum Source {
        /// The raw Kafka topic `fleet.raw.v1`.
        KafkaRaw = "KAFKA_RAW",
        /// The HTTP ingest endpoint.
        Http = "HTTP",
        /// A backlog replay upload.
        Replay = "REPLAY",
        /// A source added after this schema version (Avro resolution default).
        Unknown = "UNKNOWN",
    }
}

avro_enum! {
    /// Kind of a [`crate::FleetEvent`]; names its payload.
    pub enum EventKind {
        /// [`crate::Register`] payload.
        Register = "REGISTER",
        /// [`crate::Heartbeat`] payload.
        Heartbeat = "HEARTBEAT",
        /// [`crate::Link`] payload.
        Link = "LINK",
        /// [`crate::Snapshot`] payload.
        Snapshot = "SNAPSHOT",
        /// [`crate::Lifecycle`] payload.
        Lifecycle = "LIFECYCLE",
        /// [`crate::Attestation`] payload.
        Attestation = "ATTESTATION",
        /// [`crate::Replay`] payload.
        Replay = "REPLAY",
        /// A kind added after this schema version; such an event cannot be interpreted.
        Unknown = "UNKNOWN",
        /// [`crate::TrustViolation`] payload (emitted by the normalizer).
        TrustViolation = "TRUST_VIOLATION",
        /// [`crate::EdgeDecl`] payload (added in FleetEvent v3).
        Edge = "EDGE",
        /// [`crate::CommandAck`] payload (added in FleetEvent v4).
        CommandAck = "COMMAND_ACK",
    }
}

avro_enum! {
    /// What kind of compute element a node is.
    #[derive(Default)]
    pub enum NodeKind {
        /// Edge node.
        Edge = "EDGE",
        /// Data-centre node.
        Dc = "DC",
        /// Gateway.
        Gateway = "GATEWAY",
        /// Relay acting as a node.
        Relay = "RELAY",
        /// Virtual node.
        Virtual = "VIRTUAL",
        /// Not registered yet, or a kind added after this schema version.
        #[default]
        Unknown = "UNKNOWN",
    }
}

avro_enum! {
    /// Self-reported runtime health.
    #[derive(Default)]
    pub enum Health {
        /// Healthy.
        Ok = "OK",
        /// Degraded.
        Degraded = "DEGRADED",
        /// Failed.
        Failed = "FAILED",
        /// No report yet, or a value added after this schema version.
        #[default]
        Unknown = "UNKNOWN",
    }
}

avro_enum! {
    /// Level of the control plane acting as master of record.
    pub enum AuthorityLevel {
        /// Global control plane.
        Global = "GLOBAL",
        /// Regional control plane.
        Region = "REGION",
        /// Local (edge zone) controller.
        Local = "LOCAL",
        /// The node itself, operating autonomously.
        Autonomous = "AUTONOMOUS",
    }
}

avro_enum! {
    /// Scope of a trust/authority domain.
    pub enum DomainLevel {
        /// The whole fleet.
        Global = "GLOBAL",
        /// A region.
        Region = "REGION",
        /// A zone within a region.
        Zone = "ZONE",
        /// A level added after this schema version.
        Unknown = "UNKNOWN",
    }
}

avro_enum! {
    /// Position on the connectivity spectrum.
    #[derive(Default)]
    pub enum ConnectivityMode {
        /// Real-time bidirectional.
        Live = "LIVE",
        /// Synchronising with latency.
        Delayed = "DELAYED",
        /// Local cache, periodic sync.
        EdgeCached = "EDGE_CACHED",
        /// Operating independently after losing the link.
        Autonomous = "AUTONOMOUS",
        /// No connectivity.
        Disconnected = "DISCONNECTED",
        /// Reconnecting; takes no new commands until reconciled.
        Returning = "RETURNING",
        /// Uploading its backlog.
        Replaying = "REPLAYING",
        /// Nothing observed yet, or a mode added after this schema version.
        #[default]
        Unknown = "UNKNOWN",
    }
}

avro_enum! {
    /// Coarse lifecycle phase.
    #[derive(Default)]
    pub enum LifecyclePhase {
        /// Being provisioned (initial phase).
        #[default]
        Provisioning = "PROVISIONING",
        /// Enrollment complete.
        Enrolled = "ENROLLED",
        /// Active.
        Active = "ACTIVE",
        /// Applying an update.
        Updating = "UPDATING",
        /// Degraded.
        Degraded = "DEGRADED",
        /// Quarantined (limited operations).
        Quarantined = "QUARANTINED",
        /// Being decommissioned.
        Decommissioning = "DECOMMISSIONING",
        /// Retired (final).
        Retired = "RETIRED",
    }
}

avro_enum! {
    /// Outcome of a remote attestation.
    pub enum AttestationResult {
        /// Verified.
        Verified = "VERIFIED",
        /// Failed; also the reading of any result added after this schema version.
        Failed = "FAILED",
    }
}

/// Hardware identity and provenance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hardware {
    /// Serial number.
    pub serial: Option<String>,
    /// Manufacturer.
    pub manufacturer: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// Manufacturing batch.
    pub batch_id: Option<String>,
    /// Manufacturing origin.
    pub origin: Option<String>,
}

/// Firmware identity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Firmware {
    /// Version.
    pub version: Option<String>,
    /// Signature; `None` means unsigned or not reported.
    pub signature: Option<String>,
}

/// Hardware inventory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Inventory {
    /// CPU model.
    pub cpu: Option<String>,
    /// RAM in GB.
    pub ram_gb: Option<f64>,
    /// Storage in GB.
    pub storage_gb: Option<f64>,
    /// GPU models, one per device.
    pub gpus: Vec<String>,
}

/// Last known quality of a link.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LinkQuality {
    /// Round-trip time in ms.
    pub rtt_ms: Option<f64>,
    /// Packet loss in percent.
    pub loss_pct: Option<f64>,
    /// Bandwidth in kbit/s.
    pub bandwidth_kbps: Option<i64>,
}

/// A controller's claim to declare desired state, at an epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorityClaim {
    /// Claiming controller.
    pub controller_id: String,
    /// Level it acts at.
    pub level: AuthorityLevel,
    /// Monotonic authority epoch.
    pub epoch: i64,
}

/// How a domain's control plane synchronises with its upstream peer, as declared on the domain
/// (shared by [`crate::DomainDef`] and [`crate::Domain`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainSync {
    /// Upstream peer control plane.
    pub upstream: Option<String>,
    /// Expected interval between syncs, in ms.
    pub frequency_ms: Option<i64>,
    /// Sync mode, e.g. `"continuous"`, `"push"`, `"opportunistic"`.
    pub mode: Option<String>,
    /// Whether the domain may keep operating cut off from its upstream.
    pub can_operate_isolated: Option<bool>,
}

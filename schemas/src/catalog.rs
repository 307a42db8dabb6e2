//! The schema catalog: every top-level schema with its fixed schema id.
//!
//! No schema registry is needed: a schema id in the Confluent wire header names one entry of
//! this table. Ids play the role registry ids would: an id names one exact schema text, so a
//! schema whose encoding changes gets a new id (see `schemas/README.md`). A registry can be
//! added later by mapping its ids onto these entries.
//!
//! Named types used by more than one top-level schema live in `avro/common/` ([`SHARED_TYPES`])
//! and are referenced by name from the top-level files. All files are parsed together and each
//! entry is expanded into one self-contained schema ([`crate::expanded_schema_json`]).

/// Avro namespace of every schema of this crate.
pub const NAMESPACE: &str = "io.souverix.fleet.v1";

/// One top-level schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogEntry {
    /// Schema id written in bytes 1..5 of the wire header.
    pub id: u32,
    /// Avro record name (unqualified); also the file stem under `avro/`.
    pub name: &'static str,
    /// Released version the current text corresponds to: `avro/released/<name>.v<version>.avsc`
    /// holds the expanded form of this version.
    pub version: u32,
    /// Topic that carries this record, when one does.
    pub topic: Option<&'static str>,
    /// The `.avsc` source as written (may reference [`SHARED_TYPES`] by name).
    pub avsc: &'static str,
}

/// Well-known schema ids.
pub mod ids {
    /// [`crate::FleetEvent`] on `fleet.events.v1`: version 4 (the `command_ack` payload and
    /// the heartbeat's `battery_pct` added).
    pub const FLEET_EVENT: u32 = 1027;
    /// [`crate::ControlEvent`] on `fleet.control.v1`: version 3 (the `command` payload and the
    /// domain's `utc_offset_minutes` added).
    pub const CONTROL_EVENT: u32 = 1026;
    /// [`crate::Node`] (the digital twin) on `fleet.twin.v1`: version 4 (maintenance and the
    /// command counts added).
    pub const NODE: u32 = 1028;
    /// [`crate::DeadLetter`] on `fleet.dlq.v1`.
    pub const DEAD_LETTER: u32 = 1004;
    /// [`crate::Relay`].
    pub const RELAY: u32 = 1005;
    /// [`crate::Domain`] on `fleet.domains.v1`: version 2 (version, path, sync and authority
    /// status added).
    pub const DOMAIN: u32 = 1024;
    /// [`crate::PolicyBundle`].
    pub const POLICY_BUNDLE: u32 = 1007;
    /// [`crate::Observation`]: version 4 (its `EventKind` knows `COMMAND_ACK`).
    pub const OBSERVATION: u32 = 1029;
    /// [`crate::Command`] on `fleet.commands.v1`: version 2 (kind, attempt, publication time,
    /// domain and rollout added).
    pub const COMMAND: u32 = 1030;
    /// [`crate::CommandStatus`] on `fleet.command-status.v1`.
    pub const COMMAND_STATUS: u32 = 1031;
    /// [`crate::Artifact`].
    pub const ARTIFACT: u32 = 1010;
    /// [`crate::Timeline`].
    pub const TIMELINE: u32 = 1011;
    /// [`crate::StateTransition`] on `fleet.transitions.v1`: version 2 (the node's
    /// `domain_id` added).
    pub const STATE_TRANSITION: u32 = 1019;
    /// [`crate::DriftReport`] on `fleet.drift.v1`.
    pub const DRIFT_REPORT: u32 = 1013;
    /// [`crate::Alert`] on `fleet.alerts.v1`.
    pub const ALERT: u32 = 1014;
    /// [`crate::AuthorityDecision`] on `fleet.authority.v1`.
    pub const AUTHORITY_DECISION: u32 = 1015;
    /// [`crate::BundleVersion`] on `fleet.bundles.v1`.
    pub const BUNDLE_VERSION: u32 = 1025;
    /// [`crate::Node`] version 1: still read (resolved to the current version).
    pub const NODE_V1: u32 = 1003;
    /// [`crate::FleetEvent`] version 1: still read (resolved to the current version).
    pub const FLEET_EVENT_V1: u32 = 1001;
    /// [`crate::Observation`] version 1: still read (resolved to the current version).
    pub const OBSERVATION_V1: u32 = 1008;
    /// [`crate::StateTransition`] version 1: still read (resolved to the current version).
    pub const STATE_TRANSITION_V1: u32 = 1012;
    /// [`crate::FleetEvent`] version 2: still read (resolved to the current version).
    pub const FLEET_EVENT_V2: u32 = 1017;
    /// [`crate::ControlEvent`] version 1: still read (resolved to the current version).
    pub const CONTROL_EVENT_V1: u32 = 1002;
    /// [`crate::Node`] version 2: still read (resolved to the current version).
    pub const NODE_V2: u32 = 1016;
    /// [`crate::Domain`] version 1: still read (resolved to the current version).
    pub const DOMAIN_V1: u32 = 1006;
    /// [`crate::Observation`] version 2: still read (resolved to the current version).
    pub const OBSERVATION_V2: u32 = 1018;
    /// [`crate::FleetEvent`] version 3: still read (resolved to the current version).
    pub const FLEET_EVENT_V3: u32 = 1021;
    /// [`crate::ControlEvent`] version 2: still read (resolved to the current version).
    pub const CONTROL_EVENT_V2: u32 = 1020;
    /// [`crate::Node`] version 3: still read (resolved to the current version).
    pub const NODE_V3: u32 = 1023;
    /// [`crate::Observation`] version 3: still read (resolved to the current version).
    pub const OBSERVATION_V3: u32 = 1022;
    /// [`crate::Command`] version 1: still read (resolved to the current version).
    pub const COMMAND_V1: u32 = 1009;
}

macro_rules! entry {
    ($id:expr, $name:literal, $topic:expr) => {
        entry!($id, $name, $topic, 1)
    };
    ($id:expr, $name:literal, $topic:expr, $version:literal) => {
        CatalogEntry {
            id: $id,
            name: $name,
            version: $version,
            topic: $topic,
            avsc: include_str!(concat!("../avro/", $name, ".avsc")),
        }
    };
}

/// `FleetEvent` entry.
pub const FLEET_EVENT: CatalogEntry =
    entry!(ids::FLEET_EVENT, "FleetEvent", Some("fleet.events.v1"), 4);
/// `ControlEvent` entry.
pub const CONTROL_EVENT: CatalogEntry = entry!(
    ids::CONTROL_EVENT,
    "ControlEvent",
    Some("fleet.control.v1"),
    3
);
/// `Node` entry.
pub const NODE: CatalogEntry = entry!(ids::NODE, "Node", Some("fleet.twin.v1"), 4);
/// `DeadLetter` entry.
pub const DEAD_LETTER: CatalogEntry = entry!(ids::DEAD_LETTER, "DeadLetter", Some("fleet.dlq.v1"));
/// `Relay` entry.
pub const RELAY: CatalogEntry = entry!(ids::RELAY, "Relay", None);
/// `Domain` entry.
pub const DOMAIN: CatalogEntry = entry!(ids::DOMAIN, "Domain", Some("fleet.domains.v1"), 2);
/// `PolicyBundle` entry.
pub const POLICY_BUNDLE: CatalogEntry = entry!(ids::POLICY_BUNDLE, "PolicyBundle", None);
/// `Observation` entry.
pub const OBSERVATION: CatalogEntry = entry!(ids::OBSERVATION, "Observation", None, 4);
/// `Command` entry.
pub const COMMAND: CatalogEntry = entry!(ids::COMMAND, "Command", Some("fleet.commands.v1"), 2);
/// `CommandStatus` entry.
pub const COMMAND_STATUS: CatalogEntry = entry!(
    ids::COMMAND_STATUS,
    "CommandStatus",
    Some("fleet.command-status.v1")
);
/// `Artifact` entry.
pub const ARTIFACT: CatalogEntry = entry!(ids::ARTIFACT, "Artifact", None);
/// `Timeline` entry.
pub const TIMELINE: CatalogEntry = entry!(ids::TIMELINE, "Timeline", None);
/// `StateTransition` entry.
pub const STATE_TRANSITION: CatalogEntry = entry!(
    ids::STATE_TRANSITION,
    "StateTransition",
    Some("fleet.transitions.v1"),
    2
);
/// `DriftReport` entry.
pub const DRIFT_REPORT: CatalogEntry =
    entry!(ids::DRIFT_REPORT, "DriftReport", Some("fleet.drift.v1"));
/// `Alert` entry.
pub const ALERT: CatalogEntry = entry!(ids::ALERT, "Alert", Some("fleet.alerts.v1"));
/// `AuthorityDecision` entry.
pub const AUTHORITY_DECISION: CatalogEntry = entry!(
    ids::AUTHORITY_DECISION,
    "AuthorityDecision",
    Some("fleet.authority.v1")
);
/// `BundleVersion` entry.
pub const BUNDLE_VERSION: CatalogEntry = entry!(
    ids::BUNDLE_VERSION,
    "BundleVersion",
    Some("fleet.bundles.v1")
);

/// Every top-level schema (its current version), in order of first release.
pub const CATALOG: &[CatalogEntry] = &[
    FLEET_EVENT,
    CONTROL_EVENT,
    NODE,
    DEAD_LETTER,
    RELAY,
    DOMAIN,
    POLICY_BUNDLE,
    OBSERVATION,
    COMMAND,
    ARTIFACT,
    TIMELINE,
    STATE_TRANSITION,
    DRIFT_REPORT,
    ALERT,
    AUTHORITY_DECISION,
    BUNDLE_VERSION,
    COMMAND_STATUS,
];

/// A named type shared by several top-level schemas (`avro/common/<name>.avsc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedType {
    /// Avro name (unqualified); also the file stem.
    pub name: &'static str,
    /// The `.avsc` source.
    pub avsc: &'static str,
}

macro_rules! shared {
    ($($name:literal),+ $(,)?) => {
        &[$(SharedType {
            name: $name,
            avsc: include_str!(concat!("../avro/common/", $name, ".avsc")),
        }),+]
    };
}

/// Named types defined once in `avro/common/` and referenced by name elsewhere.
pub const SHARED_TYPES: &[SharedType] = shared!(
    "Source",
    "EventKind",
    "NodeKind",
    "Health",
    "AuthorityLevel",
    "DomainLevel",
    "ConnectivityMode",
    "LifecyclePhase",
    "AttestationResult",
    "Hardware",
    "Firmware",
    "Inventory",
    "LinkQuality",
    "AuthorityClaim",
    "DomainSync",
    "Delivery",
    "CommandKind",
    "CommandTarget",
);

/// The entry with this schema id, if any.
pub fn by_id(id: u32) -> Option<&'static CatalogEntry> {
    CATALOG.iter().find(|entry| entry.id == id)
}

/// An older released version that is still read: data written with it decodes by resolving
/// its released (self-contained) schema to the current version of the same record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreviousVersion {
    /// Schema id the older version was written with.
    pub id: u32,
    /// Record name (the current entry has the same name).
    pub name: &'static str,
    /// Its version.
    pub version: u32,
    /// Its released snapshot (`avro/released/<Name>.v<N>.avsc`).
    pub avsc: &'static str,
}

/// Every older version still read, oldest first per name.
pub const PREVIOUS: &[PreviousVersion] = &[
    PreviousVersion {
        id: ids::NODE_V1,
        name: "Node",
        version: 1,
        avsc: include_str!("../avro/released/Node.v1.avsc"),
    },
    PreviousVersion {
        id: ids::NODE_V2,
        name: "Node",
        version: 2,
        avsc: include_str!("../avro/released/Node.v2.avsc"),
    },
    PreviousVersion {
        id: ids::FLEET_EVENT_V1,
        name: "FleetEvent",
        version: 1,
        avsc: include_str!("../avro/released/FleetEvent.v1.avsc"),
    },
    PreviousVersion {
        id: ids::FLEET_EVENT_V2,
        name: "FleetEvent",
        version: 2,
        avsc: include_str!("../avro/released/FleetEvent.v2.avsc"),
    },
    PreviousVersion {
        id: ids::OBSERVATION_V1,
        name: "Observation",
        version: 1,
        avsc: include_str!("../avro/released/Observation.v1.avsc"),
    },
    PreviousVersion {
        id: ids::OBSERVATION_V2,
        name: "Observation",
        version: 2,
        avsc: include_str!("../avro/released/Observation.v2.avsc"),
    },
    PreviousVersion {
        id: ids::STATE_TRANSITION_V1,
        name: "StateTransition",
        version: 1,
        avsc: include_str!("../avro/released/StateTransition.v1.avsc"),
    },
    PreviousVersion {
        id: ids::CONTROL_EVENT_V1,
        name: "ControlEvent",
        version: 1,
        avsc: include_str!("../avro/released/ControlEvent.v1.avsc"),
    },
    PreviousVersion {
        id: ids::DOMAIN_V1,
        name: "Domain",
        version: 1,
        avsc: include_str!("../avro/released/Domain.v1.avsc"),
    },
    PreviousVersion {
        id: ids::FLEET_EVENT_V3,
        name: "FleetEvent",
        version: 3,
        avsc: include_str!("../avro/released/FleetEvent.v3.avsc"),
    },
    PreviousVersion {
        id: ids::CONTROL_EVENT_V2,
        name: "ControlEvent",
        version: 2,
        avsc: include_str!("../avro/released/ControlEvent.v2.avsc"),
    },
    PreviousVersion {
        id: ids::NODE_V3,
        name: "Node",
        version: 3,
        avsc: include_str!("../avro/released/Node.v3.avsc"),
    },
    PreviousVersion {
        id: ids::OBSERVATION_V3,
        name: "Observation",
        version: 3,
        avsc: include_str!("../avro/released/Observation.v3.avsc"),
    },
    PreviousVersion {
        id: ids::COMMAND_V1,
        name: "Command",
        version: 1,
        avsc: include_str!("../avro/released/Command.v1.avsc"),
    },
];

/// The older version with this id, if any.
pub fn previous_by_id(id: u32) -> Option<&'static PreviousVersion> {
    PREVIOUS.iter().find(|previous| previous.id == id)
}

/// The entry with this record name (e.g. `"FleetEvent"`), if any.
pub fn by_name(name: &str) -> Option<&'static CatalogEntry> {
    CATALOG.iter().find(|entry| entry.name == name)
}

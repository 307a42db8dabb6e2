//! Commands (seed 004: "control intent with delivery semantics"): the [`CommandRequest`] an
//! operator or controller issues (a [`crate::ControlEvent`] payload), the [`Command`] the
//! processor publishes for delivery on `fleet.commands.v1`, the node's [`CommandAck`] (a
//! [`crate::FleetEvent`] payload) and the [`CommandStatus`] ledger on
//! `fleet.command-status.v1`.

use serde::{Deserialize, Serialize};

use super::avro_enum;
use super::common::AuthorityClaim;
use super::{EpochMillis, StringMap};
use crate::catalog;
use crate::codec::plain_canonical;

avro_enum! {
    /// Delivery semantics of a command.
    pub enum Delivery {
        /// Published once, never re-sent; a lost one is reported as lost.
        AtMostOnce = "AT_MOST_ONCE",
        /// Re-sent until acknowledged or expired; the node dedupes by idempotency key.
        AtLeastOnce = "AT_LEAST_ONCE",
    }
}

avro_enum! {
    /// What a command asks of a node.
    pub enum CommandKind {
        /// Apply a policy bundle (`params.bundle_id`, `params.version`).
        ApplyBundle = "APPLY_BUNDLE",
        /// Update the software to `params.version`.
        Update = "UPDATE",
        /// Restart.
        Restart = "RESTART",
        /// Remediate a quarantined node (QUARANTINED -> ACTIVE once applied).
        Remediate = "REMEDIATE",
        /// Decommission (-> DECOMMISSIONING, then RETIRED).
        Decommission = "DECOMMISSION",
        /// Enter maintenance (`params.until` optional).
        MaintenanceStart = "MAINTENANCE_START",
        /// Leave maintenance.
        MaintenanceEnd = "MAINTENANCE_END",
        /// Rotate the node's certificate.
        RotateCertificate = "ROTATE_CERTIFICATE",
        /// An opaque command: `params.name`, `params.payload`.
        Custom = "CUSTOM",
        /// A kind added after this schema version; cannot be interpreted.
        Unknown = "UNKNOWN",
    }
}

impl CommandKind {
    /// The raw JSON spelling (`"maintenance_start"`), also [`Command::action`] of every kind but
    /// [`CommandKind::Custom`].
    pub fn raw_name(self) -> &'static str {
        match self {
            CommandKind::ApplyBundle => "apply_bundle",
            CommandKind::Update => "update",
            CommandKind::Restart => "restart",
            CommandKind::Remediate => "remediate",
            CommandKind::Decommission => "decommission",
            CommandKind::MaintenanceStart => "maintenance_start",
            CommandKind::MaintenanceEnd => "maintenance_end",
            CommandKind::RotateCertificate => "rotate_certificate",
            CommandKind::Custom => "custom",
            CommandKind::Unknown => "unknown",
        }
    }
}

avro_enum! {
    /// What a command targets.
    pub enum CommandTarget {
        /// One node.
        Node = "NODE",
        /// A domain: every node of its subtree.
        Domain = "DOMAIN",
    }
}

/// A command as issued, before the processor accepts, holds or rejects it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandRequest {
    /// Command id (the idempotency key when the issuer gave none).
    pub command_id: String,
    /// The same key for the same target is one command.
    pub idempotency_key: String,
    /// Node or domain target.
    pub target_kind: CommandTarget,
    /// Node id or domain id.
    pub target_id: String,
    /// What it asks.
    pub kind: CommandKind,
    /// Delivery semantics.
    pub delivery: Delivery,
    /// Issue time (the record's event time).
    pub issued_ms: EpochMillis,
    /// Not to be sent or applied after this time; `None`: never expires.
    pub expires_ms: Option<EpochMillis>,
    /// Authority the issuer claims.
    pub authority: AuthorityClaim,
    /// Parameters.
    pub params: StringMap,
}

/// Control intent for one node: the delivery record on `fleet.commands.v1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    /// Unique command id.
    pub command_id: String,
    /// Target node.
    pub node_id: String,
    /// Issue time.
    pub issued_ms: EpochMillis,
    /// Not to be applied after this time.
    pub expires_ms: Option<EpochMillis>,
    /// Authority it is issued under.
    pub authority: Option<AuthorityClaim>,
    /// Delivery semantics.
    pub delivery: Delivery,
    /// Key for applying an at-least-once command once.
    pub idempotency_key: String,
    /// Action name: the kind's [`CommandKind::raw_name`], or a custom command's `params.name`.
    pub action: String,
    /// Action parameters.
    pub params: StringMap,
    /// What it asks.
    pub kind: CommandKind,
    /// Publication attempt: 1, then 2 for the first re-send.
    pub attempt: i32,
    /// Event time this attempt was published at.
    pub published_ms: EpochMillis,
    /// Domain of the node when published.
    pub domain_id: String,
    /// `<bundle_id>@<version>` for a rollout's update.
    pub rollout: Option<String>,
}

avro_enum! {
    /// How far a node got with a command.
    pub enum AckStatus {
        /// Taken, not yet applied.
        Received = "RECEIVED",
        /// Applied.
        Applied = "APPLIED",
        /// Failed (with a reason).
        Failed = "FAILED",
        /// A status added after this schema version.
        Unknown = "UNKNOWN",
    }
}

/// A node's acknowledgement of a command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandAck {
    /// Command acknowledged.
    pub command_id: String,
    /// How far the node got.
    pub status: AckStatus,
    /// Why it failed, or a note.
    pub reason: Option<String>,
    /// Software version after applying it.
    pub reported_version: Option<String>,
}

avro_enum! {
    /// Status of a command in its ledger.
    pub enum CommandState {
        /// Accepted from an issuer with authority.
        Accepted = "ACCEPTED",
        /// Held, not published (node away, reconciling, quarantined, constraints).
        Held = "HELD",
        /// Published for delivery (first attempt).
        Published = "PUBLISHED",
        /// Re-published (an at-least-once command without an ack yet).
        Resent = "RESENT",
        /// The node acknowledged receipt.
        Received = "RECEIVED",
        /// The node applied it (final).
        Applied = "APPLIED",
        /// The node failed to apply it (final).
        Failed = "FAILED",
        /// Expired before it was acknowledged (final).
        Expired = "EXPIRED",
        /// An at-most-once command without an ack within the ack timeout (final).
        Lost = "LOST",
        /// Not accepted (final).
        Rejected = "REJECTED",
        /// Withdrawn: the node retired, or a newer rollout superseded it (final).
        Cancelled = "CANCELLED",
        /// A status added after this schema version.
        Unknown = "UNKNOWN",
    }
}

impl CommandState {
    /// Whether nothing follows this status.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            CommandState::Applied
                | CommandState::Failed
                | CommandState::Expired
                | CommandState::Lost
                | CommandState::Rejected
                | CommandState::Cancelled
        )
    }
}

/// One entry of a command's status ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandStatus {
    /// Command id.
    pub command_id: String,
    /// Idempotency key.
    pub idempotency_key: String,
    /// Node the entry is about; empty for a rejection that concerns no node.
    pub node_id: String,
    /// Domain of the node (or the target domain).
    pub domain_id: String,
    /// What the command targeted.
    pub target_kind: CommandTarget,
    /// Node or domain targeted.
    pub target_id: String,
    /// What it asks.
    pub kind: CommandKind,
    /// Delivery semantics.
    pub delivery: Delivery,
    /// Status entered.
    pub status: CommandState,
    /// Reason code or failure text.
    pub reason: Option<String>,
    /// Event time of the change.
    pub at_ms: EpochMillis,
    /// Publications so far.
    pub attempts: i32,
    /// Issue time.
    pub issued_ms: EpochMillis,
    /// Expiry.
    pub expires_ms: Option<EpochMillis>,
    /// Issuing controller.
    pub controller_id: String,
    /// `<bundle_id>@<version>` for a rollout's update.
    pub rollout: Option<String>,
    /// Per-node sequence of status entries; 0 for an entry that concerns no node.
    pub seq: i64,
}

plain_canonical!(
    Command => catalog::COMMAND,
    CommandStatus => catalog::COMMAND_STATUS,
);

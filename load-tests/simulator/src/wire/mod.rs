//! The raw input contract (`fleet.raw.v1`) as the simulator writes it: one flat
//! JSON object per message, common fields first, then the type's own fields.
//!
//! These are write-only views that borrow from the simulator's state; the
//! normalizers in `ingest` own the parsing side of the contract. Node messages
//! are here, control-plane records in the `control` submodule (re-exported).

use std::collections::BTreeMap;

use serde::Serialize;

mod control;

pub use control::{
    AssignRecord, AuthorityLevel, AuthorityRecord, Autonomy, BundleRecord, Claim, DomainLevel,
    DomainRecord, DomainSync, SyncDirection, SyncRecord,
};

/// Node kind (`register.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NodeKind {
    /// Edge node.
    Edge,
    /// Data-centre node.
    Dc,
    /// Gateway.
    Gateway,
    /// Relay.
    Relay,
    /// Virtual node (never generated; part of the contract).
    Virtual,
}

/// Health reported by a heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Health {
    /// Healthy.
    Ok,
    /// Working with reduced capacity.
    Degraded,
    /// Not working (never generated).
    Failed,
    /// Health unknown (never generated).
    Unknown,
}

/// State carried by a `link` message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkState {
    /// The node's link went down.
    Lost,
    /// The node's link came back.
    Detected,
}

/// Fields every node message starts with.
#[derive(Debug, Serialize)]
pub struct Header<'a> {
    /// Message type (`register`, `heartbeat`, ...).
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Immutable node id (also the Kafka key).
    pub node_id: &'a str,
    /// Event time, RFC 3339 UTC with milliseconds.
    pub ts: &'a str,
    /// Per-node sequence number, starting at 1.
    pub seq: u64,
    /// Optional event id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<&'a str>,
}

/// A node message: header plus the type's flat fields.
#[derive(Debug, Serialize)]
pub struct NodeMessage<'a, B> {
    /// Common fields.
    #[serde(flatten)]
    pub header: Header<'a>,
    /// Type-specific fields.
    #[serde(flatten)]
    pub body: B,
}

/// `register` body.
#[derive(Debug, Serialize)]
pub struct Register<'a> {
    /// Node kind.
    pub kind: NodeKind,
    /// Owning domain (the node's zone).
    pub domain_id: &'a str,
    /// Region.
    pub region: &'a str,
    /// Zone.
    pub zone: &'a str,
    /// Tags.
    pub tags: &'a [String],
    /// Hardware identity.
    pub hardware: Hardware<'a>,
    /// Firmware identity.
    pub firmware: Firmware<'a>,
    /// Public key; the simulator has none and omits the field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_key: Option<&'a str>,
}

/// `register.hardware`.
#[derive(Debug, Serialize)]
pub struct Hardware<'a> {
    /// Serial number.
    pub serial: &'a str,
    /// Manufacturer.
    pub manufacturer: &'a str,
    /// Model.
    pub model: &'a str,
    /// Manufacturing batch.
    pub batch_id: &'a str,
    /// Manufacturing origin.
    pub origin: &'a str,
}

/// `register.firmware`.
#[derive(Debug, Serialize)]
pub struct Firmware<'a> {
    /// Firmware version.
    pub version: &'a str,
    /// Firmware signature, `sha256:<hex>`.
    pub signature: &'a str,
}

/// `heartbeat` body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Heartbeat {
    /// Round-trip time, milliseconds.
    pub rtt_ms: f64,
    /// Packet loss, percent (0..=100).
    pub loss_pct: f64,
    /// Available bandwidth, kbit/s.
    pub bandwidth_kbps: u64,
    /// Messages buffered on the node, not yet sent upstream.
    pub backlog_messages: u64,
    /// Self-reported health.
    pub health: Health,
    /// Seconds since the node booted.
    pub uptime_s: u64,
}

/// `snapshot` body.
#[derive(Debug, Serialize)]
pub struct Snapshot<'a> {
    /// Running software version, e.g. `1.4.6`.
    pub reported_version: &'a str,
    /// Applied policy version, e.g. `policy-v2.0`.
    pub policy_version: &'a str,
    /// Applied configuration, flat keys.
    pub config: &'a BTreeMap<&'static str, ConfigValue>,
    /// Firmware version.
    pub firmware_version: &'a str,
    /// SBOM hash of the running software, `sha256:<hex>`.
    pub sbom_hash: &'a str,
    /// Hardware inventory.
    pub inventory: Inventory,
}

/// A configuration value in a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ConfigValue {
    /// A string value.
    Text(&'static str),
    /// An integer value.
    Int(i64),
}

/// `snapshot.inventory`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Inventory {
    /// CPU model and core count, e.g. `arm64-8c`.
    pub cpu: &'static str,
    /// Memory, GiB.
    pub ram_gb: u32,
    /// Storage, GiB.
    pub storage_gb: u32,
    /// GPU models, one entry per GPU.
    pub gpus: &'static [&'static str],
}

/// `link` body.
#[derive(Debug, Serialize)]
pub struct Link {
    /// New link state.
    pub state: LinkState,
}

/// A `heartbeat` or `link` body with the relay path the node's traffic takes.
#[derive(Debug, Serialize)]
pub struct Via<'a, B> {
    /// The message's own fields.
    #[serde(flatten)]
    pub body: B,
    /// Relay ids, nearest hop first; `[]` = direct; omitted = path unchanged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<&'a [String]>,
}

/// Kind of a declared relationship between two nodes (seed 003's edges).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EdgeRelation {
    /// Call signaling.
    Signaling,
    /// Media streams.
    Media,
    /// Control traffic.
    Control,
    /// A fallback path around the usual one.
    Bypass,
}

/// State of a declared edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EdgeState {
    /// In use.
    Up,
    /// Declared but not working.
    Down,
    /// No longer declared.
    Removed,
}

/// `edge` body: a declared relationship from the sending node to `peer_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Edge<'a> {
    /// The other node (never the sender).
    pub peer_id: &'a str,
    /// What the relationship carries.
    pub relation: EdgeRelation,
    /// Its state.
    pub state: EdgeState,
}

/// Phase of a `replay` message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReplayPhase {
    /// Opens a session and announces `backlog_total`.
    Begin,
    /// Carries up to a chunk's worth of buffered events.
    Chunk,
    /// Closes the session.
    End,
}

/// `replay` body: one message of a backlog upload session. `B` is the type of
/// the carried events (whole node messages with their own `ts` and `seq`).
#[derive(Debug, Serialize)]
pub struct Replay<'a, B> {
    /// Phase of the session.
    pub phase: ReplayPhase,
    /// Session id, the same on every message of one upload.
    pub session_id: &'a str,
    /// Chunk number, from 1; only on `chunk` messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunk_seq: Option<u64>,
    /// Number of events the whole session uploads.
    pub backlog_total: u64,
    /// The carried events; only on `chunk` messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<&'a [B]>,
}

/// Formats epoch milliseconds as RFC 3339 UTC with milliseconds
/// (`2026-02-27T00:15:00.000Z`); `None` outside years 0..=9999.
pub fn format_ts(ms: i64) -> Option<String> {
    let nanos = i128::from(ms).checked_mul(1_000_000)?;
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()?;
    if !(0..=9999).contains(&t.year()) {
        return None;
    }
    Some(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_millis_utc() {
        assert_eq!(
            format_ts(1_772_151_300_000).as_deref(),
            Some("2026-02-27T00:15:00.000Z")
        );
        assert_eq!(format_ts(1).as_deref(), Some("1970-01-01T00:00:00.001Z"));
        assert_eq!(format_ts(-1).as_deref(), Some("1969-12-31T23:59:59.999Z"));
        assert_eq!(format_ts(i64::MAX), None);
        assert_eq!(format_ts(253_402_300_800_000), None); // year 10000
    }

    #[test]
    fn via_and_edge_bodies_are_flat() {
        let path = ["relay-a2-2".to_owned(), "relay-a2-1".to_owned()];
        let hb = NodeMessage {
            header: Header {
                kind: "link",
                node_id: "sx-a2-node-11",
                ts: "2026-02-27T00:15:00.000Z",
                seq: 3,
                event_id: None,
            },
            body: Via {
                body: Link {
                    state: LinkState::Detected,
                },
                via: Some(&path[..]),
            },
        };
        assert_eq!(
            serde_json::to_string(&hb).ok().as_deref(),
            Some(concat!(
                r#"{"type":"link","node_id":"sx-a2-node-11","ts":"2026-02-27T00:15:00.000Z","#,
                r#""seq":3,"state":"detected","via":["relay-a2-2","relay-a2-1"]}"#
            ))
        );
        let edge = Edge {
            peer_id: "sx-a1-node-02",
            relation: EdgeRelation::Bypass,
            state: EdgeState::Up,
        };
        assert_eq!(
            serde_json::to_string(&edge).ok().as_deref(),
            Some(r#"{"peer_id":"sx-a1-node-02","relation":"bypass","state":"up"}"#)
        );
    }

    #[test]
    fn node_message_is_flat() {
        let msg = NodeMessage {
            header: Header {
                kind: "link",
                node_id: "sx-edge-a1-00042",
                ts: "2026-02-27T00:15:00.000Z",
                seq: 7,
                event_id: None,
            },
            body: Link {
                state: LinkState::Lost,
            },
        };
        let json = serde_json::to_string(&msg).ok();
        assert_eq!(
            json.as_deref(),
            Some(
                r#"{"type":"link","node_id":"sx-edge-a1-00042","ts":"2026-02-27T00:15:00.000Z","seq":7,"state":"lost"}"#
            )
        );
    }
}

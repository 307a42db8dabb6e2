//! One raw message for `fleet.raw.v1` and how the simulator's records become one
//! (JSON bytes, Kafka key, event time).

use serde::Serialize;

use crate::wire::{Header, NodeMessage};

/// One message for the raw topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMessage {
    /// Kafka key: the node id, or the domain id for control-plane records.
    pub key: String,
    /// JSON payload.
    pub payload: Vec<u8>,
    /// A control-plane record (domain, bundle, claim, assignment), not a node's message.
    pub control: bool,
    /// Event time (`ts`) in epoch milliseconds.
    pub event_time_ms: i64,
}

/// The `event_id` the simulator gives a node's message when asked to.
pub(crate) fn event_id(node_id: &str, seq: u64) -> String {
    format!("evt-{node_id}-{seq:08}")
}

/// A node message (`kind`, header fields, flat `body`) keyed by its node.
pub(crate) fn node_message<B: Serialize>(
    kind: &'static str,
    node_id: &str,
    ts: &str,
    seq: u64,
    event_ids: bool,
    body: B,
    event_time_ms: i64,
) -> Result<RawMessage, serde_json::Error> {
    let event_id = event_ids.then(|| event_id(node_id, seq));
    let header = Header {
        kind,
        node_id,
        ts,
        seq,
        event_id: event_id.as_deref(),
    };
    encode(node_id, event_time_ms, &NodeMessage { header, body })
}

pub(crate) fn encode<T: Serialize>(
    key: &str,
    event_time_ms: i64,
    value: &T,
) -> Result<RawMessage, serde_json::Error> {
    Ok(RawMessage {
        key: key.to_owned(),
        payload: serde_json::to_vec(value)?,
        control: false,
        event_time_ms,
    })
}

impl RawMessage {
    /// Marks the message as a control-plane record.
    pub(crate) fn into_control(mut self) -> Self {
        self.control = true;
        self
    }
}

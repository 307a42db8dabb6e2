//! A returning node's backlog upload: `replay` `begin`, chunks of buffered heartbeats, `end`.

use std::collections::VecDeque;

use crate::message::{event_id, node_message, RawMessage};
use crate::wire::{Header, Heartbeat, NodeMessage, Replay, ReplayPhase};

/// Most buffered events one `replay` chunk carries.
pub const REPLAY_CHUNK_EVENTS: usize = 50;

/// A heartbeat recorded while the link was down.
#[derive(Debug)]
pub(super) struct Buffered {
    /// Event time of its round.
    pub ts: String,
    /// Its `seq`.
    pub seq: u64,
    /// What it would have sent.
    pub heartbeat: Heartbeat,
}

/// Where and when one replay session is sent.
pub(super) struct ReplaySend<'a> {
    /// The returning node.
    pub node_id: &'a str,
    /// The session id.
    pub session_id: &'a str,
    /// Event time of the upload, RFC 3339.
    pub ts: &'a str,
    /// The same, epoch milliseconds.
    pub event_time_ms: i64,
    /// Give every message an `event_id`.
    pub event_ids: bool,
}

impl ReplaySend<'_> {
    /// Queues `begin`, the chunks carrying `buffer` and `end`, each with the next `seq`.
    pub(super) fn upload(
        &self,
        buffer: &[Buffered],
        seq: &mut u64,
        out: &mut VecDeque<RawMessage>,
    ) -> Result<(), serde_json::Error> {
        let backlog_total = u64::try_from(buffer.len()).unwrap_or(u64::MAX);
        let ids: Vec<Option<String>> = buffer
            .iter()
            .map(|b| self.event_ids.then(|| event_id(self.node_id, b.seq)))
            .collect();
        let events: Vec<NodeMessage<'_, &Heartbeat>> = buffer
            .iter()
            .zip(&ids)
            .map(|(b, id)| NodeMessage {
                header: Header {
                    kind: "heartbeat",
                    node_id: self.node_id,
                    ts: &b.ts,
                    seq: b.seq,
                    event_id: id.as_deref(),
                },
                body: &b.heartbeat,
            })
            .collect();
        let mut send = |phase, chunk_seq, events| {
            *seq += 1;
            let body = Replay {
                phase,
                session_id: self.session_id,
                chunk_seq,
                backlog_total,
                events,
            };
            let msg = node_message(
                "replay",
                self.node_id,
                self.ts,
                *seq,
                self.event_ids,
                body,
                self.event_time_ms,
            )?;
            out.push_back(msg);
            Ok::<_, serde_json::Error>(())
        };
        send(ReplayPhase::Begin, None, None)?;
        for (chunk_seq, chunk) in (1u64..).zip(events.chunks(REPLAY_CHUNK_EVENTS)) {
            send(ReplayPhase::Chunk, Some(chunk_seq), Some(chunk))?;
        }
        send(ReplayPhase::End, None, None)
    }
}

//! The stateful half of the normalizer, per node: signatures and keys, replay chunk dedupe,
//! then seq dedupe and ordering. Pure: state and message in, verdict out.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use sxfleet_runtime::stage::InternalError;
use sxfleet_runtime::store::StoreCodec;
use sxfleet_schemas::{EventPayload, FleetEvent, ReplayPhase};

use crate::config::{NormalizerConfig, SignatureMode};
use crate::order::{Offered, SeqState};
use crate::reject::{ReasonCode, Rejection};
use crate::signature::{self, Signed};
use crate::telemetry::Counts;

/// Version of the [`NodeIngest`] changelog format.
pub const NODE_INGEST_FORMAT: u32 = 1;

/// Most chunk numbers remembered for the replay session in progress.
const MAX_CHUNKS: usize = 4_096;

/// What the normalizer keeps per node (store `ingest-nodes`, JSON in the changelog).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeIngest {
    /// Seq dedupe and the reorder buffer.
    pub seq: SeqState,
    /// The registered public key (standard base64); the first registration wins.
    pub public_key: Option<String>,
    /// The latest replay session and the chunks of it already taken.
    pub replay: Option<ReplayChunks>,
}

/// Chunks of one replay session already taken, to drop a chunk the node sends again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayChunks {
    /// The session id.
    pub session_id: String,
    /// `chunk_seq`s taken (the lowest are forgotten past [`MAX_CHUNKS`]).
    pub chunks: BTreeSet<i64>,
}

impl StoreCodec for NodeIngest {
    fn encode(&self) -> Result<Vec<u8>, InternalError> {
        serde_json::to_vec(self)
            .map_err(|error| InternalError(format!("node ingest state does not encode: {error}")))
    }

    fn decode(bytes: &[u8]) -> Result<Self, InternalError> {
        serde_json::from_slice(bytes)
            .map_err(|error| InternalError(format!("node ingest state does not decode: {error}")))
    }
}

/// One node message after stateless normalization.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeMessage {
    /// The message's own event, then the events a replay chunk carries.
    pub events: Vec<FleetEvent>,
    /// Its signature.
    pub signed: Signed,
}

/// The outcome of one message.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Taken: the events released now, in order (possibly none, possibly held ones).
    Taken {
        /// Released events.
        released: Vec<FleetEvent>,
        /// What happened to each offered event.
        counts: Counts,
    },
    /// Rejected to the DLQ; a trust violation when the code says so.
    Rejected(Rejection),
}

/// Applies one node message to the node's state (created on first sight).
pub fn admit(
    state: &mut Option<NodeIngest>,
    message: NodeMessage,
    config: &NormalizerConfig,
    now_ms: i64,
) -> Verdict {
    let Some(head) = message.events.first() else {
        return Verdict::Taken {
            released: Vec::new(),
            counts: Counts::default(),
        };
    };
    let node = state.get_or_insert_with(|| NodeIngest {
        seq: SeqState::new(config.first_seq, head.seq),
        public_key: None,
        replay: None,
    });
    if let Err(rejection) = check_trust(node, head, &message.signed, config) {
        return Verdict::Rejected(rejection);
    }
    let resent = is_resent_chunk(node, head);
    let limits = config.order_limits();
    let mut released = Vec::new();
    let mut counts = Counts::default();
    for (index, event) in message.events.into_iter().enumerate() {
        let seq = event.seq;
        if resent && index == 0 {
            // The chunk marker of a re-sent chunk: consume its seq, forward nothing.
            node.seq.offer(seq, None, now_ms, &limits, &mut released);
            counts.duplicates += 1;
            continue;
        }
        let begins_replay = index == 0 && is_replay_begin(&event);
        match node
            .seq
            .offer(seq, Some(event), now_ms, &limits, &mut released)
        {
            // A BEGIN says the node is back and will replay what it buffered: the seqs still
            // missing below it are that backlog, so what waits for them goes out now and the
            // backlog's events come late into the gaps, after their chunk markers.
            Offered::Held if begins_replay => {
                node.seq.release_through(seq, &limits, &mut released);
                counts.in_order += 1;
            }
            Offered::InOrder => counts.in_order += 1,
            Offered::Held => counts.held += 1,
            Offered::Late => counts.late += 1,
            Offered::Duplicate => counts.duplicates += 1,
        }
    }
    Verdict::Taken { released, counts }
}

/// Registers a key on first registration and checks signatures when verification is on.
fn check_trust(
    node: &mut NodeIngest,
    head: &FleetEvent,
    signed: &Signed,
    config: &NormalizerConfig,
) -> Result<(), Rejection> {
    let offered_key = match &head.payload {
        EventPayload::Register(register) => register.public_key.as_deref(),
        _ => None,
    };
    if let Some(offered) = offered_key {
        signature::public_key(offered)?;
        if node
            .public_key
            .as_deref()
            .is_some_and(|registered| registered != offered)
        {
            return Err(Rejection::new(
                ReasonCode::KeyConflict,
                "registration names another public key than the one already registered",
            ));
        }
    }
    if config.signatures == SignatureMode::Verify {
        if let Some(text) = node.public_key.as_deref().or(offered_key) {
            signature::verify(&signature::public_key(text)?, signed)?;
        }
    }
    if node.public_key.is_none() {
        node.public_key = offered_key.map(str::to_owned);
    }
    Ok(())
}

fn is_replay_begin(event: &FleetEvent) -> bool {
    matches!(&event.payload, EventPayload::Replay(r) if r.phase == ReplayPhase::Begin)
}

/// True when `head` is a replay chunk of the current session already taken; records it
/// otherwise. A BEGIN starts a new session record.
fn is_resent_chunk(node: &mut NodeIngest, head: &FleetEvent) -> bool {
    let EventPayload::Replay(replay) = &head.payload else {
        return false;
    };
    let Some(session_id) = replay.session_id.as_deref() else {
        return false;
    };
    let same_session = node
        .replay
        .as_ref()
        .is_some_and(|r| r.session_id == session_id);
    if !same_session || replay.phase == ReplayPhase::Begin {
        if same_session {
            return false; // a re-sent BEGIN: its seq dedupes it
        }
        node.replay = Some(ReplayChunks {
            session_id: session_id.to_owned(),
            chunks: BTreeSet::new(),
        });
    }
    let (Some(chunk_seq), Some(session)) = (replay.chunk_seq, node.replay.as_mut()) else {
        return false;
    };
    if replay.phase != ReplayPhase::Chunk {
        return false;
    }
    if !session.chunks.insert(chunk_seq) {
        return true;
    }
    if session.chunks.len() > MAX_CHUNKS {
        session.chunks.pop_first();
    }
    false
}

#[cfg(test)]
mod tests;

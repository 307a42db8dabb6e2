//! What the connectivity machine keeps per node ([`ConnectivityState`], its sync debt and
//! replay session) and the ledger entry it writes per change of mode
//! ([`ConnectivityTransition`]).

use serde::{Deserialize, Serialize};
use sxfleet_schemas::{ConnectivityMode, EpochMillis, LinkQuality};

/// Connectivity of one node, folded from its events and ticks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConnectivityState {
    /// Current position on the spectrum; `Unknown` until the first contact.
    pub mode: ConnectivityMode,
    /// Time the current mode was entered.
    pub since_ms: Option<EpochMillis>,
    /// Latest time seen: the newest live event time or tick (the "now" of sync debt).
    pub now_ms: Option<EpochMillis>,
    /// Latest event time of a live (not replayed) contact from the node.
    pub last_seen_ms: Option<EpochMillis>,
    /// Last time the node was in live contact: the latest contact that left it LIVE.
    pub last_sync_ms: Option<EpochMillis>,
    /// `seq` of the latest live event applied (duplicates and older re-deliveries are ignored).
    pub last_seq: Option<i64>,
    /// Last reported link quality.
    pub link: LinkQuality,
    /// Silence before the latest contact when it exceeded `edge_cached_after_ms`.
    pub sync_interval_ms: Option<i64>,
    /// How far the control plane's view lags behind the node.
    pub sync_debt: SyncDebtState,
    /// Replay session in flight; `Some` exactly when the mode is REPLAYING.
    pub replay: Option<ReplayState>,
}

/// Sync debt: time behind and messages still buffered on the node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncDebtState {
    /// `(now - last_sync) / 1000`, 0 before the node was ever LIVE.
    pub seconds_behind: i64,
    /// While replaying: `backlog_total - replayed`; otherwise the last heartbeat's backlog.
    pub backlog_messages: i64,
}

/// Progress of a replay session.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReplayState {
    /// Session id, when given.
    pub session_id: Option<String>,
    /// Event time of the replay BEGIN (or of the first marker of the session).
    pub started_ms: EpochMillis,
    /// Backlog announced by the node, when known.
    pub backlog_total: Option<i64>,
    /// Chunk markers received.
    pub chunks: i64,
    /// Replayed events received so far.
    pub replayed: i64,
    /// Highest `seq` of a replayed event counted (a replayed duplicate is not counted twice).
    pub max_replayed_seq: Option<i64>,
    /// Observed rate: `replayed / (now - started)` in events per second.
    pub rate_per_s: Option<f64>,
    /// `now + remaining * (now - started) / replayed`, when a rate is known.
    pub eta_ms: Option<EpochMillis>,
}

/// One ledger entry: a change of mode and what explains it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectivityTransition {
    /// When the change happened (event time, or the instant the silence crossed a threshold).
    pub at_ms: EpochMillis,
    /// Mode left.
    pub from: ConnectivityMode,
    /// Mode entered.
    pub to: ConnectivityMode,
    /// Why: `connectivity_live`, `latency_threshold`, `sync_interval_extends`,
    /// `connection_lost`, `connection_detected`, `backlog_upload`, `replay_complete`, `silence`.
    pub reason: String,
    /// Round-trip time, on transitions to LIVE or DELAYED.
    pub latency_ms: Option<f64>,
    /// Backlog announced, on transitions to REPLAYING.
    pub backlog: Option<i64>,
    /// Observed silence between syncs, on transitions to EDGE_CACHED.
    pub sync_interval_ms: Option<i64>,
}

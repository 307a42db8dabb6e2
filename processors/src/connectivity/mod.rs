//! The connectivity spectrum (seeds 001, 003, 004): one state machine per node over
//! LIVE / DELAYED / EDGE_CACHED / AUTONOMOUS / DISCONNECTED / RETURNING / REPLAYING, with sync
//! debt, replay progress and a ledger of transitions (seed 003's "ConnectivityLedger").
//!
//! Pure and deterministic: time comes only from event times and from explicit ticks
//! ([`on_tick`]), which the runtime fires at [`next_deadline`]. Every rule, threshold and
//! formula is written down in `docs/projections.md` ("Connectivity").

use serde::{Deserialize, Serialize};
use sxfleet_schemas::{
    ConnectivityMode, EpochMillis, EventPayload, FleetEvent, LinkQuality, LinkState, ReplayPhase,
};

use ConnectivityMode as Mode;

const MINUTE_MS: i64 = 60_000;

/// Thresholds of the connectivity machine. Defaults are documented per field; a domain may
/// override any of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectivityConfig {
    /// Round-trip time above which a connected node is DELAYED (default 1000 ms).
    pub delayed_rtt_ms: f64,
    /// Packet loss above which a connected node is DELAYED (default 5 %).
    pub delayed_loss_pct: f64,
    /// A contact after a silence longer than this (and not longer than `autonomous_after_ms`)
    /// means the node syncs only periodically: EDGE_CACHED (default 10 min).
    pub edge_cached_after_ms: i64,
    /// Silence longer than this moves a connected, returning or replaying node to AUTONOMOUS
    /// (default 30 min).
    pub autonomous_after_ms: i64,
    /// Silence longer than this moves an AUTONOMOUS node to DISCONNECTED (default 6 h).
    pub disconnected_after_ms: i64,
}

impl Default for ConnectivityConfig {
    fn default() -> Self {
        ConnectivityConfig {
            delayed_rtt_ms: 1_000.0,
            delayed_loss_pct: 5.0,
            edge_cached_after_ms: 10 * MINUTE_MS,
            autonomous_after_ms: 30 * MINUTE_MS,
            disconnected_after_ms: 6 * 60 * MINUTE_MS,
        }
    }
}

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

/// Label of a mode as seed 003's ledger writes it (`"edge-cached"`).
pub fn ledger_label(mode: ConnectivityMode) -> &'static str {
    match mode {
        Mode::Live => "live",
        Mode::Delayed => "delayed",
        Mode::EdgeCached => "edge-cached",
        Mode::Autonomous => "autonomous",
        Mode::Disconnected => "disconnected",
        Mode::Returning => "returning",
        Mode::Replaying => "replaying",
        Mode::Unknown => "unknown",
    }
}

/// Applies one event of the node; returns the ledger entries it caused (silence transitions
/// that fell due before the event come first).
pub fn on_event(
    state: &mut ConnectivityState,
    config: &ConnectivityConfig,
    event: &FleetEvent,
) -> Vec<ConnectivityTransition> {
    if event.replayed {
        count_replayed(state, event.seq);
        return Vec::new();
    }
    if state.last_seq.is_some_and(|last| event.seq <= last) {
        return Vec::new();
    }
    let t = event.event_time_ms;
    let mut out = on_tick(state, config, t);
    state.last_seq = Some(event.seq);
    match &event.payload {
        EventPayload::Link(link) => match link.state {
            LinkState::Lost => lose_link(state, t, "connection_lost", &mut out),
            LinkState::Detected => contact(state, config, t, None, &mut out),
        },
        EventPayload::Heartbeat(heartbeat) => {
            state.link.rtt_ms = heartbeat.rtt_ms;
            state.link.loss_pct = heartbeat.loss_pct;
            state.link.bandwidth_kbps = heartbeat.bandwidth_kbps;
            if let Some(backlog) = heartbeat.backlog_messages {
                state.sync_debt.backlog_messages = backlog.max(0);
            }
            let slow = heartbeat
                .rtt_ms
                .is_some_and(|rtt| rtt > config.delayed_rtt_ms)
                || heartbeat
                    .loss_pct
                    .is_some_and(|loss| loss > config.delayed_loss_pct);
            contact(state, config, t, Some(slow), &mut out);
        }
        EventPayload::Replay(replay) => {
            contact(state, config, t, None, &mut out);
            match replay.phase {
                ReplayPhase::Begin | ReplayPhase::Chunk => {
                    begin_or_continue(state, t, replay, &mut out)
                }
                ReplayPhase::End => end_replay(state, t, &mut out),
            }
        }
        EventPayload::Register(_)
        | EventPayload::Snapshot(_)
        | EventPayload::Lifecycle(_)
        | EventPayload::Attestation(_) => contact(state, config, t, None, &mut out),
        // Emitted by the normalizer, not sent by the node: no contact.
        EventPayload::TrustViolation(_) => {}
        // issue 12: handled by the processors branch
        EventPayload::Edge(_) => {}
    }
    refresh(state);
    out
}

/// Advances time to `now_ms` and applies the silence rules that fell due; returns their ledger
/// entries. A tick older than the state's time changes nothing.
pub fn on_tick(
    state: &mut ConnectivityState,
    config: &ConnectivityConfig,
    now_ms: EpochMillis,
) -> Vec<ConnectivityTransition> {
    let mut out = Vec::new();
    advance(state, now_ms);
    while let Some(deadline) = next_deadline(state, config) {
        if deadline > now_ms {
            break;
        }
        if state.mode == Mode::Autonomous {
            transition(state, deadline, Mode::Disconnected, "silence", &mut out);
        } else {
            lose_link(state, deadline, "silence", &mut out);
        }
    }
    refresh(state);
    out
}

/// The earliest time at which a tick would change the mode (silence strictly longer than a
/// threshold), or `None` when no silence rule applies.
pub fn next_deadline(state: &ConnectivityState, config: &ConnectivityConfig) -> Option<i64> {
    let last_seen = state.last_seen_ms?;
    let after = match state.mode {
        Mode::Live | Mode::Delayed | Mode::EdgeCached | Mode::Returning | Mode::Replaying => {
            config.autonomous_after_ms
        }
        Mode::Autonomous => config.disconnected_after_ms,
        Mode::Disconnected | Mode::Unknown => return None,
    };
    Some(last_seen.saturating_add(after).saturating_add(1))
}

/// A live contact from the node at `t`. `slow` is the heartbeat's link verdict (`None` for
/// contacts without link metrics, which keep the current connected mode).
fn contact(
    state: &mut ConnectivityState,
    config: &ConnectivityConfig,
    t: EpochMillis,
    slow: Option<bool>,
    out: &mut Vec<ConnectivityTransition>,
) {
    let gap = state.last_seen_ms.map(|seen| t.saturating_sub(seen));
    state.last_seen_ms = Some(state.last_seen_ms.map_or(t, |seen| seen.max(t)));
    match state.mode {
        Mode::Autonomous | Mode::Disconnected => {
            transition(state, t, Mode::Returning, "connection_detected", out)
        }
        Mode::Returning | Mode::Replaying => {}
        Mode::Unknown | Mode::Live | Mode::Delayed | Mode::EdgeCached => {
            if let Some(gap) = gap.filter(|gap| *gap > config.edge_cached_after_ms) {
                state.sync_interval_ms = Some(gap);
                transition(state, t, Mode::EdgeCached, "sync_interval_extends", out);
            } else {
                match slow {
                    Some(true) => transition(state, t, Mode::Delayed, "latency_threshold", out),
                    Some(false) => transition(state, t, Mode::Live, "connectivity_live", out),
                    None if state.mode == Mode::Unknown => {
                        transition(state, t, Mode::Live, "connection_detected", out)
                    }
                    None => {}
                }
            }
            if state.mode == Mode::Live {
                state.sync_interval_ms = None;
                state.last_sync_ms = Some(state.last_sync_ms.map_or(t, |s| s.max(t)));
            }
        }
    }
}

fn lose_link(
    state: &mut ConnectivityState,
    at: EpochMillis,
    reason: &str,
    out: &mut Vec<ConnectivityTransition>,
) {
    if !matches!(state.mode, Mode::Autonomous | Mode::Disconnected) {
        transition(state, at, Mode::Autonomous, reason, out);
    }
}

fn begin_or_continue(
    state: &mut ConnectivityState,
    t: EpochMillis,
    replay: &sxfleet_schemas::Replay,
    out: &mut Vec<ConnectivityTransition>,
) {
    let same_session = state.replay.as_ref().is_some_and(|session| {
        replay.phase == ReplayPhase::Chunk
            || replay.session_id.is_none()
            || session.session_id == replay.session_id
    });
    if !same_session {
        state.replay = Some(ReplayState {
            session_id: replay.session_id.clone(),
            started_ms: t,
            ..ReplayState::default()
        });
    }
    if let Some(session) = state.replay.as_mut() {
        if replay.backlog_total.is_some() {
            session.backlog_total = replay.backlog_total.map(|total| total.max(0));
        }
        if replay.phase == ReplayPhase::Chunk {
            session.chunks += 1;
        }
    }
    if state.mode != Mode::Replaying {
        transition(state, t, Mode::Replaying, "backlog_upload", out);
    }
}

fn end_replay(
    state: &mut ConnectivityState,
    t: EpochMillis,
    out: &mut Vec<ConnectivityTransition>,
) {
    if state.mode == Mode::Replaying {
        state.sync_debt.backlog_messages = 0;
        transition(state, t, Mode::Live, "replay_complete", out);
        state.last_sync_ms = Some(state.last_sync_ms.map_or(t, |s| s.max(t)));
    }
}

fn count_replayed(state: &mut ConnectivityState, seq: i64) {
    if let Some(session) = state.replay.as_mut() {
        if session.max_replayed_seq.is_none_or(|max| seq > max) {
            session.max_replayed_seq = Some(seq);
            session.replayed += 1;
        }
    }
    refresh(state);
}

/// Enters `to` at `at` (no-op when already there) and appends the ledger entry.
fn transition(
    state: &mut ConnectivityState,
    at: EpochMillis,
    to: ConnectivityMode,
    reason: &str,
    out: &mut Vec<ConnectivityTransition>,
) {
    let from = state.mode;
    if from == to {
        return;
    }
    state.mode = to;
    state.since_ms = Some(at);
    if to != Mode::Replaying {
        state.replay = None;
    }
    advance(state, at);
    out.push(ConnectivityTransition {
        at_ms: at,
        from,
        to,
        reason: reason.to_owned(),
        latency_ms: match to {
            Mode::Live | Mode::Delayed => state.link.rtt_ms,
            _ => None,
        },
        backlog: match to {
            Mode::Replaying => state.replay.as_ref().and_then(|r| r.backlog_total),
            _ => None,
        },
        sync_interval_ms: match to {
            Mode::EdgeCached => state.sync_interval_ms,
            _ => None,
        },
    });
}

fn advance(state: &mut ConnectivityState, t: EpochMillis) {
    state.now_ms = Some(state.now_ms.map_or(t, |now| now.max(t)));
}

/// Recomputes the derived fields: sync debt and replay rate / ETA.
fn refresh(state: &mut ConnectivityState) {
    let now = state.now_ms.unwrap_or(0);
    state.sync_debt.seconds_behind = state
        .last_sync_ms
        .map_or(0, |sync| now.saturating_sub(sync).max(0) / 1_000);
    if let Some(session) = state.replay.as_mut() {
        let remaining = session
            .backlog_total
            .map(|total| total.saturating_sub(session.replayed).max(0));
        if let Some(remaining) = remaining {
            state.sync_debt.backlog_messages = remaining;
        }
        let elapsed = now.saturating_sub(session.started_ms);
        if session.replayed > 0 && elapsed > 0 {
            session.rate_per_s = Some(session.replayed as f64 * 1_000.0 / elapsed as f64);
            session.eta_ms = remaining.map(|remaining| {
                let left =
                    i128::from(remaining) * i128::from(elapsed) / i128::from(session.replayed);
                now.saturating_add(i64::try_from(left).unwrap_or(i64::MAX))
            });
        } else {
            session.rate_per_s = None;
            session.eta_ms = None;
        }
    }
}

#[cfg(test)]
mod tests;

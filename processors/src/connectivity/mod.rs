//! The connectivity spectrum (seeds 001, 003, 004): one state machine per node over
//! LIVE / DELAYED / EDGE_CACHED / AUTONOMOUS / DISCONNECTED / RETURNING / REPLAYING, with sync
//! debt, replay progress and a ledger of transitions (seed 003's "ConnectivityLedger").
//!
//! Pure and deterministic: time comes only from event times and from timer firings
//! ([`on_timer`]), which the runtime fires at [`next_timer`]: silence deadlines
//! ([`next_deadline`]) and sync-debt refreshes ([`next_refresh`]). Every rule, threshold and
//! formula is written down in `docs/projections.md` ("Connectivity").

use sxfleet_schemas::{
    ConnectivityMode, EpochMillis, EventPayload, FleetEvent, LinkState, ReplayPhase,
};

pub use self::config::ConnectivityConfig;
pub use self::state::{ConnectivityState, ConnectivityTransition, ReplayState, SyncDebtState};

use ConnectivityMode as Mode;

mod config;
mod debt;
mod state;

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
        | EventPayload::Attestation(_)
        | EventPayload::Edge(_)
        | EventPayload::CommandAck(_) => contact(state, config, t, None, &mut out),
        // Emitted by the normalizer, not sent by the node: no contact.
        EventPayload::TrustViolation(_) => {}
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

/// When a silent node's sync debt is next refreshed: the first `last_sync + k * refresh` after
/// the state's time and at least one refresh period after the node's last contact, while the
/// node is not LIVE and has a last sync; `None` otherwise. A node that keeps sending (a DELAYED
/// one, say) has its debt recomputed by its own events, so no timer fires for it.
pub fn next_refresh(state: &ConnectivityState, config: &ConnectivityConfig) -> Option<i64> {
    let last_sync = refreshed(state)?;
    let now = state.now_ms.unwrap_or(last_sync);
    let floor = now.max(silent_from(state, config).saturating_sub(1));
    debt::next_refresh(last_sync, floor, config.sync_debt_refresh_ms)
}

/// The first instant at which the node has been silent for a whole refresh period.
fn silent_from(state: &ConnectivityState, config: &ConnectivityConfig) -> EpochMillis {
    state.last_seen_ms.map_or(EpochMillis::MIN, |seen| {
        seen.saturating_add(config.sync_debt_refresh_ms)
    })
}

/// The node's timer: the earlier of its silence deadline and its sync-debt refresh.
pub fn next_timer(state: &ConnectivityState, config: &ConnectivityConfig) -> Option<i64> {
    match (next_deadline(state, config), next_refresh(state, config)) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Fires the node's timers that fell due by `now_ms`, each at its own instant, earliest first:
/// silence transitions (as [`on_tick`] does) and sync-debt refreshes (the debt then reads
/// `(instant - last_sync) / 1000`). Time moves to those instants, never to `now_ms` itself,
/// so the outcome does not depend on when the firing happens. Returns the ledger entries and
/// the latest instant reached (`None` when nothing was due).
pub fn on_timer(
    state: &mut ConnectivityState,
    config: &ConnectivityConfig,
    now_ms: EpochMillis,
) -> (Vec<ConnectivityTransition>, Option<EpochMillis>) {
    let mut out = Vec::new();
    let mut reached = None;
    loop {
        let silence = next_deadline(state, config).filter(|due| *due <= now_ms);
        let horizon = silence.unwrap_or(now_ms);
        // Of the refreshes due before the next silence rule, only the latest shows.
        let refresh = refreshed(state)
            .and_then(|sync| debt::last_refresh(sync, horizon, config.sync_debt_refresh_ms))
            .filter(|at| state.now_ms.is_none_or(|now| *at > now))
            .filter(|at| *at >= silent_from(state, config));
        if let Some(at) = refresh {
            advance(state, at);
            reached = Some(at);
        }
        let Some(due) = silence else { break };
        advance(state, due);
        reached = Some(due);
        if state.mode == Mode::Autonomous {
            transition(state, due, Mode::Disconnected, "silence", &mut out);
        } else {
            lose_link(state, due, "silence", &mut out);
        }
    }
    refresh(state);
    (out, reached)
}

/// The last sync of a node whose sync debt is refreshed by timers (not LIVE, ever synced).
fn refreshed(state: &ConnectivityState) -> Option<EpochMillis> {
    match state.mode {
        Mode::Live | Mode::Unknown => None,
        _ => state.last_sync_ms,
    }
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

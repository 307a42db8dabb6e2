//! Thresholds of the connectivity machine ([`ConnectivityConfig`]), with their defaults.

use serde::{Deserialize, Serialize};

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
    /// While a node is not LIVE, its sync debt is refreshed at every `last_sync + k * this`
    /// (k = 1, 2, ...), so it keeps growing in event time while the node is silent
    /// (default 15 min; 0 turns the refresh off).
    pub sync_debt_refresh_ms: i64,
}

impl Default for ConnectivityConfig {
    fn default() -> Self {
        ConnectivityConfig {
            delayed_rtt_ms: 1_000.0,
            delayed_loss_pct: 5.0,
            edge_cached_after_ms: 10 * MINUTE_MS,
            autonomous_after_ms: 30 * MINUTE_MS,
            disconnected_after_ms: 6 * 60 * MINUTE_MS,
            sync_debt_refresh_ms: 15 * MINUTE_MS,
        }
    }
}

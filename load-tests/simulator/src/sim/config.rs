//! Simulator settings and errors.

use std::time::Duration;

/// 2026-02-27T00:00:00Z in epoch milliseconds.
pub const DEFAULT_START_MS: i64 = 1_772_150_400_000;

/// Simulator settings. Same settings, same output, byte for byte.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Number of nodes (at least 1).
    pub nodes: u32,
    /// RNG seed.
    pub seed: u64,
    /// Event time of the first message, epoch milliseconds.
    pub start_ms: i64,
    /// Event time between two heartbeats of one node (at least 1 ms).
    pub heartbeat_interval: Duration,
    /// A node sends a snapshot about every this many heartbeats (at least 1),
    /// and always after its first heartbeat and after an outage.
    pub snapshot_every: u32,
    /// Multiplier on the chance of link outages; 0 disables them.
    pub outage_rate: f64,
    /// Give every node message an `event_id`.
    pub event_ids: bool,
    /// Declare the control plane of [`crate::control_plane`] after the domains (claims, a
    /// bundle, assignments). Without it every node's drift is UNASSIGNED.
    pub control_plane: bool,
    /// Fail one relay for a few rounds in every period of
    /// [`crate::topology::FAULT_PERIOD_ROUNDS`] rounds: it reports health FAILED and every
    /// node behind it turns slow (DELAYED) in the same rounds.
    pub relay_faults: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            nodes: 100,
            seed: 0,
            start_ms: DEFAULT_START_MS,
            heartbeat_interval: Duration::from_secs(30),
            snapshot_every: 10,
            outage_rate: 1.0,
            event_ids: false,
            control_plane: true,
            relay_faults: true,
        }
    }
}

/// Why the simulator could not start or stopped early.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The configuration is unusable; the caller must fix it.
    #[error("invalid simulator config: {0}")]
    InvalidConfig(&'static str),
    /// An event time left the range RFC 3339 can express (years 0..=9999);
    /// the caller must choose an earlier start or fewer rounds.
    #[error("event time out of range after round {round}")]
    TimeOutOfRange {
        /// The heartbeat round that overflowed (0 = domains and registers).
        round: u64,
    },
    /// A scenario's event time (here `ms`, or a time derived from it) left the range RFC 3339
    /// can express; the caller must choose another start.
    #[error("scenario event time out of range near {ms} ms")]
    ScenarioTimeOutOfRange {
        /// The offending (or starting) event time, epoch milliseconds.
        ms: i64,
    },
    /// A message could not be encoded as JSON: a bug in the simulator.
    #[error("cannot encode a raw message as JSON")]
    Encode(#[from] serde_json::Error),
}

impl SimConfig {
    /// Checks the settings and returns the heartbeat interval in milliseconds.
    ///
    /// # Errors
    /// [`SimError::InvalidConfig`] when `nodes`, `heartbeat_interval` (below
    /// 1 ms) or `snapshot_every` is zero or `outage_rate` is negative or not finite.
    pub fn validate(&self) -> Result<i64, SimError> {
        if self.nodes == 0 {
            return Err(SimError::InvalidConfig("nodes must be at least 1"));
        }
        if self.snapshot_every == 0 {
            return Err(SimError::InvalidConfig("snapshot_every must be at least 1"));
        }
        if !(self.outage_rate.is_finite() && self.outage_rate >= 0.0) {
            return Err(SimError::InvalidConfig(
                "outage_rate must be finite and >= 0",
            ));
        }
        let interval_ms = i64::try_from(self.heartbeat_interval.as_millis())
            .map_err(|_| SimError::InvalidConfig("heartbeat_interval is too long"))?;
        if interval_ms < 1 {
            return Err(SimError::InvalidConfig(
                "heartbeat_interval must be at least 1 ms",
            ));
        }
        Ok(interval_ms)
    }
}

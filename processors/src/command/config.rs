//! Settings of the command machine ([`CommandConfig`]), with their defaults.

use serde::{Deserialize, Serialize};

/// Timers of the command machine, all in event-time milliseconds. Defaults are documented per
/// field (`docs/projections.md`, "Commands").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CommandConfig {
    /// An AT_LEAST_ONCE command not acknowledged this long after its first publication is
    /// re-sent; each further wait doubles (default 30 s).
    pub retry_initial_ms: i64,
    /// The longest wait between two re-sends (default 15 min).
    pub retry_max_ms: i64,
    /// An AT_MOST_ONCE command without any acknowledgement this long after its publication is
    /// LOST (default 5 min).
    pub ack_timeout_ms: i64,
    /// A terminal command is remembered (idempotency) this long after it ended, then dropped:
    /// its key sent again later is a new command (default 7 days).
    pub command_retention_ms: i64,
    /// A DECOMMISSIONING node without an APPLIED acknowledgement of its DECOMMISSION this long
    /// after acceptance is RETIRED with reason `decommission_timeout` (default 24 h).
    pub decommission_timeout_ms: i64,
}

impl Default for CommandConfig {
    fn default() -> Self {
        CommandConfig {
            retry_initial_ms: 30_000,
            retry_max_ms: 900_000,
            ack_timeout_ms: 300_000,
            command_retention_ms: 7 * 86_400_000,
            decommission_timeout_ms: 86_400_000,
        }
    }
}

impl CommandConfig {
    /// The wait after publication number `attempt` (1 = the first) before the next re-send:
    /// `retry_initial_ms * 2^(attempt-1)`, at most `retry_max_ms`.
    pub fn backoff_ms(&self, attempt: i32) -> i64 {
        let doublings = u32::try_from(attempt.saturating_sub(1))
            .unwrap_or(0)
            .min(40);
        self.retry_initial_ms
            .saturating_mul(1_i64 << doublings)
            .min(self.retry_max_ms)
            .max(1)
    }
}

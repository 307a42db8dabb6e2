//! Whether a command may be sent to the node now ([`Gate::hold`]): the lifecycle's rule
//! ([`crate::lifecycle::command_hold`]), then for a rollout's UPDATE its bundle's constraints
//! ([`Constraints`]). Pure.

use sxfleet_schemas::{ConnectivityMode, EpochMillis, StringMap};

use super::book::Tracked;
use super::window::Window;
use crate::lifecycle::{self, LifecycleState};

/// A rollout's constraints, read from the desired bundle's `constraints` map.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Constraints {
    /// `maintenance_window`: `None` when not set; `Err(())` when unreadable (holds: a window
    /// nobody can read is never open).
    pub window: Option<Result<Window, ()>>,
    /// `requires_online = "true"`: connectivity must be LIVE or DELAYED.
    pub requires_online: bool,
    /// `min_battery_pct`: the node's last reported charge must be at least this (no report:
    /// allowed).
    pub min_battery_pct: Option<f64>,
    /// The domain's offset from UTC, for the window.
    pub utc_offset_minutes: i32,
}

impl Constraints {
    /// Reads `constraints` (unknown keys are ignored; an unreadable battery threshold is none).
    pub fn from_bundle(constraints: &StringMap, utc_offset_minutes: i32) -> Self {
        Constraints {
            window: constraints
                .get("maintenance_window")
                .map(|text| Window::parse(text).map_err(|_| ())),
            requires_online: constraints
                .get("requires_online")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true")),
            min_battery_pct: constraints
                .get("min_battery_pct")
                .and_then(|v| v.trim().parse().ok()),
            utc_offset_minutes,
        }
    }
}

/// Why a command waits, and until when it cannot go at the earliest.
#[derive(Debug, Clone, PartialEq)]
pub struct Hold {
    /// `node_away`, `reconciliation`, `quarantined`, `decommissioning`, `maintenance_window`,
    /// `requires_online` or `battery_low`.
    pub reason: &'static str,
    /// The next window opening, for `maintenance_window`.
    pub until_ms: Option<EpochMillis>,
}

/// What the command machine needs to know about the node to decide whether a command may go.
#[derive(Debug, Clone)]
pub struct Gate<'a> {
    /// Node id (records).
    pub node_id: &'a str,
    /// The node's domain (records).
    pub domain_id: &'a str,
    /// The node's lifecycle.
    pub lifecycle: &'a LifecycleState,
    /// The constraints of the node's desired bundle (for rollout commands).
    pub constraints: Constraints,
}

impl Gate<'_> {
    /// Why `command` must wait at `now_ms`, `None` when it may go.
    pub fn hold(
        &self,
        command: &Tracked,
        battery_pct: Option<f64>,
        now_ms: EpochMillis,
    ) -> Option<Hold> {
        let plain = |reason| Hold {
            reason,
            until_ms: None,
        };
        if let Some(reason) = lifecycle::command_hold(self.lifecycle, command.request.kind) {
            return Some(plain(reason));
        }
        // Constraints apply to rollouts only.
        command.rollout.as_ref()?;
        let c = &self.constraints;
        match &c.window {
            Some(Err(())) => return Some(plain("maintenance_window")),
            Some(Ok(window)) if !window.is_open(now_ms, c.utc_offset_minutes) => {
                return Some(Hold {
                    reason: "maintenance_window",
                    until_ms: Some(window.next_open(now_ms, c.utc_offset_minutes)),
                });
            }
            _ => {}
        }
        let online = matches!(
            self.lifecycle.connectivity,
            ConnectivityMode::Live | ConnectivityMode::Delayed
        );
        if c.requires_online && !online {
            return Some(plain("requires_online"));
        }
        let low = matches!((c.min_battery_pct, battery_pct), (Some(min), Some(pct)) if pct < min);
        low.then(|| plain("battery_low"))
    }
}

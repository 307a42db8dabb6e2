//! One node's fold: an event, a timer firing or a control change through the node's machines
//! ([`crate::node`]), then the projections derived from them ([`crate::derived`]). This is the
//! whole per-node function the fleet processor applies; tests fold with it to compute what the
//! processor must publish. Pure.

use sxfleet_schemas::{EpochMillis, EventPayload, FleetEvent, StateTransition};

use crate::config::ProjectionConfig;
use crate::control::ControlState;
use crate::derived::{self, Derived};
use crate::node::{self, NodeRules, NodeState};

/// What one step of the fold produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Step {
    /// Connectivity and lifecycle ledger entries.
    pub ledger: Vec<StateTransition>,
    /// Drift report, attention alert, and whether the twin changed.
    pub derived: Derived,
}

fn rules<'a>(state: &NodeState, config: &'a ProjectionConfig) -> NodeRules<'a> {
    NodeRules {
        connectivity: config.connectivity_for(&state.twin.domain_id),
        quarantine_drift_score: config.quarantine_drift_score,
    }
}

/// When the node's timer (silence or sync-debt refresh) falls due, with its domain's
/// thresholds.
pub fn deadline(state: &NodeState, config: &ProjectionConfig) -> Option<EpochMillis> {
    state.deadline(config.connectivity_for(&state.twin.domain_id))
}

/// Applies one event of the node. `None` when the event changed nothing (a duplicate or stale
/// re-delivery).
pub fn on_event(
    state: &mut NodeState,
    event: &FleetEvent,
    control: &ControlState,
    config: &ProjectionConfig,
) -> Option<Step> {
    let ledger = match &event.payload {
        EventPayload::TrustViolation(violation) => {
            let at_ms = event.event_time_ms;
            let id = Some(event.event_id.as_str());
            node::on_reported_violation(state, &violation.reason, at_ms, id)
        }
        _ => node::on_event(state, event, rules(state, config))?,
    };
    let now = event.event_time_ms.max(state.twin.updated_ms);
    let derived = derived::refresh(state, control, now, config);
    Some(Step { ledger, derived })
}

/// Fires the node's timers due by `now_ms` (silence rules, sync-debt refreshes). The step is
/// dated by the latest timer instant it reached, not by `now_ms`; the twin's version moves
/// once when anything changed.
pub fn on_timer(
    state: &mut NodeState,
    now_ms: EpochMillis,
    control: &ControlState,
    config: &ProjectionConfig,
) -> Step {
    let fired = node::on_timer(state, now_ms, rules(state, config));
    let at_ms = fired.at_ms.unwrap_or(now_ms);
    let mut derived = derived::refresh(state, control, at_ms, config);
    if derived.changed && !fired.changed {
        bump(state, at_ms);
    }
    derived.changed |= fired.changed;
    Step {
        ledger: fired.ledger,
        derived,
    }
}

/// Recomputes the node after a control change at `now_ms`.
pub fn on_control(
    state: &mut NodeState,
    control: &ControlState,
    now_ms: EpochMillis,
    config: &ProjectionConfig,
) -> Derived {
    let derived = derived::refresh(state, control, now_ms, config);
    if derived.changed {
        bump(state, now_ms);
    }
    derived
}

fn bump(state: &mut NodeState, now_ms: EpochMillis) {
    state.twin.version += 1;
    state.twin.updated_ms = state.twin.updated_ms.max(now_ms);
}

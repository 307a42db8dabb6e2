//! The seed 000 scenario: a fixed federation of 105 nodes whose raw records, run through the
//! pipeline, reproduce seed 000's "Global Fleet View" and "Regional View" trees. Pure: no
//! clock, no I/O, no randomness; the same `start_ms` gives the same bytes.
//!
//! Timeline (from `start_ms`, 4 hours, [`plan::DURATION_MS`]):
//! - `+0 s` .. `+15 s`: the six `domain` records (version 1, with their sync settings), the six
//!   `authority` claims, the two `policy_bundle`s and their `assign`ments, one second apart.
//! - every 10 minutes: the regions' and A zones' controllers report their upstream `sync`
//!   (30 s after syncing, frequency 15 min, so never overdue); zone C's controller reports once,
//!   at the sync it made just before going silent.
//! - `+60 s` on: each node registers (500 ms apart); a few declare `edge`s right after.
//! - heartbeats every 5 minutes from `+2 min`, with a snapshot after the first and after every
//!   sixth counted back from the last. Every node's last heartbeat falls in the final round
//!   (spread over its first 3 minutes counted back from the end), except zone C's, whose last
//!   is exactly 3.75 h before the end, followed 30 s later by `link lost` and then silence.
//! - zone A2's `sx-a2-node-22` and `-23` send their last three heartbeats with rtt 5 000 ms.
//! - `sx-a1-node-07` reports 2 config keys out of spec; every other assigned node is in spec.
//!
//! Layout:
//! - [`plan`]: timing constants, domains, controllers, bundles and what each node does.
//! - `records` (private): the raw records of the plan.
//! - [`expected`]: the figures the plan is built to produce.

pub mod expected;
pub mod plan;
mod records;

pub use expected::{DomainExpect, EdgeExpect, Expected, NodeExpect, RelayExpect};

use crate::message::RawMessage;
use crate::sim::SimError;

/// The scenario's records and what they should produce.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Raw `fleet.raw.v1` records sorted by event time (ties in the order written), each with
    /// its Kafka key: the node id, or the domain id (`domain`, `authority`, `assign`, `sync`)
    /// or bundle id (`policy_bundle`) for control records (`control = true`).
    pub records: Vec<RawMessage>,
    /// Event time of the first record.
    pub start_ms: i64,
    /// The scenario's end, the time its figures hold "as of": `start_ms + 4 h`, the event
    /// time of the last record.
    pub as_of_ms: i64,
    /// The expected figures as of `as_of_ms`.
    pub expected: Expected,
}

/// The seed 000 scenario starting at `start_ms` (epoch milliseconds).
///
/// # Errors
/// [`SimError::ScenarioTimeOutOfRange`] when an event time falls outside the years RFC 3339
/// can express; [`SimError::Encode`] on a JSON encoding failure (a bug).
pub fn seed000(start_ms: i64) -> Result<Scenario, SimError> {
    let as_of_ms = start_ms
        .checked_add(plan::DURATION_MS)
        .ok_or(SimError::ScenarioTimeOutOfRange { ms: start_ms })?;
    let mut timeline = records::Timeline::default();
    records::control(&mut timeline, start_ms, as_of_ms)?;
    let bundles = plan::bundles();
    for node in plan::nodes() {
        records::node(&mut timeline, &node, &bundles, start_ms, as_of_ms)?;
    }
    Ok(Scenario {
        records: timeline.finish(),
        start_ms,
        as_of_ms,
        expected: expected::expected(start_ms, as_of_ms),
    })
}

#[cfg(test)]
mod tests;

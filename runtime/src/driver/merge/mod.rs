//! The event-time ordered merge of a session's input partitions (pure: records and the clock
//! are passed in; the driver's loop in `merged.rs` feeds it).
//!
//! Each owned partition is a lane of consumed, not yet released records, in offset order. The
//! merge releases the head with the smallest order time among the lanes' heads (ties: lower
//! topic, then lower partition, then lower offset), so a partition's own order is always kept.
//! While a lane is empty, the merge cannot know whether that partition's next record is earlier
//! than every head, so it waits for it, at most `max_idle` from when the lane became empty
//! (like Kafka Streams' `max.task.idle.ms`). It stops waiting sooner for a lane known to be
//! caught up (the consumer reached the end of that partition): nothing earlier can come from
//! it until someone writes more.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

/// A partition of an input topic.
pub(crate) type Lane = (String, i32);

/// The merge, over records of type `T`.
#[derive(Debug)]
pub(crate) struct Merge<T> {
    max_idle: Duration,
    lanes: BTreeMap<Lane, LaneState<T>>,
}

#[derive(Debug)]
struct LaneState<T> {
    /// Consumed records not released yet, in offset order.
    held: VecDeque<Held<T>>,
    /// When the lane last became empty (or was assigned).
    empty_since: Instant,
    /// The consumer reported the end of the partition after its last record held or released.
    caught_up: bool,
}

#[derive(Debug)]
struct Held<T> {
    order_ms: i64,
    offset: i64,
    record: T,
}

impl<T> Merge<T> {
    /// An empty merge that waits at most `max_idle` for an empty lane.
    pub(crate) fn new(max_idle: Duration) -> Self {
        Self {
            max_idle,
            lanes: BTreeMap::new(),
        }
    }

    /// Adds a lane for a newly assigned partition (empty since `now`); a lane already known is
    /// kept as it is.
    pub(crate) fn assign(&mut self, lane: Lane, now: Instant) {
        self.lanes.entry(lane).or_insert_with(|| LaneState {
            held: VecDeque::new(),
            empty_since: now,
            caught_up: false,
        });
    }

    /// Drops a revoked partition's lane and its held records (never processed, so never
    /// committed: the partition's next owner reads them again). Returns how many were dropped.
    pub(crate) fn revoke(&mut self, lane: &Lane) -> usize {
        self.lanes.remove(lane).map_or(0, |state| state.held.len())
    }

    /// Holds a consumed record of `lane` (assigning the lane if it is new).
    pub(crate) fn push(&mut self, lane: Lane, offset: i64, order_ms: i64, record: T, now: Instant) {
        self.assign(lane.clone(), now);
        if let Some(state) = self.lanes.get_mut(&lane) {
            state.caught_up = false;
            state.held.push_back(Held {
                order_ms,
                offset,
                record,
            });
        }
    }

    /// Records that the consumer reached the end of `partition`. The consumer names only the
    /// partition number, so this applies only when exactly one lane has that number (a stage
    /// reading one topic); otherwise the merge keeps waiting up to `max_idle` for the lane.
    pub(crate) fn caught_up(&mut self, partition: i32) {
        let mut lanes = self
            .lanes
            .iter_mut()
            .filter(|((_, number), _)| *number == partition);
        if let (Some((_, state)), None) = (lanes.next(), lanes.next()) {
            state.caught_up = true;
        }
    }

    /// Whether `lane` holds a record or is known to have nothing earlier to give; otherwise it
    /// blocks releases until `max_idle` after it became empty.
    fn blocks(&self, state: &LaneState<T>, now: Instant) -> bool {
        state.held.is_empty()
            && !state.caught_up
            && now.saturating_duration_since(state.empty_since) < self.max_idle
    }

    /// Releases the next record at `now`: the head with the smallest (order time, topic,
    /// partition, offset), unless an empty lane is still waited for. `None` when nothing may be
    /// released yet.
    pub(crate) fn pop(&mut self, now: Instant) -> Option<T> {
        if self.lanes.values().any(|state| self.blocks(state, now)) {
            return None;
        }
        let lane = self
            .lanes
            .iter()
            .filter_map(|(lane, state)| {
                state
                    .held
                    .front()
                    .map(|head| ((head.order_ms, lane, head.offset), lane))
            })
            .min_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, lane)| lane.clone())?;
        let state = self.lanes.get_mut(&lane)?;
        let held = state.held.pop_front()?;
        if state.held.is_empty() {
            state.empty_since = now;
        }
        Some(held.record)
    }

    /// When a release that is waiting now may happen without new input: the earliest end of a
    /// wait for an empty lane. `None` when nothing is held or nothing is waited for.
    pub(crate) fn wake_at(&self, now: Instant) -> Option<Instant> {
        if self.lanes.values().all(|state| state.held.is_empty()) {
            return None;
        }
        self.lanes
            .values()
            .filter(|state| self.blocks(state, now))
            .map(|state| state.empty_since + self.max_idle)
            .min()
    }

    /// Records held for `lane`.
    pub(crate) fn held(&self, lane: &Lane) -> usize {
        self.lanes.get(lane).map_or(0, |state| state.held.len())
    }
}

#[cfg(test)]
mod tests;

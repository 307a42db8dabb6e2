//! The event-time ordered merge of a session's input partitions (pure: records and the clock
//! are passed in; the driver's loop in `merged.rs` feeds it).
//!
//! Each owned partition is a lane of consumed, not yet released records, in offset order. The
//! merge releases the head with the smallest order time among the lanes' heads (ties: lower
//! topic, then lower partition, then lower offset), so a partition's own order is always kept.
//! While a lane is empty, the merge cannot know whether that partition's next record is earlier
//! than every head, so it waits for it: at most `max_idle` from the first time it wanted to
//! release a record past it (like Kafka Streams' `max.task.idle.ms`; the wait starts when there
//! is something to release, not when the lane emptied, so time the stage spent elsewhere, e.g.
//! restoring, is not counted). It stops waiting sooner for a lane known to be
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
    /// Since when a release waits for this empty lane; `None` while it holds records or nothing
    /// waited for it yet since its last record.
    waiting_since: Option<Instant>,
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

    /// Adds an empty lane for a newly assigned partition; a lane already known is kept as it is.
    pub(crate) fn assign(&mut self, lane: Lane) {
        self.lanes.entry(lane).or_insert_with(|| LaneState {
            held: VecDeque::new(),
            waiting_since: None,
            caught_up: false,
        });
    }

    /// Drops a revoked partition's lane and its held records (never processed, so never
    /// committed: the partition's next owner reads them again). Returns how many were dropped.
    pub(crate) fn revoke(&mut self, lane: &Lane) -> usize {
        self.lanes.remove(lane).map_or(0, |state| state.held.len())
    }

    /// Holds a consumed record of `lane` (assigning the lane if it is new).
    pub(crate) fn push(&mut self, lane: Lane, offset: i64, order_ms: i64, record: T) {
        self.assign(lane.clone());
        if let Some(state) = self.lanes.get_mut(&lane) {
            state.caught_up = false;
            state.waiting_since = None;
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

    /// Whether an empty lane, not known to be caught up, still holds releases back: until
    /// `max_idle` after a release first waited for it.
    fn blocks(&self, state: &LaneState<T>, now: Instant) -> bool {
        state.held.is_empty()
            && !state.caught_up
            && state
                .waiting_since
                .is_none_or(|since| now.saturating_duration_since(since) < self.max_idle)
    }

    /// Releases the next record at `now`: the head with the smallest (order time, topic,
    /// partition, offset), unless an empty lane is still waited for. `None` when nothing may be
    /// released yet.
    pub(crate) fn pop(&mut self, now: Instant) -> Option<T> {
        if self.lanes.values().all(|state| state.held.is_empty()) {
            return None;
        }
        for state in self.lanes.values_mut() {
            if state.held.is_empty() && !state.caught_up && state.waiting_since.is_none() {
                state.waiting_since = Some(now);
            }
        }
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
        let held = self.lanes.get_mut(&lane)?.held.pop_front()?;
        Some(held.record)
    }

    /// When a release that is waiting now may happen without new input: the earliest end of a
    /// wait for an empty lane (waits start in [`Merge::pop`]). `None` when nothing is held or
    /// nothing is waited for.
    pub(crate) fn wake_at(&self, now: Instant) -> Option<Instant> {
        if self.lanes.values().all(|state| state.held.is_empty()) {
            return None;
        }
        self.lanes
            .values()
            .filter(|state| self.blocks(state, now))
            .filter_map(|state| state.waiting_since)
            .map(|since| since + self.max_idle)
            .min()
    }

    /// Forgets every wait started so far: the driver calls it when it starts collecting a
    /// batch, so the time it spent processing, committing or restoring (while records it has
    /// not pulled yet may sit in the consumer's queue) never counts as waiting.
    pub(crate) fn restart_waits(&mut self) {
        for state in self.lanes.values_mut() {
            state.waiting_since = None;
        }
    }

    /// Records held for `lane`.
    pub(crate) fn held(&self, lane: &Lane) -> usize {
        self.lanes.get(lane).map_or(0, |state| state.held.len())
    }
}

#[cfg(test)]
mod tests;

//! Per-node dedupe and ordering by `seq`. Pure: time is the ingest time passed in.
//!
//! For every node the state remembers `next_seq`: every seq below it has been forwarded,
//! except the ranges in `gaps` (skipped when the reorder window ran out; such a seq arriving
//! later is forwarded as *late*, not dropped). An event above `next_seq` is *held* until the
//! seqs below it arrive, or until it has waited `window_ms` of ingest time, or until more than
//! `max_held` events wait; then the missing seqs become a gap and the held events go out in seq
//! order. A seq already forwarded or already held is a duplicate and never forwarded again.
//!
//! Memory per node is bounded: at most `max_held` held events and `max_gaps` gap ranges (the
//! oldest range is forgotten first; its seqs would then count as duplicates).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sxfleet_schemas::FleetEvent;

/// Ordering limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderLimits {
    /// How long (ingest time, ms) an out-of-order event waits for the seqs below it.
    pub window_ms: i64,
    /// Most events held per node; one more releases the lowest past its gap.
    pub max_held: usize,
    /// Most gap ranges remembered per node.
    pub max_gaps: usize,
}

/// An event waiting for the seqs below it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Held {
    /// Ingest time (ms) when it arrived: it is released by `arrived_ms + window_ms`.
    pub arrived_ms: i64,
    /// The event; `None` for a seq to consume without output (a re-sent replay chunk).
    pub event: Option<FleetEvent>,
}

/// What ordering knows about one node.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SeqState {
    /// Every seq below this was forwarded, except those in `gaps`.
    pub next_seq: i64,
    /// Inclusive seq ranges below `next_seq` never forwarded, oldest first.
    pub gaps: Vec<(i64, i64)>,
    /// Events above `next_seq`, by seq.
    pub held: BTreeMap<i64, Held>,
}

/// What became of an offered event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offered {
    /// Forwarded now, in order (possibly releasing held events behind it).
    InOrder,
    /// Held until the seqs below it arrive or the window passes.
    Held,
    /// Forwarded now, out of order: its seq had been given up as a gap.
    Late,
    /// Already forwarded or held: dropped.
    Duplicate,
}

impl SeqState {
    /// State for a node first seen with `seq`, numbering from `first_seq` (a first event below
    /// that starts the numbering itself). Seqs below the start are a gap: they are forwarded
    /// (late) if they ever come.
    pub fn new(first_seq: i64, seq: i64) -> Self {
        let next_seq = first_seq.min(seq);
        let gaps = if next_seq > 0 {
            vec![(0, next_seq - 1)]
        } else {
            Vec::new()
        };
        Self {
            next_seq,
            gaps,
            held: BTreeMap::new(),
        }
    }

    /// Offers the event with `seq` (or a seq to consume silently when `event` is `None`),
    /// arriving at ingest time `now_ms`; released events are appended to `out` in order.
    pub fn offer(
        &mut self,
        seq: i64,
        event: Option<FleetEvent>,
        now_ms: i64,
        limits: &OrderLimits,
        out: &mut Vec<FleetEvent>,
    ) -> Offered {
        if seq < self.next_seq {
            if !self.take_from_gaps(seq) {
                return Offered::Duplicate;
            }
            out.extend(event);
            return Offered::Late;
        }
        if self.held.contains_key(&seq) {
            return Offered::Duplicate;
        }
        if seq == self.next_seq {
            out.extend(event);
            self.next_seq = seq.saturating_add(1);
            self.drain(out);
            return Offered::InOrder;
        }
        self.held.insert(
            seq,
            Held {
                arrived_ms: now_ms,
                event,
            },
        );
        if self.held.len() > limits.max_held {
            if let Some(lowest) = self.held.keys().next().copied() {
                self.release_through(lowest, limits, out);
            }
        }
        Offered::Held
    }

    /// Releases, past their gaps, the held events whose window has passed by `now_ms` (and
    /// every held event below them). Returns how many events went out.
    pub fn release_due(
        &mut self,
        now_ms: i64,
        limits: &OrderLimits,
        out: &mut Vec<FleetEvent>,
    ) -> usize {
        let due = self
            .held
            .iter()
            .filter(|(_, held)| held.arrived_ms.saturating_add(limits.window_ms) <= now_ms)
            .map(|(seq, _)| *seq)
            .next_back();
        let before = out.len();
        if let Some(seq) = due {
            self.release_through(seq, limits, out);
        }
        out.len() - before
    }

    /// When the next held event's window runs out (ingest time), if any is held.
    pub fn deadline(&self, limits: &OrderLimits) -> Option<i64> {
        self.held
            .values()
            .map(|held| held.arrived_ms.saturating_add(limits.window_ms))
            .min()
    }

    /// Releases every held event up to `seq`, past the gaps below them (which are recorded),
    /// then whatever follows in order.
    pub fn release_through(&mut self, seq: i64, limits: &OrderLimits, out: &mut Vec<FleetEvent>) {
        while let Some(entry) = self.held.first_entry() {
            if *entry.key() > seq {
                break;
            }
            let (held_seq, held) = entry.remove_entry();
            if held_seq > self.next_seq {
                self.add_gap(self.next_seq, held_seq - 1, limits);
            }
            out.extend(held.event);
            self.next_seq = held_seq.saturating_add(1);
        }
        self.drain(out);
    }

    fn add_gap(&mut self, from: i64, to: i64, limits: &OrderLimits) {
        match self.gaps.last_mut() {
            Some(last) if last.1.saturating_add(1) == from => last.1 = to,
            _ => self.gaps.push((from, to)),
        }
        if self.gaps.len() > limits.max_gaps {
            self.gaps.remove(0);
        }
    }

    fn drain(&mut self, out: &mut Vec<FleetEvent>) {
        while let Some(entry) = self.held.first_entry() {
            if *entry.key() != self.next_seq {
                break;
            }
            out.extend(entry.remove().event);
            self.next_seq = self.next_seq.saturating_add(1);
        }
    }

    fn take_from_gaps(&mut self, seq: i64) -> bool {
        let Some(index) = self
            .gaps
            .iter()
            .position(|&(from, to)| from <= seq && seq <= to)
        else {
            return false;
        };
        let (from, to) = self.gaps.remove(index);
        if seq < to {
            self.gaps.insert(index, (seq + 1, to));
        }
        if from < seq {
            self.gaps.insert(index, (from, seq - 1));
        }
        true
    }
}

#[cfg(test)]
mod tests;

//! One partition's keys and timers, as a fold sees them while it applies an input.

use super::Fold;
use crate::stage::{InternalError, Output};
use crate::store::{Rest, Store};
use crate::timers::Timers;

/// The keys of one input partition. Every change goes through [`Keys::update`], which re-arms
/// the key's timer from its new value, so timers always follow state (as they do after a
/// restore).
pub struct Keys<'a, F: Fold> {
    partition: i32,
    store: &'a mut Store<F::Value>,
    timers: &'a mut Timers,
}

impl<'a, F: Fold> Keys<'a, F> {
    pub(super) fn new(
        partition: i32,
        store: &'a mut Store<F::Value>,
        timers: &'a mut Timers,
    ) -> Self {
        Self {
            partition,
            store,
            timers,
        }
    }

    /// The input partition.
    pub fn partition(&self) -> i32 {
        self.partition
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&F::Value> {
        self.store.get(self.partition, key)
    }

    /// Every (key, value) of the partition, in key order.
    pub fn entries(&self) -> Vec<(&str, &F::Value)> {
        self.store.entries(self.partition)
    }

    /// Updates `key` as [`Store::update`] does (`update` gets its value and the rest of the
    /// partition, and says whether it changed the value), then sets the key's timer to the new
    /// value's [`Fold::deadline`] (none when the key is gone).
    pub fn update<R>(
        &mut self,
        fold: &F,
        key: &str,
        update: impl FnOnce(&mut Option<F::Value>, Rest<'_, F::Value>) -> (bool, R),
    ) -> R {
        let (result, deadline) = self.store.update(self.partition, key, |slot, rest| {
            let (changed, result) = update(slot, rest);
            let deadline = slot.as_ref().and_then(|value| fold.deadline(key, value));
            (changed, (result, deadline))
        });
        self.timers.set(self.partition, key, deadline);
        result
    }

    /// Moves the partition's event time to `time_ms` if that is later, and fires every timer
    /// due by then through [`Fold::on_timer`], earliest first (ties by key).
    ///
    /// # Errors
    /// The first [`InternalError`] a timer reports.
    pub fn advance(
        &mut self,
        fold: &F,
        time_ms: i64,
        out: &mut Vec<Output>,
    ) -> Result<(), InternalError> {
        let fired = self.timers.advance(self.partition, time_ms);
        let now = self.timers.event_time(self.partition).unwrap_or(time_ms);
        for (key, _due) in fired {
            self.update(fold, &key, |slot, rest| {
                match fold.on_timer(&key, slot, rest, now, out) {
                    Ok(changed) => (changed, Ok(())),
                    Err(error) => (false, Err(error)),
                }
            })?;
        }
        Ok(())
    }
}

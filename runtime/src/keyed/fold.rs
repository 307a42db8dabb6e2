//! What a keyed stage supplies ([`Fold`]) and one partition's keys and timers as a fold sees
//! them while it applies an input ([`Keys`]).

use futures::future::BoxFuture;

use crate::stage::{Input, InternalError, Output};
use crate::store::{Rest, Store, StoreCodec};
use crate::timers::Timers;

/// What a keyed stage supplies: its store and its pure per-key steps. Timers are derived from
/// state ([`Fold::deadline`]), so they are never persisted on their own.
pub trait Fold: Send + Sized {
    /// What the store holds per key.
    type Value: StoreCodec + Send;

    /// Short name of the stage for logs and metrics ([`crate::stage::Stage::name`]).
    const NAME: &'static str;

    /// Name of the store; its changelog is `<prefix><app-id>-<STORE>-changelog`.
    const STORE: &'static str;

    /// Version of the store's value format (see [`StoreSpec::format_version`]).
    const FORMAT_VERSION: u32;

    /// When the timer of `key` holding `value` falls due (event time, epoch ms); `None` for no
    /// timer. The adapter re-arms a key's timer with it after every change and every restore.
    fn deadline(&self, _key: &str, _value: &Self::Value) -> Option<i64> {
        None
    }

    /// Fetches what the batch's `inputs` need before they are processed (see
    /// [`crate::stage::Stage::prepare`]: asynchronous I/O lives here, never in [`Fold::process`]). Folds that
    /// need nothing keep the default.
    ///
    /// # Errors
    /// [`InternalError`] on a broken invariant (the driver aborts the batch and stops the stage).
    fn prepare<'a>(
        &'a mut self,
        _inputs: &'a [Input<'a>],
    ) -> BoxFuture<'a, Result<(), InternalError>> {
        Box::pin(std::future::ready(Ok(())))
    }

    /// The time `input` is ordered by when the driver merges input partitions (see
    /// [`crate::stage::Stage::order_time`]); the default is its Kafka timestamp.
    fn order_time(&self, input: &Input<'_>) -> Option<i64> {
        input.timestamp_ms
    }

    /// Applies one input record of `keys`' partition, appending what it produces to `out`.
    ///
    /// # Errors
    /// [`InternalError`] on a broken invariant (the driver stops the partition).
    fn process(
        &mut self,
        keys: &mut Keys<'_, Self>,
        input: &Input<'_>,
        out: &mut Vec<Output>,
    ) -> Result<(), InternalError>;

    /// Fires the due timer of `key` at event time `now_ms`: updates its value in `slot`
    /// (reading the rest of the partition in `rest`) and appends what it produces to `out`.
    /// Returns whether the value changed (only a change is written to the changelog).
    ///
    /// # Errors
    /// [`InternalError`] on a broken invariant.
    fn on_timer(
        &self,
        _key: &str,
        _slot: &mut Option<Self::Value>,
        _rest: Rest<'_, Self::Value>,
        _now_ms: i64,
        _out: &mut Vec<Output>,
    ) -> Result<bool, InternalError> {
        Ok(false)
    }

    /// Called for every key written to the changelog at a flush, with its value (`None` when
    /// deleted), to append other records about it (e.g. the latest state on an output topic).
    ///
    /// # Errors
    /// [`InternalError`] when such a record cannot be built.
    fn on_flush(
        &self,
        _key: &str,
        _value: Option<&Self::Value>,
        _out: &mut Vec<Output>,
    ) -> Result<(), InternalError> {
        Ok(())
    }
}

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

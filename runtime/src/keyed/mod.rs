//! One adapter for every keyed stateful stage: the [`Store`] and [`Timers`] glue written once.
//!
//! A stage supplies a [`Fold`]: its store (name and value format version), what one input does
//! to the keys of its partition and what it outputs, what a key's due timer does, when a key's
//! timer is due given its value, and what else to write for each key flushed to the changelog.
//! [`Keyed`] holds the fold with its store and timers and is a [`Stage`] for the driver: it
//! restores the store from changelog records and snapshots, re-arms every restored key's timer
//! from its value, drops revoked partitions, advances event time on ticks (firing due timers
//! through the fold), and flushes changed keys to the changelog.
//!
//! A stage with its own name and constructors wraps a [`Keyed`] and implements [`KeyedStage`]
//! (two accessors), which makes it a [`Stage`]. A stage that needs none of this implements
//! [`Stage`] directly.
//!
//! Layout:
//! - `fold`: [`Fold`], what a keyed stage supplies, and [`Keys`], one partition's keys and
//!   timers as a fold sees them while it applies an input (one module: each names the other).
//! - here: [`Keyed`] and [`KeyedStage`], the adapter, and the [`Stage`] every keyed stage gets
//!   from it.

mod fold;

use std::path::Path;

use futures::future::BoxFuture;

pub use self::fold::{Fold, Keys};
use crate::stage::{Input, InternalError, Output, SnapshotError, SnapshotInfo, Stage};
use crate::store::{Store, StoreSpec};
use crate::timers::Timers;
use crate::topics::{TopicSpec, Topics};

/// The adapter: a [`Fold`] with its store and timers, driven as a [`Stage`].
#[derive(Debug)]
pub struct Keyed<F: Fold> {
    fold: F,
    store: Store<F::Value>,
    timers: Timers,
}

impl<F: Fold> Keyed<F> {
    /// The stage of `fold` in application `app_id`, its changelog named after `topics`.
    pub fn new(fold: F, topics: &Topics, app_id: &str) -> Self {
        Self {
            fold,
            store: Store::new(Self::spec(topics, app_id)),
            timers: Timers::new(),
        }
    }

    /// The topics a stage of this fold needs besides its inputs and outputs, in application
    /// `app_id` whose input has `partitions` partitions: its store's changelog, compacted and
    /// co-partitioned with the input.
    pub fn changelogs(topics: &Topics, app_id: &str, partitions: i32) -> Vec<TopicSpec> {
        let spec = Self::spec(topics, app_id);
        vec![TopicSpec::new(&spec.changelog, partitions).compacted()]
    }

    fn spec(topics: &Topics, app_id: &str) -> StoreSpec {
        StoreSpec {
            name: F::STORE,
            changelog: topics.changelog(app_id, F::STORE),
            format_version: F::FORMAT_VERSION,
        }
    }

    /// The fold.
    pub fn fold(&self) -> &F {
        &self.fold
    }

    /// The fold, to change its settings.
    pub fn fold_mut(&mut self) -> &mut F {
        &mut self.fold
    }

    /// The store (for tests and inspection).
    pub fn store(&self) -> &Store<F::Value> {
        &self.store
    }

    /// `partition`'s keys and timers, as the fold sees them.
    fn keys(&mut self, partition: i32) -> (&mut F, Keys<'_, F>) {
        let keys = Keys::new(partition, &mut self.store, &mut self.timers);
        (&mut self.fold, keys)
    }
}

/// A stage that is a [`Keyed`] adapter under its own name: implementing the two accessors makes
/// it a [`Stage`].
pub trait KeyedStage: Send {
    /// The fold inside.
    type Fold: Fold;

    /// The adapter.
    fn keyed(&self) -> &Keyed<Self::Fold>;

    /// The adapter, mutably.
    fn keyed_mut(&mut self) -> &mut Keyed<Self::Fold>;

    /// The changelog topics this stage needs in application `app_id` (see
    /// [`Keyed::changelogs`]).
    fn changelogs(topics: &Topics, app_id: &str, partitions: i32) -> Vec<TopicSpec>
    where
        Self: Sized,
    {
        Keyed::<Self::Fold>::changelogs(topics, app_id, partitions)
    }
}

impl<F: Fold> KeyedStage for Keyed<F> {
    type Fold = F;

    fn keyed(&self) -> &Keyed<F> {
        self
    }

    fn keyed_mut(&mut self) -> &mut Keyed<F> {
        self
    }
}

impl<S: KeyedStage> Stage for S {
    fn name(&self) -> &'static str {
        S::Fold::NAME
    }

    fn changelog(&self) -> Option<&str> {
        Some(&self.keyed().store.spec().changelog)
    }

    fn restore(
        &mut self,
        partition: i32,
        key: &[u8],
        value: Option<&[u8]>,
    ) -> Result<(), InternalError> {
        let keyed = self.keyed_mut();
        keyed.store.restore(partition, key, value)?;
        // The store has checked that the key is UTF-8.
        if let Ok(key) = std::str::from_utf8(key) {
            let deadline = keyed
                .store
                .get(partition, key)
                .and_then(|value| keyed.fold.deadline(key, value));
            keyed.timers.set(partition, key, deadline);
        }
        Ok(())
    }

    fn load_snapshot(
        &mut self,
        dir: &Path,
        partition: i32,
    ) -> Result<Option<SnapshotInfo>, SnapshotError> {
        let keyed = self.keyed_mut();
        let info = keyed.store.load_snapshot(dir, partition)?;
        keyed.timers.revoke(partition);
        for (key, value) in keyed.store.iter(partition) {
            if let Some(due) = keyed.fold.deadline(key, value) {
                keyed.timers.set(partition, key, Some(due));
            }
        }
        Ok(info)
    }

    fn save_snapshot(
        &self,
        dir: &Path,
        partition: i32,
        next_offset: i64,
        now_ms: i64,
    ) -> Result<(), SnapshotError> {
        self.keyed()
            .store
            .save_snapshot(dir, partition, next_offset, now_ms)
    }

    fn revoke(&mut self, partition: i32) {
        let keyed = self.keyed_mut();
        keyed.store.revoke(partition);
        keyed.timers.revoke(partition);
    }

    fn reset(&mut self) {
        let keyed = self.keyed_mut();
        keyed.store.reset();
        keyed.timers.reset();
    }

    fn prepare<'a>(
        &'a mut self,
        inputs: &'a [Input<'a>],
    ) -> BoxFuture<'a, Result<(), InternalError>> {
        self.keyed_mut().fold.prepare(inputs)
    }

    fn process(&mut self, input: &Input<'_>, out: &mut Vec<Output>) -> Result<(), InternalError> {
        let (fold, mut keys) = self.keyed_mut().keys(input.partition);
        fold.process(&mut keys, input, out)
    }

    fn on_tick(
        &mut self,
        partition: i32,
        tick_ms: i64,
        out: &mut Vec<Output>,
    ) -> Result<(), InternalError> {
        let (fold, mut keys) = self.keyed_mut().keys(partition);
        keys.advance(fold, tick_ms, out)
    }

    fn order_time(&self, input: &Input<'_>) -> Option<i64> {
        self.keyed().fold.order_time(input)
    }

    fn event_time(&self, partition: i32) -> Option<i64> {
        self.keyed().timers.event_time(partition)
    }

    fn flush(&mut self, out: &mut Vec<Output>) -> Result<(), InternalError> {
        let keyed = self.keyed_mut();
        let fold = &keyed.fold;
        keyed
            .store
            .flush_each(out, |key, value, out| fold.on_flush(key, value, out))
    }
}

#[cfg(test)]
mod tests;

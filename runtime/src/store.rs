//! State stores: named, versioned key-value maps per input partition, backed by a compacted
//! changelog topic and restorable from local snapshots.
//!
//! A stage keeps its state in one or more [`Store`]s. Every `put`/`delete` marks the key dirty;
//! [`Store::flush`] turns the dirty keys into one changelog record each (coalesced per key per
//! commit), in the changelog partition equal to the input partition. Restoring feeds changelog
//! records back through [`Store::restore`]. Keys are `Box<str>` (no spare capacity) in a
//! hashbrown map.

use std::collections::BTreeSet;
use std::path::Path;

use hashbrown::HashMap;

use crate::snapshot::{self, SnapshotError};
use crate::stage::{InternalError, SnapshotInfo};
use crate::Output;

/// How a store's values are written to and read back from its changelog.
pub trait StoreCodec: Sized {
    /// The value as changelog bytes.
    ///
    /// # Errors
    /// [`InternalError`] when the value cannot be encoded (a bug).
    fn encode(&self) -> Result<Vec<u8>, InternalError>;

    /// A value from changelog (or snapshot) bytes.
    ///
    /// # Errors
    /// [`InternalError`] when the bytes are not a value of this format: restoring must never
    /// produce wrong state silently.
    fn decode(bytes: &[u8]) -> Result<Self, InternalError>;
}

/// What a store is: its name, its changelog and the version of its value format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreSpec {
    /// Store name, e.g. `twins`.
    pub name: &'static str,
    /// The compacted changelog topic, `<prefix><app-id>-<name>-changelog`.
    pub changelog: String,
    /// Version of the value format. Snapshots of another version are ignored (the store is
    /// restored from the changelog instead), so bump it whenever [`StoreCodec`] changes.
    pub format_version: u32,
}

#[derive(Debug)]
struct Partition<V> {
    values: HashMap<Box<str>, V>,
    dirty: BTreeSet<Box<str>>,
}

impl<V> Default for Partition<V> {
    fn default() -> Self {
        Self {
            values: HashMap::new(),
            dirty: BTreeSet::new(),
        }
    }
}

/// The other keys of a partition while one of its keys is being updated ([`Store::update`]).
#[derive(Debug)]
pub struct Rest<'a, V>(&'a HashMap<Box<str>, V>);

impl<V> Clone for Rest<'_, V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<V> Copy for Rest<'_, V> {}

impl<'a, V> Rest<'a, V> {
    /// The value of `key`; `None` for the key being updated.
    pub fn get(self, key: &str) -> Option<&'a V> {
        self.0.get(key)
    }
}

/// One state store, partitioned like the stage's input.
#[derive(Debug)]
pub struct Store<V> {
    spec: StoreSpec,
    partitions: HashMap<i32, Partition<V>>,
}

impl<V: StoreCodec> Store<V> {
    /// An empty store.
    pub fn new(spec: StoreSpec) -> Self {
        Self {
            spec,
            partitions: HashMap::new(),
        }
    }

    /// What this store is.
    pub fn spec(&self) -> &StoreSpec {
        &self.spec
    }

    /// The value of `key` in `partition`.
    pub fn get(&self, partition: i32, key: &str) -> Option<&V> {
        self.partitions.get(&partition)?.values.get(key)
    }

    /// Updates `key` in place: `update` gets the current value (`None` if absent; leaving
    /// `None` deletes the key) and the rest of the partition to read (every other key), and
    /// returns whether it changed anything. Only a change marks the key dirty.
    pub fn update<R>(
        &mut self,
        partition: i32,
        key: &str,
        update: impl FnOnce(&mut Option<V>, Rest<'_, V>) -> (bool, R),
    ) -> R {
        let part = self.partitions.entry(partition).or_default();
        let mut value = part.values.remove(key);
        let (changed, result) = update(&mut value, Rest(&part.values));
        if changed {
            part.dirty.insert(key.into());
        }
        if let Some(value) = value {
            part.values.insert(key.into(), value);
        }
        result
    }

    /// Sets `key` to `value` in `partition`.
    pub fn put(&mut self, partition: i32, key: &str, value: V) {
        let part = self.partitions.entry(partition).or_default();
        part.dirty.insert(key.into());
        part.values.insert(key.into(), value);
    }

    /// Deletes `key` in `partition` (a tombstone at the next flush).
    pub fn delete(&mut self, partition: i32, key: &str) {
        let part = self.partitions.entry(partition).or_default();
        part.dirty.insert(key.into());
        part.values.remove(key);
    }

    /// Applies one changelog record while restoring; `None` is a tombstone.
    ///
    /// # Errors
    /// [`InternalError`] when the value does not decode.
    pub fn restore(
        &mut self,
        partition: i32,
        key: &[u8],
        value: Option<&[u8]>,
    ) -> Result<(), InternalError> {
        let key = std::str::from_utf8(key).map_err(|_| {
            InternalError(format!(
                "store {}: changelog key is not UTF-8",
                self.spec.name
            ))
        })?;
        let part = self.partitions.entry(partition).or_default();
        match value {
            None => {
                part.values.remove(key);
            }
            Some(bytes) => {
                part.values.insert(key.into(), V::decode(bytes)?);
            }
        }
        Ok(())
    }

    /// Drops a partition's state (revoked, or before a restore from scratch).
    pub fn revoke(&mut self, partition: i32) {
        self.partitions.remove(&partition);
    }

    /// Drops all state.
    pub fn reset(&mut self) {
        self.partitions.clear();
    }

    /// Number of keys held for `partition`.
    pub fn len(&self, partition: i32) -> usize {
        self.partitions
            .get(&partition)
            .map_or(0, |p| p.values.len())
    }

    /// True when no partition holds a key.
    pub fn is_empty(&self) -> bool {
        self.partitions.values().all(|p| p.values.is_empty())
    }

    /// Every (key, value) of `partition`, in no particular order.
    pub fn iter(&self, partition: i32) -> impl Iterator<Item = (&str, &V)> {
        self.partitions
            .get(&partition)
            .into_iter()
            .flat_map(|p| p.values.iter().map(|(k, v)| (&**k, v)))
    }

    /// Every (key, value) of `partition`, in key order (for snapshots and comparisons).
    pub fn entries(&self, partition: i32) -> Vec<(&str, &V)> {
        let mut entries: Vec<(&str, &V)> = self.iter(partition).collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        entries
    }

    /// Partitions currently held.
    pub fn partitions(&self) -> Vec<i32> {
        let mut partitions: Vec<i32> = self.partitions.keys().copied().collect();
        partitions.sort_unstable();
        partitions
    }

    /// Writes `partition` as a snapshot file under `dir` stamped with `next_offset`.
    ///
    /// # Errors
    /// [`SnapshotError`] when a value does not encode or the file cannot be written.
    pub fn save_snapshot(
        &self,
        dir: &Path,
        partition: i32,
        next_offset: i64,
        now_ms: i64,
    ) -> Result<(), SnapshotError> {
        let file = snapshot::path(dir, &self.spec.changelog, partition);
        let mut entries = Vec::with_capacity(self.len(partition));
        for (key, value) in self.entries(partition) {
            let bytes = value.encode().map_err(|error| SnapshotError::Invalid {
                path: file.clone(),
                reason: format!("value of {key} does not encode: {}", error.0),
            })?;
            entries.push((key, bytes));
        }
        snapshot::write(
            &file,
            self.spec.format_version,
            partition,
            next_offset,
            now_ms,
            entries.into_iter(),
        )
    }

    /// Replaces `partition` with its snapshot under `dir`, if there is one.
    ///
    /// # Errors
    /// [`SnapshotError`] when the file is unusable or a value in it does not decode; the
    /// partition is then left empty.
    pub fn load_snapshot(
        &mut self,
        dir: &Path,
        partition: i32,
    ) -> Result<Option<SnapshotInfo>, SnapshotError> {
        let file = snapshot::path(dir, &self.spec.changelog, partition);
        self.partitions.remove(&partition);
        let Some(snap) = snapshot::read(&file, self.spec.format_version, partition)? else {
            return Ok(None);
        };
        let mut part = Partition::default();
        for (key, bytes) in snap.entries {
            let value = V::decode(&bytes).map_err(|error| SnapshotError::Invalid {
                path: file.clone(),
                reason: format!("value of {key} does not decode: {}", error.0),
            })?;
            part.values.insert(key, value);
        }
        let entries = part.values.len() as u64;
        self.partitions.insert(partition, part);
        Ok(Some(SnapshotInfo {
            next_offset: snap.next_offset,
            written_ms: snap.written_ms,
            entries,
        }))
    }

    /// Appends one changelog record per key changed since the last flush (tombstones for
    /// deleted keys), in the input's partition, and marks everything clean.
    ///
    /// # Errors
    /// [`InternalError`] when a value does not encode.
    pub fn flush(&mut self, out: &mut Vec<Output>) -> Result<(), InternalError> {
        self.flush_each(out, |_, _, _| Ok(()))
    }

    /// As [`Store::flush`], and calls `each` with every changed key and its value (`None`
    /// when deleted), so a stage can publish what changed without reading the store again.
    ///
    /// # Errors
    /// [`InternalError`] when a value does not encode or `each` fails.
    pub fn flush_each(
        &mut self,
        out: &mut Vec<Output>,
        mut each: impl FnMut(&str, Option<&V>, &mut Vec<Output>) -> Result<(), InternalError>,
    ) -> Result<(), InternalError> {
        for (partition, part) in &mut self.partitions {
            for key in std::mem::take(&mut part.dirty) {
                let value = part.values.get(&key);
                let payload = match value {
                    Some(value) => Some(value.encode()?),
                    None => None,
                };
                out.push(Output {
                    topic: self.spec.changelog.clone(),
                    partition: Some(*partition),
                    key: Some(key.as_bytes().to_vec()),
                    payload,
                });
                each(&key, value, out)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;

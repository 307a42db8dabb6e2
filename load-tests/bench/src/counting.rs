//! The trivial projection: a count per key, written to a changelog once per key per batch.
//! It does the bookkeeping every stateful stage does (per-partition state, dirty keys,
//! changelog records, restore) and nothing else, so its rate is the driver's ceiling for a
//! projection. It also writes and loads local snapshots (the runtime's snapshot file format),
//! so `restore_bench` can compare a full changelog restore with snapshot + tail.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use sxfleet_runtime::snapshot;
use sxfleet_runtime::stage::{InternalError, SnapshotError, SnapshotInfo};
use sxfleet_runtime::{Input, Output, Stage};

/// Version of the count value format (8 big-endian bytes) in snapshots.
const COUNT_FORMAT_VERSION: u32 = 1;

/// Counts records per key; the changelog value is the count as 8 big-endian bytes.
pub struct CountingStage {
    changelog: String,
    partitions: HashMap<i32, PartitionCounts>,
}

#[derive(Default)]
struct PartitionCounts {
    counts: HashMap<Vec<u8>, u64>,
    dirty: BTreeSet<Vec<u8>>,
}

impl CountingStage {
    /// A counting stage whose state lives in `changelog` (compacted, co-partitioned with the
    /// input).
    pub fn new(changelog: impl Into<String>) -> Self {
        Self {
            changelog: changelog.into(),
            partitions: HashMap::new(),
        }
    }

    /// The count of `key` held for input `partition`.
    pub fn count(&self, partition: i32, key: &[u8]) -> u64 {
        self.partitions
            .get(&partition)
            .and_then(|state| state.counts.get(key))
            .copied()
            .unwrap_or(0)
    }

    /// Every (key, count) held for `partition`, in key order (for comparing two stages).
    pub fn counts(&self, partition: i32) -> Vec<(&[u8], u64)> {
        let mut counts: Vec<(&[u8], u64)> = self
            .partitions
            .get(&partition)
            .map(|state| {
                state
                    .counts
                    .iter()
                    .map(|(key, count)| (key.as_slice(), *count))
                    .collect()
            })
            .unwrap_or_default();
        counts.sort_unstable();
        counts
    }
}

impl Stage for CountingStage {
    fn name(&self) -> &'static str {
        "counting"
    }

    fn changelog(&self) -> Option<&str> {
        Some(&self.changelog)
    }

    fn restore(
        &mut self,
        partition: i32,
        key: &[u8],
        value: Option<&[u8]>,
    ) -> Result<(), InternalError> {
        let state = self.partitions.entry(partition).or_default();
        match value {
            None => {
                state.counts.remove(key);
            }
            Some(bytes) => {
                let count = <[u8; 8]>::try_from(bytes).map_err(|_| {
                    InternalError(format!("count changelog value has {} bytes", bytes.len()))
                })?;
                state.counts.insert(key.to_vec(), u64::from_be_bytes(count));
            }
        }
        Ok(())
    }

    fn load_snapshot(
        &mut self,
        dir: &Path,
        partition: i32,
    ) -> Result<Option<SnapshotInfo>, SnapshotError> {
        let file = snapshot::path(dir, &self.changelog, partition);
        self.partitions.remove(&partition);
        let Some(snap) = snapshot::read(&file, COUNT_FORMAT_VERSION, partition)? else {
            return Ok(None);
        };
        let mut state = PartitionCounts::default();
        for (key, bytes) in snap.entries {
            let count =
                <[u8; 8]>::try_from(bytes.as_slice()).map_err(|_| SnapshotError::Invalid {
                    path: file.clone(),
                    reason: format!("count of {key} has {} bytes", bytes.len()),
                })?;
            state
                .counts
                .insert(key.into_boxed_bytes().into_vec(), u64::from_be_bytes(count));
        }
        let entries = state.counts.len() as u64;
        self.partitions.insert(partition, state);
        Ok(Some(SnapshotInfo {
            next_offset: snap.next_offset,
            written_ms: snap.written_ms,
            entries,
        }))
    }

    fn save_snapshot(
        &self,
        dir: &Path,
        partition: i32,
        next_offset: i64,
        now_ms: i64,
    ) -> Result<(), SnapshotError> {
        let file = snapshot::path(dir, &self.changelog, partition);
        let mut entries = Vec::new();
        if let Some(state) = self.partitions.get(&partition) {
            entries.reserve(state.counts.len());
            for (key, count) in &state.counts {
                // The snapshot format keeps keys as text.
                let key = std::str::from_utf8(key).map_err(|_| SnapshotError::Invalid {
                    path: file.clone(),
                    reason: "a key is not UTF-8".to_owned(),
                })?;
                entries.push((key, count.to_be_bytes().to_vec()));
            }
        }
        snapshot::write(
            &file,
            COUNT_FORMAT_VERSION,
            partition,
            next_offset,
            now_ms,
            entries.into_iter(),
        )
    }

    fn revoke(&mut self, partition: i32) {
        self.partitions.remove(&partition);
    }

    fn reset(&mut self) {
        self.partitions.clear();
    }

    fn process(&mut self, input: &Input<'_>, _out: &mut Vec<Output>) -> Result<(), InternalError> {
        let key = input.key.unwrap_or_default();
        let state = self.partitions.entry(input.partition).or_default();
        *state.counts.entry(key.to_vec()).or_insert(0) += 1;
        state.dirty.insert(key.to_vec());
        Ok(())
    }

    fn flush(&mut self, out: &mut Vec<Output>) -> Result<(), InternalError> {
        for (partition, state) in &mut self.partitions {
            for key in std::mem::take(&mut state.dirty) {
                let count = state.counts.get(&key).copied().unwrap_or(0);
                out.push(Output {
                    topic: self.changelog.clone(),
                    partition: Some(*partition),
                    key: Some(key),
                    payload: Some(count.to_be_bytes().to_vec()),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(partition: i32, key: &'a [u8]) -> Input<'a> {
        Input {
            topic: "events",
            partition,
            offset: 0,
            key: Some(key),
            payload: Some(b"x"),
            timestamp_ms: None,
            source: None,
        }
    }

    #[test]
    fn emits_one_changelog_record_per_key_per_batch() -> Result<(), InternalError> {
        let mut stage = CountingStage::new("counts");
        let mut out = Vec::new();
        for key in [b"a", b"b", b"a"] {
            stage.process(&input(1, key), &mut out)?;
        }
        assert!(out.is_empty());
        stage.flush(&mut out)?;
        let records: Vec<(Option<i32>, Vec<u8>, u64)> = out
            .iter()
            .map(|o| {
                let value = o
                    .payload
                    .as_deref()
                    .and_then(|v| <[u8; 8]>::try_from(v).ok());
                (
                    o.partition,
                    o.key.clone().unwrap_or_default(),
                    value.map(u64::from_be_bytes).unwrap_or(u64::MAX),
                )
            })
            .collect();
        assert_eq!(
            records,
            vec![(Some(1), b"a".to_vec(), 2), (Some(1), b"b".to_vec(), 1)]
        );
        out.clear();
        stage.flush(&mut out)?;
        assert!(out.is_empty(), "nothing changed since the last flush");
        Ok(())
    }

    #[test]
    fn restores_counts_from_the_changelog() -> Result<(), InternalError> {
        let mut stage = CountingStage::new("counts");
        stage.restore(0, b"a", Some(&5u64.to_be_bytes()))?;
        stage.process(&input(0, b"a"), &mut Vec::new())?;
        assert_eq!(stage.count(0, b"a"), 6);
        stage.restore(0, b"a", None)?;
        assert_eq!(stage.count(0, b"a"), 0);
        assert!(stage.restore(0, b"a", Some(b"bad")).is_err());
        Ok(())
    }

    #[test]
    fn a_snapshot_loads_back_the_same_counts() -> Result<(), Box<dyn std::error::Error>> {
        let dir = std::env::temp_dir().join(format!("counting-{}", uuid::Uuid::new_v4()));
        let mut stage = CountingStage::new("counts");
        stage.restore(2, b"a", Some(&5u64.to_be_bytes()))?;
        stage.restore(2, b"b", Some(&7u64.to_be_bytes()))?;
        stage.restore(3, b"c", Some(&1u64.to_be_bytes()))?;
        stage.save_snapshot(&dir, 2, 42, 1_000)?;

        let mut loaded = CountingStage::new("counts");
        loaded.restore(2, b"stale", Some(&9u64.to_be_bytes()))?;
        let info = loaded.load_snapshot(&dir, 2)?;
        let missing = loaded.load_snapshot(&dir, 3)?;
        std::fs::remove_dir_all(&dir)?;

        assert_eq!(
            info,
            Some(SnapshotInfo {
                next_offset: 42,
                written_ms: 1_000,
                entries: 2
            })
        );
        assert_eq!(loaded.counts(2), stage.counts(2));
        assert_eq!(missing, None, "partition 3 was never snapshotted");
        Ok(())
    }
}

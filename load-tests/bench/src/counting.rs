//! The trivial projection: a count per key, written to a changelog once per key per batch.
//! It is a fold on the runtime's keyed adapter like every stateful stage (a [`Store`] with
//! per-partition state, dirty keys, changelog records, restore, local snapshots) whose own step
//! is one increment and which has no timers, so its rate is the driver's ceiling for a
//! projection. `restore_bench` restores it to compare a full changelog restore with snapshot +
//! tail.
//!
//! [`Store`]: sxfleet_runtime::store::Store

use sxfleet_runtime::keyed::{Fold, Keyed, KeyedStage, Keys};
use sxfleet_runtime::stage::InternalError;
use sxfleet_runtime::store::StoreCodec;
use sxfleet_runtime::{Input, Output, Topics};

/// Name of the count store; its changelog is `<application-id>-counts-changelog`.
pub const COUNT_STORE: &str = "counts";

/// Version of the count value format (8 big-endian bytes) in snapshots.
const COUNT_FORMAT_VERSION: u32 = 1;

/// Counts records per key; the changelog value is the count as 8 big-endian bytes.
pub struct CountingStage {
    keyed: Keyed<Counting>,
}

impl CountingStage {
    /// A counting stage of application `app_id`, its changelog named after `topics`
    /// (compacted, co-partitioned with the input).
    pub fn new(topics: &Topics, app_id: &str) -> Self {
        Self {
            keyed: Keyed::new(Counting, topics, app_id),
        }
    }

    /// The count of `key` held for input `partition`.
    pub fn count(&self, partition: i32, key: &[u8]) -> u64 {
        std::str::from_utf8(key)
            .ok()
            .and_then(|key| self.keyed.store().get(partition, key))
            .map_or(0, |count| count.0)
    }

    /// Every (key, count) held for `partition`, in key order (for comparing two stages).
    pub fn counts(&self, partition: i32) -> Vec<(&[u8], u64)> {
        let entries = self.keyed.store().entries(partition).into_iter();
        entries
            .map(|(key, count)| (key.as_bytes(), count.0))
            .collect()
    }
}

impl KeyedStage for CountingStage {
    type Fold = Counting;

    fn keyed(&self) -> &Keyed<Counting> {
        &self.keyed
    }

    fn keyed_mut(&mut self) -> &mut Keyed<Counting> {
        &mut self.keyed
    }
}

/// A key's count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Count(pub u64);

impl StoreCodec for Count {
    fn encode(&self) -> Result<Vec<u8>, InternalError> {
        Ok(self.0.to_be_bytes().to_vec())
    }

    fn decode(bytes: &[u8]) -> Result<Self, InternalError> {
        let count = <[u8; 8]>::try_from(bytes).map_err(|_| {
            InternalError(format!("count changelog value has {} bytes", bytes.len()))
        })?;
        Ok(Count(u64::from_be_bytes(count)))
    }
}

/// The counting fold: one increment per input record, under its key.
pub struct Counting;

impl Fold for Counting {
    type Value = Count;
    const NAME: &'static str = "counting";
    const STORE: &'static str = COUNT_STORE;
    const FORMAT_VERSION: u32 = COUNT_FORMAT_VERSION;

    fn process(
        &mut self,
        keys: &mut Keys<'_, Self>,
        input: &Input<'_>,
        _out: &mut Vec<Output>,
    ) -> Result<(), InternalError> {
        // Store keys are text (as node ids are); the benchmark's keys always are.
        let key = std::str::from_utf8(input.key.unwrap_or_default())
            .map_err(|_| InternalError("counting: record key is not UTF-8".to_owned()))?;
        keys.update(self, key, |count, _| {
            let next = count.map_or(1, |c| c.0 + 1);
            *count = Some(Count(next));
            (true, ())
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use sxfleet_runtime::stage::SnapshotInfo;
    use sxfleet_runtime::Stage;

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
        let mut stage = CountingStage::new(&Topics::default(), "app");
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
        let mut stage = CountingStage::new(&Topics::default(), "app");
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
        let mut stage = CountingStage::new(&Topics::default(), "app");
        stage.restore(2, b"a", Some(&5u64.to_be_bytes()))?;
        stage.restore(2, b"b", Some(&7u64.to_be_bytes()))?;
        stage.restore(3, b"c", Some(&1u64.to_be_bytes()))?;
        stage.save_snapshot(&dir, 2, 42, 1_000)?;

        let mut loaded = CountingStage::new(&Topics::default(), "app");
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

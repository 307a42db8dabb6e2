//! The adapter over a small fold: a count per key that expires 100 ms (event time) after the
//! key was last seen, stepped by a per-partition setting kept under `#step`.

use super::{Fold, Keyed, KeyedStage, Keys};
use crate::stage::{Input, InternalError, Output, SnapshotInfo, Stage};
use crate::store::{Rest, StoreCodec};
use crate::topics::{TopicSpec, Topics};

const STEP_KEY: &str = "#step";

#[derive(Clone, Debug, PartialEq)]
struct Seen {
    count: u64,
    last_ms: i64,
}

impl StoreCodec for Seen {
    fn encode(&self) -> Result<Vec<u8>, InternalError> {
        let mut bytes = self.count.to_be_bytes().to_vec();
        bytes.extend_from_slice(&self.last_ms.to_be_bytes());
        Ok(bytes)
    }

    fn decode(bytes: &[u8]) -> Result<Self, InternalError> {
        let bad = || InternalError(format!("{} bytes", bytes.len()));
        let (count, last) = bytes.split_at_checked(8).ok_or_else(bad)?;
        Ok(Seen {
            count: u64::from_be_bytes(count.try_into().map_err(|_| bad())?),
            last_ms: i64::from_be_bytes(last.try_into().map_err(|_| bad())?),
        })
    }
}

struct Expiry;

impl Fold for Expiry {
    type Value = Seen;
    const NAME: &'static str = "expiry";
    const STORE: &'static str = "seen";
    const FORMAT_VERSION: u32 = 1;

    fn deadline(&self, key: &str, value: &Seen) -> Option<i64> {
        (key != STEP_KEY).then_some(value.last_ms + 100)
    }

    fn process(
        &mut self,
        keys: &mut Keys<'_, Self>,
        input: &Input<'_>,
        out: &mut Vec<Output>,
    ) -> Result<(), InternalError> {
        let time = input.timestamp_ms.unwrap_or(0);
        keys.advance(self, time, out)?;
        let key = std::str::from_utf8(input.key.unwrap_or_default())
            .map_err(|_| InternalError("key is not UTF-8".to_owned()))?;
        let step = input.payload.map_or(0, |p| p.len() as u64);
        if key == STEP_KEY {
            keys.update(self, key, |slot, _| {
                *slot = Some(Seen {
                    count: step,
                    last_ms: time,
                });
                (true, ())
            });
            return Ok(());
        }
        let count = keys.update(self, key, |slot, rest: Rest<'_, Seen>| {
            let step = rest.get(STEP_KEY).map_or(1, |s| s.count);
            let seen = slot.get_or_insert(Seen {
                count: 0,
                last_ms: time,
            });
            seen.count += step;
            seen.last_ms = time;
            (true, seen.count)
        });
        out.push(record("counts", key, Some(count)));
        Ok(())
    }

    fn on_timer(
        &self,
        key: &str,
        slot: &mut Option<Seen>,
        _rest: Rest<'_, Seen>,
        now_ms: i64,
        out: &mut Vec<Output>,
    ) -> Result<bool, InternalError> {
        let Some(seen) = slot.take() else {
            return Ok(false);
        };
        out.push(record("expired", key, Some(seen.count)));
        out.push(record("expired-at", key, u64::try_from(now_ms).ok()));
        Ok(true)
    }

    fn on_flush(
        &self,
        key: &str,
        value: Option<&Seen>,
        out: &mut Vec<Output>,
    ) -> Result<(), InternalError> {
        out.push(record("latest", key, value.map(|v| v.count)));
        Ok(())
    }
}

fn record(topic: &str, key: &str, value: Option<u64>) -> Output {
    Output {
        topic: topic.to_owned(),
        partition: None,
        key: Some(key.as_bytes().to_vec()),
        payload: value.map(|v| v.to_be_bytes().to_vec()),
    }
}

fn stage() -> Keyed<Expiry> {
    Keyed::new(Expiry, &Topics::with_prefix("t."), "app")
}

const CHANGELOG: &str = "t.app-seen-changelog";

fn input<'a>(partition: i32, key: &'a str, payload: &'a [u8], time: i64) -> Input<'a> {
    Input {
        topic: "in",
        partition,
        offset: 0,
        key: Some(key.as_bytes()),
        payload: Some(payload),
        timestamp_ms: Some(time),
        source: None,
    }
}

/// (topic, partition, key, value) of every output, values read back as counts.
fn summary(out: &[Output]) -> Vec<(String, Option<i32>, String, Option<u64>)> {
    out.iter()
        .map(|o| {
            let key = String::from_utf8_lossy(o.key.as_deref().unwrap_or_default()).into_owned();
            let value = o.payload.as_deref().map(|p| match p.len() {
                8 => u64::from_be_bytes(p.try_into().unwrap_or_default()),
                _ => Seen::decode(p).map_or(u64::MAX, |s| s.count),
            });
            (o.topic.clone(), o.partition, key, value)
        })
        .collect()
}

fn row(
    topic: &str,
    partition: Option<i32>,
    key: &str,
    value: Option<u64>,
) -> (String, Option<i32>, String, Option<u64>) {
    (topic.to_owned(), partition, key.to_owned(), value)
}

#[test]
fn declares_its_name_and_changelog() {
    let stage = stage();
    assert_eq!(stage.name(), "expiry");
    assert_eq!(stage.changelog(), Some(CHANGELOG));
    assert_eq!(
        Keyed::<Expiry>::changelogs(&Topics::with_prefix("t."), "app", 6),
        vec![TopicSpec::new(CHANGELOG, 6).compacted()]
    );
    assert_eq!(
        <Keyed<Expiry> as KeyedStage>::changelogs(&Topics::with_prefix("t."), "app", 6),
        Keyed::<Expiry>::changelogs(&Topics::with_prefix("t."), "app", 6)
    );
}

#[test]
fn a_batch_flushes_one_changelog_record_per_changed_key_and_the_folds_own_records(
) -> Result<(), InternalError> {
    let mut stage = stage();
    let mut out = Vec::new();
    stage.process(&input(1, "a", b"", 10), &mut out)?;
    stage.process(&input(1, "a", b"", 20), &mut out)?;
    stage.process(&input(1, STEP_KEY, b"xxx", 30), &mut out)?;
    stage.process(&input(1, "a", b"", 40), &mut out)?;
    stage.process(&input(2, "a", b"", 40), &mut out)?;
    assert_eq!(
        summary(&out),
        vec![
            row("counts", None, "a", Some(1)),
            row("counts", None, "a", Some(2)),
            row("counts", None, "a", Some(5)),
            row("counts", None, "a", Some(1)),
        ],
        "the step set on partition 1 applies there only"
    );
    out.clear();
    stage.flush(&mut out)?;
    let mut flushed = summary(&out);
    flushed.sort();
    assert_eq!(
        flushed,
        vec![
            row("latest", None, "#step", Some(3)),
            row("latest", None, "a", Some(1)),
            row("latest", None, "a", Some(5)),
            row(CHANGELOG, Some(1), "#step", Some(3)),
            row(CHANGELOG, Some(1), "a", Some(5)),
            row(CHANGELOG, Some(2), "a", Some(1)),
        ]
    );
    out.clear();
    stage.flush(&mut out)?;
    assert!(out.is_empty(), "nothing changed since the last flush");
    Ok(())
}

#[test]
fn timers_follow_state_and_fire_on_ticks_and_later_inputs() -> Result<(), InternalError> {
    let mut stage = stage();
    let mut out = Vec::new();
    stage.process(&input(0, "a", b"", 1_000), &mut out)?;
    stage.process(&input(0, "b", b"", 1_050), &mut out)?;
    stage.process(&input(0, "a", b"", 1_060), &mut out)?;
    assert_eq!(stage.event_time(0), Some(1_060));
    out.clear();
    stage.on_tick(0, 1_149, &mut out)?;
    assert!(
        out.is_empty(),
        "a's timer moved to 1160 when it was seen again"
    );
    stage.on_tick(0, 1_150, &mut out)?;
    assert_eq!(
        summary(&out),
        vec![
            row("expired", None, "b", Some(1)),
            row("expired-at", None, "b", Some(1_150)),
        ]
    );
    out.clear();
    stage.process(&input(0, "c", b"", 5_000), &mut out)?;
    assert_eq!(
        summary(&out),
        vec![
            row("expired", None, "a", Some(2)),
            row("expired-at", None, "a", Some(5_000)),
            row("counts", None, "c", Some(1)),
        ],
        "an input first advances event time"
    );
    out.clear();
    stage.flush(&mut out)?;
    let mut changelog: Vec<_> = summary(&out)
        .into_iter()
        .filter(|r| r.0 == CHANGELOG)
        .collect();
    changelog.sort();
    assert_eq!(
        changelog,
        vec![
            row(CHANGELOG, Some(0), "a", None),
            row(CHANGELOG, Some(0), "b", None),
            row(CHANGELOG, Some(0), "c", Some(1)),
        ],
        "expired keys are tombstoned"
    );
    Ok(())
}

#[test]
fn a_restore_from_the_changelog_rearms_the_same_timers() -> Result<(), InternalError> {
    let mut live = stage();
    let mut log = Vec::new();
    live.process(&input(3, "a", b"", 1_000), &mut log)?;
    live.process(&input(3, "b", b"", 1_030), &mut log)?;
    live.process(&input(3, "gone", b"", 1_040), &mut log)?;
    live.flush(&mut log)?;
    live.process(&input(3, "b", b"", 2_000), &mut log)?;
    live.flush(&mut log)?;
    assert_eq!(live.keyed().store().len(3), 1, "a and gone expired at 2000");
    log.retain(|o| o.topic == CHANGELOG);

    let mut restored = stage();
    for record in &log {
        let key = record.key.as_deref().unwrap_or_default();
        restored.restore(3, key, record.payload.as_deref())?;
    }
    assert_eq!(
        restored.keyed().store().entries(3),
        live.keyed().store().entries(3)
    );
    for stage in [&mut live, &mut restored] {
        let mut out = Vec::new();
        stage.on_tick(3, 2_099, &mut out)?;
        assert!(out.is_empty());
        stage.on_tick(3, 2_100, &mut out)?;
        assert_eq!(
            summary(&out),
            vec![
                row("expired", None, "b", Some(1)),
                row("expired-at", None, "b", Some(2_100)),
            ]
        );
    }
    assert!(restored.restore(3, b"a", Some(b"bad")).is_err());
    Ok(())
}

#[test]
fn a_snapshot_loads_back_the_state_and_rearms_its_timers() -> Result<(), Box<dyn std::error::Error>>
{
    let dir = tempfile::tempdir()?;
    let mut original = stage();
    let mut out = Vec::new();
    original.process(&input(2, "a", b"", 1_000), &mut out)?;
    original.process(&input(2, STEP_KEY, b"xx", 1_000), &mut out)?;
    original.process(&input(2, "b", b"", 1_050), &mut out)?;
    original.save_snapshot(dir.path(), 2, 42, 7)?;

    let mut loaded = stage();
    loaded.process(&input(2, "stale", b"", 1_000), &mut out)?;
    let info = loaded.load_snapshot(dir.path(), 2)?;
    assert_eq!(
        info,
        Some(SnapshotInfo {
            next_offset: 42,
            written_ms: 7,
            entries: 3
        })
    );
    assert_eq!(
        loaded.keyed().store().entries(2),
        original.keyed().store().entries(2)
    );
    assert_eq!(loaded.load_snapshot(dir.path(), 5)?, None);
    out.clear();
    loaded.on_tick(2, 1_100, &mut out)?;
    assert_eq!(
        summary(&out),
        vec![
            row("expired", None, "a", Some(1)),
            row("expired-at", None, "a", Some(1_100)),
        ],
        "a's timer is re-armed, the stale key's is gone"
    );
    Ok(())
}

#[test]
fn revoke_drops_a_partitions_keys_and_timers_and_reset_drops_all() -> Result<(), InternalError> {
    let mut stage = stage();
    let mut out = Vec::new();
    stage.process(&input(0, "a", b"", 1_000), &mut out)?;
    stage.process(&input(1, "a", b"", 1_000), &mut out)?;
    stage.revoke(0);
    assert_eq!(stage.keyed().store().partitions(), vec![1]);
    assert_eq!(stage.event_time(0), None);
    out.clear();
    stage.on_tick(0, 9_000, &mut out)?;
    assert!(out.is_empty(), "no timer left in the revoked partition");
    stage.reset();
    assert!(stage.keyed().store().is_empty());
    assert_eq!(stage.event_time(1), None);
    stage.on_tick(1, 9_000, &mut out)?;
    assert!(out.is_empty());
    stage.flush(&mut out)?;
    assert!(out.is_empty(), "reset drops the dirty keys too");
    Ok(())
}

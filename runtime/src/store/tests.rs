//! Store behaviour: coalescing, tombstones, restore, partitions.

use super::{Store, StoreCodec, StoreSpec};
use crate::stage::InternalError;
use crate::Output;

#[derive(Clone, Debug, PartialEq)]
struct Count(u32);

impl StoreCodec for Count {
    fn encode(&self) -> Result<Vec<u8>, InternalError> {
        Ok(self.0.to_be_bytes().to_vec())
    }

    fn decode(bytes: &[u8]) -> Result<Self, InternalError> {
        let array: [u8; 4] = bytes
            .try_into()
            .map_err(|_| InternalError(format!("{} bytes", bytes.len())))?;
        Ok(Count(u32::from_be_bytes(array)))
    }
}

fn store() -> Store<Count> {
    Store::new(StoreSpec {
        name: "counts",
        changelog: "app-counts-changelog".to_owned(),
        format_version: 1,
    })
}

fn bump(store: &mut Store<Count>, partition: i32, key: &str) {
    store.update(partition, key, |value, _| {
        let next = value.as_ref().map_or(1, |c| c.0 + 1);
        *value = Some(Count(next));
        (true, ())
    });
}

#[test]
fn changes_are_coalesced_to_one_record_per_key_per_flush() {
    let mut store = store();
    for _ in 0..5 {
        bump(&mut store, 2, "a");
    }
    bump(&mut store, 2, "b");
    bump(&mut store, 3, "a");
    let mut out = Vec::new();
    store.flush(&mut out).unwrap();
    out.sort_by(|x, y| (x.partition, &x.key).cmp(&(y.partition, &y.key)));
    let records: Vec<(Option<i32>, &[u8], u32)> = out
        .iter()
        .map(|o: &Output| {
            let value = Count::decode(o.payload.as_deref().unwrap()).unwrap().0;
            (o.partition, o.key.as_deref().unwrap(), value)
        })
        .collect();
    assert_eq!(
        records,
        vec![
            (Some(2), &b"a"[..], 5),
            (Some(2), &b"b"[..], 1),
            (Some(3), &b"a"[..], 1)
        ]
    );
    assert!(out.iter().all(|o| o.topic == "app-counts-changelog"));
    let mut again = Vec::new();
    store.flush(&mut again).unwrap();
    assert!(again.is_empty(), "a second flush writes nothing new");
}

#[test]
fn an_update_that_changes_nothing_writes_nothing() {
    let mut store = store();
    bump(&mut store, 0, "a");
    store.flush(&mut Vec::new()).unwrap();
    store.update(0, "a", |_, _| (false, ()));
    let mut out = Vec::new();
    store.flush(&mut out).unwrap();
    assert!(out.is_empty());
    assert_eq!(store.get(0, "a"), Some(&Count(1)));
}

#[test]
fn deletes_flush_as_tombstones_and_restore_replays_them() {
    let mut store = store();
    bump(&mut store, 1, "a");
    bump(&mut store, 1, "b");
    let mut log = Vec::new();
    store.flush(&mut log).unwrap();
    store.delete(1, "a");
    bump(&mut store, 1, "b");
    store.flush(&mut log).unwrap();
    let tombstones: Vec<&Output> = log.iter().filter(|o| o.payload.is_none()).collect();
    assert_eq!(tombstones.len(), 1);

    let mut restored = self::store();
    for record in &log {
        restored
            .restore(1, record.key.as_deref().unwrap(), record.payload.as_deref())
            .unwrap();
    }
    assert_eq!(restored.entries(1), store.entries(1));
    assert_eq!(restored.get(1, "a"), None);
    assert_eq!(restored.get(1, "b"), Some(&Count(2)));
}

#[test]
fn a_bad_changelog_record_is_an_error_not_a_default() {
    let mut store = store();
    assert!(store.restore(0, b"a", Some(b"xx")).is_err());
    assert!(store
        .restore(0, &[0xff, 0xfe], Some(&[0, 0, 0, 1]))
        .is_err());
    assert!(store.is_empty());
}

#[test]
fn revoke_drops_only_that_partition() {
    let mut store = store();
    bump(&mut store, 0, "a");
    bump(&mut store, 1, "a");
    store.revoke(0);
    assert_eq!(store.partitions(), vec![1]);
    assert_eq!(store.len(1), 1);
}

#[test]
fn a_store_partition_survives_a_snapshot_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let mut original = store();
    for key in ["a", "b", "c"] {
        bump(&mut original, 0, key);
    }
    bump(&mut original, 0, "b");
    original.save_snapshot(dir.path(), 0, 77, 5).unwrap();
    let mut loaded = store();
    bump(&mut loaded, 0, "stale");
    let info = loaded.load_snapshot(dir.path(), 0).unwrap().unwrap();
    assert_eq!(
        (info.next_offset, info.written_ms, info.entries),
        (77, 5, 3)
    );
    assert_eq!(loaded.entries(0), original.entries(0));
    assert!(loaded.load_snapshot(dir.path(), 1).unwrap().is_none());
}

#[test]
fn an_update_reads_the_rest_of_its_partition_but_not_its_own_key() {
    let mut store = store();
    bump(&mut store, 0, "a");
    bump(&mut store, 0, "b");
    bump(&mut store, 1, "c");
    let seen = store.update(0, "a", |value, rest| {
        let seen = (rest.get("a"), rest.get("b").cloned(), rest.get("c"));
        (
            false,
            (value.clone(), seen.0.is_none(), seen.1, seen.2.is_none()),
        )
    });
    assert_eq!(seen, (Some(Count(1)), true, Some(Count(1)), true));
}

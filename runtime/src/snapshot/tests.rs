//! Snapshot files: round trip, and every kind of damage is detected.

use super::{path, read, write, SnapshotError};

fn entries() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("node-a", vec![1, 2, 3]),
        ("node-b", vec![]),
        ("é", vec![9; 300]),
    ]
}

fn written(dir: &std::path::Path) -> std::path::PathBuf {
    let file = path(dir, "app-twins-changelog", 3);
    write(&file, 1, 3, 4_242, 1_000, entries().into_iter()).unwrap();
    file
}

#[test]
fn a_written_snapshot_reads_back_whole() {
    let dir = tempfile::tempdir().unwrap();
    let file = written(dir.path());
    let snap = read(&file, 1, 3).unwrap().unwrap();
    assert_eq!(snap.next_offset, 4_242);
    assert_eq!(snap.written_ms, 1_000);
    let got: Vec<(&str, &[u8])> = snap
        .entries
        .iter()
        .map(|(k, v)| (&**k, v.as_slice()))
        .collect();
    let want: Vec<(&str, Vec<u8>)> = entries();
    let want: Vec<(&str, &[u8])> = want.iter().map(|(k, v)| (*k, v.as_slice())).collect();
    assert_eq!(got, want);
}

#[test]
fn a_missing_snapshot_is_none() {
    let dir = tempfile::tempdir().unwrap();
    assert!(read(&path(dir.path(), "x", 0), 1, 0).unwrap().is_none());
}

#[test]
fn damage_of_any_byte_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let file = written(dir.path());
    let good = std::fs::read(&file).unwrap();
    for index in 0..good.len() {
        let mut bad = good.clone();
        bad[index] ^= 0x55;
        std::fs::write(&file, &bad).unwrap();
        assert!(
            matches!(read(&file, 1, 3), Err(SnapshotError::Invalid { .. })),
            "flipped byte {index} not detected"
        );
    }
    for len in 0..good.len() {
        std::fs::write(&file, &good[..len]).unwrap();
        assert!(
            read(&file, 1, 3).is_err(),
            "truncation to {len} not detected"
        );
    }
}

#[test]
fn another_format_version_or_partition_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = written(dir.path());
    assert!(matches!(
        read(&file, 2, 3),
        Err(SnapshotError::Invalid { .. })
    ));
    assert!(matches!(
        read(&file, 1, 4),
        Err(SnapshotError::Invalid { .. })
    ));
}

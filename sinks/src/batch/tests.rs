//! Unit tests of [`super::Batch`].

use super::*;
use crate::tables::events::{event_row, Events};
use crate::tables::transitions::{transition_row, Transitions};
use crate::tables::{Coords, TableRow};

use crate::samples;

fn event(topic: &str, partition: i32, offset: i64) -> Option<TableRow> {
    let at = Coords {
        topic,
        partition,
        offset,
    };
    let row = event_row(&samples::heartbeat_event("n", offset), at).unwrap();
    Some(TableRow::new::<Events>(row))
}

fn offsets(batch: &Batch) -> Vec<(String, i32, i64)> {
    let mut out: Vec<_> = batch
        .commit_offsets()
        .into_iter()
        .map(|((t, p), o)| (t, p, o))
        .collect();
    out.sort();
    out
}

#[test]
fn commits_past_the_highest_offset_of_each_partition() {
    let mut batch = Batch::new();
    assert!(batch.is_empty());
    batch.push("ev", 0, 5, event("ev", 0, 5), 100);
    batch.push("ev", 0, 6, event("ev", 0, 6), 100);
    batch.push("ev", 1, 9, event("ev", 1, 9), 100);
    // A dead-lettered record: no row, but its offset is committed too.
    batch.push("ev", 1, 10, None, 50);
    batch.push("dlq", 0, 0, None, 10);
    assert!(!batch.is_empty());
    assert_eq!(batch.rows(), 3);
    assert_eq!(batch.bytes(), 360);
    assert_eq!(
        offsets(&batch),
        vec![
            ("dlq".to_owned(), 0, 1),
            ("ev".to_owned(), 0, 7),
            ("ev".to_owned(), 1, 11)
        ]
    );
}

#[test]
fn full_by_rows_or_bytes() {
    let mut batch = Batch::new();
    batch.push("ev", 0, 1, event("ev", 0, 1), 10);
    batch.push("ev", 0, 2, event("ev", 0, 2), 10);
    assert!(batch.is_full(2, 1_000));
    assert!(!batch.is_full(3, 1_000));
    assert!(batch.is_full(3, 20));
    batch.clear();
    assert!(batch.is_empty());
    assert_eq!((batch.rows(), batch.bytes()), (0, 0));
    assert!(batch.commit_offsets().is_empty());
}

#[test]
fn revoked_partitions_lose_rows_and_offsets() {
    let mut batch = Batch::new();
    batch.push("ev", 0, 1, event("ev", 0, 1), 10);
    batch.push("ev", 1, 7, event("ev", 1, 7), 10);
    batch.push("ev", 0, 2, event("ev", 0, 2), 10);
    batch.push("ev", 2, 3, event("ev", 2, 3), 10);
    batch.push("ev", 1, 8, event("ev", 1, 8), 10);

    let dropped = batch.drop_partitions(&[("ev".to_owned(), 0), ("other".to_owned(), 0)]);
    assert_eq!(dropped, 2);
    let kept: Vec<i64> = batch.table::<Events>().iter().map(|r| r.offset).collect();
    assert_eq!(kept, vec![7, 3, 8]);
    assert_eq!(
        offsets(&batch),
        vec![("ev".to_owned(), 1, 9), ("ev".to_owned(), 2, 4)]
    );

    // Indexes were renumbered: dropping partition 2 now leaves exactly partition 1's rows.
    assert_eq!(batch.drop_partitions(&[("ev".to_owned(), 2)]), 1);
    let kept: Vec<i64> = batch.table::<Events>().iter().map(|r| r.offset).collect();
    assert_eq!(kept, vec![7, 8]);
    assert_eq!(offsets(&batch), vec![("ev".to_owned(), 1, 9)]);

    assert_eq!(batch.drop_partitions(&[("ev".to_owned(), 9)]), 0);
    assert_eq!(batch.drop_partitions(&[("ev".to_owned(), 1)]), 2);
    assert!(batch.is_empty());
    assert_eq!(batch.bytes(), 0);
}

fn transition(topic: &str, partition: i32, offset: i64) -> Option<TableRow> {
    let at = Coords {
        topic,
        partition,
        offset,
    };
    let entry = samples::connectivity_transition("n", offset);
    Some(TableRow::new::<Transitions>(
        transition_row(&entry, at).unwrap(),
    ))
}

#[test]
fn transitions_are_batched_and_revoked_with_their_partition() {
    let mut batch = Batch::new();
    batch.push("tr", 0, 4, transition("tr", 0, 4), 10);
    batch.push("ev", 0, 1, event("ev", 0, 1), 10);
    batch.push("tr", 1, 6, transition("tr", 1, 6), 10);
    assert_eq!(batch.rows(), 3);
    assert_eq!(batch.table::<Transitions>().len(), 2);
    assert!(batch.is_full(3, usize::MAX));

    assert_eq!(batch.drop_partitions(&[("tr".to_owned(), 0)]), 1);
    let kept: Vec<i64> = batch
        .table::<Transitions>()
        .iter()
        .map(|r| r.offset)
        .collect();
    assert_eq!(kept, vec![6]);
    assert_eq!(batch.table::<Events>().len(), 1);
    assert_eq!(
        offsets(&batch),
        vec![("ev".to_owned(), 0, 2), ("tr".to_owned(), 1, 7)]
    );
}

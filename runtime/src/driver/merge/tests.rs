//! The merge's order, waits and revocations, with the clock passed in.

use std::time::{Duration, Instant};

use super::{Lane, Merge};

const IDLE: Duration = Duration::from_millis(500);

fn lane(topic: &str, partition: i32) -> Lane {
    (topic.to_owned(), partition)
}

/// A merge over `lanes`, each fed `(order time, name)` records at offsets 0, 1, ... in the
/// order given.
fn merge_of(lanes: &[(Lane, &[(i64, &'static str)])]) -> Merge<&'static str> {
    let mut merge = Merge::new(IDLE);
    for (lane, records) in lanes {
        merge.assign(lane.clone());
        for (offset, (order_ms, name)) in records.iter().enumerate() {
            merge.push(lane.clone(), offset as i64, *order_ms, *name);
        }
    }
    merge
}

fn drain(merge: &mut Merge<&'static str>, now: Instant) -> Vec<&'static str> {
    std::iter::from_fn(|| merge.pop(now)).collect()
}

#[test]
fn releases_in_order_time_keeping_each_partition_order_and_waits_for_empty_lanes() {
    struct Case {
        name: &'static str,
        lanes: Vec<(Lane, &'static [(i64, &'static str)])>,
        caught_up: &'static [i32],
        /// Released at t0, when waits for empty lanes start.
        first: &'static [&'static str],
        /// Released `after` that.
        after: Duration,
        then: &'static [&'static str],
    }
    let cases = [
        Case {
            name: "interleaved times",
            lanes: vec![
                (lane("raw", 0), &[(10, "a10"), (30, "a30"), (50, "a50")]),
                (lane("raw", 1), &[(20, "b20"), (40, "b40"), (60, "b60")]),
            ],
            caught_up: &[0, 1],
            first: &["a10", "b20", "a30", "b40", "a50", "b60"],
            after: Duration::ZERO,
            then: &[],
        },
        Case {
            name: "a partition's own order is kept even when its times go back",
            lanes: vec![
                (lane("raw", 0), &[(50, "a50"), (10, "a10")]),
                (lane("raw", 1), &[(20, "b20")]),
            ],
            caught_up: &[0, 1],
            first: &["b20", "a50", "a10"],
            after: Duration::ZERO,
            then: &[],
        },
        Case {
            name: "ties: lower partition first",
            lanes: vec![
                (lane("raw", 1), &[(10, "b10")]),
                (lane("raw", 0), &[(10, "a10")]),
            ],
            caught_up: &[0, 1],
            first: &["a10", "b10"],
            after: Duration::ZERO,
            then: &[],
        },
        Case {
            name: "ties: lower topic before lower partition",
            lanes: vec![
                (lane("b-topic", 0), &[(10, "b0")]),
                (lane("a-topic", 3), &[(10, "a3")]),
            ],
            caught_up: &[0, 3],
            first: &["a3", "b0"],
            after: Duration::ZERO,
            then: &[],
        },
        Case {
            name: "an empty lane within the idle bound holds everything",
            lanes: vec![(lane("raw", 0), &[(10, "a10")]), (lane("raw", 1), &[])],
            caught_up: &[0],
            first: &[],
            after: IDLE - Duration::from_millis(1),
            then: &[],
        },
        Case {
            name: "an empty lane past the idle bound is passed",
            lanes: vec![
                (lane("raw", 0), &[(10, "a10"), (20, "a20")]),
                (lane("raw", 1), &[]),
            ],
            caught_up: &[0],
            first: &[],
            after: IDLE,
            then: &["a10", "a20"],
        },
        Case {
            name: "an empty lane caught up is not waited for",
            lanes: vec![(lane("raw", 0), &[(10, "a10")]), (lane("raw", 1), &[])],
            caught_up: &[1],
            first: &["a10"],
            after: Duration::ZERO,
            then: &[],
        },
        Case {
            name: "a lane emptied by a release is waited for again",
            lanes: vec![
                (lane("raw", 0), &[(10, "a10"), (40, "a40")]),
                (lane("raw", 1), &[(20, "b20")]),
            ],
            caught_up: &[],
            first: &["a10", "b20"],
            after: Duration::ZERO,
            then: &[],
        },
    ];
    for case in cases {
        let t0 = Instant::now();
        let mut merge = merge_of(&case.lanes);
        for partition in case.caught_up {
            merge.caught_up(*partition);
        }
        assert_eq!(drain(&mut merge, t0), case.first, "{}", case.name);
        assert_eq!(
            drain(&mut merge, t0 + case.after),
            case.then,
            "{}",
            case.name
        );
    }
}

#[test]
fn a_record_arriving_in_time_is_released_in_its_place() {
    let t0 = Instant::now();
    let mut merge = merge_of(&[(lane("raw", 0), &[(30, "a30")]), (lane("raw", 1), &[])]);
    assert_eq!(merge.wake_at(t0), None, "no wait has started");
    assert_eq!(merge.pop(t0 + Duration::from_millis(100)), None);
    assert_eq!(
        merge.wake_at(t0 + Duration::from_millis(100)),
        Some(t0 + Duration::from_millis(100) + IDLE),
        "the wait for the empty lane ends its idle bound after it started"
    );
    merge.push(lane("raw", 1), 0, 20, "b20");
    merge.caught_up(1);
    assert_eq!(
        drain(&mut merge, t0 + Duration::from_millis(200)),
        ["b20", "a30"]
    );
    assert_eq!(
        merge.wake_at(t0 + Duration::from_millis(200)),
        None,
        "nothing held"
    );
}

#[test]
fn a_new_record_clears_caught_up() {
    let t0 = Instant::now();
    let mut merge = merge_of(&[(lane("raw", 0), &[(10, "a10")]), (lane("raw", 1), &[])]);
    merge.caught_up(1);
    merge.push(lane("raw", 1), 0, 5, "b5");
    assert_eq!(merge.pop(t0), Some("b5"));
    assert_eq!(
        merge.pop(t0),
        None,
        "lane 1 may have more: waited for again"
    );
    assert_eq!(merge.pop(t0 + IDLE), Some("a10"));
}

#[test]
fn end_of_partition_is_ignored_when_two_topics_share_the_number() {
    let t0 = Instant::now();
    let mut merge = merge_of(&[(lane("a", 0), &[(10, "a10")]), (lane("b", 0), &[])]);
    merge.caught_up(0);
    assert_eq!(merge.pop(t0), None);
}

#[test]
fn a_revoked_lane_drops_its_records_and_is_no_longer_waited_for() {
    let t0 = Instant::now();
    let mut merge = merge_of(&[
        (lane("raw", 0), &[(10, "a10"), (30, "a30")]),
        (lane("raw", 1), &[(20, "b20")]),
        (lane("raw", 2), &[]),
    ]);
    assert_eq!(merge.pop(t0), None, "lane 2 is waited for");
    assert_eq!(merge.revoke(&lane("raw", 0)), 2);
    assert_eq!(merge.revoke(&lane("raw", 2)), 0);
    assert_eq!(merge.held(&lane("raw", 0)), 0);
    assert_eq!(drain(&mut merge, t0), ["b20"]);
}

#[test]
fn restarted_waits_count_again_from_the_next_release() {
    let t0 = Instant::now();
    let mut merge = merge_of(&[(lane("raw", 0), &[(10, "a10")]), (lane("raw", 1), &[])]);
    assert_eq!(merge.pop(t0), None, "the wait for lane 1 starts");
    merge.restart_waits();
    assert_eq!(
        merge.pop(t0 + IDLE),
        None,
        "time before the restart does not count"
    );
    assert_eq!(merge.pop(t0 + IDLE * 2), Some("a10"));
}

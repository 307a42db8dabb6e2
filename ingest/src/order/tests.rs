use sxfleet_schemas::{EventPayload, FleetEvent, Link, LinkState, Source};

use super::{Offered, OrderLimits, SeqState};

const LIMITS: OrderLimits = OrderLimits {
    window_ms: 1_000,
    max_held: 3,
    max_gaps: 2,
};

fn event(seq: i64) -> FleetEvent {
    FleetEvent {
        event_id: FleetEvent::derived_event_id("n", seq),
        node_id: "n".into(),
        seq,
        event_time_ms: seq,
        received_ms: 0,
        source: Source::KafkaRaw,
        replayed: false,
        payload: EventPayload::Link(Link {
            state: LinkState::Detected,
            via: None,
        }),
    }
}

fn seqs(out: &[FleetEvent]) -> Vec<i64> {
    out.iter().map(|e| e.seq).collect()
}

/// Offers `seq` at `now`, returning what happened and the seqs released.
fn offer(state: &mut SeqState, seq: i64, now: i64) -> (Offered, Vec<i64>) {
    let mut out = Vec::new();
    let offered = state.offer(seq, Some(event(seq)), now, &LIMITS, &mut out);
    (offered, seqs(&out))
}

#[test]
fn in_order_events_pass_and_duplicates_are_dropped() {
    let mut state = SeqState::new(1, 1);
    assert_eq!(offer(&mut state, 1, 0), (Offered::InOrder, vec![1]));
    assert_eq!(offer(&mut state, 2, 0), (Offered::InOrder, vec![2]));
    assert_eq!(offer(&mut state, 2, 0), (Offered::Duplicate, vec![]));
    assert_eq!(offer(&mut state, 1, 0), (Offered::Duplicate, vec![]));
}

#[test]
fn a_gap_filled_within_the_window_restores_the_order() {
    let mut state = SeqState::new(1, 1);
    assert_eq!(offer(&mut state, 3, 0), (Offered::Held, vec![]));
    assert_eq!(offer(&mut state, 3, 10), (Offered::Duplicate, vec![]));
    assert_eq!(offer(&mut state, 2, 20), (Offered::Held, vec![]));
    assert_eq!(state.deadline(&LIMITS), Some(1_000));
    assert_eq!(offer(&mut state, 1, 30), (Offered::InOrder, vec![1, 2, 3]));
    assert_eq!(state.deadline(&LIMITS), None);
}

#[test]
fn the_window_releases_past_a_gap_and_the_missing_seq_comes_late() {
    let mut state = SeqState::new(1, 1);
    offer(&mut state, 1, 0);
    offer(&mut state, 3, 100);
    offer(&mut state, 5, 600);
    let mut out = Vec::new();
    assert_eq!(state.release_due(1_099, &LIMITS, &mut out), 0);
    assert_eq!(state.release_due(1_100, &LIMITS, &mut out), 1);
    assert_eq!(seqs(&out), vec![3]);
    assert_eq!(
        state.gaps,
        vec![(0, 0), (2, 2)],
        "seq 0 lies below the numbering"
    );
    assert_eq!(offer(&mut state, 2, 1_200), (Offered::Late, vec![2]));
    assert_eq!(offer(&mut state, 2, 1_300), (Offered::Duplicate, vec![]));
    assert_eq!(offer(&mut state, 4, 1_300), (Offered::InOrder, vec![4, 5]));
    assert_eq!(state.gaps, vec![(0, 0)]);
}

#[test]
fn too_many_held_release_the_lowest_and_gaps_are_bounded() {
    let mut state = SeqState::new(1, 1);
    for seq in [3, 5, 7] {
        assert_eq!(offer(&mut state, seq, 0).0, Offered::Held);
    }
    assert_eq!(offer(&mut state, 9, 0), (Offered::Held, vec![3]));
    assert_eq!(state.gaps, vec![(0, 2)], "adjacent gaps merge");
    let mut out = Vec::new();
    state.release_due(5_000, &LIMITS, &mut out);
    assert_eq!(seqs(&out), vec![5, 7, 9]);
    assert_eq!(state.gaps, vec![(6, 6), (8, 8)], "oldest range forgotten");
    assert_eq!(offer(&mut state, 1, 5_000).0, Offered::Duplicate);
    assert_eq!(offer(&mut state, 6, 5_000).0, Offered::Late);
}

#[test]
fn a_gap_split_by_a_late_seq_keeps_both_sides() {
    let mut state = SeqState::new(1, 1);
    offer(&mut state, 10, 0);
    state.release_due(1_000, &LIMITS, &mut Vec::new());
    assert_eq!(state.gaps, vec![(0, 9)]);
    assert_eq!(offer(&mut state, 5, 2_000).0, Offered::Late);
    assert_eq!(state.gaps, vec![(0, 4), (6, 9)]);
    assert_eq!(offer(&mut state, 1, 2_000).0, Offered::Late);
    assert_eq!(offer(&mut state, 9, 2_000).0, Offered::Late);
    assert_eq!(state.gaps, vec![(0, 0), (2, 4), (6, 8)]);
}

#[test]
fn a_consumed_seq_advances_without_output() {
    let mut state = SeqState::new(1, 1);
    offer(&mut state, 2, 0);
    let mut out = Vec::new();
    assert_eq!(state.offer(1, None, 0, &LIMITS, &mut out), Offered::InOrder);
    assert_eq!(seqs(&out), vec![2]);
}

#[test]
fn numbering_starts_at_the_first_seq_or_below() {
    assert_eq!(SeqState::new(1, 0).next_seq, 0);
    assert!(SeqState::new(1, 0).gaps.is_empty());
    assert_eq!(SeqState::new(1, 7).next_seq, 1);
    let mut state = SeqState::new(1, 7);
    assert_eq!(
        offer(&mut state, 0, 0),
        (Offered::Late, vec![0]),
        "below the numbering"
    );
}

#[test]
fn state_round_trips_through_json_with_held_events() {
    let mut state = SeqState::new(1, 1);
    offer(&mut state, 4, 0);
    let json = serde_json::to_vec(&state).unwrap();
    let back: SeqState = serde_json::from_slice(&json).unwrap();
    assert_eq!(back, state);
}

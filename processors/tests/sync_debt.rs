//! Growing sync debt through the fleet processor stage: a node that was LIVE and then fell
//! silent keeps accruing sync debt in event time (another node's events, or tick records,
//! moving the partition's time), and its twin and attention score show it. Pure: the stage is
//! driven in memory, no services.

use sxfleet_processors::node::NodeState;
use sxfleet_processors::TwinStage;
use sxfleet_runtime::{Input, Output, Stage, Topics};
use sxfleet_schemas::{
    decode, encode, ConnectivityMode, EventPayload, FleetEvent, Health, Heartbeat, Node, Source,
};

const T0: i64 = 1_772_150_400_000; // 2026-02-27T00:00:00Z
const HOUR: i64 = 3_600_000;

fn heartbeat(node_id: &str, seq: i64, at_ms: i64) -> FleetEvent {
    FleetEvent {
        event_id: format!("{node_id}:{seq}"),
        node_id: node_id.to_owned(),
        seq,
        event_time_ms: at_ms,
        received_ms: at_ms,
        source: Source::KafkaRaw,
        replayed: false,
        payload: EventPayload::Heartbeat(Heartbeat {
            rtt_ms: Some(40.0),
            loss_pct: Some(0.0),
            health: Health::Ok,
            ..Heartbeat::default()
        }),
    }
}

fn feed(stage: &mut TwinStage, event: &FleetEvent, offset: i64) -> Vec<Output> {
    let payload = encode(event).expect("encodes");
    let input = Input {
        topic: "fleet.events.v1",
        partition: 0,
        offset,
        key: Some(event.node_id.as_bytes()),
        payload: Some(&payload),
        timestamp_ms: Some(event.event_time_ms),
        source: None,
    };
    let mut out = Vec::new();
    stage.process(&input, &mut out).expect("processes");
    stage.flush(&mut out).expect("flushes");
    out
}

fn node<'a>(stage: &'a TwinStage, id: &str) -> &'a NodeState {
    let nodes = stage.nodes(0);
    let found = nodes.into_iter().find(|(key, _)| *key == id);
    found.map(|(_, state)| state).expect("node in partition 0")
}

/// The last twin of `id` published on the twin topic in `out`.
fn published(out: &[Output], topics: &Topics, id: &str) -> Option<Node> {
    out.iter()
        .rev()
        .filter(|o| o.topic == topics.twin && o.key.as_deref() == Some(id.as_bytes()))
        .find_map(|o| o.payload.as_deref().and_then(|p| decode::<Node>(p).ok()))
}

fn stage() -> (TwinStage, Topics) {
    let topics = Topics::with_prefix("test.");
    (TwinStage::new("sync-debt", topics.clone()), topics)
}

/// Seed example of the issue: silent 17 h, the twin reads 61 200 s, and the attention score's
/// sync-debt component is full (20 points from 4 h on).
#[test]
fn a_node_silent_for_17_hours_shows_17_hours_of_sync_debt() {
    let (mut stage, topics) = stage();
    feed(&mut stage, &heartbeat("silent", 1, T0), 0);
    let mut out = Vec::new();
    // Another node of the partition heartbeats every hour; its events move the partition's time.
    for h in 1..=17 {
        let o = feed(&mut stage, &heartbeat("chatty", h, T0 + h * HOUR), h);
        out.extend(o);
        let debt = node(&stage, "silent")
            .twin
            .connectivity
            .sync_debt
            .seconds_behind;
        assert_eq!(debt, h * 3_600, "after {h} h");
    }
    let silent = node(&stage, "silent");
    assert_eq!(
        silent.twin.connectivity.mode,
        ConnectivityMode::Disconnected
    );
    assert_eq!(silent.twin.connectivity.sync_debt.seconds_behind, 61_200);
    let twin = published(&out, &topics, "silent").expect("republished");
    assert_eq!(twin.connectivity.sync_debt.seconds_behind, 61_200);
    assert_eq!(twin, silent.twin);
    // Full sync-debt points (20), plus 5 for no master of record anywhere.
    assert_eq!(silent.attention.score, 25.0);
    assert_eq!(silent.attention.reasons, ["sync_debt", "authority"]);
    assert_eq!(twin.attention.score, 25.0);
    // Dated by the refresh instant, not by whatever moved the time.
    assert_eq!(twin.updated_ms, T0 + 17 * HOUR);
}

/// Ticks carry the debt as well, and where they fall within a refresh period does not matter:
/// one late tick and many early ones end in the same node state.
#[test]
fn ticks_carry_the_debt_dated_by_the_refresh_instants() {
    let mut twins = Vec::new();
    for ticks in [
        vec![17 * HOUR + 7 * 60_000],
        (1..=68).map(|k| k * 900_000 + 1).collect(),
    ] {
        let (mut stage, _) = stage();
        feed(&mut stage, &heartbeat("silent", 1, T0), 0);
        for tick in ticks {
            let mut out = Vec::new();
            stage.on_tick(0, T0 + tick, &mut out).expect("ticks");
            stage.flush(&mut out).expect("flushes");
        }
        let silent = node(&stage, "silent");
        assert_eq!(silent.twin.connectivity.sync_debt.seconds_behind, 61_200);
        assert_eq!(silent.attention.score, 25.0);
        twins.push(silent.clone());
    }
    assert_eq!(twins[0].twin.connectivity, twins[1].twin.connectivity);
    assert_eq!(twins[0].attention, twins[1].attention);
}

/// Half the full debt earns half the points: 2 h of silence is 10 of the 20 sync-debt points.
#[test]
fn the_attention_score_grows_with_the_debt() {
    let (mut stage, _) = stage();
    feed(&mut stage, &heartbeat("silent", 1, T0), 0);
    feed(&mut stage, &heartbeat("chatty", 1, T0 + 2 * HOUR), 1);
    let silent = node(&stage, "silent");
    assert_eq!(silent.twin.connectivity.sync_debt.seconds_behind, 7_200);
    assert_eq!(silent.attention.score, 15.0);
}

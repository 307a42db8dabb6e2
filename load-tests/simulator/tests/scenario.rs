//! The seed 000 scenario's records against the ingest normalizer: every record is accepted
//! even when unknown fields are rejected (so each field it writes is part of the contract),
//! node records become node events and control records control events under the same key.

use std::collections::BTreeMap;

use sxfleet_ingest::{normalize, Normalized, NormalizerConfig, RawContext, UnknownFields};
use sxfleet_schemas::{ControlPayload, EdgeRelation, EventPayload, Source, SyncDirection};
use sxfleet_simulator::scenario::seed000;
use sxfleet_simulator::DEFAULT_START_MS;

#[test]
fn the_normalizer_accepts_every_scenario_record_strictly() {
    let scenario = seed000(DEFAULT_START_MS).unwrap_or_else(|e| panic!("{e}"));
    let strict = NormalizerConfig {
        unknown_fields: UnknownFields::Reject,
        ..NormalizerConfig::default()
    };
    let (mut events, mut control) = (0, 0);
    let mut via: BTreeMap<String, Option<Vec<String>>> = BTreeMap::new();
    let (mut edges, mut syncs, mut domains) = (Vec::new(), Vec::new(), Vec::new());
    for msg in &scenario.records {
        let ctx = RawContext {
            source: Source::KafkaRaw,
            received_ms: msg.event_time_ms,
        };
        let records = normalize(&strict, &msg.payload, ctx).unwrap_or_else(|e| {
            panic!(
                "rejected {:?}: {}",
                e.rejection,
                String::from_utf8_lossy(&msg.payload)
            )
        });
        assert_eq!(records.len(), 1);
        match &records[0] {
            Normalized::Event(e) => {
                assert!(!msg.control);
                assert_eq!(e.node_id, msg.key);
                assert_eq!(e.event_time_ms, msg.event_time_ms);
                events += 1;
                match &e.payload {
                    EventPayload::Heartbeat(hb) => {
                        via.insert(e.node_id.clone(), hb.via.clone());
                    }
                    EventPayload::Edge(edge) => {
                        edges.push((e.node_id.clone(), edge.peer_id.clone(), edge.relation));
                    }
                    _ => {}
                }
            }
            Normalized::Control(c) => {
                assert!(msg.control);
                assert_eq!(c.key, msg.key);
                assert_eq!(c.event_time_ms, msg.event_time_ms);
                control += 1;
                match &c.payload {
                    ControlPayload::Sync(sync) => {
                        assert_eq!(sync.direction, SyncDirection::Upstream);
                        assert_eq!(sync.last_sync_ms + 30_000, c.event_time_ms);
                        syncs.push((sync.domain_id.clone(), sync.frequency_ms));
                    }
                    ControlPayload::Domain(d) => {
                        let frequency = d.sync.as_ref().and_then(|s| s.frequency_ms);
                        domains.push((d.domain_id.clone(), d.version, frequency));
                    }
                    _ => {}
                }
            }
        }
    }
    assert_eq!(events + control, scenario.records.len());
    // 6 domains, 6 claims, 2 bundles, 2 assignments, 4 × 24 + 1 sync reports.
    assert_eq!(control, 6 + 6 + 2 + 2 + 4 * 24 + 1);
    // The relays' paths and the direct nodes survive normalization; nodes that never send
    // `via` have none.
    let path = |id: &str| via.get(id).cloned().flatten();
    assert_eq!(
        path("sx-a2-node-12"),
        Some(vec!["relay-a2-2".into(), "relay-a2-1".into()])
    );
    assert_eq!(path("relay-a2-1"), Some(vec![]));
    assert_eq!(path("sx-a2-node-22"), None);
    assert_eq!(edges.len(), 5);
    assert!(edges.contains(&(
        "sx-a1-node-01".into(),
        "relay-a2-1".into(),
        EdgeRelation::Bypass
    )));
    assert_eq!(
        syncs.iter().filter(|s| s.1 == Some(900_000)).count(),
        4 * 24
    );
    assert_eq!(syncs.iter().filter(|s| s.1 == Some(86_400_000)).count(), 1);
    assert!(domains.contains(&("edge-zone-a1".into(), Some(1), Some(900_000))));
    assert!(domains.contains(&("global".into(), Some(1), None)));
}

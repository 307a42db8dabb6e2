//! The seed 000 scenario's records against the ingest normalizer: every record is accepted
//! even when unknown fields are rejected (so each field it writes is part of the contract),
//! node records become node events and control records control events under the same key.

use sxfleet_ingest::{normalize, Normalized, NormalizerConfig, RawContext, UnknownFields};
use sxfleet_schemas::Source;
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
            }
            Normalized::Control(c) => {
                assert!(msg.control);
                assert_eq!(c.key, msg.key);
                assert_eq!(c.event_time_ms, msg.event_time_ms);
                control += 1;
            }
        }
    }
    assert_eq!(events + control, scenario.records.len());
    // 6 domains, 6 claims, 2 bundles, 2 assignments, 4 × 24 + 1 sync reports.
    assert_eq!(control, 6 + 6 + 2 + 2 + 4 * 24 + 1);
}

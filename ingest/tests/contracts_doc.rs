//! Every raw example in `docs/contracts.md` behaves as the document says.

mod doc_blocks;

use sxfleet_ingest::{normalize, NormalizerConfig, RawContext};
use sxfleet_schemas::Source;

/// (info string, body) of each fenced block in the "Raw input" section.
fn raw_examples() -> Vec<(String, String)> {
    doc_blocks::fenced_blocks(include_str!("../../docs/contracts.md"), "## Raw input")
}

#[test]
fn documented_examples_are_accepted_or_rejected_as_documented() {
    let examples = raw_examples();
    let accepted = examples.iter().filter(|(info, _)| info == "json").count();
    let rejected = examples
        .iter()
        .filter(|(info, _)| info.starts_with("json reject="))
        .count();
    assert!(
        accepted >= 10,
        "expected the documented raw examples, found {accepted}"
    );
    assert!(
        rejected >= 4,
        "expected the documented rejections, found {rejected}"
    );
    let ctx = RawContext {
        source: Source::KafkaRaw,
        // Receive time: 2026-02-27T12:00:00Z, after every documented event time.
        received_ms: 1_772_193_600_000,
    };
    let config = NormalizerConfig::default();
    for (info, body) in &examples {
        let result = normalize(&config, body.as_bytes(), ctx);
        match info.strip_prefix("json reject=") {
            None => {
                assert_eq!(info, "json", "unexpected block kind");
                let records = result.unwrap_or_else(|rejected| {
                    panic!("documented example rejected: {rejected:?}\n{body}")
                });
                assert!(!records.is_empty());
            }
            Some(code) => match result {
                Ok(_) => panic!("documented rejection accepted:\n{body}"),
                Err(rejected) => assert_eq!(rejected.rejection.code.as_str(), code, "{body}"),
            },
        }
    }
}

//! The DDL text per server generation.

use crate::caps::ServerCaps;
use crate::tables::ddl::is_identifier;
use crate::tables::enums::*;
use crate::tables::{dlq, domains, events, node_state, policy_bundles, transitions};

fn old() -> ServerCaps {
    ServerCaps::from_version("18.16.1").unwrap()
}

fn new() -> ServerCaps {
    ServerCaps::from_version("24.8.4.13").unwrap()
}

#[test]
fn enum8_renders_codes() {
    assert_eq!(
        enum8(HEALTH),
        "Enum8('UNKNOWN' = 0, 'OK' = 1, 'DEGRADED' = 2, 'FAILED' = 3)"
    );
}

#[test]
fn enum_tables_have_unique_names_and_codes() {
    for values in [
        EVENT_KIND,
        SOURCE,
        NODE_KIND,
        CONNECTIVITY,
        LIFECYCLE_PHASE,
        HEALTH,
        ATTESTATION,
    ] {
        for (i, (name, code)) in values.iter().enumerate() {
            for (other_name, other_code) in &values[i + 1..] {
                assert_ne!(name, other_name);
                assert_ne!(code, other_code);
            }
        }
    }
}

#[test]
fn identifiers() {
    assert!(is_identifier("fleet"));
    assert!(is_identifier("fleet_t0a9f"));
    assert!(is_identifier("_x1"));
    for bad in ["", "1fleet", "fleet-t", "fleet`; DROP", "flé"] {
        assert!(!is_identifier(bad), "{bad}");
    }
}

#[test]
fn old_server_gets_no_new_features() {
    let caps = old();
    for sql in [
        events::create("db", &caps),
        node_state::create("db", &caps),
        dlq::create("db", &caps),
    ] {
        assert!(!sql.contains("LowCardinality"), "{sql}");
        assert!(!sql.contains("CODEC"), "{sql}");
        assert!(!sql.contains("DateTime64"), "{sql}");
        assert!(!sql.contains("TTL"), "{sql}");
        assert!(sql.starts_with("CREATE TABLE IF NOT EXISTS `db`."), "{sql}");
    }
}

#[test]
fn new_server_gets_low_cardinality_and_codecs() {
    let caps = new();
    assert!(node_state::create("db", &caps).contains("region LowCardinality(String)"));
    assert!(events::create("db", &caps).contains("event_time_ms Int64 CODEC(Delta(8), LZ4)"));
    assert!(dlq::create("db", &caps).contains("reason_code LowCardinality(String)"));
    assert!(transitions::create("db", &caps).contains("at_ms Int64 CODEC(Delta(8), LZ4)"));
}

#[test]
fn transitions_dedupe_by_entry() {
    let sql = transitions::create("db", &old());
    assert!(sql.contains("ENGINE = ReplacingMergeTree()"), "{sql}");
    assert!(sql.contains("ORDER BY (node_id, machine, seq)"), "{sql}");
    assert!(sql.contains("PARTITION BY toYYYYMM(at)"), "{sql}");
    assert!(
        sql.contains("machine Enum8('UNKNOWN' = 0, 'CONNECTIVITY' = 1, 'LIFECYCLE' = 2)"),
        "{sql}"
    );
}

#[test]
fn domains_and_bundles_replace_by_revision() {
    for caps in [old(), new()] {
        let sql = domains::create("db", &caps);
        assert!(
            sql.contains("ENGINE = ReplacingMergeTree(revision)\nORDER BY domain_id"),
            "{sql}"
        );
        assert!(sql.contains("path Array(String),"), "{sql}");
        let sql = policy_bundles::create("db", &caps);
        assert!(
            sql.contains("ENGINE = ReplacingMergeTree(revision)\nORDER BY (bundle_id, version)"),
            "{sql}"
        );
        assert_eq!(
            sql.contains("LowCardinality"),
            caps.low_cardinality,
            "{sql}"
        );
        assert!(!sql.contains("Nullable"), "{sql}");
    }
}

#[test]
fn sorting_keys_have_no_nullable_columns() {
    for sql in [
        node_state::create("db", &old()),
        transitions::create("db", &old()),
    ] {
        let key = sql.lines().find(|l| l.starts_with("ORDER BY")).unwrap();
        for line in sql.lines().filter(|l| l.contains("Nullable")) {
            let column = line.split_whitespace().next().unwrap_or_default();
            assert!(!key.contains(column), "{column} in {key}");
        }
    }
}

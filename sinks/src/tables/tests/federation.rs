//! Row building of the hierarchy and topology: node_state's Node v3 columns, `domains` and
//! `policy_bundles`, every column checked against the schema value it comes from.

use crate::samples::{self, T0};
use crate::tables::domains::domain_row;
use crate::tables::node_state::node_state_row;
use crate::tables::policy_bundles::bundle_row;
use crate::tables::row::datetime;
use crate::tables::{Coords, RowError};

const AT: Coords<'static> = Coords {
    topic: "t.events",
    partition: 3,
    offset: 41,
};

#[test]
fn node_state_row_has_the_hierarchy_and_the_edges() {
    let twins = samples::tree::twins();
    let row = |id: &str| node_state_row(twins.iter().find(|n| n.id == id).unwrap(), AT).unwrap();
    let a1 = row("a1-00");
    assert_eq!(a1.domain_path, ["global", "region-a", "edge-zone-a1"]);
    assert_eq!(a1.edge_peers, ["a1-01", "a2-00"]);
    assert_eq!(a1.edge_relations, ["SIGNALING", "BYPASS"]);
    assert_eq!(a1.edge_states, ["UP", "DOWN"]);
    assert_eq!(a1.edge_changed_ms, [T0, T0]);
    assert!(a1.relay_path.is_empty());
    let a2 = row("a2-00");
    assert_eq!(a2.relay_path, ["relay-7", "sat-link-2"]);
    let c = row("c-00");
    assert_eq!(c.last_sync_ms, samples::tree::ZONE_C_LAST_SYNC);
    let mut never = samples::node("n", 1);
    never.connectivity.last_sync_ms = None;
    assert_eq!(node_state_row(&never, AT).unwrap().last_sync_ms, 0);
}

#[test]
fn domain_row_flattens_master_sync_and_authority() {
    let domains = samples::tree::domains();
    let region_a = domains.iter().find(|d| d.domain_id == "region-a").unwrap();
    let row = domain_row(region_a, AT).unwrap();
    assert_eq!(row.name, "region-a (name)");
    assert_eq!(row.parent_id, "global");
    assert_eq!(row.level, "REGION");
    assert_eq!(row.path, ["global", "region-a"]);
    assert_eq!(row.version, 1);
    assert_eq!(
        (
            row.master_controller_id.as_str(),
            row.master_level.as_str(),
            row.master_epoch
        ),
        ("region-a-control", "REGION", 1)
    );
    assert_eq!(row.master_since_ms, T0);
    assert_eq!(row.split_brain, 0);
    assert_eq!(
        (
            row.sync_upstream.as_str(),
            row.sync_frequency_ms,
            row.sync_mode.as_str()
        ),
        ("global-control", 900_000, "continuous")
    );
    assert_eq!(row.upstream_controller_id, "region-a-control");
    assert_eq!(row.upstream_peer, "global-control");
    assert_eq!(row.upstream_last_sync_ms, samples::tree::AS_OF - 300_000);
    assert_eq!(row.upstream_sync_debt_s, 240);
    assert_eq!(row.upstream_overdue, 0);
    assert_eq!(row.authority_status, "AUTHORITATIVE");
    assert_eq!(row.authority_reason, "");
    assert_eq!(row.revision, 3);
    assert_eq!(row.updated_at, datetime(row.updated_ms));
    assert_eq!(
        (row.topic.as_str(), row.partition, row.offset),
        ("t.events", 3, 41)
    );

    // No master, no upstream sync: empty strings and zeros.
    let b1 = domains
        .iter()
        .find(|d| d.domain_id == "edge-zone-b1")
        .unwrap();
    let row = domain_row(b1, AT).unwrap();
    assert_eq!(
        (row.master_controller_id.as_str(), row.master_epoch),
        ("", 0)
    );
    assert_eq!(
        (row.upstream_peer.as_str(), row.upstream_last_sync_ms),
        ("", 0)
    );
    assert_eq!(row.authority_reason, "NO_MASTER");

    let mut bad = b1.clone();
    bad.revision = -1;
    assert_eq!(
        domain_row(&bad, AT).unwrap_err(),
        RowError::Negative {
            field: "revision",
            value: -1
        }
    );
}

#[test]
fn bundle_row_has_sorted_parallel_maps() {
    use std::collections::BTreeMap;
    let bundle = sxfleet_schemas::BundleVersion {
        bundle: sxfleet_schemas::PolicyBundle {
            bundle_id: "b-1".to_owned(),
            version: "1.2.0".to_owned(),
            target_version: "2.4.0".to_owned(),
            policy_version: "p-3".to_owned(),
            config: BTreeMap::from([
                ("z".to_owned(), "1".to_owned()),
                ("a".to_owned(), "2".to_owned()),
            ]),
            constraints: BTreeMap::from([("max".to_owned(), "10%".to_owned())]),
        },
        event_time_ms: T0,
        status: "SUPERSEDED".to_owned(),
        decided_ms: T0 + 5_000,
        superseded_by: Some("1.3.0".to_owned()),
        revision: 4,
    };
    let row = bundle_row(&bundle, AT).unwrap();
    assert_eq!(
        (row.bundle_id.as_str(), row.version.as_str()),
        ("b-1", "1.2.0")
    );
    assert_eq!(
        (row.target_version.as_str(), row.policy_version.as_str()),
        ("2.4.0", "p-3")
    );
    assert_eq!(row.config_keys, ["a", "z"]);
    assert_eq!(row.config_values, ["2", "1"]);
    assert_eq!(row.constraint_keys, ["max"]);
    assert_eq!(row.constraint_values, ["10%"]);
    assert_eq!(row.status, "SUPERSEDED");
    assert_eq!((row.event_time_ms, row.decided_ms), (T0, T0 + 5_000));
    assert_eq!(row.decided_at, datetime(T0 + 5_000));
    assert_eq!(row.superseded_by, "1.3.0");
    assert_eq!(row.revision, 4);
    assert_eq!(row.offset, 41);
}

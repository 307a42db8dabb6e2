//! A small hand-built fleet and the overview it must produce, shared by the summary tests on
//! ClickHouse 18.16 and on chDB.

use sxfleet_schemas::{ConnectivityMode, LifecyclePhase, Node};
use sxfleet_sinks::Summary;

use super::samples;

fn node(
    id: &str,
    version: i64,
    region: &str,
    mode: ConnectivityMode,
    phase: LifecyclePhase,
    reported: Option<&str>,
) -> Node {
    let mut node = samples::node(id, version);
    node.region = region.to_owned();
    node.connectivity.mode = mode;
    node.lifecycle.phase = phase;
    node.actual_state.reported_version = reported.map(str::to_owned);
    // No domain tree here (`tree.rs` has one): the overview's tree stays empty.
    node.domain_path = Vec::new();
    node
}

/// Six twins of five nodes: `d` has two versions and moved region, mode and phase between
/// them; `e` never registered nor reported.
pub fn twins() -> Vec<Node> {
    use ConnectivityMode::{Autonomous, Live, Replaying};
    use LifecyclePhase::{Active, Provisioning, Quarantined, Updating};
    vec![
        node("a", 1, "eu-west", Live, Active, Some("2.3.1")),
        node("b", 1, "eu-west", Live, Active, Some("2.4.0")),
        node("c", 1, "us-east", Autonomous, Updating, Some("2.3.1")),
        node("d", 1, "us-east", Live, Active, Some("2.3.1")),
        node("d", 5, "eu-west", Replaying, Quarantined, Some("2.4.0")),
        unregistered(node(
            "e",
            2,
            "",
            ConnectivityMode::Unknown,
            Provisioning,
            None,
        )),
    ]
}

/// A node nothing is known about: no bundle applies, never attested.
fn unregistered(mut node: Node) -> Node {
    node.drift.status = "UNASSIGNED".to_owned();
    node.trust.state = "UNVERIFIED".to_owned();
    node
}

fn pairs(items: &[(&str, u64)]) -> Vec<(String, u64)> {
    items.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

/// The overview of [`twins`]: only the latest version of `d` counts.
pub fn expected_summary() -> Summary {
    Summary {
        total_nodes: 5,
        by_region: pairs(&[("", 1), ("eu-west", 3), ("us-east", 1)]),
        by_connectivity: pairs(&[
            ("UNKNOWN", 1),
            ("LIVE", 2),
            ("AUTONOMOUS", 1),
            ("REPLAYING", 1),
        ]),
        by_lifecycle_phase: pairs(&[
            ("PROVISIONING", 1),
            ("ACTIVE", 2),
            ("UPDATING", 1),
            ("QUARANTINED", 1),
        ]),
        by_reported_version: pairs(&[("", 1), ("2.3.1", 2), ("2.4.0", 2)]),
        by_drift_status: pairs(&[("UNASSIGNED", 1), ("DRIFTED", 4)]),
        by_trust: pairs(&[("UNVERIFIED", 1), ("VIOLATED", 4)]),
        // The twins have no domain path.
        tree: Vec::new(),
    }
}

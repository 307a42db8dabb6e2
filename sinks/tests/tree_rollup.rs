//! The hierarchical rollup is additive: over random trees of domains and random nodes, every
//! `domain_tree_rollup` row (evaluated by DataFusion in process, on the view the embedded
//! backend serves) equals the sum of its children's rows plus its own direct nodes — and the
//! maxima and minima compose the same way.

use std::collections::BTreeMap;

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use proptest::prelude::*;
use sxfleet_schemas::{ConnectivityMode, Health, LifecyclePhase, Node};
use sxfleet_sinks::query::{run, session_in_memory};
use sxfleet_sinks::samples;
use sxfleet_sinks::tables::arrow::record_batch;
use sxfleet_sinks::tables::node_state::{node_state_row, NodeState};
use sxfleet_sinks::tables::{landed, Coords, Entry, Table};

const MODES: [ConnectivityMode; 8] = [
    ConnectivityMode::Unknown,
    ConnectivityMode::Live,
    ConnectivityMode::Delayed,
    ConnectivityMode::EdgeCached,
    ConnectivityMode::Autonomous,
    ConnectivityMode::Disconnected,
    ConnectivityMode::Returning,
    ConnectivityMode::Replaying,
];

/// The additive columns of a rollup row, then the worst sync debt (max) and the oldest sync
/// (min over nodes that synced, 0 when none).
const SUMS: [&str; 16] = [
    "nodes",
    "excluded",
    "covered",
    "unknown_mode",
    "live",
    "delayed",
    "edge_cached",
    "autonomous",
    "disconnected",
    "returning",
    "replaying",
    "impaired",
    "drifted",
    "drift_objects",
    "open_alerts",
    "direct_nodes",
];

#[derive(Clone, Debug)]
struct Spec {
    domain: usize,
    mode: usize,
    failed: bool,
    quarantined: bool,
    drift_objects: i32,
    alert: bool,
    behind: i64,
    last_sync: Option<i64>,
}

fn node_spec() -> impl Strategy<Value = Spec> {
    (
        0usize..8,
        0usize..8,
        any::<bool>(),
        prop::bool::weighted(0.2),
        0i32..3,
        any::<bool>(),
        0i64..100_000,
        prop::option::of(1i64..1_000_000),
    )
        .prop_map(
            |(domain, mode, failed, quarantined, drift_objects, alert, behind, last_sync)| Spec {
                domain,
                mode,
                failed,
                quarantined,
                drift_objects,
                alert,
                behind,
                last_sync,
            },
        )
}

/// Domain `i`'s path, given each domain's parent (domain 0 is the root).
fn path(parents: &[usize], i: usize) -> Vec<String> {
    let mut path = vec![format!("d{i}")];
    let mut at = i;
    while at != 0 {
        at = parents[at];
        path.insert(0, format!("d{at}"));
    }
    path
}

fn twin(id: usize, spec: &Spec, parents: &[usize]) -> Node {
    let domain = spec.domain % parents.len();
    let mut n = samples::node(&format!("n{id}"), 1);
    n.domain_id = format!("d{domain}");
    n.domain_path = path(parents, domain);
    n.connectivity.mode = MODES[spec.mode];
    n.actual_state.runtime.health = if spec.failed {
        Health::Failed
    } else {
        Health::Ok
    };
    n.lifecycle.phase = if spec.quarantined {
        LifecyclePhase::Quarantined
    } else {
        LifecyclePhase::Active
    };
    n.drift.status = if spec.drift_objects > 0 {
        "DRIFTED"
    } else {
        "IN_SPEC"
    }
    .to_owned();
    n.drift.objects_out_of_spec = spec.drift_objects;
    n.attention.alert_open = spec.alert;
    n.connectivity.sync_debt.seconds_behind = spec.behind;
    n.connectivity.last_sync_ms = spec.last_sync;
    n
}

/// Column `name` of every row, as Int64.
fn column(batches: &[RecordBatch], name: &str) -> Vec<i64> {
    let mut out = Vec::new();
    for batch in batches {
        let index = batch.schema().index_of(name).expect(name);
        let values = cast(batch.column(index), &DataType::Int64).expect("cast");
        out.extend(
            values
                .as_primitive::<Int64Type>()
                .iter()
                .map(|v| v.unwrap_or(0)),
        );
    }
    out
}

fn strings(batches: &[RecordBatch], name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for batch in batches {
        let index = batch.schema().index_of(name).expect(name);
        let values = cast(batch.column(index), &DataType::Utf8).expect("cast");
        out.extend(
            values
                .as_string::<i32>()
                .iter()
                .map(|v| v.unwrap_or("").to_owned()),
        );
    }
    out
}

/// Every rollup row by tree path: the [`SUMS`] columns, the worst sync debt, the oldest sync.
async fn rollup(nodes: &[Node]) -> BTreeMap<String, (Vec<i64>, i64, i64)> {
    let at = Coords {
        topic: "t.twin",
        partition: 0,
        offset: 0,
    };
    let rows: Vec<_> = nodes
        .iter()
        .map(|n| node_state_row(n, at).unwrap())
        .collect();
    let refs: Vec<_> = rows.iter().collect();
    let batch = record_batch(NodeState::NAME, &NodeState::columns(), &refs).unwrap();
    let tables: Vec<(Entry, Vec<RecordBatch>)> = landed()
        .iter()
        .map(|entry| {
            let batches = if entry.name == NodeState::NAME {
                vec![batch.clone()]
            } else {
                vec![]
            };
            (*entry, batches)
        })
        .collect();
    let ctx = session_in_memory(&tables).await.unwrap();
    let batches = run(&ctx, "SELECT * FROM domain_tree_rollup").await.unwrap();
    let paths = strings(&batches, "tree_path");
    let sums: Vec<Vec<i64>> = SUMS.iter().map(|c| column(&batches, c)).collect();
    let worst = column(&batches, "worst_sync_debt_s");
    let oldest = column(&batches, "oldest_sync_ms");
    (paths.into_iter().enumerate())
        .map(|(row, path)| {
            let values = sums.iter().map(|c| c[row]).collect();
            (path, (values, worst[row], oldest[row]))
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn a_subtree_is_its_children_plus_its_direct_nodes(
        parent_picks in prop::collection::vec(any::<prop::sample::Index>(), 0..7),
        specs in prop::collection::vec(node_spec(), 0..40),
    ) {
        // Domain i > 0 hangs under one of the domains before it.
        let mut parents = vec![0];
        for (i, pick) in parent_picks.iter().enumerate() {
            parents.push(pick.index(i + 1));
        }
        let nodes: Vec<Node> = (specs.iter().enumerate()).map(|(i, s)| twin(i, s, &parents)).collect();
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let rows = runtime.block_on(rollup(&nodes));

        // Every domain on some node's path has a row, and only those.
        let mut on_paths: Vec<String> = nodes
            .iter()
            .flat_map(|n| (1..=n.domain_path.len()).map(|k| n.domain_path[..k].join("/")))
            .collect();
        on_paths.sort();
        on_paths.dedup();
        prop_assert_eq!(rows.keys().cloned().collect::<Vec<_>>(), on_paths);

        for (path, (values, worst, oldest)) in &rows {
            let id = path.rsplit('/').next().unwrap();
            let children: Vec<_> = rows
                .iter()
                .filter(|(p, _)| p.strip_prefix(path.as_str()).and_then(|r| r.strip_prefix('/')).is_some_and(|r| !r.contains('/')))
                .map(|(_, row)| row)
                .collect();
            let direct: Vec<&Node> = nodes.iter().filter(|n| n.domain_id == id).collect();
            let direct_rows = runtime.block_on(rollup(&direct.iter().map(|n| (*n).clone()).collect::<Vec<_>>()));
            let own = direct_rows.get(path.as_str()).map(|(v, w, o)| (v.clone(), *w, *o));
            let (own_values, own_worst, own_oldest) = own.unwrap_or((vec![0; SUMS.len()], i64::MIN, 0));
            // Sums: every column but direct_nodes (the last) adds up.
            for (c, name) in SUMS.iter().enumerate().take(SUMS.len() - 1) {
                let from_children: i64 = children.iter().map(|(v, _, _)| v[c]).sum();
                prop_assert_eq!(values[c], from_children + own_values[c], "{} {}", path, name);
            }
            prop_assert_eq!(values[SUMS.len() - 1], direct.len() as i64, "{} direct", path);
            let worst_parts = children.iter().map(|(_, w, _)| *w).chain([own_worst]).max().unwrap();
            prop_assert_eq!(*worst, worst_parts, "{} worst", path);
            let oldest_parts = children.iter().map(|(_, _, o)| *o).chain([own_oldest]).filter(|o| *o > 0).min().unwrap_or(0);
            prop_assert_eq!(*oldest, oldest_parts, "{} oldest", path);
        }
    }
}

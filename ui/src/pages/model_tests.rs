//! Page models from hand-made answers: the figures go through unchanged, shares and paging
//! are derived, and a missing column is a shape error.

use sxfleet_sinks::cookbook::{NodePage, NodeSort, Symbol};
use sxfleet_sinks::tables::enums::CONNECTIVITY;
use sxfleet_sinks::Answer;

use super::{domain, freshness, overview, Answers};

fn answer(columns: &[&str], rows: &[&[&str]]) -> Answer {
    Answer {
        columns: columns.iter().map(|c| (*c).to_owned()).collect(),
        rows: rows
            .iter()
            .map(|r| r.iter().map(|c| (*c).to_owned()).collect())
            .collect(),
    }
}

fn fresh() -> super::Freshness {
    let cols = [
        "data_as_of_ms",
        "received_ms",
        "twins_as_of_ms",
        "nodes",
        "excluded",
    ];
    freshness(&answer(&cols, &[&["1", "1", "1", "4", "1"]]), "test", 2).unwrap()
}

#[test]
fn the_overview_counts_every_mode_and_its_share() {
    let mut answers = Answers::default();
    answers.insert(
        "fleet_connectivity",
        answer(&["mode", "nodes"], &[&["LIVE", "3"], &["REPLAYING", "1"]]),
    );
    let drift_cols = [
        "domain_id",
        "covered",
        "drifted",
        "drift_unknown",
        "drifted_share",
        "avg_drift_score",
        "max_drift_score",
    ];
    answers.insert(
        "drift_by_domain",
        answer(
            &drift_cols,
            &[&["edge-a1", "3", "1", "1", "0.333", "24.2", "72.5"]],
        ),
    );
    for (name, columns) in [
        ("rollout_status", &["bundle_id"][..]),
        ("attention_top", &["node_id"][..]),
        ("domain_authority_status", &["domain_id"][..]),
        ("open_alerts", &["alert_id"][..]),
        ("connectivity_by_domain", &["domain_id"][..]),
    ] {
        answers.insert(name, answer(columns, &[]));
    }
    let page = overview::model(&answers, fresh()).unwrap();
    assert_eq!(page.connectivity.total, 4);
    assert_eq!(page.connectivity.excluded, 1);
    assert_eq!(page.connectivity.excluded_share, 0.25);
    assert_eq!(page.connectivity.modes.len(), 8);
    let live = &page.connectivity.modes[0];
    assert_eq!(
        (live.mode.as_str(), live.nodes, live.share, live.colour),
        ("LIVE", 3, 0.75, "#2e9d44")
    );
    assert_eq!(page.drift[0].max_drift_score, Some(72.5));
    let html = super::overview_html::render(&page);
    assert!(
        html.contains("4 nodes; 1 excluded from the rollups (25.0 %)"),
        "{html}"
    );
    assert!(html.contains("href=\"/domains/edge-a1\""));

    answers.insert("drift_by_domain", answer(&["domain_id"], &[&["edge-a1"]]));
    let error = overview::model(&answers, fresh()).unwrap_err();
    assert_eq!(error.query, "drift_by_domain");
}

#[test]
fn node_table_pages_link_to_their_neighbours() {
    let page = NodePage {
        mode: Symbol::of(CONNECTIVITY, "LIVE"),
        sort: NodeSort::NodeId,
        limit: 2,
        offset: 2,
        ..NodePage::default()
    };
    assert_eq!(
        domain::page_href("region-a", &page),
        "/domains/region-a?mode=LIVE&sort=node_id&limit=2&offset=2"
    );
    assert_eq!(
        domain::page_href("x y", &NodePage::default()),
        "/domains/x%20y"
    );
    let mut answers = Answers::default();
    for name in domain::QUERIES {
        answers.insert(name, Answer::default());
    }
    answers.insert("domain_nodes_count", answer(&["nodes"], &[&["5"]]));
    let model = domain::model(&answers, fresh(), "region-a", &page).unwrap();
    assert_eq!(model.nodes.matching, 5);
    assert_eq!(
        model.nodes.previous.as_deref(),
        Some("/domains/region-a?mode=LIVE&sort=node_id&limit=2")
    );
    assert_eq!(
        model.nodes.next.as_deref(),
        Some("/domains/region-a?mode=LIVE&sort=node_id&limit=2&offset=4")
    );
    assert!(model.summary.is_none());
    assert!(!domain::exists(&answers).unwrap());
}

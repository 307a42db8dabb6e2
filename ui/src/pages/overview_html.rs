//! The overview page's HTML: the spectrum bar and legend, the drift heat map, and the tables,
//! every entry linking to its domain or node page.

use super::overview::{Connectivity, Overview};
use super::{document, domain_href, node_href, percent, share, table_row as row, MODE_COLOURS};
use crate::html::Html;
use crate::svg::{self, HeatRow, Segment};

/// The page's HTML.
pub fn render(page: &Overview) -> String {
    let mut html = Html::new();
    spectrum(&mut html, &page.connectivity);
    html.element("h2", &[], "Drift heat map by domain");
    let rows: Vec<HeatRow> = page
        .drift
        .iter()
        .map(|d| {
            let cell = |n: i64| {
                (
                    share(n, d.covered),
                    format!("{n} ({})", percent(share(n, d.covered))),
                )
            };
            HeatRow {
                label: d.domain_id.clone(),
                href: domain_href(&d.domain_id),
                cells: vec![
                    cell(d.drifted),
                    cell(d.drift_unknown),
                    (0.0, d.covered.to_string()),
                ],
            }
        })
        .collect();
    html.fragment(svg::heat_map(
        &["drifted", "unknown", "covered"],
        &rows,
        "#c62828",
    ));
    html.element("h2", &[], "Rollout status by policy bundle");
    html.open("table", &[]).header_row(&[
        "Bundle", "Target", "Nodes", "Covered", "Excluded", "In spec", "Drifted", "Unknown", "Done",
    ]);
    for r in &page.rollouts {
        let cells = [
            r.bundle_id.clone(),
            r.target_version.clone(),
            r.nodes.to_string(),
            r.covered.to_string(),
            r.excluded.to_string(),
            r.in_spec.to_string(),
            r.drifted.to_string(),
            r.unknown.to_string(),
            percent(r.done_share),
        ];
        row(&mut html, &cells);
    }
    html.close("table");
    html.element("h2", &[], "Attention queue");
    html.open("table", &[])
        .header_row(&["Node", "Domain", "Score", "Reasons", "Alert"]);
    for a in &page.attention {
        html.open("tr", &[]).open("td", &[]);
        html.link(&node_href(&a.node_id), &a.node_id).close("td");
        html.open("td", &[])
            .link(&domain_href(&a.domain_id), &a.domain_id)
            .close("td");
        html.element("td", &[], &format!("{:.1}", a.attention_score))
            .element("td", &[], &a.attention_reasons.join(", "))
            .element("td", &[], if a.alert_open { "open" } else { "" })
            .close("tr");
    }
    html.close("table");
    html.element("h2", &[], "Control plane: authoritative or degraded");
    html.open("table", &[]).header_row(&[
        "Domain",
        "Level",
        "Master of record",
        "Status",
        "Reason",
        "Upstream debt",
        "Nodes",
        "Subtree debt",
    ]);
    for a in &page.authority {
        let class = if a.authority_status == "AUTHORITATIVE" {
            "ok"
        } else {
            "bad"
        };
        html.open("tr", &[]).open("td", &[]);
        html.link(&domain_href(&a.domain_id), &a.domain_id)
            .close("td");
        let master = if a.master_controller_id.is_empty() {
            "none".to_owned()
        } else {
            format!("{} ({})", a.master_controller_id, a.master_level)
        };
        html.element("td", &[], &a.level)
            .element("td", &[], &master)
            .open("td", &[])
            .element("span", &[("class", class)], &a.authority_status)
            .close("td")
            .element("td", &[], &a.authority_reason)
            .element(
                "td",
                &[],
                &format!(
                    "{} s{}",
                    a.upstream_debt_s,
                    if a.upstream_overdue { " overdue" } else { "" }
                ),
            )
            .element("td", &[], &a.nodes.to_string())
            .element("td", &[], &format!("{} s", a.subtree_debt_s))
            .close("tr");
    }
    html.close("table");
    html.element("h2", &[], "Open alerts");
    html.open("table", &[])
        .header_row(&["Alert", "Kind", "Subject", "Raised"]);
    for a in &page.alerts {
        let href = if a.kind == "SPLIT_BRAIN" {
            domain_href(&a.subject_id)
        } else {
            node_href(&a.subject_id)
        };
        html.open("tr", &[])
            .element("td", &[], &a.alert_id)
            .element("td", &[], &a.kind)
            .open("td", &[])
            .link(&href, &a.subject_id)
            .close("td")
            .element("td", &[], &super::time_text(a.raised_ms))
            .close("tr");
    }
    html.close("table");
    html.element("h2", &[], "Domains");
    html.open("table", &[]).header_row(&[
        "Domain",
        "Nodes",
        "Covered",
        "Excluded",
        "Worst sync debt",
    ]);
    for d in &page.domains {
        html.open("tr", &[]).open("td", &[]);
        html.link(&domain_href(&d.domain_id), &d.domain_id)
            .close("td");
        let coverage = format!("{} ({})", d.covered, percent(share(d.covered, d.nodes)));
        html.element("td", &[], &d.nodes.to_string())
            .element("td", &[], &coverage)
            .element("td", &[], &d.excluded.to_string())
            .element("td", &[], &format!("{} s", d.worst_sync_debt_s))
            .close("tr");
    }
    html.close("table");
    document(
        "Fleet overview",
        "/.json",
        &page.freshness,
        html.into_fragment(),
    )
}

/// The spectrum: one stacked bar and its legend with counts and shares.
fn spectrum(html: &mut Html, connectivity: &Connectivity) {
    html.element("h2", &[], "Connectivity spectrum");
    let segments: Vec<Segment> = connectivity
        .modes
        .iter()
        .map(|m| Segment {
            label: m.mode.clone(),
            value: u64::try_from(m.nodes).unwrap_or(0),
            colour: m.colour,
        })
        .collect();
    html.fragment(svg::stacked_bar(&segments, 720.0, 28.0));
    html.open("table", &[("class", "legend")])
        .header_row(&["Mode", "Nodes", "Share"]);
    for (m, (_, name, _)) in connectivity.modes.iter().zip(MODE_COLOURS) {
        html.open("tr", &[])
            .open("td", &[])
            .element("span", &[("class", &format!("swatch mode-{}", m.mode))], "")
            .text(name)
            .close("td")
            .element("td", &[], &m.nodes.to_string())
            .element("td", &[], &percent(m.share))
            .close("tr");
    }
    html.close("table");
    html.element(
        "p",
        &[],
        &format!(
            "{} nodes; {} excluded from the rollups ({}): DISCONNECTED and REPLAYING.",
            connectivity.total,
            connectivity.excluded,
            percent(connectivity.excluded_share)
        ),
    );
}

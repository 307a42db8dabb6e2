//! The domain page's HTML: the rollup, the collapsible hierarchy (`<details>`, no script), the
//! per-minute sparklines, anomalies, relays, rollouts, and the node table with its filter form
//! and paging.

use sxfleet_sinks::cookbook::{NodePage, NodeSort};
use sxfleet_sinks::tables::enums::{CONNECTIVITY, DRIFT_STATUS, LIFECYCLE_PHASE};

use super::domain::{page_href, DomainPage, Relay, TreeDomain, SERIES};
use super::time_text;
use super::{document, domain_href, duration_text, node_href, percent, share, table_row as row};
use crate::html::{url_segment, Html};
use crate::svg;

/// The subtree as nested `<details>`, the domain itself at the top.
pub fn tree(html: &mut Html, domains: &[TreeDomain]) {
    match domains.first() {
        None => {
            html.element(
                "p",
                &[],
                "No domain record for this domain (its nodes name it, no control record \
                 declared it).",
            );
        }
        Some(root) => branch(html, domains, root, 0),
    }
}

fn branch(html: &mut Html, domains: &[TreeDomain], domain: &TreeDomain, depth: usize) {
    // A tree from the control plane has no cycles; the bound keeps a bad one finite.
    if depth > 32 {
        return;
    }
    let children: Vec<&TreeDomain> = domains
        .iter()
        .filter(|d| d.parent_id == domain.domain_id && d.domain_id != domain.domain_id)
        .collect();
    html.open("details", &[("open", "open")])
        .open("summary", &[]);
    html.link(&domain_href(&domain.domain_id), &domain.domain_id);
    html.element("span", &[("class", "badge")], &domain.level);
    if !domain.autonomy.is_empty() {
        html.element(
            "span",
            &[("class", "badge autonomy")],
            &format!("autonomy {}", domain.autonomy),
        );
    }
    let master = if domain.master_controller_id.is_empty() {
        "no master of record".to_owned()
    } else {
        format!(
            "master of record {} ({})",
            domain.master_controller_id, domain.master_level
        )
    };
    html.element("span", &[("class", "badge master")], &master);
    let class = if domain.authority_status == "AUTHORITATIVE" {
        "badge ok"
    } else {
        "badge bad"
    };
    let authority = if domain.authority_reason.is_empty() {
        domain.authority_status.clone()
    } else {
        format!("{} {}", domain.authority_status, domain.authority_reason)
    };
    html.element("span", &[("class", class)], &authority);
    if domain.split_brain {
        html.element("span", &[("class", "badge bad")], "split brain");
    }
    html.text(&format!(
        " {} nodes, {} covered ({}), {} drifted, {} open alerts, worst sync debt {} s {}",
        domain.nodes,
        domain.covered,
        percent(super::share(domain.covered, domain.nodes)),
        domain.drifted,
        domain.open_alerts,
        domain.worst_sync_debt_s,
        domain.status
    ));
    html.close("summary");
    for child in children {
        branch(html, domains, child, depth + 1);
    }
    html.close("details");
}

/// Sparklines of the sync debt as landed and of each per-minute change.
pub fn minute_series(html: &mut Html, page: &DomainPage) {
    html.open("table", &[("class", "series")]);
    let lateness: Vec<f64> = page
        .lateness
        .iter()
        .map(|l| l.worst_lateness_ms as f64 / 1000.0)
        .collect();
    let replayed: Vec<f64> = page.lateness.iter().map(|l| l.replayed as f64).collect();
    let worst = page
        .lateness
        .iter()
        .map(|l| l.worst_lateness_ms)
        .max()
        .unwrap_or(0);
    let replayed_total: i64 = page.lateness.iter().map(|l| l.replayed).sum();
    let span = match (page.lateness.first(), page.lateness.last()) {
        (Some(a), Some(b)) => format!("{} to {}", time_text(a.minute_ms), time_text(b.minute_ms)),
        _ => "no events".to_owned(),
    };
    spark_row(
        html,
        "sync debt as landed (worst lateness, s)",
        &lateness,
        &format!("worst {} · {span}", duration_text(worst)),
    );
    spark_row(
        html,
        "backlog replayed (events)",
        &replayed,
        &format!("{replayed_total} in all"),
    );
    for (i, (_, label)) in SERIES.iter().enumerate() {
        let values: Vec<f64> = page
            .minutes
            .iter()
            .map(|m| m.counts.get(i).copied().unwrap_or(0) as f64)
            .collect();
        let total: i64 = page
            .minutes
            .iter()
            .map(|m| m.counts.get(i).copied().unwrap_or(0))
            .sum();
        spark_row(html, label, &values, &format!("{total} in all"));
    }
    html.close("table");
}

fn spark_row(html: &mut Html, label: &str, values: &[f64], note: &str) {
    html.open("tr", &[])
        .element("th", &[], label)
        .open("td", &[])
        .fragment(svg::sparkline(values, label, "#1f6fd1"))
        .close("td")
        .element("td", &[], note)
        .close("tr");
}

/// The subtree's relays, when it has any.
pub fn relays_table(html: &mut Html, relays: &[Relay]) {
    if relays.is_empty() {
        return;
    }
    html.element("h2", &[], "Relays and their paths");
    html.open("table", &[]).header_row(&[
        "Relay",
        "Mode",
        "Health",
        "Downstream",
        "Degraded",
        "Status",
    ]);
    for r in relays {
        let class = if r.status == "FAILING" { "bad" } else { "ok" };
        html.open("tr", &[]).open("td", &[]);
        html.link(&node_href(&r.relay_id), &r.relay_id).close("td");
        html.element("td", &[], &r.relay_mode)
            .element("td", &[], &r.relay_health)
            .element("td", &[], &r.downstream.to_string())
            .element(
                "td",
                &[],
                &format!("{} ({})", r.degraded, percent(r.degraded_share)),
            )
            .open("td", &[])
            .element("span", &[("class", class)], &r.status)
            .close("td")
            .close("tr");
    }
    html.close("table");
}

/// The filter form, one page of nodes, and the links to the pages around it.
pub fn node_table(html: &mut Html, page: &DomainPage, node_page: &NodePage) {
    let table = &page.nodes;
    html.element("h2", &[], "Nodes");
    let action = format!("/domains/{}", url_segment(&page.domain_id));
    html.open("form", &[("method", "get"), ("action", &action)]);
    let selects = [
        ("mode", CONNECTIVITY, table.mode),
        ("phase", LIFECYCLE_PHASE, table.phase),
        ("drift", DRIFT_STATUS, table.drift),
    ];
    for (name, values, chosen) in selects {
        html.open("label", &[]).text(name).text(" ");
        html.open("select", &[("name", name)]);
        html.element("option", &[("value", "")], "any");
        for (symbol, _) in values {
            if chosen == Some(*symbol) {
                html.element(
                    "option",
                    &[("value", symbol), ("selected", "selected")],
                    symbol,
                );
            } else {
                html.element("option", &[("value", symbol)], symbol);
            }
        }
        html.close("select").close("label");
    }
    html.open("label", &[]).text("sort ");
    html.open("select", &[("name", "sort")]);
    for sort in NodeSort::ALL {
        let name = sort.name();
        if sort == node_page.sort {
            html.element("option", &[("value", name), ("selected", "selected")], name);
        } else {
            html.element("option", &[("value", name)], name);
        }
    }
    html.close("select").close("label");
    html.open("button", &[("type", "submit")])
        .text("Show")
        .close("button")
        .close("form");
    let last = table.offset + table.rows.len() as u64;
    html.element(
        "p",
        &[],
        &format!(
            "{} nodes match; showing {} to {}, by {}.",
            table.matching,
            if table.rows.is_empty() {
                0
            } else {
                table.offset + 1
            },
            last,
            table.sort
        ),
    );
    html.open("table", &[]).header_row(&[
        "Node",
        "Domain",
        "Kind",
        "Mode",
        "Phase",
        "State",
        "Health",
        "Drift",
        "Attention",
        "Behind",
        "Backlog",
        "Last seen",
    ]);
    for n in &table.rows {
        html.open("tr", &[]).open("td", &[]);
        html.link(&node_href(&n.node_id), &n.node_id).close("td");
        html.element("td", &[], &n.domain_id)
            .element("td", &[], &n.kind)
            .open("td", &[])
            .element("span", &[("class", &format!("swatch mode-{}", n.mode))], "")
            .text(&n.mode)
            .close("td")
            .element("td", &[], &n.phase)
            .element("td", &[], &n.lifecycle_state)
            .element("td", &[], &n.health)
            .element(
                "td",
                &[],
                &format!(
                    "{} {:.1} ({} objects)",
                    n.drift, n.drift_score, n.drift_objects
                ),
            )
            .element("td", &[], &format!("{:.1}", n.attention_score))
            .element("td", &[], &format!("{} s", n.seconds_behind))
            .element("td", &[], &n.backlog_messages.to_string())
            .element("td", &[], &time_text(n.last_seen_ms))
            .close("tr");
    }
    html.close("table");
    html.open("p", &[("class", "paging")]);
    if let Some(previous) = &table.previous {
        html.link(previous, "← previous page").text(" ");
    }
    if let Some(next) = &table.next {
        html.link(next, "next page →");
    }
    html.close("p");
}

/// The page's HTML.
pub fn render(page: &DomainPage, node_page: &NodePage) -> String {
    let mut html = Html::new();
    html.element("h2", &[], "Rollup of the subtree");
    match &page.summary {
        None => {
            html.element("p", &[], "No node is in this domain's subtree yet.");
        }
        Some(s) => {
            html.open("table", &[("class", "facts")]);
            let facts = [
                (
                    "Status",
                    format!("{} · {}", s.status, s.connectivity_summary),
                ),
                ("Level", s.level.clone()),
                (
                    "Coverage",
                    format!(
                        "{} of {} nodes covered ({}), {} excluded",
                        s.covered,
                        s.nodes,
                        percent(s.coverage),
                        s.excluded
                    ),
                ),
                ("Worst sync debt", format!("{} s", s.worst_sync_debt_s)),
                (
                    "Impaired / drifted",
                    format!(
                        "{} impaired · {} drifted ({} of covered) · {} drift objects",
                        s.impaired,
                        s.drifted,
                        percent(share(s.drifted, s.covered)),
                        s.drift_objects
                    ),
                ),
                ("Open alerts", s.open_alerts.to_string()),
                (
                    "Master of record",
                    format!("{} ({})", s.master_controller_id, s.authority_status),
                ),
            ];
            for (name, value) in facts {
                html.open("tr", &[])
                    .element("th", &[], name)
                    .element("td", &[], &value)
                    .close("tr");
            }
            html.close("table");
        }
    }
    html.element("h2", &[], "Hierarchy");
    tree(&mut html, &page.tree);
    html.element("h2", &[], "Sync debt, backlog and changes per minute");
    minute_series(&mut html, page);
    html.element("h2", &[], "Anomalies");
    html.open("table", &[])
        .header_row(&["Node", "Domain", "Score", "Reasons", "Alert"]);
    for a in &page.anomalies {
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
    relays_table(&mut html, &page.relays);
    html.element("h2", &[], "Rollouts: safe to advance?");
    html.open("table", &[]).header_row(&[
        "Bundle",
        "Version",
        "Converged",
        "Pending",
        "Held",
        "Failed",
        "Cancelled",
        "Total",
        "Safe",
    ]);
    for r in &page.rollouts {
        let cells = [
            r.bundle_id.clone(),
            r.version.clone(),
            r.converged.to_string(),
            r.pending.to_string(),
            r.held.to_string(),
            r.failed.to_string(),
            r.cancelled.to_string(),
            r.total.to_string(),
            if r.safe { "safe" } else { "not yet" }.to_owned(),
        ];
        row(&mut html, &cells);
    }
    html.close("table");
    node_table(&mut html, page, node_page);
    let json = page_href(&page.domain_id, node_page).replacen(
        &format!("/domains/{}", url_segment(&page.domain_id)),
        &format!("/domains/{}.json", url_segment(&page.domain_id)),
        1,
    );
    document(
        &format!("Domain {}", page.domain_id),
        &json,
        &page.freshness,
        html.into_fragment(),
    )
}

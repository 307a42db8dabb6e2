//! The node page's HTML: the twin, the diff, the timeline, the replay bar, the supply-chain
//! panel, the observations and the commands.

use super::node::{NodePage, SupplyChain};
use super::{document, domain_href, duration_text, maybe_time, table_row as row, time_text};
use crate::html::{url_segment, Html};
use crate::svg;

/// The page's HTML.
pub fn render(page: &NodePage) -> String {
    let mut html = Html::new();
    let cell = |name: &str| {
        page.twin
            .iter()
            .find(|(column, _)| column == name)
            .map_or("", |(_, value)| value.as_str())
    };
    html.open("p", &[])
        .text("Domain ")
        .link(&domain_href(cell("domain_id")), cell("domain_id"))
        .text(&format!(" · path {} · ", cell("domain_path")))
        .element(
            "span",
            &[("class", &format!("swatch mode-{}", cell("mode")))],
            "",
        )
        .text(&format!(
            "{} · {} / {} · health {} · drift {} ({}) · attention {} {}",
            cell("mode"),
            cell("phase"),
            cell("lifecycle_state"),
            cell("health"),
            cell("drift"),
            cell("drift_score"),
            cell("attention_score"),
            cell("attention_reasons")
        ))
        .close("p");
    html.open("table", &[("class", "facts")]);
    for (column, value) in &page.twin {
        html.open("tr", &[])
            .element("th", &[], column)
            .element("td", &[], value)
            .close("tr");
    }
    html.close("table");
    html.element("h2", &[], "Desired vs actual");
    html.element(
        "p",
        &[],
        &format!(
            "Bundle {} version {} · snapshot of {} · version severity {}",
            page.diff.bundle_id,
            page.diff.bundle_version.as_deref().unwrap_or("-"),
            maybe_time(page.diff.snapshot_ms),
            page.diff.version_severity.as_deref().unwrap_or("-")
        ),
    );
    html.open("table", &[])
        .header_row(&["Object", "Desired", "Actual", "In spec"]);
    for o in &page.diff.objects {
        let class = if o.in_spec { "ok" } else { "bad" };
        html.open("tr", &[("class", class)])
            .element("td", &[], &o.object)
            .element(
                "td",
                &[],
                o.desired.as_deref().unwrap_or("(not in the bundle)"),
            )
            .element("td", &[], o.actual.as_deref().unwrap_or("(not reported)"))
            .element("td", &[], if o.in_spec { "yes" } else { "no" })
            .close("tr");
    }
    html.close("table");
    html.element("h2", &[], "Lifecycle and connectivity timeline");
    html.open("table", &[])
        .header_row(&["At", "Machine", "From", "To", "Applied", "Reason"]);
    for t in &page.timeline {
        let cells = [
            time_text(t.at_ms),
            t.machine.clone(),
            t.from_state.clone(),
            t.to_state.clone(),
            if t.applied { "yes" } else { "violation" }.to_owned(),
            t.reason.clone(),
        ];
        row(&mut html, &cells);
    }
    html.close("table");
    html.element("h2", &[], "Replay");
    match &page.replay {
        None => {
            html.element("p", &[], "No replay.");
        }
        Some(r) => {
            html.fragment(svg::progress_bar(r.percent.unwrap_or(0.0)));
            html.element(
                "p",
                &[],
                &format!(
                    "{} · session {} · {} chunks · {} of {} backlog events · ETA {}",
                    r.mode,
                    r.replay_session,
                    r.replay_chunks,
                    r.replay_events,
                    r.replay_backlog_total
                        .map_or_else(|| "?".to_owned(), |n| n.to_string()),
                    maybe_time(r.eta_ms)
                ),
            );
        }
    }
    supply_chain_panel(&mut html, &page.supply_chain);
    html.element("h2", &[], "Observations (latest events)");
    html.open("table", &[]).header_row(&[
        "Seq",
        "Event time",
        "Received",
        "Kind",
        "Source",
        "Replayed",
        "Payload",
    ]);
    for o in &page.observations {
        let payload: String = o.payload.chars().take(240).collect();
        let cells = [
            o.seq.to_string(),
            time_text(o.event_time_ms),
            time_text(o.received_ms),
            o.kind.clone(),
            o.source.clone(),
            if o.replayed { "yes" } else { "" }.to_owned(),
            payload,
        ];
        row(&mut html, &cells);
    }
    html.close("table");
    if !page.commands.is_empty() {
        html.element("h2", &[], "Commands");
        html.open("table", &[]).header_row(&[
            "Command",
            "Kind",
            "Delivery",
            "Status",
            "Reason",
            "Attempts",
            "Issued",
            "Last change",
            "Re-sent",
        ]);
        for c in &page.commands {
            let cells = [
                c.command_id.clone(),
                c.kind.clone(),
                c.delivery.clone(),
                c.status.clone(),
                c.reason.clone(),
                c.attempts.to_string(),
                time_text(c.first_ms),
                time_text(c.at_ms),
                c.resent.to_string(),
            ];
            row(&mut html, &cells);
        }
        html.close("table");
    }
    let json = format!("/nodes/{}.json", url_segment(&page.node_id));
    document(
        &format!("Node {}", page.node_id),
        &json,
        &page.freshness,
        html.into_fragment(),
    )
}

fn supply_chain_panel(html: &mut Html, s: &SupplyChain) {
    html.element("h2", &[], "Supply chain");
    let signature = match s.signature_matches {
        Some(true) => "matches the baseline".to_owned(),
        Some(false) => format!(
            "DIFFERS from the baseline: attested {}",
            s.attested_signature.as_deref().unwrap_or("")
        ),
        None => "not attested".to_owned(),
    };
    let expiry = match (s.cert_not_after_ms, s.cert_expires_in_ms) {
        (Some(at), Some(left)) if left < 0 => {
            format!("{} (expired {} ago)", time_text(at), duration_text(-left))
        }
        (Some(at), Some(left)) => format!("{} (in {})", time_text(at), duration_text(left)),
        _ => "-".to_owned(),
    };
    let facts = [
        (
            "Hardware",
            format!(
                "{} {} serial {}",
                s.hw_manufacturer, s.hw_model, s.hw_serial
            ),
        ),
        (
            "Batch / origin",
            format!("{} / {}", s.hw_batch_id, s.hw_origin),
        ),
        (
            "Firmware",
            format!("{} signature {}", s.firmware_version, s.firmware_signature),
        ),
        ("Signature vs baseline", signature),
        (
            "Attestation",
            format!("{} at {}", s.attestation, time_text(s.attested_ms)),
        ),
        ("Certificate expiry", expiry),
        (
            "Trust",
            format!(
                "{} · {} violations · last {}",
                s.trust, s.trust_violations, s.last_violation
            ),
        ),
        ("SBOM hash", s.sbom_hash.clone()),
    ];
    html.open("table", &[("class", "facts")]);
    for (name, value) in facts {
        html.open("tr", &[])
            .element("th", &[], name)
            .element("td", &[], &value)
            .close("tr");
    }
    html.close("table");
}

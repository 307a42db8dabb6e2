//! The pages. Each is a pure function from cookbook answers to a page model (`Serialize`: the
//! model IS the page's JSON twin) and a pure function from the model to HTML; loading the
//! answers is a thin async step next to them.
//!
//! Layout:
//! - [`cells`]: typed reads of an answer's cells.
//! - [`overview`]: Layer 0, `/`: the model; [`overview_html`]: its HTML.
//! - [`domain`]: Layer 1, `/domains/{id}`: the model; [`domain_html`]: its HTML.
//! - [`node`]: Layer 2, `/nodes/{id}`: the model (the structured diff in `node_diff`);
//!   [`node_html`]: its HTML.
//! - [`errors`]: the 400 / 401 / 404 / 500 / 503 pages.

pub mod cells;
pub mod domain;
pub mod domain_html;
pub mod errors;
pub mod node;
mod node_diff;
pub mod node_html;
pub mod overview;
pub mod overview_html;

#[cfg(test)]
mod model_tests;

use std::collections::BTreeMap;

use serde::Serialize;
use sxfleet_sinks::cookbook::Params;
use sxfleet_sinks::{Answer, AnswerError, Reader};
use time::OffsetDateTime;

use crate::html::{Fragment, Html};
use cells::{first, ShapeError};

/// The answers of a page's cookbook queries, by name.
#[derive(Clone, Debug, Default)]
pub struct Answers(BTreeMap<&'static str, Answer>);

impl Answers {
    /// Adds (or replaces) the answer of `name`.
    pub fn insert(&mut self, name: &'static str, answer: Answer) {
        self.0.insert(name, answer);
    }

    /// The answer of `name`.
    ///
    /// # Errors
    /// [`ShapeError`] when the page did not load it (a bug).
    pub fn get(&self, name: &'static str) -> Result<&Answer, ShapeError> {
        self.0.get(name).ok_or(ShapeError {
            query: name,
            problem: "not loaded".to_owned(),
        })
    }
}

/// The answers of the cookbook queries `names`, bound to `params`, from one reader; the
/// queries run at the same time (a page waits for its slowest query, not for their sum).
///
/// # Errors
/// The first [`AnswerError`].
pub async fn load(
    reader: &Reader,
    names: &[&'static str],
    params: &Params<'_>,
) -> Result<Answers, AnswerError> {
    let answering = names.iter().map(|name| async move {
        reader
            .answer(name, params)
            .await
            .map(|answer| (*name, answer))
    });
    let mut answers = Answers::default();
    for (name, answer) in futures::future::try_join_all(answering).await? {
        answers.insert(name, answer);
    }
    Ok(answers)
}

/// What every page says about how fresh it is (from the cookbook's `freshness`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Freshness {
    /// Which backend answered.
    pub backend: String,
    /// The newest event time landed ("data as of"), epoch ms; `None` before any event.
    pub data_as_of_ms: Option<i64>,
    /// The newest receive time landed, epoch ms.
    pub received_ms: Option<i64>,
    /// The newest twin update, epoch ms.
    pub twins_as_of_ms: Option<i64>,
    /// When the page was made, epoch ms (the server's clock).
    pub now_ms: i64,
    /// The sink's lag: `now_ms - received_ms` (how long ago the newest landed event was
    /// received; grows while nothing arrives).
    pub sink_lag_ms: Option<i64>,
    /// Twins in all.
    pub nodes: i64,
    /// Twins the rollups exclude (DISCONNECTED or REPLAYING: their state is not current).
    pub excluded: i64,
    /// What the figures exclude, in words.
    pub excludes: &'static str,
}

/// The words of [`Freshness::excludes`].
pub const EXCLUDES: &str = "Rollup figures (coverage, drift, rollouts) exclude DISCONNECTED and \
                            REPLAYING nodes, whose state is not current; counts of nodes \
                            include them.";

/// The cookbook's `freshness` answer as of `now_ms`.
///
/// # Errors
/// [`ShapeError`] for an answer without its row or columns.
pub fn freshness(answer: &Answer, backend: &str, now_ms: i64) -> Result<Freshness, ShapeError> {
    let row = first("freshness", answer).ok_or(ShapeError {
        query: "freshness",
        problem: "no row".to_owned(),
    })?;
    // ClickHouse's max() of no rows is 0, DataFusion's NULL: both mean none.
    let time = |column: &str| -> Result<Option<i64>, ShapeError> {
        Ok(row.opt_int(column)?.filter(|ms| *ms > 0))
    };
    let received_ms = time("received_ms")?;
    Ok(Freshness {
        backend: backend.to_owned(),
        data_as_of_ms: time("data_as_of_ms")?,
        received_ms,
        twins_as_of_ms: time("twins_as_of_ms")?,
        now_ms,
        sink_lag_ms: received_ms.map(|ms| now_ms - ms),
        nodes: row.opt_int("nodes")?.unwrap_or(0),
        excluded: row.opt_int("excluded")?.unwrap_or(0),
        excludes: EXCLUDES,
    })
}

/// Connectivity modes in spectrum order with the seed's colours: symbol, name, colour.
pub const MODE_COLOURS: [(&str, &str, &str); 8] = [
    ("LIVE", "Live", "#2e9d44"),
    ("DELAYED", "Delayed", "#e0b000"),
    ("EDGE_CACHED", "Edge cached", "#1f6fd1"),
    ("AUTONOMOUS", "Autonomous", "#f07d00"),
    ("DISCONNECTED", "Disconnected", "#c62828"),
    ("RETURNING", "Returning", "#f2d13a"),
    ("REPLAYING", "Replaying", "#7b3fb5"),
    ("UNKNOWN", "Unknown", "#9e9e9e"),
];

/// `part / whole`, 0 for an empty whole, rounded to 4 decimals.
pub fn share(part: i64, whole: i64) -> f64 {
    if whole <= 0 {
        return 0.0;
    }
    ((part as f64) / (whole as f64) * 10_000.0).round() / 10_000.0
}

/// A share as a percentage, `45.5 %`.
pub fn percent(share: f64) -> String {
    format!("{:.1} %", share * 100.0)
}

/// Epoch milliseconds as `2026-02-27 00:04:00 UTC`.
pub fn time_text(ms: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|at| at.format(&format).ok())
        .map_or_else(|| format!("{ms} ms"), |text| format!("{text} UTC"))
}

/// An optional time, `-` for none.
pub fn maybe_time(ms: Option<i64>) -> String {
    ms.map_or_else(|| "-".to_owned(), time_text)
}

/// A span of milliseconds in words: `850 ms`, `42 s`, `3 min 20 s`, `3 h 45 min`, `2 d 4 h`.
pub fn duration_text(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let ms = ms.unsigned_abs();
    let s = ms / 1000;
    let text = match s {
        0 => format!("{ms} ms"),
        1..=59 => format!("{s} s"),
        60..=3599 => format!("{} min {} s", s / 60, s % 60),
        3600..=86_399 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
        _ => format!("{} d {} h", s / 86_400, (s % 86_400) / 3600),
    };
    format!("{sign}{text}")
}

/// A node page's path.
pub fn node_href(node_id: &str) -> String {
    format!("/nodes/{}", crate::html::url_segment(node_id))
}

/// A domain page's path.
pub fn domain_href(domain_id: &str) -> String {
    format!("/domains/{}", crate::html::url_segment(domain_id))
}

/// A whole page: the header with the way back to the overview and to the JSON twin, the
/// freshness line, then `body`.
pub fn document(title: &str, json_href: &str, fresh: &Freshness, body: Fragment) -> String {
    let mut html = Html::new();
    html.fragment(Fragment::trusted("<!DOCTYPE html>".to_owned()))
        .open("html", &[("lang", "en")])
        .open("head", &[])
        .open("meta", &[("charset", "utf-8")])
        .open(
            "meta",
            &[
                ("name", "viewport"),
                ("content", "width=device-width, initial-scale=1"),
            ],
        )
        .element("title", &[], &format!("{title} · Souverix fleet"))
        .open("link", &[("rel", "stylesheet"), ("href", "/assets/ui.css")])
        .close("head")
        .open("body", &[])
        .open("header", &[])
        .open("nav", &[])
        .link("/", "Fleet overview")
        .text(" · ")
        .link(json_href, "JSON")
        .close("nav")
        .element("h1", &[], title)
        .open("p", &[("class", "freshness")])
        .text(&format!(
            "Data as of {} (newest event landed) · sink lag {} · twins updated to {} · {} \
             nodes, {} excluded · {}",
            maybe_time(fresh.data_as_of_ms),
            fresh
                .sink_lag_ms
                .map_or_else(|| "-".to_owned(), duration_text),
            maybe_time(fresh.twins_as_of_ms),
            fresh.nodes,
            fresh.excluded,
            fresh.backend
        ))
        .close("p")
        .element("p", &[("class", "excludes")], fresh.excludes)
        .close("header")
        .open("main", &[])
        .fragment(body)
        .close("main")
        .close("body")
        .close("html");
    html.finish()
}

/// A table row of text cells.
pub(crate) fn table_row(html: &mut Html, cells: &[String]) {
    html.open("tr", &[]);
    for cell in cells {
        html.element("td", &[], cell);
    }
    html.close("tr");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_durations_read_well() {
        assert_eq!(time_text(1_772_150_640_000), "2026-02-27 00:04:00 UTC");
        assert_eq!(maybe_time(None), "-");
        assert_eq!(duration_text(850), "850 ms");
        assert_eq!(duration_text(42_000), "42 s");
        assert_eq!(duration_text(200_000), "3 min 20 s");
        assert_eq!(duration_text(13_500_000), "3 h 45 min");
        assert_eq!(duration_text(-2_000), "-2 s");
        assert_eq!(duration_text(187_200_000), "2 d 4 h");
    }

    #[test]
    fn shares_and_colours() {
        assert_eq!(share(1, 3), 0.3333);
        assert_eq!(share(1, 0), 0.0);
        assert_eq!(percent(0.3333), "33.3 %");
        // The stylesheet's swatches have the seed's colours.
        for (mode, _, colour) in MODE_COLOURS {
            let rule = format!(".mode-{mode} {{ background: {colour}; }}");
            assert!(crate::server::STYLESHEET.contains(&rule), "{rule}");
        }
    }

    #[test]
    fn freshness_reads_zero_as_none_and_computes_the_lag() {
        let answer = Answer {
            columns: [
                "data_as_of_ms",
                "received_ms",
                "twins_as_of_ms",
                "nodes",
                "excluded",
            ]
            .map(str::to_owned)
            .to_vec(),
            rows: vec![["1000", "4000", "0", "5", "1"].map(str::to_owned).to_vec()],
        };
        let fresh = freshness(&answer, "test", 10_000).unwrap();
        assert_eq!(fresh.data_as_of_ms, Some(1000));
        assert_eq!(fresh.sink_lag_ms, Some(6000));
        assert_eq!(fresh.twins_as_of_ms, None);
        assert_eq!((fresh.nodes, fresh.excluded), (5, 1));
        assert!(freshness(&Answer::default(), "test", 0).is_err());
    }
}

//! What a request asks for, read without trusting it: the JSON twin or HTML, the id of its
//! path (checked with [`is_id`]), and the node table's filters, order and page (closed sets and
//! bounded numbers only).

use std::collections::BTreeMap;

use axum::http::{header, HeaderMap};
use sxfleet_sinks::cookbook::{is_id, NodePage, NodeSort, Symbol};
use sxfleet_sinks::tables::enums::{CONNECTIVITY, DRIFT_STATUS, LIFECYCLE_PHASE};

/// Most rows a node table page may ask for.
pub const MAX_LIMIT: u32 = 500;

/// A request the pages refuse (400), with what was wrong.
#[derive(Debug, PartialEq, Eq)]
pub struct BadRequest(pub String);

/// Compares in time independent of where the inputs differ.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// JSON when the path says `.json` or the client accepts JSON and not HTML.
pub fn wants_json(headers: &HeaderMap, path: &str) -> bool {
    if path.ends_with(".json") {
        return true;
    }
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    accept.contains("application/json") && !accept.contains("text/html")
}

/// The id in a path segment and whether the JSON twin is asked for (`.json` suffix).
pub fn split_id(segment: &str) -> (&str, bool) {
    match segment.strip_suffix(".json") {
        Some(id) => (id, true),
        None => (segment, false),
    }
}

/// The node table's page from the query string (`mode`, `phase`, `drift`, `sort`, `limit`,
/// `offset`; an empty value is no filter).
///
/// # Errors
/// [`BadRequest`] for an unknown key, symbol or order, or a number out of range.
pub fn node_page_of(query: Option<&str>) -> Result<NodePage, BadRequest> {
    let mut page = NodePage::default();
    let pairs: BTreeMap<&str, &str> = query
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .collect();
    let bad = |what: &str| BadRequest(format!("bad {what} parameter"));
    for (key, value) in pairs {
        let symbol = |values, what| match value {
            "" => Ok(None),
            text => Symbol::of(values, text).map(Some).ok_or_else(|| bad(what)),
        };
        match key {
            "mode" => page.mode = symbol(CONNECTIVITY, "mode")?,
            "phase" => page.phase = symbol(LIFECYCLE_PHASE, "phase")?,
            "drift" => page.drift = symbol(DRIFT_STATUS, "drift")?,
            "sort" => page.sort = NodeSort::from_name(value).ok_or_else(|| bad("sort"))?,
            "limit" => {
                page.limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| bad("limit (1 to 500)"))?;
            }
            "offset" => {
                page.offset = value
                    .parse()
                    .ok()
                    .filter(|n| *n <= 1_000_000_000)
                    .ok_or_else(|| bad("offset"))?;
            }
            _ => return Err(bad("unknown")),
        }
    }
    Ok(page)
}

/// Ok for an id ([`is_id`]).
///
/// # Errors
/// [`BadRequest`] saying what an id is.
pub fn checked(id: &str, what: &str) -> Result<(), BadRequest> {
    if is_id(id) {
        Ok(())
    } else {
        Err(BadRequest(format!(
            "That is not a {what} id: an id is 1 to 128 characters of A-Z a-z 0-9 . _ : @ -, \
             starting with a letter or digit."
        )))
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn query_strings_bind_closed_sets_only() {
        let page = node_page_of(Some(
            "mode=LIVE&phase=&drift=DRIFTED&sort=drift&limit=20&offset=40",
        ));
        let page = page.ok().unwrap();
        assert_eq!(page.mode.map(Symbol::as_str), Some("LIVE"));
        assert_eq!(page.phase, None);
        assert_eq!(page.drift.map(Symbol::as_str), Some("DRIFTED"));
        assert_eq!(
            (page.sort, page.limit, page.offset),
            (NodeSort::Drift, 20, 40)
        );
        for bad in [
            "mode=live",
            "mode=LIVE%27",
            "sort=node_id;",
            "limit=0",
            "limit=501",
            "x=1",
            "offset=-1",
        ] {
            assert!(node_page_of(Some(bad)).is_err(), "{bad}");
        }
        assert_eq!(node_page_of(None).ok(), Some(NodePage::default()));
    }

    #[test]
    fn json_is_asked_for_by_suffix_or_accept() {
        let mut headers = HeaderMap::new();
        assert!(!wants_json(&headers, "/"));
        assert!(wants_json(&headers, "/nodes/n.json"));
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        assert!(wants_json(&headers, "/"));
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/html,application/json"),
        );
        assert!(!wants_json(&headers, "/"));
        assert_eq!(split_id("n-ok.json"), ("n-ok", true));
        assert_eq!(split_id("n-ok"), ("n-ok", false));
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"ab"));
    }
}

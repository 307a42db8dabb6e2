//! Headless Chromium (Debian's `chromium`, installed by `dev/services`): the DOM a page renders
//! to, and its screenshot.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

/// How long Chromium may take for one page (it starts a whole browser each time).
const PAGE_LIMIT: Duration = Duration::from_secs(60);

/// The browser: `SXFLEET_CHROMIUM`, else `chromium` on the path.
fn binary() -> String {
    std::env::var("SXFLEET_CHROMIUM").unwrap_or_else(|_| "chromium".to_owned())
}

/// Runs one headless Chromium with its own profile folder on `url` and `args`.
fn chromium(url: &str, args: &[String]) -> Output {
    let profile = tempfile::tempdir().unwrap();
    let mut command = Command::new("timeout");
    command
        .arg(PAGE_LIMIT.as_secs().to_string())
        .arg(binary())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
            // Lets the page's layout and any script settle before the dump or the shot.
            "--virtual-time-budget=2000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url);
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{} does not start ({e}); run dev/services deps", binary()));
    assert!(
        output.status.success(),
        "chromium {url}: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The document as Chromium rendered it (`--dump-dom`: the DOM after parsing, layout and
/// scripts, serialized).
pub fn rendered_dom(url: &str) -> String {
    let output = chromium(url, &["--dump-dom".to_owned()]);
    String::from_utf8(output.stdout).unwrap()
}

/// Saves a PNG of `url` at `width` x `height` to `path` and checks it is a PNG.
pub fn screenshot(url: &str, path: &Path, width: u32, height: u32) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    chromium(
        url,
        &[
            format!("--screenshot={}", path.display()),
            format!("--window-size={width},{height}"),
        ],
    );
    let bytes = std::fs::read(path).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 1000,
        "{}: not a screenshot ({} bytes)",
        path.display(),
        bytes.len()
    );
}

/// The text of an HTML fragment: tags dropped, the five escapes the UI writes decoded.
pub fn text(fragment: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in fragment.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
        .trim()
        .to_owned()
}

/// Every `<open ...>inner</close>` of `html` in order: the inner markup of each element named
/// `name` (not nested in one of its own kind).
pub fn elements<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{name}"), format!("</{name}>"));
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find(&open) {
        let after = &rest[at + open.len()..];
        // `<th` must not match `<thead`: the name ends at a space or `>`.
        if !after.starts_with([' ', '>']) {
            rest = after;
            continue;
        }
        let Some(body) = after.find('>').map(|end| &after[end + 1..]) else {
            break;
        };
        let Some(end) = body.find(&close) else {
            break;
        };
        found.push(&body[..end]);
        rest = &body[end + close.len()..];
    }
    found
}

/// The data rows (rows of `<td>` cells, as text) of the first table after the `<h2>` titled
/// `heading` in the rendered `dom`.
pub fn table_after(dom: &str, heading: &str) -> Vec<Vec<String>> {
    let title = format!(">{heading}</h2>");
    let at = dom
        .find(&title)
        .unwrap_or_else(|| panic!("no section {heading:?} in the page"));
    let table = elements(&dom[at..], "table")
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no table under {heading:?}"));
    elements(table, "tr")
        .into_iter()
        .map(|row| {
            elements(row, "td")
                .into_iter()
                .map(text)
                .collect::<Vec<_>>()
        })
        .filter(|cells| !cells.is_empty())
        .collect()
}

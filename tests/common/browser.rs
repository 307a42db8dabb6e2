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

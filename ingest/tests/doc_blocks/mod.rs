//! Fenced code blocks of a Markdown section, for the tests that check documented examples.

/// (info string, body) of each fenced block in the section of `doc` that starts with the
/// heading `heading` (e.g. `## Raw input`) and ends at the next `## ` heading.
pub fn fenced_blocks(doc: &str, heading: &str) -> Vec<(String, String)> {
    let section = doc
        .split(heading)
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .unwrap_or_default();
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in section.lines() {
        match (&mut current, line.strip_prefix("```")) {
            (None, Some(info)) => current = Some((info.trim().to_owned(), String::new())),
            (Some(_), Some(_)) => blocks.extend(current.take()),
            (Some((_, body)), None) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    blocks
}

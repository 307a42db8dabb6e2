//! For the HTTP ingest tests: a deployment of their own, curl calls, reading the topics back,
//! and the examples of docs/ingest.md run as written.

use std::process::Command;

use sxfleet::pipeline::{self, PipelineConfig};
use sxfleet_runtime::KafkaConfig;

/// Topics with a unique prefix, created on the test broker.
pub async fn deployment(name: &str) -> PipelineConfig {
    let services = super::services();
    let prefix = format!("{}.", super::unique(name));
    let config = PipelineConfig::new(KafkaConfig::new(&services.kafka), &prefix);
    pipeline::create_topics(&config).await.unwrap();
    config
}

/// Every committed record of `topic`.
pub async fn read_async(topic: String, partitions: i32) -> Vec<super::kafka::Record> {
    tokio::task::spawn_blocking(move || {
        super::kafka::read_committed(&super::services().kafka, &topic, partitions)
    })
    .await
    .unwrap()
}

/// curl arguments that POST `body` to `url`, with a bearer token if given.
pub fn post(url: &str, token: Option<&str>, body: &str) -> Vec<String> {
    let mut args = vec!["-X".into(), "POST".into(), url.into()];
    if let Some(token) = token {
        args.extend(["-H".into(), format!("Authorization: Bearer {token}")]);
    }
    args.extend(["--data-binary".into(), body.into()]);
    args
}

/// Status, headers (lower-case names) and body of a curl call, with curl's exit code and
/// error output (status 0 when no HTTP answer came, e.g. a refused TLS handshake).
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub exit: Option<i32>,
    pub stderr: String,
}

/// `curl -sS -i ARGS`.
pub async fn curl(args: Vec<String>) -> Reply {
    let output = tokio::task::spawn_blocking(move || {
        Command::new("/usr/bin/curl")
            .args(["-sS", "-i"])
            .args(&args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
        exit: output.status.code(),
        stderr: String::from_utf8_lossy(&output.stderr).to_string(),
    }
}

/// The text of the `## {heading}` section of docs/ingest.md (up to the next `## `).
pub fn doc_section(heading: &str) -> String {
    let doc = include_str!("../../docs/ingest.md");
    let start = doc
        .find(&format!("\n## {heading}\n"))
        .unwrap_or_else(|| panic!("docs/ingest.md has no section {heading:?}"));
    let section = &doc[start + 1..];
    let end = section[3..].find("\n## ").map_or(section.len(), |i| i + 3);
    section[..end].to_owned()
}

/// The fenced code blocks of `text`: (language, body).
pub fn code_blocks(text: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("```") {
        let after = &rest[start + 3..];
        let (lang, body) = after.split_once('\n').unwrap_or_default();
        let end = body.find("\n```").unwrap_or(body.len());
        blocks.push((lang.trim().to_owned(), body[..end].to_owned()));
        rest = &body[(end + 4).min(body.len())..];
    }
    blocks
}

/// The (sh, json) example pairs of the `## {heading}` section of docs/ingest.md.
pub fn doc_examples(heading: &str) -> Vec<(String, String)> {
    code_blocks(&doc_section(heading))
        .chunks(2)
        .map(|pair| {
            assert_eq!(pair[0].0, "sh");
            assert_eq!(pair[1].0, "json");
            (pair[0].1.clone(), pair[1].1.clone())
        })
        .collect()
}

/// Runs each documented example with `env` and checks it prints the JSON shown after it.
pub async fn check_doc_examples(heading: &str, env: &[(&str, String)], count: usize) {
    let examples = doc_examples(heading);
    assert_eq!(examples.len(), count, "examples in {heading:?}");
    for (script, expected) in examples {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        let shown = script.clone();
        let output = tokio::task::spawn_blocking(move || {
            Command::new("bash")
                .args(["-c", &script])
                .envs(env)
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        let got: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "{e}: {}{}\nfrom:\n{shown}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )
        });
        let want: serde_json::Value = serde_json::from_str(&expected).unwrap();
        assert_eq!(got, want, "{shown}");
    }
}

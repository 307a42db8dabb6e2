//! The documents name files of the repository (`sinks/src/tables/mod.rs`, `tests/crash.rs`, ...);
//! every such path must exist (from the repository's root, or beside the document), so a reshaped tree cannot leave the docs pointing at files that
//! are gone. No services needed.

use std::path::{Path, PathBuf};

/// The Markdown files a reader follows: the README, `docs/` and the benchmarks' README.
fn documents(root: &Path) -> Vec<PathBuf> {
    let mut docs = vec![root.join("README.md"), root.join("load-tests/README.md")];
    let mut in_docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/ is readable")
        .map(|entry| entry.expect("docs/ entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    in_docs.sort();
    docs.extend(in_docs);
    docs.retain(|path| path.exists());
    docs
}

/// Repository paths in `text`: words with a folder separator ending in a source or document
/// extension, without globs or placeholders.
fn repository_paths(text: &str) -> Vec<&str> {
    const EXTENSIONS: [&str; 7] = [".rs", ".toml", ".avsc", ".md", ".sql", ".py", ".yml"];
    text.split(|c: char| !(c.is_ascii_alphanumeric() || "_-./".contains(c)))
        .map(|word| word.trim_start_matches("./").trim_end_matches('.'))
        .filter(|word| word.contains('/') && !word.starts_with('/') && !word.contains("//"))
        .filter(|word| EXTENSIONS.iter().any(|ext| word.ends_with(ext)))
        .collect()
}

#[test]
fn every_path_the_documents_name_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut missing = Vec::new();
    let mut checked = 0;
    for doc in documents(root) {
        let text = std::fs::read_to_string(&doc).expect("document is readable");
        for path in repository_paths(&text) {
            checked += 1;
            let beside = doc.parent().map(|dir| dir.join(path));
            if !root.join(path).exists() && !beside.is_some_and(|p| p.exists()) {
                missing.push(format!("{}: {path}", doc.display()));
            }
        }
    }
    assert!(
        checked > 20,
        "only {checked} paths found: the scan is broken"
    );
    assert!(
        missing.is_empty(),
        "documents name missing files:\n{}",
        missing.join("\n")
    );
}

#[test]
fn paths_are_found_in_prose_and_code_spans() {
    let text =
        "see `sinks/src/land.rs`, and (tests/crash.rs). Not *.rs, nor /etc/x.toml or http://a/b.md";
    assert_eq!(
        repository_paths(text),
        vec!["sinks/src/land.rs", "tests/crash.rs"]
    );
}

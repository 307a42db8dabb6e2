//! Independent check: fastavro (Python) must decode every test vector the Rust codec writes to
//! the expected value, and re-encode it to the same bytes.
//!
//! Needs `python3` (or `$SXFLEET_PYTHON`) with fastavro installed: `pip install fastavro`.
//! The test fails, never skips, when fastavro is missing.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{all_vectors, Vector};
use sxfleet_schemas::{catalog, expanded_schema_json};

fn python() -> String {
    std::env::var("SXFLEET_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/check_fastavro.py")
}

/// A fresh directory under cargo's per-target temp dir.
fn fresh_dir(label: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("sxfleet-fastavro-{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes the vectors, their schemas and the manifest into `dir`.
fn write_vectors(dir: &Path, vectors: &[Vector]) {
    let mut manifest = Vec::new();
    for vector in vectors {
        let entry = catalog::by_id(vector.schema_id).unwrap();
        let schema_file = format!("{}_{}.avsc", entry.id, entry.name);
        std::fs::write(
            dir.join(&schema_file),
            expanded_schema_json(entry.id).unwrap(),
        )
        .unwrap();
        let bin = format!("{}.bin", vector.name);
        let expected = format!("{}.json", vector.name);
        std::fs::write(dir.join(&bin), &vector.bytes).unwrap();
        std::fs::write(
            dir.join(&expected),
            serde_json::to_vec_pretty(&vector.json).unwrap(),
        )
        .unwrap();
        manifest.push(serde_json::json!({
            "name": vector.name,
            "schema_id": vector.schema_id,
            "schema": schema_file,
            "bytes": bin,
            "expected": expected,
        }));
    }
    let manifest = serde_json::json!({ "vectors": manifest });
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
}

fn run_checker(dir: &Path) -> Output {
    let python = python();
    let output = Command::new(&python)
        .arg(script())
        .arg(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run {python} (set SXFLEET_PYTHON to a Python 3 with fastavro): {e}")
        });
    if output.status.code() == Some(2) {
        panic!(
            "fastavro is not installed for {python}: pip install fastavro\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    output
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn fastavro_decodes_every_vector() {
    let vectors = all_vectors();
    // Every catalog schema has at least one vector.
    for entry in catalog::CATALOG {
        assert!(
            vectors.iter().any(|v| v.schema_id == entry.id),
            "no test vector for {}",
            entry.name
        );
    }
    let dir = fresh_dir("all");
    write_vectors(&dir, &vectors);
    let output = run_checker(&dir);
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "fastavro check failed ({}):\n{stdout}\n{}",
        output.status,
        text(&output.stderr)
    );
    let expected = format!("checked {} vectors, 0 mismatches", vectors.len());
    assert!(
        stdout.contains(&expected),
        "expected {expected:?} in:\n{stdout}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn fastavro_check_reports_mismatches() {
    let mut vectors: Vec<Vector> = all_vectors()
        .into_iter()
        .filter(|v| v.name == "Node_full" || v.name == "DeadLetter_full" || v.name == "Relay_full")
        .collect();
    assert_eq!(vectors.len(), 3);
    // Wrong expectation: a value fastavro will not produce.
    vectors[0].json["version"] = serde_json::json!(13);
    // Wrong header: schema id of another type.
    vectors[1].bytes[4] ^= 1;
    let dir = fresh_dir("bad");
    write_vectors(&dir, &vectors);
    let output = run_checker(&dir);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("checked 1 vectors, 2 mismatches"),
        "{stdout}"
    );
    assert!(
        stdout.contains("MISMATCH Node_full.version: expected 13"),
        "{stdout}"
    );
    assert!(
        stdout.contains("MISMATCH DeadLetter_full: header schema id"),
        "{stdout}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

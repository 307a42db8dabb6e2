//! Desired vs actual as a structured diff: every object, in spec or not — the version, the
//! policy, and every configuration key the desired bundle names or the latest snapshot
//! reports — with its desired and actual values. An object is out of spec when the latest drift
//! evaluation lists it (`node_drift_diff`) or its values differ.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

use super::cells::{rows, ShapeError};
use super::Answers;

/// The diff of one node.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Diff {
    /// The desired bundle (`node_twin`).
    pub bundle_id: String,
    /// The version of it in force (`node_desired_config`), if it names keys.
    pub bundle_version: Option<String>,
    /// When the snapshot the actual values come from was taken, epoch ms.
    pub snapshot_ms: Option<i64>,
    /// The severity the latest evaluation gave the version difference (`node_drift_diff`).
    pub version_severity: Option<String>,
    /// Every object.
    pub objects: Vec<DiffObject>,
}

/// One object of the diff.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DiffObject {
    /// `version`, `policy` or `config:<key>`.
    pub object: String,
    /// The desired value (none when the bundle does not name it).
    pub desired: Option<String>,
    /// The actual value (none when the node does not report it).
    pub actual: Option<String>,
    /// Whether it is in spec.
    pub in_spec: bool,
}

/// What the diff is made of besides the answers: the twin's versions.
#[derive(Clone, Debug, PartialEq)]
pub struct Versions<'a> {
    pub bundle_id: &'a str,
    pub target_version: &'a str,
    pub reported_version: &'a str,
    pub desired_policy_version: &'a str,
    pub policy_version: &'a str,
}

/// Configuration keys with their values, as text.
type Config = Vec<(String, String)>;

/// The snapshot payload's reported configuration (`config`: key to value text) and its time.
fn snapshot_config(answers: &Answers) -> Result<(Option<i64>, Config), ShapeError> {
    for row in rows("node_latest_by_kind", answers.get("node_latest_by_kind")?) {
        if row.text("kind")? != "SNAPSHOT" {
            continue;
        }
        let payload: Value =
            serde_json::from_str(row.text("payload")?).map_err(|e| ShapeError {
                query: "node_latest_by_kind",
                problem: format!("snapshot payload is not JSON: {e}"),
            })?;
        let config = payload
            .get("config")
            .and_then(Value::as_object)
            .map(|map| {
                map.iter()
                    .map(|(key, value)| {
                        let text = value
                            .as_str()
                            .map_or_else(|| value.to_string(), str::to_owned);
                        (key.clone(), text)
                    })
                    .collect()
            })
            .unwrap_or_default();
        return Ok((Some(row.int("at_ms")?), config));
    }
    Ok((None, Vec::new()))
}

/// The diff from the answers and the twin's versions.
///
/// # Errors
/// [`ShapeError`] when an answer lacks a column or the snapshot payload is not JSON.
pub fn diff(answers: &Answers, versions: &Versions<'_>) -> Result<Diff, ShapeError> {
    let mut evaluated = BTreeSet::new();
    let mut version_severity = None;
    let mut policy_differs = false;
    for row in rows("node_drift_diff", answers.get("node_drift_diff")?) {
        evaluated.insert(row.string("field")?);
        let severity = row.string("version_severity")?;
        if !severity.is_empty() {
            version_severity = Some(severity);
        }
        policy_differs |= row.text("policy_version")? != row.text("policy_actual_version")?;
    }
    let mut desired = Vec::new();
    let mut bundle_version = None;
    for row in rows("node_desired_config", answers.get("node_desired_config")?) {
        bundle_version = Some(row.string("version")?);
        desired.push((row.string("config_key")?, row.string("desired")?));
    }
    let (snapshot_ms, actual) = snapshot_config(answers)?;
    let value = |text: &str| (!text.is_empty()).then(|| text.to_owned());
    let mut objects = vec![
        DiffObject {
            object: "version".to_owned(),
            desired: value(versions.target_version),
            actual: value(versions.reported_version),
            in_spec: versions.target_version == versions.reported_version,
        },
        DiffObject {
            object: "policy".to_owned(),
            desired: value(versions.desired_policy_version),
            actual: value(versions.policy_version),
            in_spec: !policy_differs && versions.desired_policy_version == versions.policy_version,
        },
    ];
    let keys: BTreeSet<&String> = desired.iter().chain(&actual).map(|(k, _)| k).collect();
    for key in keys {
        let find =
            |list: &[(String, String)]| list.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        let (want, have) = (find(&desired), find(&actual));
        let in_spec = !evaluated.contains(key) && (want.is_none() || want == have);
        objects.push(DiffObject {
            object: format!("config:{key}"),
            desired: want,
            actual: have,
            in_spec,
        });
    }
    Ok(Diff {
        bundle_id: versions.bundle_id.to_owned(),
        bundle_version,
        snapshot_ms,
        version_severity,
        objects,
    })
}

#[cfg(test)]
mod tests {
    use sxfleet_sinks::Answer;

    use super::*;

    fn answer(columns: &[&str], rows: &[&[&str]]) -> Answer {
        Answer {
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            rows: rows
                .iter()
                .map(|r| r.iter().map(|c| (*c).to_owned()).collect())
                .collect(),
        }
    }

    #[test]
    fn every_object_shows_desired_and_actual() {
        let mut answers = Answers::default();
        answers.insert(
            "node_drift_diff",
            answer(
                &[
                    "field",
                    "version_severity",
                    "policy_version",
                    "policy_actual_version",
                ],
                &[&[
                    "stir.enforcement_mode",
                    "patch",
                    "policy-v2.1",
                    "policy-v2.0",
                ]],
            ),
        );
        answers.insert(
            "node_desired_config",
            answer(
                &["bundle_id", "version", "config_key", "desired"],
                &[
                    &["b", "7", "rate_limit.max_cps", "2000"],
                    &["b", "7", "stir.enforcement_mode", "hard"],
                ],
            ),
        );
        answers.insert(
            "node_latest_by_kind",
            answer(
                &["kind", "last_seq", "at_ms", "payload"],
                &[&[
                    "SNAPSHOT",
                    "3",
                    "180000",
                    r#"{"config":{"rate_limit.max_cps":"2000","stir.enforcement_mode":"soft","extra":"1"}}"#,
                ]],
            ),
        );
        let versions = Versions {
            bundle_id: "b",
            target_version: "1.4.7",
            reported_version: "1.4.6",
            desired_policy_version: "policy-v2.1",
            policy_version: "policy-v2.0",
        };
        let got = diff(&answers, &versions).unwrap();
        assert_eq!(got.bundle_version.as_deref(), Some("7"));
        assert_eq!(got.snapshot_ms, Some(180_000));
        assert_eq!(got.version_severity.as_deref(), Some("patch"));
        let summary: Vec<(&str, Option<&str>, Option<&str>, bool)> = got
            .objects
            .iter()
            .map(|o| {
                (
                    o.object.as_str(),
                    o.desired.as_deref(),
                    o.actual.as_deref(),
                    o.in_spec,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("version", Some("1.4.7"), Some("1.4.6"), false),
                ("policy", Some("policy-v2.1"), Some("policy-v2.0"), false),
                ("config:extra", None, Some("1"), true),
                (
                    "config:rate_limit.max_cps",
                    Some("2000"),
                    Some("2000"),
                    true
                ),
                (
                    "config:stir.enforcement_mode",
                    Some("hard"),
                    Some("soft"),
                    false
                ),
            ]
        );
    }
}

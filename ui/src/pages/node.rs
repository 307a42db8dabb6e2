//! Layer 2, one node (`/nodes/{id}`): its twin, desired vs actual as a structured diff, the
//! lifecycle and connectivity timeline from the ledger, replay progress with backlog and ETA,
//! the supply-chain panel, the observations timeline and its commands.

use serde::Serialize;
use serde_json::Value;

use super::cells::{first, rows, Row, ShapeError};
use super::node_diff::{diff, Diff, Versions};
use super::{Answers, Freshness};

/// The cookbook queries of the page, in loading order.
pub const QUERIES: [&str; 10] = [
    "freshness",
    "node_twin",
    "node_drift_diff",
    "node_desired_config",
    "node_latest_by_kind",
    "node_timeline",
    "node_replay",
    "node_supply_chain",
    "node_events",
    "node_commands",
];

/// The node page (and its JSON).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodePage {
    /// `node`.
    pub page: &'static str,
    /// The cookbook queries the figures come from.
    pub queries: Vec<&'static str>,
    /// How fresh the figures are.
    pub freshness: Freshness,
    /// The node.
    pub node_id: String,
    /// The twin's columns as `node_twin` answers them (column to cell text).
    pub twin: Vec<(String, String)>,
    /// Desired vs actual.
    pub diff: Diff,
    /// The ledger (`node_timeline`).
    pub timeline: Vec<Transition>,
    /// Replay progress (`node_replay`), when the node has replayed or is replaying.
    pub replay: Option<Replay>,
    /// The supply-chain panel.
    pub supply_chain: SupplyChain,
    /// The latest events, newest first (`node_events`).
    pub observations: Vec<Observation>,
    /// Its commands (`node_commands`).
    pub commands: Vec<Command>,
}

/// A row of `node_timeline`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Transition {
    pub at_ms: i64,
    pub machine: String,
    pub from_state: String,
    pub to_state: String,
    pub applied: bool,
    pub reason: String,
}

/// A row of `node_replay`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Replay {
    pub mode: String,
    pub replay_session: String,
    pub replay_chunks: i64,
    pub replay_events: i64,
    pub replay_backlog_total: Option<i64>,
    pub percent: Option<f64>,
    pub eta_ms: Option<i64>,
}

/// `node_supply_chain` with the twin's serial, origin and SBOM hash and the latest
/// attestation's payload (`node_latest_by_kind`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SupplyChain {
    pub hw_manufacturer: String,
    pub hw_model: String,
    pub hw_serial: String,
    pub hw_batch_id: String,
    pub hw_origin: String,
    pub firmware_version: String,
    /// The signature the node enrolled with (the baseline).
    pub firmware_signature: String,
    /// The signature the latest attestation reported.
    pub attested_signature: Option<String>,
    /// Whether the attested signature is the baseline (none without both).
    pub signature_matches: Option<bool>,
    pub attestation: String,
    pub attested_ms: i64,
    /// The certificate's expiry from the latest attestation, epoch ms.
    pub cert_not_after_ms: Option<i64>,
    /// `cert_not_after_ms - now` (negative: expired).
    pub cert_expires_in_ms: Option<i64>,
    pub trust: String,
    pub trust_violations: i64,
    pub last_violation: String,
    pub sbom_hash: String,
}

/// A row of `node_events`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Observation {
    pub seq: i64,
    pub event_time_ms: i64,
    pub received_ms: i64,
    pub kind: String,
    pub source: String,
    pub replayed: bool,
    pub payload: String,
}

/// A row of `node_commands`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Command {
    pub command_id: String,
    pub kind: String,
    pub delivery: String,
    pub status: String,
    pub reason: String,
    pub attempts: i64,
    pub first_ms: i64,
    pub at_ms: i64,
    pub resent: i64,
    pub published_times: i64,
}

/// Whether the node has a twin.
///
/// # Errors
/// [`ShapeError`] when the page's answers were not loaded.
pub fn exists(answers: &Answers) -> Result<bool, ShapeError> {
    Ok(!answers.get("node_twin")?.rows.is_empty())
}

/// The page model from its answers (the node must exist, see [`exists`]).
///
/// # Errors
/// [`ShapeError`] when an answer lacks a row or column the page reads.
pub fn model(
    answers: &Answers,
    freshness: Freshness,
    node_id: &str,
) -> Result<NodePage, ShapeError> {
    let twin_answer = answers.get("node_twin")?;
    let twin = first("node_twin", twin_answer).ok_or(ShapeError {
        query: "node_twin",
        problem: "no row".to_owned(),
    })?;
    let versions = Versions {
        bundle_id: twin.text("desired_bundle_id")?,
        target_version: twin.text("target_version")?,
        reported_version: twin.text("reported_version")?,
        desired_policy_version: twin.text("desired_policy_version")?,
        policy_version: twin.text("policy_version")?,
    };
    let diff = diff(answers, &versions)?;
    let mut timeline = Vec::new();
    for row in rows("node_timeline", answers.get("node_timeline")?) {
        timeline.push(Transition {
            at_ms: row.int("at_ms")?,
            machine: row.string("machine")?,
            from_state: row.string("from_state")?,
            to_state: row.string("to_state")?,
            applied: row.flag("applied")?,
            reason: row.string("reason")?,
        });
    }
    let replay = match first("node_replay", answers.get("node_replay")?) {
        Some(row) if !row.text("replay_session")?.is_empty() => Some(Replay {
            mode: row.string("mode")?,
            replay_session: row.string("replay_session")?,
            replay_chunks: row.int("replay_chunks")?,
            replay_events: row.int("replay_events")?,
            replay_backlog_total: row.opt_int("replay_backlog_total")?,
            percent: row.opt_float("percent")?,
            eta_ms: row.opt_int("eta_ms")?,
        }),
        _ => None,
    };
    let supply_chain = supply_chain(answers, twin, freshness.now_ms)?;
    let mut observations = Vec::new();
    for row in rows("node_events", answers.get("node_events")?) {
        observations.push(Observation {
            seq: row.int("seq")?,
            event_time_ms: row.int("event_time_ms")?,
            received_ms: row.int("received_ms")?,
            kind: row.string("kind")?,
            source: row.string("source")?,
            replayed: row.flag("replayed")?,
            payload: row.string("payload")?,
        });
    }
    let mut commands = Vec::new();
    for row in rows("node_commands", answers.get("node_commands")?) {
        commands.push(Command {
            command_id: row.string("command_id")?,
            kind: row.string("kind")?,
            delivery: row.string("delivery")?,
            status: row.string("status")?,
            reason: row.string("reason")?,
            attempts: row.int("attempts")?,
            first_ms: row.int("first_ms")?,
            at_ms: row.int("at_ms")?,
            resent: row.int("resent")?,
            published_times: row.int("published_times")?,
        });
    }
    let twin_cells = twin_answer
        .rows
        .first()
        .map(|cells| {
            let columns = twin_answer.columns.iter().cloned();
            columns.zip(cells.iter().cloned()).collect()
        })
        .unwrap_or_default();
    Ok(NodePage {
        page: "node",
        queries: QUERIES.to_vec(),
        freshness,
        node_id: node_id.to_owned(),
        twin: twin_cells,
        diff,
        timeline,
        replay,
        supply_chain,
        observations,
        commands,
    })
}

fn supply_chain(answers: &Answers, twin: Row<'_>, now_ms: i64) -> Result<SupplyChain, ShapeError> {
    let panel =
        first("node_supply_chain", answers.get("node_supply_chain")?).ok_or(ShapeError {
            query: "node_supply_chain",
            problem: "no row".to_owned(),
        })?;
    let mut attested_signature = None;
    let mut cert_not_after_ms = None;
    for row in rows("node_latest_by_kind", answers.get("node_latest_by_kind")?) {
        if row.text("kind")? == "ATTESTATION" {
            let payload: Value = serde_json::from_str(row.text("payload")?).unwrap_or(Value::Null);
            attested_signature = payload["firmware_signature"].as_str().map(str::to_owned);
            cert_not_after_ms = payload["cert_not_after_ms"].as_i64();
        }
    }
    let baseline = panel.string("firmware_signature")?;
    let signature_matches = match &attested_signature {
        Some(attested) if !baseline.is_empty() => Some(*attested == baseline),
        _ => None,
    };
    Ok(SupplyChain {
        hw_manufacturer: panel.string("hw_manufacturer")?,
        hw_model: panel.string("hw_model")?,
        hw_serial: twin.string("hw_serial")?,
        hw_batch_id: panel.string("hw_batch_id")?,
        hw_origin: twin.string("hw_origin")?,
        firmware_version: panel.string("firmware_version")?,
        firmware_signature: baseline,
        attested_signature,
        signature_matches,
        attestation: panel.string("attestation")?,
        attested_ms: twin.int("attested_ms")?,
        cert_not_after_ms,
        cert_expires_in_ms: cert_not_after_ms.map(|ms| ms - now_ms),
        trust: panel.string("trust")?,
        trust_violations: panel.int("trust_violations")?,
        last_violation: panel.string("last_violation")?,
        sbom_hash: twin.string("sbom_hash")?,
    })
}

//! Per-line checks of an NDJSON batch. Pure: the same normalizer the Kafka stage runs, plus
//! the sender's node set and the lane.

use serde::Serialize;
use sxfleet_schemas::{ControlEvent, ControlPayload, DeadLetter, EventPayload, Source};

use super::auth::Authenticated;
use crate::config::NormalizerConfig;
use crate::context::RawContext;
use crate::normalize::{normalize, Normalized};
use crate::reject::{ReasonCode, Rejection};

/// Which door a request came through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    /// `/v1/events`: live node messages (every type but `replay`).
    Live,
    /// `/v1/replay`: backlog uploads (`replay` messages only).
    Replay,
    /// `/v1/commands`: operators' and controllers' `command` records only.
    Commands,
}

impl Lane {
    /// Lower-case name for metrics and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Lane::Live => "live",
            Lane::Replay => "replay",
            Lane::Commands => "commands",
        }
    }
}

/// The result of one line, as reported to the client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LineResult {
    /// Line number, from 1.
    pub line: usize,
    /// `accepted` or `rejected`.
    pub status: &'static str,
    /// Reason code, for a rejected line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<ReasonCode>,
    /// Detail, for a rejected line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A batch split into what goes where.
#[derive(Debug, Default, PartialEq)]
pub struct Batch {
    /// Accepted lines: (key, raw bytes) for the raw topic; the key is the node id, or a
    /// command's target id.
    pub accepted: Vec<(String, Vec<u8>)>,
    /// DLQ records for the rejected lines.
    pub dead_letters: Vec<DeadLetter>,
    /// One result per non-empty line, in order.
    pub results: Vec<LineResult>,
}

/// Checks every non-empty line of `body` (lines end with `\n`; a trailing `\r` is dropped)
/// sent by `sender`.
pub fn check_batch(
    config: &NormalizerConfig,
    sender: &Authenticated,
    lane: Lane,
    body: &[u8],
    received_ms: i64,
) -> Batch {
    let mut batch = Batch::default();
    for (index, line) in body.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let number = index + 1;
        match check_line(config, sender, lane, line, received_ms) {
            Ok(node_id) => {
                batch.accepted.push((node_id, line.to_vec()));
                batch.results.push(LineResult {
                    line: number,
                    status: "accepted",
                    reason: None,
                    detail: None,
                });
            }
            Err((rejection, node_id)) => {
                batch.results.push(LineResult {
                    line: number,
                    status: "rejected",
                    reason: Some(rejection.code),
                    detail: Some(rejection.detail.clone()),
                });
                batch.dead_letters.push(DeadLetter {
                    original: line.to_vec(),
                    source: Source::Http,
                    source_topic: None,
                    source_partition: None,
                    source_offset: None,
                    node_id,
                    reason_code: rejection.code.as_str().to_owned(),
                    detail: format!("line {number}: {}", rejection.detail),
                    stage: sxfleet_schemas::stage::NORMALIZER.to_owned(),
                    received_ms,
                });
            }
        }
    }
    batch
}

/// The node id of an acceptable line, or why it is not.
fn check_line(
    config: &NormalizerConfig,
    sender: &Authenticated,
    lane: Lane,
    line: &[u8],
    received_ms: i64,
) -> Result<String, (Rejection, Option<String>)> {
    let ctx = RawContext {
        source: Source::Http,
        received_ms,
    };
    let records =
        normalize(config, line, ctx).map_err(|rejected| (rejected.rejection, rejected.node_id))?;
    let event = match records.first() {
        Some(Normalized::Event(event)) if lane != Lane::Commands => event,
        Some(Normalized::Control(control)) => return check_command(sender, lane, control),
        _ => {
            let detail = "only `command` records go to /v1/commands";
            return Err((Rejection::new(ReasonCode::WrongLane, detail), None));
        }
    };
    let node_id = event.node_id.clone();
    if !sender.principal.nodes.contains(&node_id) {
        return Err((
            Rejection::new(
                ReasonCode::ForbiddenNode,
                format!(
                    "the {} may not send for node {node_id:?}",
                    sender.credential.as_str()
                ),
            ),
            Some(node_id),
        ));
    }
    let is_replay = matches!(event.payload, EventPayload::Replay(_));
    if is_replay != (lane == Lane::Replay) {
        let detail = if is_replay {
            "replay messages go to /v1/replay"
        } else {
            "only replay messages go to /v1/replay"
        };
        return Err((Rejection::new(ReasonCode::WrongLane, detail), Some(node_id)));
    }
    Ok(node_id)
}

/// The raw-topic key of an acceptable command line (its target id): a `command` on
/// `/v1/commands` whose `authority.controller_id` the credential may issue as.
fn check_command(
    sender: &Authenticated,
    lane: Lane,
    control: &ControlEvent,
) -> Result<String, (Rejection, Option<String>)> {
    let ControlPayload::Command(command) = &control.payload else {
        let detail = "control-plane records other than `command` are not accepted over HTTP";
        return Err((Rejection::new(ReasonCode::ForbiddenNode, detail), None));
    };
    if lane != Lane::Commands {
        let detail = "commands go to /v1/commands";
        return Err((Rejection::new(ReasonCode::WrongLane, detail), None));
    }
    let controller = &command.authority.controller_id;
    if !sender.principal.controllers.contains(controller) {
        let detail = format!(
            "the {} of {:?} may not issue commands as controller {controller:?}",
            sender.credential.as_str(),
            sender.principal.name
        );
        return Err((
            Rejection::new(ReasonCode::ForbiddenController, detail),
            None,
        ));
    }
    Ok(control.key.clone())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::http::auth::{Credential, Principal};

    const NOW: i64 = 1_767_225_600_000;

    fn sender(credential: Credential) -> Authenticated {
        Authenticated {
            principal: Arc::new(Principal {
                name: "n-1".to_owned(),
                nodes: vec!["n-1".to_owned()],
                controllers: vec![],
            }),
            credential,
        }
    }

    fn reasons(batch: &Batch) -> Vec<Option<&'static str>> {
        batch
            .results
            .iter()
            .map(|r| r.reason.map(ReasonCode::as_str))
            .collect()
    }

    #[test]
    fn good_lines_pass_and_each_bad_line_has_its_reason_and_dead_letter() {
        let body = concat!(
            r#"{"type":"heartbeat","node_id":"n-1","ts":"2026-01-01T00:00:00Z","seq":1}"#,
            "\n\nnot json\r\n",
            r#"{"type":"heartbeat","node_id":"n-2","ts":"2026-01-01T00:00:00Z","seq":1}"#,
            "\n",
            r#"{"type":"replay","node_id":"n-1","ts":"2026-01-01T00:00:00Z","seq":2,"phase":"begin"}"#,
            "\n",
            r#"{"type":"domain","domain_id":"d","level":"ZONE","ts":"2026-01-01T00:00:00Z","seq":1}"#,
        );
        let batch = check_batch(
            &NormalizerConfig::default(),
            &sender(Credential::Token),
            Lane::Live,
            body.as_bytes(),
            NOW,
        );
        assert_eq!(
            reasons(&batch),
            vec![
                None,
                Some("invalid_json"),
                Some("forbidden_node"),
                Some("wrong_lane"),
                Some("forbidden_node")
            ]
        );
        assert_eq!(
            batch.results.iter().map(|r| r.line).collect::<Vec<_>>(),
            vec![1, 3, 4, 5, 6]
        );
        assert_eq!(batch.accepted.len(), 1);
        assert_eq!(batch.accepted[0].0, "n-1");
        assert_eq!(batch.dead_letters.len(), 4);
        assert_eq!(batch.dead_letters[0].original, b"not json".to_vec());
        assert_eq!(batch.dead_letters[1].node_id.as_deref(), Some("n-2"));
        assert_eq!(
            batch.dead_letters[1].detail,
            "line 4: the token may not send for node \"n-2\""
        );
        assert!(batch.dead_letters.iter().all(|d| d.source == Source::Http));

        // The same lines from a client certificate of the same principal: the same verdicts,
        // only the detail names the credential.
        let by_cert = check_batch(
            &NormalizerConfig::default(),
            &sender(Credential::Certificate),
            Lane::Live,
            body.as_bytes(),
            NOW,
        );
        assert_eq!(reasons(&by_cert), reasons(&batch));
        assert_eq!(by_cert.accepted, batch.accepted);
        assert_eq!(
            by_cert.results[2].detail.as_deref(),
            Some("the client certificate may not send for node \"n-2\"")
        );
    }

    /// `/v1/commands` takes only `command` records, from a credential that may issue as the
    /// command's controller; commands are refused on the node lanes.
    #[test]
    fn the_commands_lane_takes_only_commands_of_its_controllers() {
        let command = |controller: &str| {
            format!(
                r#"{{"type":"command","ts":"2026-01-01T00:00:00Z","idempotency_key":"k","target":{{"node":"n-1"}},"kind":"restart","authority":{{"controller_id":"{controller}","level":"REGION","epoch":1}}}}"#
            )
        };
        let heartbeat =
            r#"{"type":"heartbeat","node_id":"n-1","ts":"2026-01-01T00:00:00Z","seq":1}"#;
        let body = [command("ctl-a"), command("ctl-b"), heartbeat.to_owned()].join("\n");
        let operator = Authenticated {
            principal: Arc::new(Principal {
                name: "ops".to_owned(),
                nodes: vec![],
                controllers: vec!["ctl-a".to_owned()],
            }),
            credential: Credential::Token,
        };
        let config = NormalizerConfig::default();
        let batch = check_batch(&config, &operator, Lane::Commands, body.as_bytes(), NOW);
        assert_eq!(
            reasons(&batch),
            vec![None, Some("forbidden_controller"), Some("wrong_lane")]
        );
        assert_eq!(batch.accepted.len(), 1);
        assert_eq!(batch.accepted[0].0, "n-1", "keyed by the command's target");
        let node = sender(Credential::Token);
        let refused = check_batch(&config, &node, Lane::Commands, body.as_bytes(), NOW);
        assert_eq!(
            refused.accepted.len(),
            0,
            "a node's token issues no command"
        );
        let live = check_batch(
            &config,
            &operator,
            Lane::Live,
            command("ctl-a").as_bytes(),
            NOW,
        );
        assert_eq!(reasons(&live), vec![Some("wrong_lane")]);
    }

    #[test]
    fn the_replay_lane_takes_only_replay_messages() {
        let body = concat!(
            r#"{"type":"replay","node_id":"n-1","ts":"2026-01-01T00:00:00Z","seq":2,"phase":"begin"}"#,
            "\n",
            r#"{"type":"heartbeat","node_id":"n-1","ts":"2026-01-01T00:00:00Z","seq":1}"#,
        );
        let batch = check_batch(
            &NormalizerConfig::default(),
            &sender(Credential::Token),
            Lane::Replay,
            body.as_bytes(),
            NOW,
        );
        assert_eq!(reasons(&batch), vec![None, Some("wrong_lane")]);
    }
}

//! What the command machine reads from the control plane: the authority check of a command,
//! its audit record, the controller a rollout is issued under, and a domain's local time
//! offset. Pure.

use sxfleet_schemas::{AuthorityClaim, AuthorityDecision, EpochMillis};

use super::domains::DomainBook;
use crate::authority::{AuthorityState, RejectReason, Stamp};
use crate::drift::{DesiredResolver, DesiredSource, Resolution};
use sxfleet_schemas::{CommandRequest, CommandTarget};

/// The authority check of `request` against `domain_id` (the node's domain, or the target
/// domain), exactly as for assignments ([`AuthorityState::check`]).
///
/// # Errors
/// The reject reason's code (`no_authority`, `epoch_mismatch`, ...), `unknown_target_domain`
/// when the node has no domain.
pub fn check(
    authority: &AuthorityState,
    request: &CommandRequest,
    domain_id: &str,
) -> Result<(), String> {
    if domain_id.is_empty() {
        return Err(code(&RejectReason::UnknownTargetDomain));
    }
    authority
        .check(domain_id, &stamp(request))
        .map(|_| ())
        .map_err(|reason| code(&reason))
}

/// The controller whose assignment gives `node_id` its desired bundle, as a claim.
pub fn assignment_winner(
    authority: &AuthorityState,
    desired: &DesiredResolver,
    node_id: &str,
    domain_id: &str,
) -> Option<AuthorityClaim> {
    let domain = (!domain_id.is_empty()).then_some(domain_id);
    let Resolution::Resolved(resolved) = desired.resolve(node_id, domain) else {
        return None;
    };
    let write = match &resolved.source {
        DesiredSource::Node => authority.node_writes.get(node_id),
        DesiredSource::Domain { domain_id } => authority.domain_writes.get(domain_id),
    }?;
    Some(AuthorityClaim {
        controller_id: write.controller_id.clone(),
        level: write.level,
        epoch: write.epoch,
    })
}

/// The offset from UTC of `domain_id`'s local time, in minutes: the domain's own
/// `utc_offset_minutes`, else its nearest ancestor's that sets one, else 0 (UTC).
pub fn utc_offset_minutes(
    authority: &AuthorityState,
    domains: &DomainBook,
    domain_id: &str,
) -> i32 {
    authority
        .path(domain_id)
        .iter()
        .rev()
        .find_map(|d| {
            domains
                .defs
                .get(d)
                .and_then(|(def, _)| def.utc_offset_minutes)
        })
        .unwrap_or(0)
}

fn stamp(request: &CommandRequest) -> Stamp {
    Stamp {
        epoch: request.authority.epoch,
        at_ms: request.issued_ms,
        controller_id: request.authority.controller_id.clone(),
        level: request.authority.level,
        bundle_id: None,
    }
}

/// A reject reason's code in snake case (`no_authority`).
fn code(reason: &RejectReason) -> String {
    serde_json::to_value(reason)
        .ok()
        .and_then(|v| v["code"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "no_authority".to_owned())
}

/// The audit record (`AuthorityDecision`, subject `COMMAND`) of a command's authority check at
/// `at_ms`: ACCEPTED, or REJECTED with the reason code in upper case (as for assignments).
pub fn command_decision(
    request: &CommandRequest,
    domain_id: &str,
    verdict: &Result<(), String>,
    at_ms: EpochMillis,
) -> AuthorityDecision {
    let target_kind = match request.target_kind {
        CommandTarget::Node => "NODE",
        CommandTarget::Domain => "DOMAIN",
    };
    let kind = request.kind.as_str();
    AuthorityDecision {
        at_ms,
        domain_id: domain_id.to_owned(),
        decision: if verdict.is_ok() {
            "ACCEPTED"
        } else {
            "REJECTED"
        }
        .to_owned(),
        subject: "COMMAND".to_owned(),
        target_kind: Some(target_kind.to_owned()),
        target_id: Some(request.target_id.clone()),
        controller_id: request.authority.controller_id.clone(),
        epoch: request.authority.epoch,
        level: request.authority.level.as_str().to_owned(),
        bundle_id: None,
        loser_controller_id: None,
        loser_epoch: None,
        loser_at_ms: None,
        rule: None,
        reason: verdict.as_ref().err().map(|code| code.to_uppercase()),
        controllers: Vec::new(),
        detail: match verdict {
            Ok(()) => format!("{kind} {} for {}", request.command_id, request.target_id),
            Err(code) => format!("{kind} {} rejected: {code}", request.command_id),
        },
    }
}

//! The raw contract of commands: `command` (an operator's or controller's control intent, a
//! control-plane record keyed by its target) and `command_ack` (a node's acknowledgement, a
//! node event). See `docs/commands.md`.

use sxfleet_schemas::{
    AckStatus, AuthorityClaim, AuthorityLevel, CommandAck, CommandKind, CommandRequest,
    CommandTarget, Delivery, EpochMillis,
};

use super::common::{check_unknown, rfc3339_ms};
use super::fields::Fields;
use crate::config::NormalizerConfig;
use crate::reject::{ReasonCode, Rejection};

const AUTHORITY_LEVELS: &[AuthorityLevel] = &[
    AuthorityLevel::Global,
    AuthorityLevel::Region,
    AuthorityLevel::Local,
    AuthorityLevel::Autonomous,
];

/// Fields a `command` may carry besides the common ones.
pub(super) const COMMAND_FIELDS: &[&str] = &[
    "command_id",
    "idempotency_key",
    "target",
    "kind",
    "delivery",
    "expires",
    "ttl",
    "authority",
    "params",
    "payload",
];

const KINDS: &[CommandKind] = &[
    CommandKind::ApplyBundle,
    CommandKind::Update,
    CommandKind::Restart,
    CommandKind::Remediate,
    CommandKind::Decommission,
    CommandKind::MaintenanceStart,
    CommandKind::MaintenanceEnd,
    CommandKind::RotateCertificate,
    CommandKind::Custom,
];

fn bad(detail: impl Into<String>) -> Rejection {
    Rejection::new(ReasonCode::BadCommand, detail)
}

/// A `command` issued at `issued_ms` (its event time).
pub(super) fn command_request(
    config: &NormalizerConfig,
    fields: &Fields<'_>,
    issued_ms: EpochMillis,
) -> Result<CommandRequest, Rejection> {
    check_unknown(config, fields, COMMAND_FIELDS)?;
    let idempotency_key = fields.id("idempotency_key")?;
    let Some(target) = fields.opt_object("target", "target.")? else {
        return Err(bad(
            "a command needs `target`: {\"node\": id} or {\"domain\": id}",
        ));
    };
    check_unknown(config, &target, &["node", "domain"])?;
    let (target_kind, target_id) = match (target.opt_id("node")?, target.opt_id("domain")?) {
        (Some(node), None) => (CommandTarget::Node, node),
        (None, Some(domain)) => (CommandTarget::Domain, domain),
        _ => return Err(bad("`target` names exactly one of `node` and `domain`")),
    };
    let kind_name = fields.str("kind")?;
    let Some(kind) = KINDS
        .iter()
        .copied()
        .find(|k| k.raw_name().eq_ignore_ascii_case(&kind_name))
    else {
        let known: Vec<_> = KINDS.iter().map(|k| k.raw_name()).collect();
        return Err(bad(format!(
            "`kind` = {kind_name:?} is not one of {}",
            known.join("|")
        )));
    };
    let delivery = match fields
        .opt_str("delivery")?
        .map(|d| d.to_ascii_lowercase())
        .as_deref()
    {
        None | Some("at_least_once") => Delivery::AtLeastOnce,
        Some("at_most_once") => Delivery::AtMostOnce,
        Some(other) => {
            return Err(bad(format!(
                "`delivery` = {other:?} is not at_most_once|at_least_once"
            )))
        }
    };
    let expires_ms = match (fields.opt_str("expires")?, fields.opt_duration_ms("ttl")?) {
        (Some(_), Some(_)) => return Err(bad("give `expires` or `ttl`, not both")),
        (Some(text), None) => Some(rfc3339_ms("expires", &text)?),
        (None, Some(ttl)) => Some(issued_ms.saturating_add(ttl)),
        (None, None) => None,
    };
    let Some(authority) = fields.opt_object("authority", "authority.")? else {
        return Err(bad(
            "a command needs `authority` {controller_id, level, epoch}",
        ));
    };
    let mut params = fields.text_map("params")?;
    if kind == CommandKind::Custom {
        if !params.contains_key("name") {
            return Err(bad("a custom command names itself in `params.name`"));
        }
        if let Some(payload) = fields.opt_text("payload") {
            params.insert("payload".to_owned(), payload);
        }
    } else if fields.opt_text("payload").is_some() {
        return Err(bad("only a custom command carries `payload`"));
    }
    Ok(CommandRequest {
        command_id: fields
            .opt_id("command_id")?
            .unwrap_or_else(|| idempotency_key.clone()),
        idempotency_key,
        target_kind,
        target_id,
        kind,
        delivery,
        issued_ms,
        expires_ms,
        authority: authority_claim(&authority)?,
        params,
    })
}

/// A node's `command_ack`.
pub(super) fn command_ack(
    config: &NormalizerConfig,
    fields: &Fields<'_>,
) -> Result<CommandAck, Rejection> {
    check_unknown(
        config,
        fields,
        &["command_id", "status", "reason", "reported_version"],
    )?;
    Ok(CommandAck {
        command_id: fields.id("command_id")?,
        status: fields.symbol(
            "status",
            &[AckStatus::Received, AckStatus::Applied, AckStatus::Failed],
        )?,
        reason: fields.opt_str("reason")?,
        reported_version: fields.opt_str("reported_version")?,
    })
}

/// A controller's authority claim (`controller_id`, `level`, `epoch`), as `command` and
/// `assign` records carry it.
pub(super) fn authority_claim(fields: &Fields<'_>) -> Result<AuthorityClaim, Rejection> {
    Ok(AuthorityClaim {
        controller_id: fields.id("controller_id")?,
        level: fields.symbol("level", AUTHORITY_LEVELS)?,
        epoch: fields.count("epoch")?,
    })
}

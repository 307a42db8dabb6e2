//! Control-plane records (`domain`, `policy_bundle`, `assign`, `authority`, `sync`, `command`),
//! keyed by the domain, bundle or command target they are about.

use sxfleet_schemas::{
    Assign, AssignTarget, AuthorityClaimEvent, ControlEvent, ControlPayload, DomainDef,
    DomainLevel, DomainSync, FederationSync, PolicyBundle, SyncDirection,
};

use super::command::{authority_claim, command_request};
use super::common::{check_unknown, event_time, rfc3339_ms};
use super::fields::Fields;
use crate::config::NormalizerConfig;
use crate::context::RawContext;
use crate::reject::{ReasonCode, Rejection};

/// Normalizes a control-plane record of type `kind`.
pub(super) fn control_event(
    config: &NormalizerConfig,
    fields: &Fields<'_>,
    kind: &str,
    ctx: RawContext,
) -> Result<ControlEvent, Rejection> {
    let event_time_ms = event_time(config, fields, ctx)?;
    let seq = fields.opt_count("seq")?;
    let (key, payload) = match kind {
        "domain" => {
            check_unknown(
                config,
                fields,
                &[
                    "domain_id",
                    "parent_id",
                    "level",
                    "autonomy",
                    "version",
                    "sync",
                    "utc_offset",
                ],
            )?;
            let domain = DomainDef {
                domain_id: fields.id("domain_id")?,
                parent_id: fields.opt_id("parent_id")?,
                level: fields.symbol(
                    "level",
                    &[DomainLevel::Global, DomainLevel::Region, DomainLevel::Zone],
                )?,
                autonomy: fields.opt_str("autonomy")?,
                version: fields.opt_count("version")?,
                sync: domain_sync(fields)?,
                utc_offset_minutes: fields
                    .opt_str("utc_offset")?
                    .map(|text| utc_offset_minutes(&text))
                    .transpose()?,
            };
            (domain.domain_id.clone(), ControlPayload::Domain(domain))
        }
        "policy_bundle" => {
            check_unknown(
                config,
                fields,
                &[
                    "bundle_id",
                    "version",
                    "target_version",
                    "policy_version",
                    "config",
                    "constraints",
                ],
            )?;
            let bundle = PolicyBundle {
                bundle_id: fields.id("bundle_id")?,
                version: fields.str("version")?,
                target_version: fields.str("target_version")?,
                policy_version: fields.str("policy_version")?,
                config: fields.text_map("config")?,
                constraints: fields.text_map("constraints")?,
            };
            (
                bundle.bundle_id.clone(),
                ControlPayload::PolicyBundle(bundle),
            )
        }
        "assign" => {
            check_unknown(
                config,
                fields,
                &["bundle_id", "domain_id", "target_node_id", "authority"],
            )?;
            let (target_kind, target_id) = match (
                fields.opt_id("domain_id")?,
                fields.opt_id("target_node_id")?,
            ) {
                (Some(domain), None) => (AssignTarget::Domain, domain),
                (None, Some(node)) => (AssignTarget::Node, node),
                _ => {
                    return Err(Rejection::new(
                        ReasonCode::MissingField,
                        "an assign names exactly one of `domain_id` and `target_node_id`",
                    ))
                }
            };
            let Some(authority) = fields.opt_object("authority", "authority.")? else {
                return Err(Rejection::new(
                    ReasonCode::MissingField,
                    "required field `authority` is missing",
                ));
            };
            let assign = Assign {
                bundle_id: fields.id("bundle_id")?,
                target_kind,
                target_id: target_id.clone(),
                authority: authority_claim(&authority)?,
            };
            (target_id, ControlPayload::Assign(assign))
        }
        "command" => {
            let request = command_request(config, fields, event_time_ms)?;
            (request.target_id.clone(), ControlPayload::Command(request))
        }
        "sync" => {
            check_unknown(
                config,
                fields,
                &[
                    "controller_id",
                    "domain_id",
                    "direction",
                    "peer",
                    "last_sync",
                    "frequency",
                    "mode",
                    "pending_changes",
                ],
            )?;
            let sync = federation_sync(fields)?;
            (sync.domain_id.clone(), ControlPayload::Sync(sync))
        }
        _ => {
            check_unknown(
                config,
                fields,
                &["domain_id", "controller_id", "level", "epoch"],
            )?;
            let claim = authority_claim(fields)?;
            let event = AuthorityClaimEvent {
                domain_id: fields.id("domain_id")?,
                controller_id: claim.controller_id,
                level: claim.level,
                epoch: claim.epoch,
            };
            (event.domain_id.clone(), ControlPayload::Authority(event))
        }
    };
    let event_id = match fields.opt_id("event_id")? {
        Some(id) => id,
        None => format!("{kind}:{key}:{event_time_ms}:{}", seq.unwrap_or(0)),
    };
    Ok(ControlEvent {
        event_id,
        key,
        event_time_ms,
        received_ms: ctx.received_ms,
        source: ctx.source,
        payload,
    })
}

/// The `sync` settings object of a `domain` record; `None` when absent.
fn domain_sync(fields: &Fields<'_>) -> Result<Option<DomainSync>, Rejection> {
    let Some(sync) = fields.opt_object("sync", "sync.")? else {
        return Ok(None);
    };
    Ok(Some(DomainSync {
        upstream: sync.opt_id("upstream")?,
        frequency_ms: sync.opt_duration_ms("frequency")?,
        mode: sync.opt_str("mode")?,
        can_operate_isolated: sync.opt_bool("can_operate_isolated")?,
    }))
}

/// A control plane's report of its sync with one peer in one direction.
fn federation_sync(fields: &Fields<'_>) -> Result<FederationSync, Rejection> {
    Ok(FederationSync {
        controller_id: fields.id("controller_id")?,
        domain_id: fields.id("domain_id")?,
        direction: fields.symbol(
            "direction",
            &[SyncDirection::Upstream, SyncDirection::Downstream],
        )?,
        peer: fields.id("peer")?,
        last_sync_ms: rfc3339_ms("last_sync", &fields.str("last_sync")?)?,
        frequency_ms: fields.opt_duration_ms("frequency")?,
        mode: fields.opt_str("mode")?,
        pending_changes: fields.opt_count("pending_changes")?.unwrap_or(0),
    })
}

/// A UTC offset, `Z` or `±HH:MM` (at most 14 hours), as minutes east of UTC.
fn utc_offset_minutes(text: &str) -> Result<i32, Rejection> {
    let bad = || {
        Rejection::new(
            ReasonCode::BadTimestamp,
            format!("`utc_offset` {text:?} is not `Z` or an offset like +02:00 or -05:30"),
        )
    };
    if text == "Z" {
        return Ok(0);
    }
    let (sign, rest) = match text.split_at_checked(1) {
        Some(("+", rest)) => (1, rest),
        Some(("-", rest)) => (-1, rest),
        _ => return Err(bad()),
    };
    let (hours, minutes) = rest.split_once(':').ok_or_else(bad)?;
    let two_digits = |part: &str| {
        (part.len() == 2 && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse::<i32>().ok())
            .flatten()
    };
    match (two_digits(hours), two_digits(minutes)) {
        (Some(h), Some(m)) if m < 60 && h * 60 + m <= 14 * 60 => Ok(sign * (h * 60 + m)),
        _ => Err(bad()),
    }
}

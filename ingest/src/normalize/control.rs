//! Control-plane records (`domain`, `policy_bundle`, `assign`, `authority`), keyed by the domain
//! or bundle they are about.

use sxfleet_schemas::{
    Assign, AssignTarget, AuthorityClaim, AuthorityClaimEvent, AuthorityLevel, ControlEvent,
    ControlPayload, DomainDef, DomainLevel, PolicyBundle,
};

use super::common::{check_unknown, event_time};
use super::fields::Fields;
use crate::config::NormalizerConfig;
use crate::context::RawContext;
use crate::reject::{ReasonCode, Rejection};

const AUTHORITY_LEVELS: &[AuthorityLevel] = &[
    AuthorityLevel::Global,
    AuthorityLevel::Region,
    AuthorityLevel::Local,
    AuthorityLevel::Autonomous,
];

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
                &["domain_id", "parent_id", "level", "autonomy"],
            )?;
            let domain = DomainDef {
                domain_id: fields.id("domain_id")?,
                parent_id: fields.opt_id("parent_id")?,
                level: fields.symbol(
                    "level",
                    &[DomainLevel::Global, DomainLevel::Region, DomainLevel::Zone],
                )?,
                autonomy: fields.opt_str("autonomy")?,
                version: None,
                sync: None,
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

fn authority_claim(fields: &Fields<'_>) -> Result<AuthorityClaim, Rejection> {
    Ok(AuthorityClaim {
        controller_id: fields.id("controller_id")?,
        level: fields.symbol("level", AUTHORITY_LEVELS)?,
        epoch: fields.count("epoch")?,
    })
}

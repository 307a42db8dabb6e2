//! Builders of the node-event payloads that have more than a couple of fields.

use sxfleet_schemas::{
    EdgeDecl, EdgeRelation, EdgeState, Firmware, Hardware, Health, Heartbeat, Inventory, Link,
    LinkState, NodeKind, Register, Snapshot,
};

use super::common::check_unknown;
use super::fields::Fields;
use crate::config::NormalizerConfig;
use crate::reject::{ReasonCode, Rejection};

const NODE_KINDS: &[NodeKind] = &[
    NodeKind::Edge,
    NodeKind::Dc,
    NodeKind::Gateway,
    NodeKind::Relay,
    NodeKind::Virtual,
];
const HEALTH: &[Health] = &[
    Health::Ok,
    Health::Degraded,
    Health::Failed,
    Health::Unknown,
];
const EDGE_RELATIONS: &[EdgeRelation] = &[
    EdgeRelation::Signaling,
    EdgeRelation::Media,
    EdgeRelation::Control,
    EdgeRelation::Bypass,
];
const EDGE_STATES: &[EdgeState] = &[EdgeState::Up, EdgeState::Down, EdgeState::Removed];
/// Most relay hops a `via` may list.
pub(super) const MAX_VIA_HOPS: usize = 16;

pub(super) fn register(
    config: &NormalizerConfig,
    fields: &Fields<'_>,
) -> Result<Register, Rejection> {
    check_unknown(
        config,
        fields,
        &[
            "kind",
            "domain_id",
            "region",
            "zone",
            "tags",
            "hardware",
            "firmware",
            "public_key",
        ],
    )?;
    let kind = fields.symbol("kind", NODE_KINDS)?;
    let hardware = match fields.opt_object("hardware", "hardware.")? {
        None => Hardware::default(),
        Some(hw) => Hardware {
            serial: hw.opt_str("serial")?,
            manufacturer: hw.opt_str("manufacturer")?,
            model: hw.opt_str("model")?,
            batch_id: hw.opt_str("batch_id")?,
            origin: hw.opt_str("origin")?,
        },
    };
    let firmware = match fields.opt_object("firmware", "firmware.")? {
        None => Firmware::default(),
        Some(fw) => Firmware {
            version: fw.opt_str("version")?,
            signature: fw.opt_str("signature")?,
        },
    };
    Ok(Register {
        kind,
        domain_id: fields.id("domain_id")?,
        region: fields.id("region")?,
        zone: fields.id("zone")?,
        tags: fields.str_list("tags")?,
        hardware,
        firmware,
        public_key: fields.opt_str("public_key")?,
    })
}

pub(super) fn heartbeat(
    config: &NormalizerConfig,
    fields: &Fields<'_>,
) -> Result<Heartbeat, Rejection> {
    check_unknown(
        config,
        fields,
        &[
            "rtt_ms",
            "loss_pct",
            "bandwidth_kbps",
            "backlog_messages",
            "health",
            "uptime_s",
            "via",
            "battery_pct",
        ],
    )?;
    let health = fields
        .opt_symbol("health", HEALTH)?
        .unwrap_or(Health::Unknown);
    Ok(Heartbeat {
        rtt_ms: fields.opt_f64("rtt_ms", 0.0, 86_400_000.0)?,
        loss_pct: fields.opt_f64("loss_pct", 0.0, 100.0)?,
        bandwidth_kbps: fields.opt_count("bandwidth_kbps")?,
        backlog_messages: fields.opt_count("backlog_messages")?,
        health,
        uptime_s: fields.opt_count("uptime_s")?,
        via: fields.opt_id_list("via", MAX_VIA_HOPS)?,
        battery_pct: fields.opt_f64("battery_pct", 0.0, 100.0)?,
    })
}

pub(super) fn link(config: &NormalizerConfig, fields: &Fields<'_>) -> Result<Link, Rejection> {
    check_unknown(config, fields, &["state", "via"])?;
    Ok(Link {
        state: fields.symbol("state", &[LinkState::Lost, LinkState::Detected])?,
        via: fields.opt_id_list("via", MAX_VIA_HOPS)?,
    })
}

/// A relationship declared by `node_id` to another node.
pub(super) fn edge(
    config: &NormalizerConfig,
    fields: &Fields<'_>,
    node_id: &str,
) -> Result<EdgeDecl, Rejection> {
    check_unknown(config, fields, &["peer_id", "relation", "state"])?;
    let peer_id = fields.id("peer_id")?;
    if peer_id == node_id {
        return Err(Rejection::new(
            ReasonCode::BadId,
            format!("field `peer_id` = {peer_id:?} names the node itself; an edge joins two nodes"),
        ));
    }
    Ok(EdgeDecl {
        peer_id,
        relation: fields.symbol("relation", EDGE_RELATIONS)?,
        state: fields
            .opt_symbol("state", EDGE_STATES)?
            .unwrap_or(EdgeState::Up),
    })
}

pub(super) fn snapshot(
    config: &NormalizerConfig,
    fields: &Fields<'_>,
) -> Result<Snapshot, Rejection> {
    check_unknown(
        config,
        fields,
        &[
            "reported_version",
            "policy_version",
            "config",
            "firmware_version",
            "sbom_hash",
            "inventory",
        ],
    )?;
    let inventory = match fields.opt_object("inventory", "inventory.")? {
        None => None,
        Some(inv) => Some(Inventory {
            cpu: inv.opt_str("cpu")?,
            ram_gb: inv.opt_f64("ram_gb", 0.0, f64::MAX)?,
            storage_gb: inv.opt_f64("storage_gb", 0.0, f64::MAX)?,
            gpus: inv.str_list("gpus")?,
        }),
    };
    Ok(Snapshot {
        reported_version: fields.opt_str("reported_version")?,
        policy_version: fields.opt_str("policy_version")?,
        config: fields.text_map("config")?,
        firmware_version: fields.opt_str("firmware_version")?,
        sbom_hash: fields.opt_str("sbom_hash")?,
        inventory,
    })
}

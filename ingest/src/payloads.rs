//! Builders of the node-event payloads that have more than a couple of fields, and of the
//! replay message with the events it carries.

use sxfleet_schemas::{
    Firmware, Hardware, Health, Heartbeat, Inventory, NodeKind, Register, Replay, ReplayPhase,
    Snapshot,
};

use crate::fields::Fields;
use crate::normalize::{check_unknown, normalize_object, Normalized, NormalizerConfig, RawContext};
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

pub(crate) fn register(
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

pub(crate) fn heartbeat(
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
    })
}

pub(crate) fn snapshot(
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

pub(crate) fn replay(
    config: &NormalizerConfig,
    fields: &Fields<'_>,
    node_id: &str,
    ctx: RawContext,
    replayed: bool,
) -> Result<(Replay, Vec<Normalized>), Rejection> {
    check_unknown(
        config,
        fields,
        &[
            "phase",
            "session_id",
            "chunk_seq",
            "backlog_total",
            "events",
        ],
    )?;
    if replayed {
        return Err(Rejection::new(
            ReasonCode::UnknownType,
            "a replay chunk cannot carry another replay message",
        ));
    }
    let phase = fields.symbol(
        "phase",
        &[ReplayPhase::Begin, ReplayPhase::Chunk, ReplayPhase::End],
    )?;
    let mut carried = Vec::new();
    for (index, inner) in fields.objects("events")?.into_iter().enumerate() {
        let inner_fields = Fields::new(inner);
        let inner_node = inner_fields.str("node_id")?;
        if inner_node != node_id {
            return Err(Rejection::new(
                ReasonCode::BadId,
                format!("events[{index}].node_id = {inner_node:?} differs from the chunk's node_id {node_id:?}"),
            ));
        }
        let events = normalize_object(config, inner, ctx, true).map_err(|inner_rejection| {
            Rejection::new(
                inner_rejection.code,
                format!("events[{index}]: {}", inner_rejection.detail),
            )
        })?;
        carried.extend(events);
    }
    let replay = Replay {
        phase,
        session_id: fields.opt_str("session_id")?,
        chunk_seq: fields.opt_count("chunk_seq")?,
        backlog_total: fields.opt_count("backlog_total")?,
        event_count: carried.len() as i64,
    };
    Ok((replay, carried))
}

//! Raw JSON -> canonical events. Pure: no I/O, no clock (the receive time is passed in).

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};
use sxfleet_schemas::{
    Attestation, AttestationResult, ControlEvent, EventPayload, Firmware, FleetEvent, Hardware,
    Health, Heartbeat, Inventory, Lifecycle, Link, LinkState, NodeKind, Register, Replay,
    ReplayPhase, Snapshot, Source,
};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::control::control_event;
use crate::fields::Fields;
use crate::reject::{ReasonCode, Rejection};

/// What to do with fields the contract does not name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownFields {
    /// Accept the message and ignore the extra fields (forward compatible senders).
    #[default]
    Ignore,
    /// Reject the message to the DLQ with `unknown_field`.
    Reject,
}

/// Normalizer settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NormalizerConfig {
    /// How far an event time may lie ahead of the receive time before the event is rejected
    /// as `future_timestamp`. Old events are always accepted (they are late, not wrong).
    #[serde(with = "humantime_serde")]
    pub max_future_skew: Duration,
    /// Handling of fields the contract does not name.
    pub unknown_fields: UnknownFields,
}

impl Default for NormalizerConfig {
    fn default() -> Self {
        Self {
            max_future_skew: Duration::from_secs(300),
            unknown_fields: UnknownFields::Ignore,
        }
    }
}

/// Where and when a raw message arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawContext {
    /// Which door it came through.
    pub source: Source,
    /// Receive time in epoch ms: the raw Kafka message's timestamp, or the HTTP receive time.
    pub received_ms: i64,
}

/// One accepted canonical record.
#[derive(Clone, Debug, PartialEq)]
pub enum Normalized {
    /// A node event for `fleet.events.v1`.
    Event(FleetEvent),
    /// A control-plane record for `fleet.control.v1`.
    Control(ControlEvent),
}

/// What a rejected message could tell about itself, for the DLQ record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejected {
    /// Why.
    pub rejection: Rejection,
    /// The `node_id` field, if the message had a readable one.
    pub node_id: Option<String>,
}

const NODE_TYPES: &[&str] = &[
    "register",
    "heartbeat",
    "link",
    "snapshot",
    "lifecycle",
    "attestation",
    "replay",
];
const CONTROL_TYPES: &[&str] = &["domain", "policy_bundle", "assign", "authority"];
const COMMON: &[&str] = &["type", "node_id", "ts", "seq", "event_id"];

/// Normalizes one raw message. A `replay` chunk yields its marker followed by the events it
/// carries (with `replayed = true`); a chunk with any bad event is rejected whole, so the node
/// re-sends it.
///
/// # Errors
/// [`Rejected`] with the reason code and detail when the message breaks the raw contract.
pub fn normalize(
    config: &NormalizerConfig,
    raw: &[u8],
    ctx: RawContext,
) -> Result<Vec<Normalized>, Rejected> {
    if raw.is_empty() {
        return Err(rejected(
            Rejection::new(ReasonCode::EmptyPayload, "message has no value"),
            None,
        ));
    }
    let value: Value = serde_json::from_slice(raw).map_err(|error| {
        rejected(
            Rejection::new(ReasonCode::InvalidJson, format!("not valid JSON: {error}")),
            None,
        )
    })?;
    let Value::Object(map) = value else {
        return Err(rejected(
            Rejection::new(ReasonCode::NotAnObject, "message must be a JSON object"),
            None,
        ));
    };
    let node_id = map
        .get("node_id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    normalize_object(config, &map, ctx, false).map_err(|rejection| rejected(rejection, node_id))
}

fn rejected(rejection: Rejection, node_id: Option<String>) -> Rejected {
    Rejected { rejection, node_id }
}

fn normalize_object(
    config: &NormalizerConfig,
    map: &Map<String, Value>,
    ctx: RawContext,
    replayed: bool,
) -> Result<Vec<Normalized>, Rejection> {
    let fields = Fields::new(map);
    let kind = fields.str("type")?;
    if NODE_TYPES.contains(&kind.as_str()) {
        node_event(config, &fields, &kind, ctx, replayed)
    } else if CONTROL_TYPES.contains(&kind.as_str()) && !replayed {
        control_event(config, &fields, &kind, ctx).map(|event| vec![Normalized::Control(event)])
    } else {
        Err(Rejection::new(
            ReasonCode::UnknownType,
            format!(
                "`type` = {kind:?} is not one of {}",
                [NODE_TYPES, if replayed { &[] } else { CONTROL_TYPES }]
                    .concat()
                    .join("|")
            ),
        ))
    }
}

/// Event time of `ts` in epoch ms, checked against the allowed future skew.
pub(crate) fn event_time(
    config: &NormalizerConfig,
    fields: &Fields<'_>,
    ctx: RawContext,
) -> Result<i64, Rejection> {
    let ts = fields.str("ts")?;
    let parsed = OffsetDateTime::parse(&ts, &Rfc3339).map_err(|error| {
        Rejection::new(
            ReasonCode::BadTimestamp,
            format!("field `ts` = {ts:?} is not RFC 3339: {error}"),
        )
    })?;
    let ms = i64::try_from(parsed.unix_timestamp_nanos() / 1_000_000).map_err(|_| {
        Rejection::new(
            ReasonCode::BadTimestamp,
            format!("field `ts` = {ts:?} is out of range"),
        )
    })?;
    let skew_ms = i64::try_from(config.max_future_skew.as_millis()).unwrap_or(i64::MAX);
    if ms > ctx.received_ms.saturating_add(skew_ms) {
        return Err(Rejection::new(
            ReasonCode::FutureTimestamp,
            format!(
                "field `ts` = {ts:?} is {} ms ahead of the receive time (limit {skew_ms} ms)",
                ms - ctx.received_ms
            ),
        ));
    }
    Ok(ms)
}

pub(crate) fn check_unknown(
    config: &NormalizerConfig,
    fields: &Fields<'_>,
    specific: &[&str],
) -> Result<(), Rejection> {
    if config.unknown_fields == UnknownFields::Ignore {
        return Ok(());
    }
    let known = [COMMON, specific].concat();
    match fields.unknown(&known) {
        Some(name) => Err(Rejection::new(
            ReasonCode::UnknownField,
            format!("field `{name}` is not part of the contract"),
        )),
        None => Ok(()),
    }
}

fn node_event(
    config: &NormalizerConfig,
    fields: &Fields<'_>,
    kind: &str,
    ctx: RawContext,
    replayed: bool,
) -> Result<Vec<Normalized>, Rejection> {
    let node_id = fields.id("node_id")?;
    let seq = fields.count("seq")?;
    let event_time_ms = event_time(config, fields, ctx)?;
    let event_id = match fields.opt_id("event_id")? {
        Some(id) => id,
        None => format!("{node_id}:{seq}"),
    };
    let mut carried = Vec::new();
    let payload = match kind {
        "register" => EventPayload::Register(register(config, fields)?),
        "heartbeat" => EventPayload::Heartbeat(heartbeat(config, fields)?),
        "link" => {
            check_unknown(config, fields, &["state"])?;
            let state = fields.symbol("state", &[LinkState::Lost, LinkState::Detected])?;
            EventPayload::Link(Link { state })
        }
        "snapshot" => EventPayload::Snapshot(snapshot(config, fields)?),
        "lifecycle" => {
            check_unknown(config, fields, &["event", "reason"])?;
            EventPayload::Lifecycle(Lifecycle {
                event: fields.str("event")?,
                reason: fields.opt_str("reason")?,
            })
        }
        "attestation" => {
            check_unknown(
                config,
                fields,
                &["result", "firmware_signature", "cert_not_after"],
            )?;
            let result = fields.symbol(
                "result",
                &[AttestationResult::Verified, AttestationResult::Failed],
            )?;
            let cert_not_after_ms = match fields.opt_str("cert_not_after")? {
                None => None,
                Some(text) => Some(rfc3339_ms("cert_not_after", &text)?),
            };
            EventPayload::Attestation(Attestation {
                result,
                firmware_signature: fields.opt_str("firmware_signature")?,
                cert_not_after_ms,
            })
        }
        _ => {
            let (replay, events) = replay(config, fields, &node_id, ctx, replayed)?;
            carried = events;
            EventPayload::Replay(replay)
        }
    };
    let event = FleetEvent {
        event_id,
        node_id,
        seq,
        event_time_ms,
        received_ms: ctx.received_ms,
        source: ctx.source,
        replayed,
        payload,
    };
    let mut out = Vec::with_capacity(1 + carried.len());
    out.push(Normalized::Event(event));
    out.extend(carried);
    Ok(out)
}

fn rfc3339_ms(field: &str, text: &str) -> Result<i64, Rejection> {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .and_then(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok())
        .ok_or_else(|| {
            Rejection::new(
                ReasonCode::BadTimestamp,
                format!("field `{field}` = {text:?} is not an RFC 3339 timestamp"),
            )
        })
}

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

fn register(config: &NormalizerConfig, fields: &Fields<'_>) -> Result<Register, Rejection> {
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

fn heartbeat(config: &NormalizerConfig, fields: &Fields<'_>) -> Result<Heartbeat, Rejection> {
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

fn snapshot(config: &NormalizerConfig, fields: &Fields<'_>) -> Result<Snapshot, Rejection> {
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

fn replay(
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

#[cfg(test)]
#[path = "normalize_tests.rs"]
mod tests;

//! Raw messages (JSON objects) -> canonical events. Pure: no I/O, no clock (the receive time is passed in).
//!
//! This module dispatches on `type` and builds the small node events itself, and the replay
//! message (whose carried events come back through the same dispatch).
//!
//! Layout:
//! - `fields`: typed reads of JSON fields that fail with precise reasons.
//! - `common`: the rules every raw type shares (event time, unknown fields).
//! - `payloads`: builders of the larger node-event payloads.
//! - `control`: the raw contract for control-plane records.
//! - `command`: the raw contract of `command` (control plane) and `command_ack` (node).

mod command;
mod common;
mod control;
mod fields;
mod payloads;

use serde_json::{Map, Value};
use sxfleet_schemas::{
    Attestation, AttestationResult, ControlEvent, EventPayload, FleetEvent, Lifecycle, Replay,
    ReplayPhase,
};

use self::command::command_ack;
pub(crate) use self::common::rfc3339_ms;
use self::common::{check_unknown, event_time};
use self::control::control_event;
use self::fields::Fields;
use self::payloads::{edge, heartbeat, link, register, snapshot};
use crate::config::NormalizerConfig;
use crate::context::RawContext;
use crate::reject::{ReasonCode, Rejected, Rejection};

/// One accepted canonical record.
#[derive(Clone, Debug, PartialEq)]
pub enum Normalized {
    /// A node event for `fleet.events.v1`.
    Event(FleetEvent),
    /// A control-plane record for `fleet.control.v1`.
    Control(ControlEvent),
}

const NODE_TYPES: &[&str] = &[
    "register",
    "heartbeat",
    "link",
    "snapshot",
    "lifecycle",
    "attestation",
    "replay",
    "edge",
    "command_ack",
];
const CONTROL_TYPES: &[&str] = &[
    "domain",
    "policy_bundle",
    "assign",
    "authority",
    "sync",
    "command",
];

/// Normalizes one raw JSON message. A `replay` chunk yields its marker followed by the events
/// it carries (with `replayed = true`); a chunk with any bad event is rejected whole, so the
/// node re-sends it.
///
/// # Errors
/// [`Rejected`] with the reason code and detail when the message breaks the raw contract.
pub fn normalize(
    config: &NormalizerConfig,
    raw: &[u8],
    ctx: RawContext,
) -> Result<Vec<Normalized>, Rejected> {
    normalize_map(config, &parse_object(raw)?, ctx)
}

/// Reads a raw JSON message as an object.
///
/// # Errors
/// [`Rejected`] (`empty_payload`, `invalid_json`, `not_an_object`) when it is not one.
pub fn parse_object(raw: &[u8]) -> Result<Map<String, Value>, Rejected> {
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
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(rejected(
            Rejection::new(ReasonCode::NotAnObject, "message must be a JSON object"),
            None,
        )),
    }
}

/// Normalizes one raw message already read as an object (from JSON, or converted from Avro by
/// [`crate::avro_raw`]); see [`normalize`].
///
/// # Errors
/// [`Rejected`] with the reason code and detail when the message breaks the raw contract.
pub fn normalize_map(
    config: &NormalizerConfig,
    map: &Map<String, Value>,
    ctx: RawContext,
) -> Result<Vec<Normalized>, Rejected> {
    let node_id = map
        .get("node_id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    normalize_object(config, map, ctx, false).map_err(|rejection| rejected(rejection, node_id))
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
        "link" => EventPayload::Link(link(config, fields)?),
        "edge" => EventPayload::Edge(edge(config, fields, &node_id)?),
        "command_ack" => EventPayload::CommandAck(command_ack(config, fields)?),
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

/// A replay message: its marker, and the events it carries normalized with `replayed = true`.
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
mod tests;

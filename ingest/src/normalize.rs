//! Raw messages (JSON objects) -> canonical events. Pure: no I/O, no clock (the receive time is passed in).

use serde_json::{Map, Value};
use sxfleet_schemas::{
    Attestation, AttestationResult, ControlEvent, EventPayload, FleetEvent, Lifecycle, Link,
    LinkState, Source,
};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub use crate::config::{NormalizerConfig, SignatureMode, UnknownFields};
use crate::control::control_event;
use crate::fields::Fields;
use crate::payloads::{heartbeat, register, replay, snapshot};
use crate::reject::{ReasonCode, Rejection};

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
const COMMON: &[&str] = &["type", "node_id", "ts", "seq", "event_id", "sig"];

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

pub(crate) fn normalize_object(
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

#[cfg(test)]
#[path = "normalize_tests.rs"]
mod tests;

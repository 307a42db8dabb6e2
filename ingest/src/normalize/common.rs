//! Rules every raw type shares: the event time of `ts`, other RFC 3339 instants, and the
//! unknown-field check.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::fields::Fields;
use crate::config::{NormalizerConfig, UnknownFields};
use crate::context::RawContext;
use crate::reject::{ReasonCode, Rejection};

/// The fields every raw message may carry, whatever its type.
const COMMON: &[&str] = &["type", "node_id", "ts", "seq", "event_id", "sig"];

/// Event time of `ts` in epoch ms, checked against the allowed future skew.
pub(super) fn event_time(
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

/// An RFC 3339 timestamp field other than `ts` (`cert_not_after`, `last_sync`) in epoch ms.
pub(crate) fn rfc3339_ms(field: &str, text: &str) -> Result<i64, Rejection> {
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

pub(super) fn check_unknown(
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

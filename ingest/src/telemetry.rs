//! Metric names of the ingest side, and the one place each is bumped.

use std::time::Duration;

use sxfleet_schemas::Source;
use tracing::warn;

use crate::reject::ReasonCode;

/// Counter: inputs rejected to the DLQ, labelled by `reason` (the DLQ reason code) and `source`
/// (`KAFKA_RAW`, `HTTP`).
pub const REJECTED: &str = "sxfleet_ingest_rejected_total";
/// Counter: events dropped as duplicates of a (node_id, seq) already forwarded or held, and
/// replay chunks sent again.
pub const DUPLICATES: &str = "sxfleet_ingest_duplicates_total";
/// Counter: events held for a gap in their node's seqs.
pub const HELD: &str = "sxfleet_ingest_held_total";
/// Counter: events forwarded late, into a gap already given up.
pub const LATE: &str = "sxfleet_ingest_late_total";
/// Counter: trust-violation events emitted, labelled by `reason`.
pub const TRUST_VIOLATIONS: &str = "sxfleet_ingest_trust_violations_total";
/// Counter: schema registry lookups (cache misses), labelled by `result`: `fetched`,
/// `unknown` (no such id), `invalid` (not a usable Avro record schema), `unavailable` (given
/// up after retrying past `max_outage`).
pub const REGISTRY_LOOKUPS: &str = "sxfleet_ingest_registry_lookups_total";
/// Counter: failed schema registry requests that were retried after a back-off.
pub const REGISTRY_RETRIES: &str = "sxfleet_ingest_registry_retries_total";
/// `result` of a lookup that returned a usable schema.
pub const LOOKUP_FETCHED: &str = "fetched";
/// `result` of a lookup of an id the registry does not know.
pub const LOOKUP_UNKNOWN: &str = "unknown";
/// `result` of a lookup whose schema is not a usable Avro record schema.
pub const LOOKUP_INVALID: &str = "invalid";
/// `result` of a lookup given up because the registry kept failing.
pub const LOOKUP_UNAVAILABLE: &str = "unavailable";
/// Counter: HTTP ingest requests, labelled by `lane` (`live`, `replay`) and `status`.
pub const HTTP_REQUESTS: &str = "sxfleet_http_requests_total";
/// Counter: HTTP ingest lines, labelled by `lane` and `result` (`accepted`, `rejected`).
pub const HTTP_LINES: &str = "sxfleet_http_lines_total";
/// Counter: HTTPS connections closed before a request, labelled by `reason` (`handshake`:
/// the TLS handshake failed, e.g. a missing or untrusted client certificate; `timeout`).
pub const HTTP_TLS_REFUSED: &str = "sxfleet_http_tls_refused_total";

/// An input went to the DLQ.
pub fn rejected(reason: ReasonCode, source: Source) {
    metrics::counter!(REJECTED, "reason" => reason.as_str(), "source" => source.as_str())
        .increment(1);
    if reason.is_trust_violation() {
        metrics::counter!(TRUST_VIOLATIONS, "reason" => reason.as_str()).increment(1);
    }
}

/// A schema registry lookup ended with `result` (one of the `LOOKUP_*` values).
pub fn registry_lookup(result: &'static str) {
    metrics::counter!(REGISTRY_LOOKUPS, "result" => result).increment(1);
}

/// A registry request failed and will be retried after `backoff`.
pub fn registry_retry(
    schema_id: u32,
    attempt: u32,
    backoff: Duration,
    error: &(dyn std::error::Error + 'static),
) {
    warn!(
        schema_id,
        attempt,
        backoff_ms = u64::try_from(backoff.as_millis()).unwrap_or(u64::MAX),
        error = %sxfleet_runtime::error::error_chain(error),
        "schema registry request failed; retrying"
    );
    metrics::counter!(REGISTRY_RETRIES).increment(1);
}

/// What became of a message's events, for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Forwarded in order (including held events released behind them).
    pub in_order: u64,
    /// Held for a gap.
    pub held: u64,
    /// Forwarded late into a gap.
    pub late: u64,
    /// Dropped as duplicates (events, and re-sent replay chunks).
    pub duplicates: u64,
}

/// What dedupe and ordering did with a message's events.
pub fn admitted(counts: &Counts) {
    if counts.duplicates > 0 {
        metrics::counter!(DUPLICATES).increment(counts.duplicates);
    }
    if counts.held > 0 {
        metrics::counter!(HELD).increment(counts.held);
    }
    if counts.late > 0 {
        metrics::counter!(LATE).increment(counts.late);
    }
}

/// One HTTP request answered.
pub fn http_request(lane: &'static str, status: u16, accepted: u64, rejected: u64) {
    metrics::counter!(HTTP_REQUESTS, "lane" => lane, "status" => status.to_string()).increment(1);
    metrics::counter!(HTTP_LINES, "lane" => lane, "result" => "accepted").increment(accepted);
    metrics::counter!(HTTP_LINES, "lane" => lane, "result" => "rejected").increment(rejected);
}

/// An HTTPS connection was closed before its first request.
pub fn tls_refused(reason: &'static str) {
    metrics::counter!(HTTP_TLS_REFUSED, "reason" => reason).increment(1);
}

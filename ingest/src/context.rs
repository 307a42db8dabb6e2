//! Where and when a raw message arrived.

use sxfleet_schemas::Source;

/// Value of the `sxfleet-source` header on records the HTTP ingest API writes.
pub const HTTP_SOURCE: &[u8] = b"http";

/// Where and when a raw message arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawContext {
    /// Which door it came through.
    pub source: Source,
    /// Receive time in epoch ms: the raw Kafka message's timestamp, or the HTTP receive time.
    pub received_ms: i64,
}

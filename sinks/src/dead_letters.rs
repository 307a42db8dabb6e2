//! The sink's own dead letters: their reason codes and the dead letter that replaces a row the
//! server rejected. Pure, except [`now_ms`].

use sxfleet_schemas::{stage, DeadLetter, Source};

use crate::tables::SourceRow;

/// Reason code of a dead letter for a record the sink could not decode.
pub const UNDECODABLE: &str = "undecodable";

/// Reason code of a dead letter for a row ClickHouse rejected.
pub const REJECTED: &str = "rejected_by_clickhouse";

/// The dead letter replacing a row the server rejected with `message`: the row as JSON (the
/// record itself is found by its coordinates), received at `now_ms`.
pub fn rejected<T: SourceRow + serde::Serialize>(
    row: &T,
    message: &str,
    now_ms: i64,
) -> DeadLetter {
    let at = row.source();
    let (original, detail) = match serde_json::to_vec(row) {
        Ok(json) => (json, message.to_owned()),
        Err(err) => (Vec::new(), format!("{message} (row not renderable: {err})")),
    };
    DeadLetter {
        original,
        source: Source::Unknown,
        source_topic: Some(at.topic.to_owned()),
        source_partition: Some(at.partition),
        source_offset: Some(at.offset),
        node_id: Some(row.node_id().to_owned()).filter(|id| !id.is_empty()),
        reason_code: REJECTED.to_owned(),
        detail,
        stage: stage::SINK.to_owned(),
        received_ms: now_ms,
    }
}

/// Wall-clock time for the receive time of a dead letter (the drivers may read the clock).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

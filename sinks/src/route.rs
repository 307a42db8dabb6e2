//! Turning one Kafka record into what the sink does with it: a row for a table, a dead letter
//! to write, or nothing. Pure: decoding and row building only.

use sxfleet_schemas::{
    catalog::ids, decode, peek_schema_id, stage, Alert, AuthorityDecision, CodecError, DeadLetter,
    DriftReport, ErrorClass, FleetEvent, Node, Source, StateTransition,
};

use sxfleet_runtime::Topics;

use crate::rows::{
    self, AlertRow, AuthorityRow, Coords, DlqRow, DriftRow, EventRow, NodeStateRow, RowError,
    SourceRow, TransitionRow,
};

/// Reason code of a dead letter for a record the sink could not decode.
pub const UNDECODABLE: &str = "undecodable";

/// Reason code of a dead letter for a row ClickHouse rejected.
pub const REJECTED: &str = "rejected_by_clickhouse";

/// Which of the sink's input topics a record came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopicRole {
    /// Canonical events (`FleetEvent`) -> `events`.
    Events,
    /// Digital twins (`Node`) -> `node_state`.
    Twin,
    /// Dead letters (`DeadLetter`) -> `dlq`.
    DeadLetters,
    /// Connectivity and lifecycle ledger entries (`StateTransition`) -> `transitions`.
    Transitions,
    /// Drift reports (`DriftReport`) -> `drift_evaluations`.
    Drift,
    /// Alerts (`Alert`) -> `alerts`.
    Alerts,
    /// Authority decisions (`AuthorityDecision`) -> `authority_audit`.
    Authority,
}

impl TopicRole {
    /// Every input of the sink.
    pub const ALL: [TopicRole; 7] = [
        TopicRole::Events,
        TopicRole::Twin,
        TopicRole::DeadLetters,
        TopicRole::Transitions,
        TopicRole::Drift,
        TopicRole::Alerts,
        TopicRole::Authority,
    ];

    /// The topic of this role among `topics`.
    pub fn topic(self, topics: &Topics) -> &str {
        match self {
            TopicRole::Events => &topics.events,
            TopicRole::Twin => &topics.twin,
            TopicRole::DeadLetters => &topics.dlq,
            TopicRole::Transitions => &topics.transitions,
            TopicRole::Drift => &topics.drift,
            TopicRole::Alerts => &topics.alerts,
            TopicRole::Authority => &topics.authority,
        }
    }

    /// The role of `topic` among `topics`, if it is one of the sink's inputs.
    pub fn of(topic: &str, topics: &Topics) -> Option<TopicRole> {
        TopicRole::ALL
            .into_iter()
            .find(|role| role.topic(topics) == topic)
    }
}

/// One Kafka record as the router sees it.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    /// Where it was read.
    pub coords: Coords<'a>,
    /// Message key (the node id on the events and twin topics).
    pub key: Option<&'a [u8]>,
    /// Message value; `None` for a tombstone.
    pub payload: Option<&'a [u8]>,
    /// Message timestamp (epoch ms), if the broker gave one.
    pub timestamp_ms: Option<i64>,
    /// The tick time when the record is a tick ([`sxfleet_runtime::tick::tick_time`]).
    pub tick_ms: Option<i64>,
}

/// A row for one of the sink's tables.
#[derive(Clone, Debug, PartialEq)]
pub enum TableRow {
    /// For `events`.
    Event(EventRow),
    /// For `node_state`.
    NodeState(Box<NodeStateRow>),
    /// For `dlq`.
    Dlq(DlqRow),
    /// For `transitions`.
    Transition(Box<TransitionRow>),
    /// For `drift_evaluations`.
    Drift(Box<DriftRow>),
    /// For `alerts`.
    Alert(Box<AlertRow>),
    /// For `authority_audit`.
    Authority(Box<AuthorityRow>),
}

/// What to do with a record.
#[derive(Clone, Debug, PartialEq)]
pub enum Routed {
    /// Insert this row.
    Row(TableRow),
    /// The record is bad data: write this dead letter to the DLQ topic, then commit past it.
    DeadLetter(Box<DeadLetter>),
    /// A record on the DLQ topic that cannot be read. It is not dead-lettered again (that
    /// would feed the sink its own output in a loop): count it, log it, commit past it.
    UnreadableDeadLetter {
        /// Why it cannot be read.
        detail: String,
    },
    /// A tombstone on the compacted twin topic: nothing to insert (`node_state` keeps the
    /// twin's history; deleting nodes is not part of the contract yet).
    Tombstone,
    /// A processor's tick record on the events topic (wall-clock punctuation, recognised by
    /// its header as every reader does, see [`sxfleet_runtime::tick`]): not an event, nothing
    /// to insert.
    Tick,
    /// A control-plane record copied onto the events topic for the fleet processor (the
    /// control topic has the original): nothing to insert here.
    ControlCopy,
    /// Decoding failed for a reason that is our bug, not the record's (an embedded schema
    /// does not load): stop.
    Internal(String),
}

/// Decodes `record` from a topic of `role` and builds its row.
pub fn route(role: TopicRole, record: &Record<'_>) -> Routed {
    let Some(payload) = record.payload else {
        return match role {
            TopicRole::Twin => Routed::Tombstone,
            TopicRole::Events if record.tick_ms.is_some() => Routed::Tick,
            TopicRole::Events
            | TopicRole::Transitions
            | TopicRole::Drift
            | TopicRole::Alerts
            | TopicRole::Authority => {
                dead_letter(record, UNDECODABLE, "record has no value".into())
            }
            TopicRole::DeadLetters => Routed::UnreadableDeadLetter {
                detail: "record has no value".to_owned(),
            },
        };
    };
    match role {
        TopicRole::Events if peek_schema_id(payload).ok() == Some(ids::CONTROL_EVENT) => {
            Routed::ControlCopy
        }
        TopicRole::Events => routed(record, decode::<FleetEvent>(payload), |event| {
            rows::event_row(event, record.coords).map(TableRow::Event)
        }),
        TopicRole::Twin => routed(record, decode::<Node>(payload), |node| {
            rows::node_state_row(node, record.coords).map(|row| TableRow::NodeState(Box::new(row)))
        }),
        TopicRole::Transitions => routed(record, decode::<StateTransition>(payload), |entry| {
            rows::transition_row(entry, record.coords)
                .map(|row| TableRow::Transition(Box::new(row)))
        }),
        TopicRole::Drift => routed(record, decode::<DriftReport>(payload), |r| {
            rows::drift_row(r, record.coords).map(|row| TableRow::Drift(Box::new(row)))
        }),
        TopicRole::Alerts => routed(record, decode::<Alert>(payload), |a| {
            rows::alert_row(a, record.coords).map(|row| TableRow::Alert(Box::new(row)))
        }),
        TopicRole::Authority => routed(record, decode::<AuthorityDecision>(payload), |d| {
            rows::authority_row(d, record.coords).map(|row| TableRow::Authority(Box::new(row)))
        }),
        TopicRole::DeadLetters => match decode::<DeadLetter>(payload) {
            Ok(dead) => match rows::dlq_row(&dead, record.coords) {
                Ok(row) => Routed::Row(TableRow::Dlq(row)),
                Err(err) => Routed::UnreadableDeadLetter {
                    detail: err.to_string(),
                },
            },
            Err(err) if err.class() == ErrorClass::Internal => Routed::Internal(chain(&err)),
            Err(err) => Routed::UnreadableDeadLetter {
                detail: chain(&err),
            },
        },
    }
}

/// A decoded record's row, or the dead letter for a record that does not decode or fit.
fn routed<T>(
    record: &Record<'_>,
    decoded: Result<T, CodecError>,
    row: impl FnOnce(&T) -> Result<TableRow, RowError>,
) -> Routed {
    match decoded {
        Ok(value) => match row(&value) {
            Ok(row) => Routed::Row(row),
            Err(err) => row_error(record, &err),
        },
        Err(err) => codec_error(record, &err),
    }
}

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

fn codec_error(record: &Record<'_>, err: &CodecError) -> Routed {
    if err.class() == ErrorClass::Internal {
        return Routed::Internal(chain(err));
    }
    dead_letter(record, UNDECODABLE, chain(err))
}

fn row_error(record: &Record<'_>, err: &RowError) -> Routed {
    dead_letter(record, err.reason_code(), err.to_string())
}

/// The dead letter replacing `record`: its bytes and coordinates, the key as node id (both
/// input topics are keyed by node id), the message timestamp as receive time (0 if absent).
fn dead_letter(record: &Record<'_>, reason_code: &str, detail: String) -> Routed {
    let node_id = record
        .key
        .and_then(|key| std::str::from_utf8(key).ok())
        .map(str::to_owned);
    Routed::DeadLetter(Box::new(DeadLetter {
        original: record.payload.unwrap_or_default().to_vec(),
        source: Source::Unknown,
        source_topic: Some(record.coords.topic.to_owned()),
        source_partition: Some(record.coords.partition),
        source_offset: Some(record.coords.offset),
        node_id,
        reason_code: reason_code.to_owned(),
        detail,
        stage: stage::SINK.to_owned(),
        received_ms: record.timestamp_ms.unwrap_or(0),
    }))
}

fn chain(err: &dyn std::error::Error) -> String {
    sxfleet_runtime::error::error_chain(err)
}

#[cfg(test)]
#[path = "route_tests.rs"]
mod tests;

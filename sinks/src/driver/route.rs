//! Turning one Kafka record into what the sink does with it: a row for a table, a dead letter
//! to write, or nothing. Pure: decoding and row building only. The table that takes a role's
//! records come from the list ([`crate::tables::of_role`]).

use sxfleet_schemas::{
    catalog::ids, peek_schema_id, stage, CodecError, DeadLetter, ErrorClass, Source,
};

use crate::dead_letters::UNDECODABLE;
use crate::tables::{self, Coords, RowError, TableRow, TopicRole};

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
    /// A tombstone on a compacted topic (twins, domains, bundles): nothing to insert (the
    /// tables keep the history; deleting nodes or domains is not part of the contract yet).
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
            TopicRole::Twin | TopicRole::Domains | TopicRole::Bundles => Routed::Tombstone,
            TopicRole::Events if record.tick_ms.is_some() => Routed::Tick,
            TopicRole::Events
            | TopicRole::Transitions
            | TopicRole::Drift
            | TopicRole::Alerts
            | TopicRole::Authority
            | TopicRole::CommandStatus => {
                dead_letter(record, UNDECODABLE, "record has no value".into())
            }
            TopicRole::DeadLetters => Routed::UnreadableDeadLetter {
                detail: "record has no value".to_owned(),
            },
        };
    };
    if role == TopicRole::Events && peek_schema_id(payload).ok() == Some(ids::CONTROL_EVENT) {
        return Routed::ControlCopy;
    }
    let Some(table) = tables::of_role(role) else {
        return Routed::Internal(format!("no table lands records of {role:?}"));
    };
    let decoded = table.decode(payload, record.coords);
    if role == TopicRole::DeadLetters {
        // A dead letter that cannot be read is not dead-lettered again: that would feed the
        // sink its own output in a loop.
        return match decoded {
            Ok(Ok(row)) => Routed::Row(row),
            Ok(Err(err)) => Routed::UnreadableDeadLetter {
                detail: err.to_string(),
            },
            Err(err) if err.class() == ErrorClass::Internal => Routed::Internal(chain(&err)),
            Err(err) => Routed::UnreadableDeadLetter {
                detail: chain(&err),
            },
        };
    }
    match decoded {
        Ok(Ok(row)) => Routed::Row(row),
        Ok(Err(err)) => row_error(record, &err),
        Err(err) => codec_error(record, &err),
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

//! Consumed records as the stage sees them, and the offsets a batch commits.

use std::collections::BTreeMap;

use rdkafka::message::{Headers, OwnedMessage};
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::{Input, RuntimeError};

/// A consumed record as the stage sees it.
pub(super) fn input_of(message: &OwnedMessage) -> Input<'_> {
    Input {
        topic: message.topic(),
        partition: message.partition(),
        offset: message.offset(),
        key: message.key(),
        payload: message.payload(),
        timestamp_ms: message.timestamp().to_millis(),
        source: source_of(message),
    }
}

/// The value of a record's [`crate::stage::SOURCE_HEADER`] header.
fn source_of(message: &OwnedMessage) -> Option<&[u8]> {
    message
        .headers()?
        .iter()
        .find(|header| header.key == crate::stage::SOURCE_HEADER)
        .and_then(|header| header.value)
}

/// The offsets to commit after `batch`: one past the last record of each partition.
pub(super) fn next_offsets(batch: &[OwnedMessage]) -> Result<TopicPartitionList, RuntimeError> {
    let mut last: BTreeMap<(&str, i32), i64> = BTreeMap::new();
    for message in batch {
        let entry = last
            .entry((message.topic(), message.partition()))
            .or_insert(-1);
        *entry = (*entry).max(message.offset());
    }
    let mut offsets = TopicPartitionList::new();
    for ((topic, partition), offset) in last {
        offsets
            .add_partition_offset(topic, partition, Offset::Offset(offset + 1))
            .map_err(RuntimeError::kafka("build offsets"))?;
    }
    Ok(offsets)
}

//! Tick records: wall-clock punctuation that the driver appends to an idle input partition so
//! event-time timers fire while the partition is quiet. Defined once here; every reader of a
//! topic that can hold ticks (the driver for its stage, the sink for the events topic)
//! recognises them with [`tick_time`].

use rdkafka::message::Headers;
use rdkafka::Message;

/// Header of a tick record: the tick's event time, epoch ms as 8 big-endian bytes. A tick
/// record has the key [`TICK_KEY`] and no value; other readers of the topic skip it.
pub const TICK_HEADER: &str = "sxfleet-tick";

/// Key of a tick record.
pub const TICK_KEY: &[u8] = b"__tick__";

/// The tick time of a tick record (its [`TICK_HEADER`] header), `None` for any other record.
pub fn tick_time<M: Message>(message: &M) -> Option<i64> {
    let headers = message.headers()?;
    headers
        .iter()
        .find(|header| header.key == TICK_HEADER)
        .and_then(|header| header.value)
        .and_then(|value| <[u8; 8]>::try_from(value).ok())
        .map(i64::from_be_bytes)
}

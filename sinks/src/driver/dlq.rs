//! Writing the sink's dead letters to the DLQ topic: for records it cannot decode and for rows
//! a backend rejected, retried until acknowledged or shutdown.

use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use sxfleet_runtime::error::error_chain;
use sxfleet_runtime::Shutdown;
use sxfleet_schemas::DeadLetter;
use tracing::warn;

use crate::backend::Rejects;
use crate::error::SinkError;
use crate::retry::{retry, Backoff, Retried};
use crate::stats::SinkStats;
use crate::tables::Coords;

/// The DLQ topic's producer and how to retry it.
pub struct DeadLetterWriter<'a> {
    /// Idempotent producer.
    pub producer: FutureProducer,
    /// The DLQ topic.
    pub topic: String,
    /// Delays between tries.
    pub backoff: Backoff,
    /// Triggered: stop retrying.
    pub shutdown: &'a Shutdown,
}

impl DeadLetterWriter<'_> {
    /// Encodes `dead` (replacing the record read at `at`) and writes it, counting it in
    /// `stats`. False if shutdown came first.
    ///
    /// # Errors
    /// [`SinkError::Internal`] when the dead letter does not encode (a bug).
    pub async fn write(
        &self,
        stats: &mut SinkStats,
        dead: &DeadLetter,
        at: Coords<'_>,
    ) -> Result<bool, SinkError> {
        let encoded =
            sxfleet_schemas::encode(dead).map_err(|err| internal(at, error_chain(&err)))?;
        if !self
            .send(stats, &encoded, dead.node_id.as_deref(), at)
            .await
        {
            return Ok(false);
        }
        stats.dead_lettered += 1;
        Ok(true)
    }

    /// Writes one encoded dead letter, retrying until it is acknowledged. False if shutdown
    /// came first.
    async fn send(
        &self,
        stats: &mut SinkStats,
        encoded: &[u8],
        key: Option<&str>,
        at: Coords<'_>,
    ) -> bool {
        let (producer, dlq) = (&self.producer, self.topic.as_str());
        let outcome = retry(
            "write dead letter",
            self.backoff.clone(),
            self.shutdown,
            || async move {
                let mut record = FutureRecord::<str, [u8]>::to(dlq).payload(encoded);
                if let Some(key) = key {
                    record = record.key(key);
                }
                producer
                    .send(record, Timeout::After(Duration::from_secs(30)))
                    .await
                    .map(|_| ())
                    .map_err(|(err, _)| err)
            },
        )
        .await;
        match outcome {
            Retried::Done { failures } => {
                stats.retries += u64::from(failures);
                warn!(
                    topic = at.topic,
                    partition = at.partition,
                    offset = at.offset,
                    "undecodable record written to the DLQ topic"
                );
                true
            }
            Retried::Abandoned { failures } => {
                stats.retries += u64::from(failures);
                false
            }
        }
    }
}

impl Rejects for DeadLetterWriter<'_> {
    fn reject<'a>(
        &'a mut self,
        stats: &'a mut SinkStats,
        dead: DeadLetter,
        at: Coords<'a>,
    ) -> BoxFuture<'a, Result<bool, SinkError>> {
        async move { self.write(stats, &dead, at).await }.boxed()
    }
}

/// A broken invariant while handling the record at `at`.
pub fn internal(at: Coords<'_>, detail: String) -> SinkError {
    SinkError::Internal {
        topic: at.topic.to_owned(),
        partition: at.partition,
        offset: at.offset,
        detail,
    }
}

//! Requests for a schema retried with a doubling back-off, for up to `max_outage`.
//!
//! A request is the blocking [`FetchSchema::fetch`], run on tokio's blocking pool; the waits
//! between attempts are async. Either way only the task awaiting the lookup waits: the other
//! stages joined with the normalizer in one task (`sxfleet run`) keep going.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::fetch::{FetchError, FetchSchema, RegisteredSchema};
use crate::telemetry;

/// How failed requests are retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// First wait; doubles after each failure.
    pub backoff: Duration,
    /// Longest wait.
    pub max_backoff: Duration,
    /// Retrying stops once the next wait would end later than this after the first failure.
    pub max_outage: Duration,
}

/// How [`fetch_with_retries`] ended without a schema.
pub(super) enum GaveUp {
    /// The registry does not know the id (its message).
    NotFound(String),
    /// Every attempt failed for longer than the retry policy allows.
    Unavailable {
        attempts: u32,
        waited: Duration,
        last: FetchError,
    },
}

/// Fetches `id`, retrying every failure except "not found" with a doubling back-off until
/// the next wait would end past `retry.max_outage` after the first failure.
pub(super) async fn fetch_with_retries(
    fetch: &Arc<dyn FetchSchema>,
    retry: RetryPolicy,
    id: u32,
) -> Result<RegisteredSchema, GaveUp> {
    let mut backoff = retry.backoff;
    let mut attempts = 0u32;
    let mut first_failure: Option<Instant> = None;
    loop {
        attempts += 1;
        let error = match fetch_once(fetch, id).await {
            Ok(schema) => return Ok(schema),
            Err(FetchError::NotFound { message, .. }) => return Err(GaveUp::NotFound(message)),
            Err(error) => error,
        };
        let waited = first_failure.get_or_insert_with(Instant::now).elapsed();
        if waited + backoff > retry.max_outage {
            return Err(GaveUp::Unavailable {
                attempts,
                waited,
                last: error,
            });
        }
        telemetry::registry_retry(id, attempts, backoff, &error);
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(retry.max_backoff);
    }
}

/// One request, on tokio's blocking pool.
async fn fetch_once(fetch: &Arc<dyn FetchSchema>, id: u32) -> Result<RegisteredSchema, FetchError> {
    let fetch = Arc::clone(fetch);
    tokio::task::spawn_blocking(move || fetch.fetch(id))
        .await
        .unwrap_or_else(|error| {
            Err(FetchError::Aborted {
                detail: error.to_string(),
            })
        })
}

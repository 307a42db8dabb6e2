//! Writer schemas of Avro raw messages, looked up by id in a Confluent-compatible schema
//! registry, cached and retried.
//!
//! Errors are classed as STYLE.md asks:
//! - **bad data** ([`LookupError::Rejected`]): the registry does not know the id (404 with
//!   error code 40403: `unknown_schema`), or the schema it returns is not a usable Avro record
//!   schema (`invalid_avro`). The message goes to the DLQ.
//! - **external** (every other failure: unreachable, timeout, 5xx, unexpected answers): the
//!   lookup is retried with a doubling back-off (logged, counted in
//!   `sxfleet_ingest_registry_retries_total`) for up to `max_outage`; never dead-lettered.
//! - past that, [`LookupError::Unavailable`]: the stage turns it into an internal error, so
//!   the runtime aborts the batch and stops the partition without committing it: nothing is
//!   lost or skipped, and a restart resumes from the last committed offset.
//!
//! Layout:
//! - [`config`]: the `[schema_registry]` settings.
//! - [`fetch`]: one request for a schema by id, and how it fails.
//! - [`client`]: the blocking HTTP/1.1 client for `GET /schemas/ids/{id}`.

pub mod client;
pub mod config;
pub mod fetch;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use apache_avro::Schema;
use serde_json::{Map, Value};

pub use self::client::HttpRegistry;
pub use self::config::{BasicAuth, RegistryUrl, RegistryUrlError, SchemaRegistryConfig};
pub use self::fetch::{FetchError, FetchSchema, RegisteredSchema};
use crate::avro_raw;
use crate::reject::{ReasonCode, Rejection};
use crate::telemetry;

/// Why a writer schema is not available.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// Bad data: the id is unknown (`unknown_schema`) or its schema unusable
    /// (`invalid_avro`). The message goes to the DLQ.
    #[error("{}: {}", .0.code.as_str(), .0.detail)]
    Rejected(Rejection),
    /// External, given up: the registry failed for longer than `max_outage`. The partition
    /// must stop without committing.
    #[error("schema registry unavailable for {waited:?} ({attempts} attempts) looking up schema id {id}")]
    Unavailable {
        /// The id looked up.
        id: u32,
        /// Requests made.
        attempts: u32,
        /// Time spent retrying.
        waited: Duration,
        /// The last failure.
        #[source]
        last: FetchError,
    },
}

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

/// Writer schemas by id: cached (an id never changes meaning), fetched on a miss with
/// retries.
pub struct SchemaRegistry {
    fetch: Box<dyn FetchSchema>,
    retry: RetryPolicy,
    cache: Cache,
}

impl SchemaRegistry {
    /// A registry client from `config` over the built-in HTTP client.
    pub fn from_config(config: &SchemaRegistryConfig) -> Self {
        Self::new(config, Box::new(HttpRegistry::new(config)))
    }

    /// A registry with `config`'s retry and cache settings over `fetch`.
    pub fn new(config: &SchemaRegistryConfig, fetch: Box<dyn FetchSchema>) -> Self {
        Self {
            fetch,
            retry: RetryPolicy {
                backoff: config.retry_backoff,
                max_backoff: config.max_retry_backoff.max(config.retry_backoff),
                max_outage: config.max_outage,
            },
            cache: Cache::new(config.max_cached_schemas),
        }
    }

    /// Decodes an Avro raw message (Confluent wire format) into the raw contract's JSON
    /// object, looking up its writer schema.
    ///
    /// # Errors
    /// [`LookupError::Rejected`] for a short header, an unknown id, an unusable schema or a
    /// datum that does not decode (bad data); [`LookupError::Unavailable`] as for
    /// [`Self::writer_schema`].
    pub fn decode(&mut self, raw: &[u8]) -> Result<Map<String, Value>, LookupError> {
        let (id, datum) = avro_raw::split(raw).map_err(LookupError::Rejected)?;
        let schema = self.writer_schema(id)?;
        avro_raw::decode(id, &schema, datum).map_err(LookupError::Rejected)
    }

    /// The checked writer schema of `id`, from the cache or the registry. A cache miss blocks
    /// this thread (on a multi-thread tokio runtime through `block_in_place`, so the
    /// runtime's other tasks move to another worker) for at most about
    /// `max_outage + request_timeout`.
    ///
    /// # Errors
    /// [`LookupError::Rejected`] for an unknown id or an unusable schema (bad data);
    /// [`LookupError::Unavailable`] when the registry kept failing past `max_outage`.
    pub fn writer_schema(&mut self, id: u32) -> Result<Arc<Schema>, LookupError> {
        if let Some(known) = self.cache.get(id) {
            return known.map_err(LookupError::Rejected);
        }
        let fetched = blocking(|| fetch_with_retries(self.fetch.as_ref(), self.retry, id));
        let checked = match fetched {
            Ok(registered) => check(id, &registered),
            Err(GaveUp::NotFound(message)) => {
                // Not cached: an id unknown now may be one registered a moment ago on a
                // registry replica that has not caught up.
                telemetry::registry_lookup(telemetry::LOOKUP_UNKNOWN);
                return Err(LookupError::Rejected(Rejection::new(
                    ReasonCode::UnknownSchema,
                    format!("schema id {id} is not registered: {message}"),
                )));
            }
            Err(GaveUp::Unavailable {
                attempts,
                waited,
                last,
            }) => {
                telemetry::registry_lookup(telemetry::LOOKUP_UNAVAILABLE);
                return Err(LookupError::Unavailable {
                    id,
                    attempts,
                    waited,
                    last,
                });
            }
        };
        telemetry::registry_lookup(match &checked {
            Ok(_) => telemetry::LOOKUP_FETCHED,
            Err(_) => telemetry::LOOKUP_INVALID,
        });
        self.cache.insert(id, checked.clone());
        checked.map_err(LookupError::Rejected)
    }
}

/// How [`fetch_with_retries`] ended without a schema.
enum GaveUp {
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
fn fetch_with_retries(
    fetch: &dyn FetchSchema,
    retry: RetryPolicy,
    id: u32,
) -> Result<RegisteredSchema, GaveUp> {
    let mut backoff = retry.backoff;
    let mut attempts = 0u32;
    let mut first_failure: Option<Instant> = None;
    loop {
        attempts += 1;
        let error = match fetch.fetch(id) {
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
        std::thread::sleep(backoff);
        backoff = (backoff * 2).min(retry.max_backoff);
    }
}

/// Checks a registered schema: Avro, self-contained, a non-recursive record.
fn check(id: u32, registered: &RegisteredSchema) -> Result<Arc<Schema>, Rejection> {
    if let Some(kind) = registered
        .schema_type
        .as_deref()
        .filter(|kind| !kind.eq_ignore_ascii_case("AVRO"))
    {
        return Err(Rejection::new(
            ReasonCode::InvalidAvro,
            format!("schema id {id} is a {kind} schema, not Avro"),
        ));
    }
    if registered.references > 0 {
        return Err(Rejection::new(
            ReasonCode::InvalidAvro,
            format!(
                "schema id {id} uses {} schema references; register self-contained schemas",
                registered.references
            ),
        ));
    }
    avro_raw::writer_schema(id, &registered.schema).map(Arc::new)
}

/// Runs blocking `work` on this thread. On a multi-thread tokio runtime it goes through
/// `block_in_place`, so the worker's other tasks are moved elsewhere meanwhile; on any other
/// thread (a current-thread runtime, plain tests) it simply runs.
fn blocking<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

/// Bounded cache by id; the oldest entry makes room.
struct Cache {
    entries: HashMap<u32, Result<Arc<Schema>, Rejection>>,
    order: VecDeque<u32>,
    capacity: usize,
}

impl Cache {
    fn new(capacity: usize) -> Self {
        Self {
            entries: HashMap::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    fn get(&self, id: u32) -> Option<Result<Arc<Schema>, Rejection>> {
        self.entries.get(&id).cloned()
    }

    fn insert(&mut self, id: u32, entry: Result<Arc<Schema>, Rejection>) {
        if self.entries.insert(id, entry).is_none() {
            self.order.push_back(id);
        }
        while self.order.len() > self.capacity {
            if let Some(oldest) = self.order.pop_front() {
                self.entries.remove(&oldest);
            }
        }
    }
}

#[cfg(test)]
mod tests;

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
//! - past that, [`LookupError::Unavailable`]: decoding a message with that id is an internal
//!   error, so the runtime aborts the batch and stops the partition without committing it:
//!   nothing is lost or skipped, and a restart resumes from the last committed offset.
//!
//! Lookups never block a runtime worker: the stage resolves a batch's schema ids before it is
//! processed ([`SchemaRegistry::resolve`], called from `Stage::prepare`), with async waits and
//! the blocking client on tokio's blocking pool; processing then only reads what was found.
//!
//! Layout:
//! - [`config`]: the `[schema_registry]` settings.
//! - [`fetch`]: one request for a schema by id, and how it fails.
//! - [`client`]: the blocking HTTP/1.1 client for `GET /schemas/ids/{id}`.
//! - `retry`: requests retried with a back-off, up to `max_outage`.
//! - `cache`: schemas by id, bounded.

mod cache;
pub mod client;
pub mod config;
pub mod fetch;
mod retry;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use apache_avro::Schema;
use serde_json::{Map, Value};
use sxfleet_runtime::stage::InternalError;

use self::cache::Cache;
pub use self::client::HttpRegistry;
pub use self::config::{BasicAuth, RegistryUrl, RegistryUrlError, SchemaRegistryConfig};
pub use self::fetch::{FetchError, FetchSchema, RegisteredSchema};
pub use self::retry::RetryPolicy;
use self::retry::{fetch_with_retries, GaveUp};
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

/// Writer schemas by id: cached (an id never changes meaning), fetched on a miss with
/// retries.
///
/// Lookups are async and happen before a batch is processed ([`Self::resolve`]); decoding
/// ([`Self::decode`]) is synchronous and reads only what `resolve` found.
pub struct SchemaRegistry {
    fetch: Arc<dyn FetchSchema>,
    retry: RetryPolicy,
    cache: Cache,
    /// What the last [`Self::resolve`] found for each id of its batch.
    batch: HashMap<u32, Resolved>,
}

/// What [`SchemaRegistry::resolve`] found for one id of a batch.
enum Resolved {
    /// Its checked writer schema.
    Schema(Arc<Schema>),
    /// Bad data: unknown id or unusable schema.
    Rejected(Rejection),
    /// The registry stayed unavailable past `max_outage` (the error chain).
    Unavailable(String),
}

impl SchemaRegistry {
    /// A registry client from `config` over the built-in HTTP client.
    pub fn from_config(config: &SchemaRegistryConfig) -> Self {
        Self::new(config, Box::new(HttpRegistry::new(config)))
    }

    /// A registry with `config`'s retry and cache settings over `fetch`.
    pub fn new(config: &SchemaRegistryConfig, fetch: Box<dyn FetchSchema>) -> Self {
        Self {
            fetch: Arc::from(fetch),
            retry: RetryPolicy {
                backoff: config.retry_backoff,
                max_backoff: config.max_retry_backoff.max(config.retry_backoff),
                max_outage: config.max_outage,
            },
            cache: Cache::new(config.max_cached_schemas),
            batch: HashMap::new(),
        }
    }

    /// Looks up the writer schemas of the Avro raw messages (Confluent wire format) among
    /// `raws`, a batch about to be decoded, in order of first appearance; anything else among
    /// them is ignored. Stops at the first id the registry stays unavailable for: the batch
    /// cannot get past that id's first message, so later ids need not wait too. What it finds
    /// replaces what the previous call found.
    pub async fn resolve<'r>(&mut self, raws: impl IntoIterator<Item = &'r [u8]> + Send) {
        let ids: Vec<u32> = raws
            .into_iter()
            .filter_map(|raw| avro_raw::split(raw).ok())
            .map(|(id, _)| id)
            .collect();
        self.batch.clear();
        for id in ids {
            if self.batch.contains_key(&id) {
                continue;
            }
            let resolved = match self.writer_schema(id).await {
                Ok(schema) => Resolved::Schema(schema),
                Err(LookupError::Rejected(rejection)) => Resolved::Rejected(rejection),
                Err(error @ LookupError::Unavailable { .. }) => {
                    let detail = sxfleet_runtime::error::error_chain(&error);
                    self.batch.insert(id, Resolved::Unavailable(detail));
                    return;
                }
            };
            self.batch.insert(id, resolved);
        }
    }

    /// Decodes an Avro raw message (Confluent wire format) into the raw contract's JSON
    /// object, with the writer schema [`Self::resolve`] found for it. No I/O.
    ///
    /// # Errors
    /// The inner [`Rejection`] for a short header, an unknown id, an unusable schema or a
    /// datum that does not decode (bad data); [`InternalError`] when the registry stayed
    /// unavailable for the message's id (the partition must stop without committing it), or
    /// when its id was not resolved (a bug: `resolve` was not given the message).
    pub fn decode(
        &self,
        raw: &[u8],
    ) -> Result<Result<Map<String, Value>, Rejection>, InternalError> {
        let (id, datum) = match avro_raw::split(raw) {
            Ok(split) => split,
            Err(rejection) => return Ok(Err(rejection)),
        };
        match self.batch.get(&id) {
            Some(Resolved::Schema(schema)) => Ok(avro_raw::decode(id, schema, datum)),
            Some(Resolved::Rejected(rejection)) => Ok(Err(rejection.clone())),
            Some(Resolved::Unavailable(detail)) => Err(InternalError(detail.clone())),
            None => Err(InternalError(format!(
                "writer schema {id} was not resolved before its message was decoded"
            ))),
        }
    }

    /// The checked writer schema of `id`, from the cache or the registry. A cache miss waits
    /// (asynchronously) for at most about `max_outage + request_timeout`.
    ///
    /// # Errors
    /// [`LookupError::Rejected`] for an unknown id or an unusable schema (bad data);
    /// [`LookupError::Unavailable`] when the registry kept failing past `max_outage`.
    pub async fn writer_schema(&mut self, id: u32) -> Result<Arc<Schema>, LookupError> {
        if let Some(known) = self.cache.get(id) {
            return known.map_err(LookupError::Rejected);
        }
        let fetched = fetch_with_retries(&self.fetch, self.retry, id).await;
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

#[cfg(test)]
mod tests;

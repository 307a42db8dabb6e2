//! One request for a writer schema by id: what it returns and how it fails.

/// A schema as the registry returns it for an id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisteredSchema {
    /// The schema text.
    pub schema: String,
    /// `schemaType` (absent for Avro; `PROTOBUF` or `JSON` otherwise).
    pub schema_type: Option<String>,
    /// How many schema references it declares (not supported: schemas must be self-contained).
    pub references: usize,
}

/// One failed request to the registry.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The registry answered that no schema has this id (404, error code 40403). Bad data.
    #[error("schema id {id} is not registered ({message})")]
    NotFound {
        /// The id asked for.
        id: u32,
        /// The registry's message.
        message: String,
    },
    /// The registry could not be reached or the exchange broke off (includes timeouts).
    /// External.
    #[error("cannot reach the schema registry at {url}")]
    Io {
        /// The registry's base URL.
        url: String,
        /// The socket error.
        #[source]
        source: std::io::Error,
    },
    /// The registry answered with an error status other than "id not found" (5xx, 401, ...).
    /// External.
    #[error("the schema registry answered {status}: {message}")]
    Status {
        /// HTTP status.
        status: u16,
        /// The registry's message, or the start of the body.
        message: String,
    },
    /// The answer is not an HTTP response of the documented shape. External (a wrong URL or
    /// a broken registry; retried like an outage, never dead-lettered).
    #[error("unexpected answer from the schema registry: {detail}")]
    Malformed {
        /// What was wrong with it.
        detail: String,
    },
    /// The request did not run to its end on tokio's blocking pool (the runtime is shutting
    /// down, or the client panicked). External: retried like an outage, never dead-lettered.
    #[error("the schema registry request was aborted: {detail}")]
    Aborted {
        /// Why, as tokio tells it.
        detail: String,
    },
}

/// Fetches a schema by id (the HTTP client, or a fake in tests). Blocking: it runs on tokio's
/// blocking pool.
pub trait FetchSchema: Send + Sync {
    /// The schema registered under `id`.
    ///
    /// # Errors
    /// [`FetchError::NotFound`] when no schema has this id; any other variant when the
    /// registry could not answer.
    fn fetch(&self, id: u32) -> Result<RegisteredSchema, FetchError>;
}

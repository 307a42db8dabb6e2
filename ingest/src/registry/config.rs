//! Settings of the schema registry client (`[schema_registry]` in the normalizer's TOML).

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

/// Where and how the normalizer looks up the writer schemas of Avro raw messages.
///
/// Without this section the normalizer reads JSON only, exactly as before: a message starting
/// with byte 0 is not JSON and goes to the DLQ as `invalid_json`. `Debug` redacts the password.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaRegistryConfig {
    /// Base URL of a Confluent-compatible schema registry, `http://host:port[/path]`. Plain
    /// HTTP only (see [`RegistryUrl`]).
    pub url: RegistryUrl,
    /// Basic-auth credentials sent with every request, if the registry wants them.
    #[serde(default)]
    pub basic_auth: Option<BasicAuth>,
    /// Longest one request may take (connect, send, answer) before it counts as failed.
    #[serde(default = "defaults::request_timeout", with = "humantime_serde")]
    pub request_timeout: Duration,
    /// How long a lookup keeps retrying an unreachable or failing registry before the
    /// partition is stopped (an internal error: nothing is dead-lettered, skipped or
    /// committed). Keep it well below the consumer's `max.poll.interval.ms` (5 min).
    #[serde(default = "defaults::max_outage", with = "humantime_serde")]
    pub max_outage: Duration,
    /// First wait between two attempts; it doubles after each failure.
    #[serde(default = "defaults::retry_backoff", with = "humantime_serde")]
    pub retry_backoff: Duration,
    /// Longest wait between two attempts.
    #[serde(default = "defaults::max_retry_backoff", with = "humantime_serde")]
    pub max_retry_backoff: Duration,
    /// Most schemas kept in memory (by id; a schema id never changes meaning, so entries are
    /// evicted only for room, oldest first).
    #[serde(default = "defaults::max_cached_schemas")]
    pub max_cached_schemas: usize,
    /// Largest registry answer accepted, in bytes.
    #[serde(default = "defaults::max_response_bytes")]
    pub max_response_bytes: usize,
}

mod defaults {
    use std::time::Duration;

    pub(super) fn request_timeout() -> Duration {
        Duration::from_secs(5)
    }
    pub(super) fn max_outage() -> Duration {
        Duration::from_secs(60)
    }
    pub(super) fn retry_backoff() -> Duration {
        Duration::from_millis(200)
    }
    pub(super) fn max_retry_backoff() -> Duration {
        Duration::from_secs(5)
    }
    pub(super) fn max_cached_schemas() -> usize {
        1_000
    }
    pub(super) fn max_response_bytes() -> usize {
        4 << 20
    }
}

impl SchemaRegistryConfig {
    /// The registry at `url` with default timeouts, retries and cache size.
    pub fn new(url: RegistryUrl) -> Self {
        Self {
            url,
            basic_auth: None,
            request_timeout: defaults::request_timeout(),
            max_outage: defaults::max_outage(),
            retry_backoff: defaults::retry_backoff(),
            max_retry_backoff: defaults::max_retry_backoff(),
            max_cached_schemas: defaults::max_cached_schemas(),
            max_response_bytes: defaults::max_response_bytes(),
        }
    }
}

/// Basic-auth credentials. The password is redacted in `Debug`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
}

impl fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicAuth")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// The registry's base URL: `http://host[:port][/path]`, without credentials, query or
/// fragment.
///
/// Only plain HTTP: the client is a small blocking HTTP/1.1 client over a TCP socket (see
/// `registry::client`), and the workspace carries no TLS stack. Reach a TLS-only registry
/// through a local TLS-terminating proxy.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct RegistryUrl(url::Url);

/// A registry URL that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("schema registry url {url:?}: {problem}")]
pub struct RegistryUrlError {
    /// The URL as given.
    pub url: String,
    /// What is wrong with it.
    pub problem: String,
}

impl RegistryUrl {
    /// Parses and checks a registry URL.
    ///
    /// # Errors
    /// [`RegistryUrlError`] when it is not an absolute `http://` URL with a host, or carries
    /// credentials (they belong in `basic_auth`), a query or a fragment.
    pub fn parse(text: &str) -> Result<Self, RegistryUrlError> {
        let error = |problem: &str| RegistryUrlError {
            url: text.to_owned(),
            problem: problem.to_owned(),
        };
        let url = url::Url::parse(text).map_err(|e| error(&e.to_string()))?;
        if url.scheme() == "https" {
            return Err(error(
                "https is not supported by the built-in client; use http (e.g. through a local TLS proxy)",
            ));
        }
        if url.scheme() != "http" {
            return Err(error("the scheme must be http"));
        }
        if url.host().is_none() {
            return Err(error("the url has no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(error(
                "credentials do not go in the url; set `basic_auth` instead",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(error("the url must not have a query or fragment"));
        }
        Ok(Self(url))
    }

    /// The URL as text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The parsed URL.
    pub(crate) fn url(&self) -> &url::Url {
        &self.0
    }
}

impl TryFrom<String> for RegistryUrl {
    type Error = RegistryUrlError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl fmt::Debug for RegistryUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for RegistryUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_plain_http_with_a_host_and_nothing_secret() {
        assert!(RegistryUrl::parse("http://127.0.0.1:8081").is_ok());
        assert!(RegistryUrl::parse("http://registry.internal/sr/").is_ok());
        assert!(RegistryUrl::parse("http://[::1]:8081").is_ok());
        for (bad, problem) in [
            ("https://registry:8081", "https is not supported"),
            ("ftp://registry", "scheme must be http"),
            ("http://user:pw@registry:8081", "credentials"),
            ("http://registry:8081/?x=1", "query"),
            ("registry:8081", "scheme must be http"),
            ("not a url", "relative URL"),
        ] {
            let error = RegistryUrl::parse(bad).unwrap_err();
            assert!(error.problem.contains(problem), "{bad}: {error}");
        }
    }

    #[test]
    fn toml_fields_take_defaults_reject_unknowns_and_redact_the_password() {
        let config: SchemaRegistryConfig = toml::from_str(
            "url = \"http://127.0.0.1:8081\"\nmax_outage = \"30s\"\n\
             [basic_auth]\nusername = \"sx\"\npassword = \"hunter2\"\n",
        )
        .unwrap();
        assert_eq!(config.max_outage, Duration::from_secs(30));
        assert_eq!(config.request_timeout, Duration::from_secs(5));
        assert_eq!(config.max_cached_schemas, 1_000);
        let debug = format!("{config:?}");
        assert!(
            debug.contains("sx") && !debug.contains("hunter2"),
            "{debug}"
        );

        let unknown = toml::from_str::<SchemaRegistryConfig>(
            "url = \"http://127.0.0.1:8081\"\ntimeout = \"1s\"\n",
        );
        assert!(unknown.unwrap_err().to_string().contains("unknown field"));
        let https = toml::from_str::<SchemaRegistryConfig>("url = \"https://r:8081\"\n");
        assert!(https.unwrap_err().to_string().contains("https"));
    }
}

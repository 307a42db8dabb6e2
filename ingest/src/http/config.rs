//! Settings of the HTTP ingest API, loaded from a TOML file.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::config::{load_toml, ConfigFileError};
use crate::normalize::NormalizerConfig;

/// HTTP ingest settings (`sxfleet ingest-http --config FILE`).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Largest request body accepted, in bytes; a larger one is answered 413.
    pub max_body_bytes: usize,
    /// Request bodies the live lane (`/v1/events`) holds at once, in bytes; a request that
    /// does not fit is answered 503 with `Retry-After`.
    pub live_memory_bytes: usize,
    /// Request bodies the replay lane (`/v1/replay`) holds at once, in bytes; a request that
    /// does not fit is answered 429 with `Retry-After`.
    pub replay_memory_bytes: usize,
    /// Replay requests served at once; one more is answered 429 with `Retry-After`.
    pub replay_concurrency: usize,
    /// Transactional producers per lane (one request's transaction at a time each).
    pub producers_per_lane: usize,
    /// Longest a request may take to be written durably (producer start-up included) before
    /// it is aborted and answered 503.
    #[serde(with = "humantime_serde")]
    pub write_timeout: Duration,
    /// The `Retry-After` given with 429 and 503.
    #[serde(with = "humantime_serde")]
    pub retry_after: Duration,
    /// Per-line validation (the same normalizer the Kafka stage runs).
    pub normalizer: NormalizerConfig,
    /// Bearer tokens and whom they speak for.
    pub tokens: Vec<TokenConfig>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8088)),
            max_body_bytes: 1 << 20,
            live_memory_bytes: 32 << 20,
            replay_memory_bytes: 8 << 20,
            replay_concurrency: 2,
            producers_per_lane: 2,
            write_timeout: Duration::from_secs(15),
            retry_after: Duration::from_secs(1),
            normalizer: NormalizerConfig::default(),
            tokens: Vec::new(),
        }
    }
}

impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConfig")
            .field("listen", &self.listen)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("live_memory_bytes", &self.live_memory_bytes)
            .field("replay_memory_bytes", &self.replay_memory_bytes)
            .field("replay_concurrency", &self.replay_concurrency)
            .field("producers_per_lane", &self.producers_per_lane)
            .field("write_timeout", &self.write_timeout)
            .field("retry_after", &self.retry_after)
            .field("normalizer", &self.normalizer)
            .field("tokens", &self.tokens)
            .finish()
    }
}

/// One bearer token.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// The secret (redacted in `Debug`).
    pub token: String,
    /// Who holds it: a node id, or a relay id.
    pub principal: String,
    /// The node ids it may send for: the node itself, or the nodes behind a relay.
    pub nodes: Vec<String>,
}

impl std::fmt::Debug for TokenConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenConfig")
            .field("token", &"<redacted>")
            .field("principal", &self.principal)
            .field("nodes", &self.nodes)
            .finish()
    }
}

/// Errors loading the HTTP settings.
#[derive(Debug, thiserror::Error)]
pub enum HttpConfigError {
    /// The file cannot be read or parsed.
    #[error(transparent)]
    File(#[from] ConfigFileError),
    /// Two entries share a token.
    #[error("token of {principal} is given twice")]
    DuplicateToken {
        /// The second holder.
        principal: String,
    },
}

impl HttpConfig {
    /// Reads the settings from a TOML file (missing fields take their defaults).
    ///
    /// # Errors
    /// [`HttpConfigError`] when the file cannot be read or parsed, or repeats a token.
    pub fn load(path: &Path) -> Result<Self, HttpConfigError> {
        let config: Self = load_toml(path)?;
        config.token_map()?;
        Ok(config)
    }

    /// The tokens by secret.
    ///
    /// # Errors
    /// [`HttpConfigError::DuplicateToken`] when two entries share a secret.
    pub fn token_map(&self) -> Result<HashMap<String, TokenConfig>, HttpConfigError> {
        let mut map = HashMap::with_capacity(self.tokens.len());
        for entry in &self.tokens {
            if map.insert(entry.token.clone(), entry.clone()).is_some() {
                return Err(HttpConfigError::DuplicateToken {
                    principal: entry.principal.clone(),
                });
            }
        }
        Ok(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_load_from_toml_with_defaults_and_redact_tokens() {
        let dir = std::env::temp_dir().join(format!("sxfleet-http-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("http.toml");
        std::fs::write(
            &file,
            "max_body_bytes = 1000\nwrite_timeout = \"2s\"\n[normalizer]\nsignatures = \"verify\"\n\
             [[tokens]]\ntoken = \"s3cret\"\nprincipal = \"relay-1\"\nnodes = [\"a\", \"b\"]\n",
        )
        .unwrap();
        let config = HttpConfig::load(&file).unwrap();
        assert_eq!(config.max_body_bytes, 1000);
        assert_eq!(config.write_timeout, Duration::from_secs(2));
        assert_eq!(config.replay_concurrency, 2);
        assert_eq!(config.tokens[0].nodes, vec!["a", "b"]);
        assert!(!format!("{config:?}").contains("s3cret"));

        std::fs::write(&file, "[[tokens]]\ntoken = \"t\"\nprincipal = \"a\"\nnodes = []\n[[tokens]]\ntoken = \"t\"\nprincipal = \"b\"\nnodes = []\n").unwrap();
        assert!(matches!(
            HttpConfig::load(&file),
            Err(HttpConfigError::DuplicateToken { .. })
        ));
        std::fs::write(&file, "listen_on = 3\n").unwrap();
        assert!(matches!(
            HttpConfig::load(&file),
            Err(HttpConfigError::File(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

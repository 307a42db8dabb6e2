//! Normalizer settings.

use std::path::Path;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::order::OrderLimits;
use crate::registry::config::SchemaRegistryConfig;

/// What to do with fields the contract does not name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownFields {
    /// Accept the message and ignore the extra fields (forward compatible senders).
    #[default]
    Ignore,
    /// Reject the message to the DLQ with `unknown_field`.
    Reject,
}

/// Normalizer settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NormalizerConfig {
    /// How far an event time may lie ahead of the receive time before the event is rejected
    /// as `future_timestamp`. Old events are always accepted (they are late, not wrong).
    #[serde(with = "humantime_serde")]
    pub max_future_skew: Duration,
    /// Handling of fields the contract does not name.
    pub unknown_fields: UnknownFields,
    /// Signature verification (see `docs/ingest.md`).
    pub signatures: SignatureMode,
    /// The seq a node numbers its first message with. A node first seen with a higher seq has
    /// its first events held for `reorder_window` (a gap below them); one first seen with a
    /// lower seq starts the numbering there.
    pub first_seq: i64,
    /// How long, in ingest time (the raw record's Kafka timestamp; idle partitions advance by
    /// wall-clock ticks), an out-of-order event waits for the seqs below it before they are
    /// given up as a gap. A seq of a gap arriving later is forwarded as late, never dropped.
    #[serde(with = "humantime_serde")]
    pub reorder_window: Duration,
    /// Most events held per node; one more releases the lowest past its gap.
    pub max_held_per_node: usize,
    /// Most gap ranges remembered per node (the oldest is forgotten first; its seqs would then
    /// count as duplicates).
    pub max_gaps_per_node: usize,
    /// The schema registry for Avro raw messages (Confluent wire format). Absent (the
    /// default): raw messages are JSON only. Used by the Kafka stage; the HTTP API reads
    /// NDJSON and ignores it.
    pub schema_registry: Option<SchemaRegistryConfig>,
}

/// Whether signatures are checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureMode {
    /// Keys are registered (first registration wins; another key later is rejected as
    /// `key_conflict` with a trust violation) but signatures are not checked.
    #[default]
    Off,
    /// Every message of a node with a registered key must carry a valid `sig`; a registration
    /// carrying a key must be signed by it. Failures go to the DLQ (`unsigned`,
    /// `bad_signature`, `key_conflict`) and emit a trust-violation event.
    Verify,
}

impl NormalizerConfig {
    /// The ordering limits in milliseconds and counts.
    pub fn order_limits(&self) -> OrderLimits {
        OrderLimits {
            window_ms: i64::try_from(self.reorder_window.as_millis()).unwrap_or(i64::MAX),
            max_held: self.max_held_per_node,
            max_gaps: self.max_gaps_per_node,
        }
    }
}

impl Default for NormalizerConfig {
    fn default() -> Self {
        Self {
            max_future_skew: Duration::from_secs(300),
            unknown_fields: UnknownFields::Ignore,
            signatures: SignatureMode::Off,
            first_seq: 1,
            reorder_window: Duration::from_secs(10),
            max_held_per_node: 1_000,
            max_gaps_per_node: 256,
            schema_registry: None,
        }
    }
}

impl NormalizerConfig {
    /// Reads the settings from a TOML file (missing fields take their defaults).
    ///
    /// # Errors
    /// [`ConfigFileError`] when the file cannot be read or parsed.
    pub fn load(path: &Path) -> Result<Self, ConfigFileError> {
        load_toml(path)
    }
}

/// A settings file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid settings.
    #[error("invalid settings in {path}: {source}")]
    Parse {
        /// The file.
        path: String,
        /// Why.
        source: toml::de::Error,
    },
}

/// Reads a TOML settings file.
///
/// # Errors
/// [`ConfigFileError`] when the file cannot be read or parsed.
pub(crate) fn load_toml<T: DeserializeOwned>(path: &Path) -> Result<T, ConfigFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigFileError::Read {
        path: path.display().to_string(),
        source,
    })?;
    toml::from_str(&text).map_err(|source| ConfigFileError::Parse {
        path: path.display().to_string(),
        source,
    })
}

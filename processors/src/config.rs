//! Settings of the fleet processor's projections, loaded from a JSON file
//! (`sxfleet process --projections <file>`); every field has a default.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::attention::AttentionConfig;
use crate::command::CommandConfig;
use crate::connectivity::ConnectivityConfig;
use crate::drift::DriftConfig;

/// Thresholds and weights of every projection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProjectionConfig {
    /// Connectivity thresholds for nodes of a domain without its own entry in `domains`.
    pub connectivity: ConnectivityConfig,
    /// Connectivity thresholds per domain id (the node's own domain; no inheritance, so a
    /// node's timers never depend on control records). Fields left out take the defaults.
    pub domains: BTreeMap<String, ConnectivityConfig>,
    /// Drift evaluation.
    pub drift: DriftConfig,
    /// Attention score and alert hysteresis.
    pub attention: AttentionConfig,
    /// A replay whose node drifts with at least this score ends in QUARANTINED (drift violation);
    /// below it, or not drifted, the replay reconciles to LIVE_OK.
    pub quarantine_drift_score: f64,
    /// The command machine's timers (re-sends, ack timeout, retention, decommission timeout).
    pub commands: CommandConfig,
}

impl Default for ProjectionConfig {
    fn default() -> Self {
        ProjectionConfig {
            connectivity: ConnectivityConfig::default(),
            domains: BTreeMap::new(),
            drift: DriftConfig::default(),
            attention: AttentionConfig::default(),
            quarantine_drift_score: 50.0,
            commands: CommandConfig::default(),
        }
    }
}

/// Why a projection config file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// File.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid projection config.
    #[error("{path} is not a valid projection config")]
    Parse {
        /// File.
        path: String,
        /// Cause (names the unknown or mistyped field).
        #[source]
        source: serde_json::Error,
    },
}

impl ProjectionConfig {
    /// Loads a JSON file; fields it leaves out keep their defaults.
    ///
    /// # Errors
    /// [`ConfigError`] when the file cannot be read or parsed (unknown fields are errors).
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.display().to_string(),
            source,
        })
    }

    /// The connectivity thresholds of nodes in `domain_id`.
    pub fn connectivity_for(&self, domain_id: &str) -> &ConnectivityConfig {
        self.domains.get(domain_id).unwrap_or(&self.connectivity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of `docs/projections.md` ("Settings") is a valid config and means what the
    /// text says.
    #[test]
    fn the_documented_example_parses() {
        let doc = include_str!("../../docs/projections.md");
        let settings = doc.split("## Settings").nth(1).expect("a Settings section");
        let example = settings
            .split("```json")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .expect("a json example");
        let config: ProjectionConfig = serde_json::from_str(example).expect("valid");
        assert_eq!(config.connectivity.autonomous_after_ms, 1_800_000);
        let zone_c = config.connectivity_for("edge-zone-c");
        assert_eq!(zone_c.autonomous_after_ms, 21_600_000);
        assert_eq!(zone_c.edge_cached_after_ms, 3_600_000);
        assert_eq!(
            config.connectivity_for("edge-zone-a1"),
            &config.connectivity,
            "a domain without an entry takes the default thresholds"
        );
        assert_eq!(config.quarantine_drift_score, 50.0);
        assert_eq!(config.commands.ack_timeout_ms, 300_000);
        assert_eq!(
            config.commands.retry_max_ms, 900_000,
            "left out: the default"
        );
        assert!(serde_json::from_str::<ProjectionConfig>(r#"{"bogus": 1}"#).is_err());
    }
}

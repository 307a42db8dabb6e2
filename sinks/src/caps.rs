//! What the connected ClickHouse server can do, derived from `SELECT version()`.
//!
//! The sink must run on Debian's ClickHouse 18.16 and on current releases (24.x+). Everything
//! newer than 18.16 is used only when the matching flag here is true. The thresholds are the
//! releases where a feature became generally available (not where it first appeared behind an
//! `allow_experimental_*` setting), so a flag may be false on a server that could, with extra
//! settings, do more: being conservative costs a little storage, never a failed start-up.

use std::fmt;

/// Capabilities of one ClickHouse server, parsed from its version string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerCaps {
    /// The version string as the server reported it, e.g. `18.16.1` or `24.8.4.13`.
    pub version: String,
    /// Major version (year-based since 18.x).
    pub major: u32,
    /// Minor version.
    pub minor: u32,
    /// `LowCardinality(String)` columns without experimental settings (19.9+).
    pub low_cardinality: bool,
    /// The `DateTime64` type (20.1+).
    pub datetime64: bool,
    /// Table and column `TTL` clauses (19.6+).
    pub ttl: bool,
    /// Per-column compression codecs, `CODEC(...)` (19.10+).
    pub codecs: bool,
    /// `ALTER TABLE ... ADD COLUMN IF NOT EXISTS` (20.1+; 18.16 has no `IF NOT EXISTS` there,
    /// so the migrator checks `system.columns` first on every server).
    pub add_column_if_not_exists: bool,
    /// The server can describe a table in the `RowBinaryWithNamesAndTypes` format the
    /// `clickhouse` crate needs for its schema validation. The crate is tested against current
    /// releases only, so this is true from 24.1 on.
    pub row_binary_validation: bool,
    /// LZ4-compressed `INSERT` bodies (`decompress=1`, native compressed blocks) work. The
    /// block format predates 18.16, and the integration tests insert with LZ4 against 18.16,
    /// so this holds for every version this crate accepts.
    pub lz4_insert: bool,
}

/// A version string that does not start with `major.minor`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unrecognised ClickHouse version string {0:?}")]
pub struct VersionParseError(pub String);

impl ServerCaps {
    /// Parses the answer of `SELECT version()`: `major.minor[.patch[.build]]`, with any suffix
    /// after the numbers (as in `24.3.1.2672-lts`) ignored.
    ///
    /// # Errors
    /// [`VersionParseError`] when the string does not start with two dot-separated numbers.
    pub fn from_version(version: &str) -> Result<Self, VersionParseError> {
        let trimmed = version.trim();
        let mut parts = trimmed.split('.');
        let mut number = || -> Option<u32> {
            let part = parts.next()?;
            let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        };
        let (major, minor) = match (number(), number()) {
            (Some(major), Some(minor)) => (major, minor),
            _ => return Err(VersionParseError(version.to_owned())),
        };
        let at_least =
            |want_major: u32, want_minor: u32| (major, minor) >= (want_major, want_minor);
        Ok(Self {
            version: trimmed.to_owned(),
            major,
            minor,
            low_cardinality: at_least(19, 9),
            datetime64: at_least(20, 1),
            ttl: at_least(19, 6),
            codecs: at_least(19, 10),
            add_column_if_not_exists: at_least(20, 1),
            row_binary_validation: at_least(24, 1),
            lz4_insert: true,
        })
    }
}

impl fmt::Display for ServerCaps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ClickHouse {} (low_cardinality={}, datetime64={}, ttl={}, codecs={}, validation={}, lz4={})",
            self.version,
            self.low_cardinality,
            self.datetime64,
            self.ttl,
            self.codecs,
            self.row_binary_validation,
            self.lz4_insert
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_18_16_has_no_new_features() {
        let caps = ServerCaps::from_version("18.16.1").unwrap();
        assert_eq!((caps.major, caps.minor), (18, 16));
        assert!(!caps.low_cardinality);
        assert!(!caps.datetime64);
        assert!(!caps.ttl);
        assert!(!caps.codecs);
        assert!(!caps.add_column_if_not_exists);
        assert!(!caps.row_binary_validation);
        assert!(caps.lz4_insert);
    }

    #[test]
    fn thresholds() {
        let table = [
            ("19.5.1", false, false, false, false),
            ("19.6.2.11", false, false, true, false),
            ("19.9.1", true, false, true, false),
            ("19.10.1", true, false, true, true),
            ("20.1.2.4", true, true, true, true),
        ];
        for (version, low_cardinality, datetime64, ttl, codecs) in table {
            let caps = ServerCaps::from_version(version).unwrap();
            assert_eq!(caps.low_cardinality, low_cardinality, "{version}");
            assert_eq!(caps.datetime64, datetime64, "{version}");
            assert_eq!(caps.ttl, ttl, "{version}");
            assert_eq!(caps.codecs, codecs, "{version}");
            assert!(!caps.row_binary_validation, "{version}");
        }
    }

    #[test]
    fn current_release_with_suffix() {
        let caps = ServerCaps::from_version(" 24.3.1.2672-lts\n").unwrap();
        assert_eq!((caps.major, caps.minor), (24, 3));
        assert_eq!(caps.version, "24.3.1.2672-lts");
        assert!(caps.low_cardinality && caps.datetime64 && caps.ttl && caps.codecs);
        assert!(caps.row_binary_validation);
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "abc", "24", "v24.1", ".1"] {
            assert_eq!(
                ServerCaps::from_version(bad),
                Err(VersionParseError(bad.to_owned()))
            );
        }
    }
}

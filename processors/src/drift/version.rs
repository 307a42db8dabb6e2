//! Semver-aware version comparison for the drift projection (no dependency: the subset of
//! semver 2.0 the fleet uses, plus an optional component-name prefix), and the [`Severity`] of
//! a version gap.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

/// How bad a version gap is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Ahead of desired, or a pre-release difference only.
    Low,
    /// A patch behind (seed 003: 1.4.7 desired, 1.4.6 running).
    Medium,
    /// A minor version behind, or a version that cannot be compared.
    High,
    /// A major version behind, or another component altogether.
    Critical,
}

impl Severity {
    /// Contribution of this severity to the version component of the drift score (0..=1).
    pub fn points(self) -> f64 {
        match self {
            Severity::Low => 0.25,
            Severity::Medium => 0.5,
            Severity::High => 0.75,
            Severity::Critical => 1.0,
        }
    }
}

/// Which part of a version differs between desired and actual.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionGap {
    /// Same major and minor, lower patch.
    PatchBehind,
    /// Same major, lower minor.
    MinorBehind,
    /// Lower major.
    MajorBehind,
    /// Same major.minor.patch; the pre-release part differs.
    Prerelease,
    /// Newer than desired.
    Ahead,
    /// Different component names (`souverix-rempart-…` vs `souverix-coeur-…`).
    ComponentMismatch,
    /// Different strings, at least one not a version.
    Unparseable,
    /// The snapshot reports no version.
    NotReported,
}

impl VersionGap {
    /// Severity table (documented in `docs/projections.md`).
    pub fn severity(self) -> Severity {
        match self {
            VersionGap::PatchBehind => Severity::Medium,
            VersionGap::MinorBehind | VersionGap::Unparseable | VersionGap::NotReported => {
                Severity::High
            }
            VersionGap::MajorBehind | VersionGap::ComponentMismatch => Severity::Critical,
            VersionGap::Prerelease | VersionGap::Ahead => Severity::Low,
        }
    }

    /// Operator-facing impact code.
    pub fn impact(self) -> &'static str {
        match self {
            VersionGap::PatchBehind => "missing_security_patch",
            VersionGap::MinorBehind => "missing_features",
            VersionGap::MajorBehind => "incompatible_major_version",
            VersionGap::Prerelease => "prerelease_mismatch",
            VersionGap::Ahead => "ahead_of_desired",
            VersionGap::ComponentMismatch => "wrong_component",
            VersionGap::Unparseable => "unverifiable_version",
            VersionGap::NotReported => "version_not_reported",
        }
    }
}

/// `[component-][v]MAJOR[.MINOR[.PATCH]][-PRE][+BUILD]`; missing MINOR/PATCH read as 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedVersion {
    /// Component prefix, e.g. `souverix-rempart`.
    pub component: Option<String>,
    /// MAJOR, MINOR, PATCH.
    pub core: [u64; 3],
    /// Pre-release identifiers (empty for a release).
    pub pre: Vec<String>,
    /// The version text after the component prefix, build metadata included.
    pub raw: String,
}

impl ParsedVersion {
    /// Parses `text`; `None` when it holds no version.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        // The version starts at the first digit that begins the text or follows `-`/`-v`.
        let bytes = text.as_bytes();
        let start = (0..bytes.len()).find(|&i| {
            bytes[i].is_ascii_digit()
                && (i == 0
                    || bytes[i - 1] == b'-'
                    || (bytes[i - 1] == b'v' && (i == 1 || bytes[i - 2] == b'-')))
        })?;
        let prefix = text[..start].trim_end_matches('v').trim_end_matches('-');
        let raw = &text[start..];
        let no_build = raw.split('+').next().unwrap_or(raw);
        let (core_text, pre_text) = match no_build.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (no_build, None),
        };
        let mut core = [0u64; 3];
        let parts: Vec<&str> = core_text.split('.').collect();
        if parts.len() > 3 {
            return None;
        }
        for (slot, part) in core.iter_mut().zip(&parts) {
            *slot = part.parse().ok()?;
        }
        let pre = pre_text.map_or_else(Vec::new, |p| p.split('.').map(String::from).collect());
        Some(ParsedVersion {
            component: (!prefix.is_empty()).then(|| prefix.to_owned()),
            core,
            pre,
            raw: raw.to_owned(),
        })
    }

    /// The version without its component prefix.
    pub fn text(&self) -> String {
        self.raw.clone()
    }

    fn cmp_precedence(&self, other: &Self) -> Ordering {
        self.core
            .cmp(&other.core)
            .then_with(|| cmp_pre(&self.pre, &other.pre))
    }
}

/// Semver 2.0 pre-release precedence: a release ranks above its pre-releases; numeric
/// identifiers compare numerically and below alphanumeric ones.
fn cmp_pre(a: &[String], b: &[String]) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        (false, false) => {}
    }
    for (x, y) in a.iter().zip(b) {
        let ord = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(m), Ok(n)) => m.cmp(&n),
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
            (Err(_), Err(_)) => x.cmp(y),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    a.len().cmp(&b.len())
}

/// The order of two versions of one record (a bundle's `version`): semver precedence when both
/// are versions (numeric components, pre-releases below their release, component prefixes and
/// build metadata ignored), otherwise the strings themselves.
pub fn version_order(a: &str, b: &str) -> Ordering {
    match (ParsedVersion::parse(a), ParsedVersion::parse(b)) {
        (Some(x), Some(y)) => x.cmp_precedence(&y),
        _ => a.trim().cmp(b.trim()),
    }
}

/// The gap between `desired` and `actual`; `None` when they are the same version (build
/// metadata ignored) or the same string.
pub fn compare_versions(desired: &str, actual: &str) -> Option<VersionGap> {
    if desired.trim() == actual.trim() {
        return None;
    }
    let (Some(want), Some(have)) = (ParsedVersion::parse(desired), ParsedVersion::parse(actual))
    else {
        return Some(VersionGap::Unparseable);
    };
    if let (Some(w), Some(h)) = (&want.component, &have.component) {
        if w != h {
            return Some(VersionGap::ComponentMismatch);
        }
    }
    let [wmaj, wmin, _] = want.core;
    let [hmaj, hmin, _] = have.core;
    Some(match want.cmp_precedence(&have) {
        Ordering::Equal => return None,
        Ordering::Less => VersionGap::Ahead,
        Ordering::Greater if hmaj < wmaj => VersionGap::MajorBehind,
        Ordering::Greater if hmin < wmin => VersionGap::MinorBehind,
        Ordering::Greater if want.core == have.core => VersionGap::Prerelease,
        Ordering::Greater => VersionGap::PatchBehind,
    })
}

//! The federation's published state: [`Domain`] on `fleet.domains.v1` (compacted, key domain
//! id) with its [`UpstreamSync`], and [`BundleVersion`] on `fleet.bundles.v1` (compacted, key
//! `"<bundle_id>@<version>"`). Both are written by the fleet processor (partition 0).
//!
//! Statuses and reasons are strings (documented in each `.avsc`), like the outputs of
//! [`super::outputs`], so a new value needs no schema change.

use serde::{Deserialize, Serialize};

use super::common::{AuthorityClaim, DomainLevel, DomainSync};
use super::objects::PolicyBundle;
use super::EpochMillis;
use crate::catalog;
use crate::codec::plain_canonical;

/// Trust/authority scope with the authority and sync state in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Domain {
    /// Domain id.
    pub domain_id: String,
    /// Display name.
    pub name: Option<String>,
    /// Parent domain; `None` for a root.
    pub parent_id: Option<String>,
    /// Scope.
    pub level: DomainLevel,
    /// Autonomy policy.
    pub autonomy: Option<String>,
    /// Master of record in force; `None` when unclaimed.
    pub authority: Option<AuthorityClaim>,
    /// Event time of the last control record applied.
    pub updated_ms: EpochMillis,
    /// Version of the declaration in force.
    pub version: i64,
    /// Domain ids from the root down to this domain (last).
    pub path: Vec<String>,
    /// Declared sync settings.
    pub sync: Option<DomainSync>,
    /// Since when the master of record in force holds it.
    pub master_since_ms: Option<EpochMillis>,
    /// Two controllers contest the same epoch.
    pub split_brain: bool,
    /// Controllers contesting the epoch, sorted.
    pub contenders: Vec<String>,
    /// Upstream sync state.
    pub upstream_sync: Option<UpstreamSync>,
    /// `AUTHORITATIVE`, `DEGRADED` or `AUTONOMOUS`.
    pub authority_status: String,
    /// Why `DEGRADED`: `NO_MASTER`, `SPLIT_BRAIN` or `SYNC_OVERDUE`.
    pub authority_reason: Option<String>,
    /// From the declared sync settings; false when not declared.
    pub can_operate_isolated: bool,
    /// Per-domain revision, +1 on every published change.
    pub revision: i64,
}

/// Latest upstream sync report of a domain with its debt as of the processor's event time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamSync {
    /// Reporting control plane.
    pub controller_id: String,
    /// Upstream peer control plane.
    pub peer: String,
    /// Time of the last completed sync.
    pub last_sync_ms: EpochMillis,
    /// Expected interval between syncs, in ms.
    pub frequency_ms: Option<i64>,
    /// Sync mode.
    pub mode: Option<String>,
    /// Changes waiting to be synced.
    pub pending_changes: i64,
    /// Seconds since the last sync.
    pub sync_debt_s: i64,
    /// The frequency is known and more than it has passed since the last sync.
    pub overdue: bool,
}

/// One version of a policy bundle and the processor's decision about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleVersion {
    /// The bundle version as declared.
    pub bundle: PolicyBundle,
    /// Event time of the bundle's control record.
    pub event_time_ms: EpochMillis,
    /// `IN_FORCE`, `SUPERSEDED` or `STALE`.
    pub status: String,
    /// Event time of the decision that set this status.
    pub decided_ms: EpochMillis,
    /// Version that replaced this one, when `SUPERSEDED` or `STALE`.
    pub superseded_by: Option<String>,
    /// Per bundle id: +1 on every decision about any of its versions.
    pub revision: i64,
}

plain_canonical!(
    Domain => catalog::DOMAIN,
    BundleVersion => catalog::BUNDLE_VERSION,
);

//! Control-plane records of the raw contract, keyed by the domain (or bundle) they are about:
//! `domain`, `authority`, `policy_bundle`, `assign` and `sync`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::ConfigValue;

/// Level of a domain in the federation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DomainLevel {
    /// The global control plane.
    Global,
    /// A region.
    Region,
    /// An edge zone.
    Zone,
}

/// Autonomy of a domain (seed 000): `FULL` may operate isolated; `CONDITIONAL`
/// only under conditions set by its parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Autonomy {
    /// Full autonomy.
    Full,
    /// Conditional autonomy.
    Conditional,
}

/// Level of a controller claiming or writing under authority (`authority.level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuthorityLevel {
    /// The global control plane.
    Global,
    /// A regional control plane.
    Region,
    /// An edge zone's controller.
    Local,
    /// A controller with no upstream dependency.
    Autonomous,
}

/// Direction of a `sync` report, seen from the reporting control plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncDirection {
    /// With the parent's control plane.
    Upstream,
    /// With a child's control plane.
    Downstream,
}

/// `domain` control-plane record, keyed by `domain_id`.
#[derive(Debug, Serialize)]
pub struct DomainRecord<'a> {
    /// Always `domain`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Domain id.
    pub domain_id: &'a str,
    /// Event time.
    pub ts: &'a str,
    /// Per-domain sequence number.
    pub seq: u64,
    /// Parent domain, `null` for the global domain.
    pub parent_id: Option<&'a str>,
    /// Level in the hierarchy.
    pub level: DomainLevel,
    /// Autonomy.
    pub autonomy: Autonomy,
    /// Version of the domain definition; omitted means 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// How the domain's control plane syncs with its upstream; omitted when unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync: Option<DomainSync<'a>>,
}

/// `domain.sync`: the sync settings of a domain's control plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DomainSync<'a> {
    /// The upstream control plane it syncs with.
    pub upstream: &'a str,
    /// Expected time between syncs, a duration string (`15m`, `30s`, `2h`, `500ms`).
    pub frequency: &'a str,
    /// Sync mode (`continuous`, `push`, `opportunistic`).
    pub mode: &'a str,
    /// Whether the domain may keep operating without its upstream.
    pub can_operate_isolated: bool,
}

/// `authority` record: a controller claims to be master of record of a domain.
#[derive(Debug, Serialize)]
pub struct AuthorityRecord<'a> {
    /// Always `authority`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Event time.
    pub ts: &'a str,
    /// Per-key sequence number.
    pub seq: u64,
    /// The domain claimed (also the Kafka key).
    pub domain_id: &'a str,
    /// The claiming controller.
    #[serde(flatten)]
    pub claim: Claim<'a>,
}

/// A controller's authority: who, at which level, at which epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Claim<'a> {
    /// Controller id.
    pub controller_id: &'a str,
    /// Level it acts at.
    pub level: AuthorityLevel,
    /// Federation-wide authority version.
    pub epoch: u64,
}

/// `policy_bundle` record, keyed by `bundle_id`.
#[derive(Debug, Serialize)]
pub struct BundleRecord<'a> {
    /// Always `policy_bundle`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Event time.
    pub ts: &'a str,
    /// Per-key sequence number.
    pub seq: u64,
    /// Bundle id.
    pub bundle_id: &'a str,
    /// Bundle version (semver order decides which version is in force).
    pub version: &'a str,
    /// Software version the bundle wants.
    pub target_version: &'a str,
    /// Policy version the bundle wants.
    pub policy_version: &'a str,
    /// Desired configuration, flat keys.
    pub config: &'a BTreeMap<&'static str, ConfigValue>,
    /// Rollout constraints.
    pub constraints: &'a BTreeMap<&'static str, &'static str>,
}

/// `assign` record: a bundle assigned to a domain under a controller's authority.
#[derive(Debug, Serialize)]
pub struct AssignRecord<'a> {
    /// Always `assign`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Event time.
    pub ts: &'a str,
    /// Per-key sequence number.
    pub seq: u64,
    /// Assigned bundle.
    pub bundle_id: &'a str,
    /// Target domain (also the Kafka key).
    pub domain_id: &'a str,
    /// The authority the write is made under.
    pub authority: Claim<'a>,
}

/// `sync` record: a control plane's sync state for one direction with one peer, keyed by
/// `domain_id`.
#[derive(Debug, Serialize)]
pub struct SyncRecord<'a> {
    /// Always `sync`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Event time of the report.
    pub ts: &'a str,
    /// Per-key sequence number.
    pub seq: u64,
    /// The reporting control plane.
    pub controller_id: &'a str,
    /// Its domain.
    pub domain_id: &'a str,
    /// Which way the sync goes.
    pub direction: SyncDirection,
    /// The other control plane.
    pub peer: &'a str,
    /// When the last sync completed, RFC 3339.
    pub last_sync: &'a str,
    /// Expected time between syncs, a duration string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frequency: Option<&'a str>,
    /// Sync mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<&'a str>,
    /// Changes waiting to be synced.
    pub pending_changes: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_and_sync_records_are_flat_json() {
        let domain = DomainRecord {
            kind: "domain",
            domain_id: "region-a",
            ts: "2026-02-27T00:00:00.000Z",
            seq: 1,
            parent_id: Some("global"),
            level: DomainLevel::Region,
            autonomy: Autonomy::Full,
            version: Some(1),
            sync: Some(DomainSync {
                upstream: "global-control",
                frequency: "15m",
                mode: "continuous",
                can_operate_isolated: true,
            }),
        };
        assert_eq!(
            serde_json::to_string(&domain).ok().as_deref(),
            Some(concat!(
                r#"{"type":"domain","domain_id":"region-a","ts":"2026-02-27T00:00:00.000Z","seq":1,"#,
                r#""parent_id":"global","level":"REGION","autonomy":"FULL","version":1,"#,
                r#""sync":{"upstream":"global-control","frequency":"15m","mode":"continuous","#,
                r#""can_operate_isolated":true}}"#
            ))
        );
        let sync = SyncRecord {
            kind: "sync",
            ts: "2026-02-27T00:10:30.000Z",
            seq: 4,
            controller_id: "region-a-control",
            domain_id: "region-a",
            direction: SyncDirection::Upstream,
            peer: "global-control",
            last_sync: "2026-02-27T00:10:00.000Z",
            frequency: Some("15m"),
            mode: None,
            pending_changes: 0,
        };
        assert_eq!(
            serde_json::to_string(&sync).ok().as_deref(),
            Some(concat!(
                r#"{"type":"sync","ts":"2026-02-27T00:10:30.000Z","seq":4,"#,
                r#""controller_id":"region-a-control","domain_id":"region-a","#,
                r#""direction":"upstream","peer":"global-control","#,
                r#""last_sync":"2026-02-27T00:10:00.000Z","frequency":"15m","pending_changes":0}"#
            ))
        );
    }

    #[test]
    fn authority_claims_flatten_the_controller() {
        let claim = AuthorityRecord {
            kind: "authority",
            ts: "2026-02-27T00:00:00.000Z",
            seq: 2,
            domain_id: "edge-zone-c",
            claim: Claim {
                controller_id: "edge-zone-c-control",
                level: AuthorityLevel::Autonomous,
                epoch: 1,
            },
        };
        assert_eq!(
            serde_json::to_string(&claim).ok().as_deref(),
            Some(concat!(
                r#"{"type":"authority","ts":"2026-02-27T00:00:00.000Z","seq":2,"#,
                r#""domain_id":"edge-zone-c","controller_id":"edge-zone-c-control","#,
                r#""level":"AUTONOMOUS","epoch":1}"#
            ))
        );
    }
}

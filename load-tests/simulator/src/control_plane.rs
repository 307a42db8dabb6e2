//! The control plane the simulator declares after the federation's domains (seed 000): a
//! master of record per level, one policy bundle (the newest software, policy and config)
//! assigned to the global domain, a standby controller of region-b that claims the same epoch
//! as the active one (a split brain the operators have to resolve), and a write from a
//! controller without authority (rejected). Every record is raw JSON of `docs/contracts.md`
//! written with [`crate::wire`]'s control records, with a `seq` per key that continues the
//! domain records' (each domain's record is seq 1).

use std::collections::BTreeMap;

use crate::behaviour::{POLICY_VERSIONS, SOFTWARE_VERSIONS};
use crate::message::{encode, RawMessage};
use crate::wire::{
    AssignRecord, AuthorityLevel, AuthorityRecord, BundleRecord, Claim, ConfigValue,
};

/// Id of the bundle the global controller assigns.
pub const BUNDLE_ID: &str = "bundle-rempart-2026.02";

/// The control records at event time `ts` (`event_time_ms`), in order, each keyed by its
/// domain or bundle id and marked as control.
///
/// # Errors
/// A JSON encoding failure (a bug).
pub fn records(ts: &str, event_time_ms: i64) -> Result<Vec<RawMessage>, serde_json::Error> {
    let newest_version = SOFTWARE_VERSIONS[SOFTWARE_VERSIONS.len() - 1].0;
    let newest_policy = POLICY_VERSIONS[POLICY_VERSIONS.len() - 1];
    let authority = |controller_id, level| Claim {
        controller_id,
        level,
        epoch: 1,
    };
    let claim = |domain_id: &'static str, seq, controller, level| {
        let record = AuthorityRecord {
            kind: "authority",
            ts,
            seq,
            domain_id,
            claim: authority(controller, level),
        };
        encode(domain_id, event_time_ms, &record)
    };
    let assign = |bundle_id, seq, domain_id: &'static str, controller, level| {
        let record = AssignRecord {
            kind: "assign",
            ts,
            seq,
            bundle_id,
            domain_id,
            authority: authority(controller, level),
        };
        encode(domain_id, event_time_ms, &record)
    };
    let config = BTreeMap::from([
        ("rate_limit.max_cps", ConfigValue::Int(2000)),
        ("stir.enforcement_mode", ConfigValue::Text("hard")),
    ]);
    let constraints = BTreeMap::from([("maintenance_window", "Sun 02:00-04:00")]);
    let bundle = BundleRecord {
        kind: "policy_bundle",
        ts,
        seq: 1,
        bundle_id: BUNDLE_ID,
        version: "7",
        target_version: newest_version,
        policy_version: newest_policy,
        config: &config,
        constraints: &constraints,
    };
    let (global, region) = (AuthorityLevel::Global, AuthorityLevel::Region);
    let records = [
        claim("global", 2, "ctl-global", global)?,
        claim("region-a", 2, "ctl-region-a", region)?,
        claim("region-b", 2, "ctl-region-b", region)?,
        encode(BUNDLE_ID, event_time_ms, &bundle)?,
        assign(BUNDLE_ID, 3, "global", "ctl-global", global)?,
        assign("bundle-unvetted", 3, "region-a", "ctl-rogue", region)?,
        claim("region-b", 3, "ctl-region-b-standby", region)?,
    ];
    Ok(records.into_iter().map(RawMessage::into_control).collect())
}

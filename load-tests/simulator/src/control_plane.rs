//! The control plane the simulator declares after the federation's domains (seed 000): a
//! master of record per level, one policy bundle (the newest software, policy and config)
//! assigned to the global domain, a standby controller of region-b that claims the same epoch
//! as the active one (a split brain the operators have to resolve), and a write from a
//! controller without authority (rejected). Every record is raw JSON of `docs/contracts.md`,
//! with a `seq` per key that continues the domain records' (each domain's record is seq 1).

use serde_json::{json, Value};

use crate::behaviour::{POLICY_VERSIONS, SOFTWARE_VERSIONS};

/// Id of the bundle the global controller assigns.
pub const BUNDLE_ID: &str = "bundle-rempart-2026.02";

/// The control records at event time `ts`, in order, each with its Kafka key (the domain or
/// bundle id).
pub fn records(ts: &str) -> Vec<(&'static str, Value)> {
    let newest_version = SOFTWARE_VERSIONS[SOFTWARE_VERSIONS.len() - 1].0;
    let newest_policy = POLICY_VERSIONS[POLICY_VERSIONS.len() - 1];
    let claim = |domain: &str, seq: u32, controller: &str, level: &str| {
        json!({"type": "authority", "ts": ts, "seq": seq, "domain_id": domain,
               "controller_id": controller, "level": level, "epoch": 1})
    };
    let assign = |bundle: &str, seq: u32, domain: &str, controller: &str, level: &str| {
        json!({"type": "assign", "ts": ts, "seq": seq, "bundle_id": bundle, "domain_id": domain,
               "authority": {"controller_id": controller, "level": level, "epoch": 1}})
    };
    vec![
        ("global", claim("global", 2, "ctl-global", "GLOBAL")),
        ("region-a", claim("region-a", 2, "ctl-region-a", "REGION")),
        ("region-b", claim("region-b", 2, "ctl-region-b", "REGION")),
        (
            BUNDLE_ID,
            json!({"type": "policy_bundle", "ts": ts, "seq": 1, "bundle_id": BUNDLE_ID,
                   "version": "7", "target_version": newest_version,
                   "policy_version": newest_policy,
                   "config": {"stir.enforcement_mode": "hard", "rate_limit.max_cps": 2000},
                   "constraints": {"maintenance_window": "Sun 02:00-04:00"}}),
        ),
        (
            "global",
            assign(BUNDLE_ID, 3, "global", "ctl-global", "GLOBAL"),
        ),
        (
            "region-a",
            assign("bundle-unvetted", 3, "region-a", "ctl-rogue", "REGION"),
        ),
        (
            "region-b",
            claim("region-b", 3, "ctl-region-b-standby", "REGION"),
        ),
    ]
}

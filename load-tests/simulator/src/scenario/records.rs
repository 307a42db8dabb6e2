//! The raw records of the seed 000 scenario, written with the simulator's wire types from
//! the [`plan`].

use std::collections::BTreeMap;

use serde::Serialize;

use super::plan::{
    self, BundlePlan, NodePlan, DELAYED_HEARTBEATS, DELAYED_RTT_MS, DOMAINS, DRIFTED_KEYS,
    LINK_LOST_AFTER_MS, SNAPSHOT_EVERY, SYNC_REPORT_LAG_MS,
};
use crate::message::{encode, node_message, RawMessage};
use crate::sim::SimError;
use crate::wire::{
    self, AssignRecord, AuthorityRecord, BundleRecord, Claim, DomainRecord, Edge, Firmware,
    Hardware, Health, Heartbeat, Inventory, Link, LinkState, NodeKind, Register, Snapshot,
    SyncDirection, SyncRecord, Via,
};

/// A firmware signature and an SBOM hash (fixed: the scenario is about structure, not trust).
const SIGNATURE: &str = "sha256:5f0c7d1e2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5";
const SBOM: &str = "sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";

/// Records being collected, with the next `seq` per Kafka key.
#[derive(Debug, Default)]
pub struct Timeline {
    out: Vec<RawMessage>,
    seqs: BTreeMap<String, u64>,
}

impl Timeline {
    fn next_seq(&mut self, key: &str) -> u64 {
        let seq = self.seqs.entry(key.to_owned()).or_insert(0);
        *seq += 1;
        *seq
    }

    /// The `ts` and next `seq` of a control record under `key` at `ms`.
    fn stamp(&mut self, key: &str, ms: i64) -> Result<(String, u64), SimError> {
        Ok((ts(ms)?, self.next_seq(key)))
    }

    /// A control record under `key` at `ms`, stamped with [`Timeline::stamp`].
    fn control<T: Serialize>(&mut self, key: &str, ms: i64, record: &T) -> Result<(), SimError> {
        self.out.push(encode(key, ms, record)?.into_control());
        Ok(())
    }

    /// A node message of type `kind` from `node_id` at `ms`.
    fn node<B: Serialize>(
        &mut self,
        node_id: &str,
        kind: &'static str,
        ms: i64,
        body: B,
    ) -> Result<(), SimError> {
        let ts = ts(ms)?;
        let seq = self.next_seq(node_id);
        let msg = node_message(kind, node_id, &ts, seq, false, body, ms)?;
        self.out.push(msg);
        Ok(())
    }

    /// The records sorted by event time; records at the same time keep the order they were
    /// written in, so each key's `seq`s still increase.
    pub fn finish(mut self) -> Vec<RawMessage> {
        self.out.sort_by_key(|m| m.event_time_ms);
        self.out
    }
}

fn ts(ms: i64) -> Result<String, SimError> {
    wire::format_ts(ms).ok_or(SimError::ScenarioTimeOutOfRange { ms })
}

/// Domains, claims, bundles and assignments, one second apart from `start_ms`; then the
/// controllers' upstream sync reports until `end_ms`.
pub fn control(t: &mut Timeline, start_ms: i64, end_ms: i64) -> Result<(), SimError> {
    let mut at = start_ms;
    let mut tick = || {
        let now = at;
        at += 1000;
        now
    };
    for d in &DOMAINS {
        let at = tick();
        let (ts, seq) = t.stamp(d.id, at)?;
        let record = DomainRecord {
            kind: "domain",
            domain_id: d.id,
            ts: &ts,
            seq,
            parent_id: d.parent,
            level: d.level,
            autonomy: d.autonomy,
            version: Some(1),
            sync: d.sync,
        };
        t.control(d.id, at, &record)?;
    }
    for d in &DOMAINS {
        let at = tick();
        let (ts, seq) = t.stamp(d.id, at)?;
        let record = AuthorityRecord {
            kind: "authority",
            ts: &ts,
            seq,
            domain_id: d.id,
            claim: claim(d.controller, d.claim_level),
        };
        t.control(d.id, at, &record)?;
    }
    let bundles = plan::bundles();
    let constraints = plan::constraints();
    for b in &bundles {
        let at = tick();
        let (ts, seq) = t.stamp(b.id, at)?;
        let record = BundleRecord {
            kind: "policy_bundle",
            ts: &ts,
            seq,
            bundle_id: b.id,
            version: b.version,
            target_version: b.target_version,
            policy_version: b.policy_version,
            config: &b.config,
            constraints: &constraints,
        };
        t.control(b.id, at, &record)?;
    }
    for b in &bundles {
        let Some(d) = DOMAINS.iter().find(|d| d.id == b.domain) else {
            continue;
        };
        let at = tick();
        let (ts, seq) = t.stamp(b.domain, at)?;
        let record = AssignRecord {
            kind: "assign",
            ts: &ts,
            seq,
            bundle_id: b.id,
            domain_id: b.domain,
            authority: claim(d.controller, d.claim_level),
        };
        t.control(b.domain, at, &record)?;
    }
    sync_reports(t, start_ms, end_ms)
}

fn claim(controller_id: &str, level: wire::AuthorityLevel) -> Claim<'_> {
    Claim {
        controller_id,
        level,
        epoch: 1,
    }
}

/// The controllers' upstream sync reports ([`plan::sync_times`]), in time order.
fn sync_reports(t: &mut Timeline, start_ms: i64, end_ms: i64) -> Result<(), SimError> {
    let mut reports: Vec<(i64, &plan::DomainPlan)> = DOMAINS
        .iter()
        .flat_map(|d| {
            plan::sync_times(d, start_ms, end_ms)
                .into_iter()
                .map(move |synced| (synced, d))
        })
        .collect();
    // Stable: reports at the same instant keep the table's order.
    reports.sort_by_key(|r| r.0);
    for (synced, d) in reports {
        let Some(sync) = d.sync else { continue };
        let last_sync = ts(synced)?;
        let at = synced + SYNC_REPORT_LAG_MS;
        let (ts, seq) = t.stamp(d.id, at)?;
        let record = SyncRecord {
            kind: "sync",
            ts: &ts,
            seq,
            controller_id: d.controller,
            domain_id: d.id,
            direction: SyncDirection::Upstream,
            peer: sync.upstream,
            last_sync: &last_sync,
            frequency: Some(sync.frequency),
            mode: Some(sync.mode),
            pending_changes: 0,
        };
        t.control(d.id, at, &record)?;
    }
    Ok(())
}

/// Everything `node` sends: register, its declared edges, heartbeats with snapshots, and for
/// zone C the `link lost` after its last heartbeat.
pub fn node(
    t: &mut Timeline,
    node: &NodePlan,
    bundles: &[BundlePlan],
    start_ms: i64,
    end_ms: i64,
) -> Result<(), SimError> {
    let registered = node.register_ms(start_ms);
    let tags = vec![format!("zone:{}", node.domain)];
    let register = Register {
        kind: node.kind,
        domain_id: node.domain,
        region: node.region,
        zone: node.domain,
        tags: &tags,
        hardware: Hardware {
            serial: &format!("HW-000-{:04}", node.index + 1),
            manufacturer: "Souverix SAS",
            model: model(node.kind),
            batch_id: "BATCH-2024-Q3-001",
            origin: "Factory-A",
        },
        firmware: Firmware {
            version: "2.1.3",
            signature: SIGNATURE,
        },
        public_key: None,
    };
    t.node(&node.id, "register", registered, register)?;
    for (from, peer_id, relation, state) in plan::edges() {
        if from == node.id {
            let edge = Edge {
                peer_id,
                relation,
                state,
            };
            t.node(&node.id, "edge", registered + 100, edge)?;
        }
    }
    // In spec with the bundle in force for its domain (zone C has none and runs older
    // software), except the drifted node's two keys.
    let bundle = plan::assigned_bundle(bundles, node.domain);
    let (version, policy) = bundle.map_or(("1.4.5", "policy-v2.0"), |b| {
        (b.target_version, b.policy_version)
    });
    let mut config = bundle
        .or(bundles.last())
        .map(|b| b.config.clone())
        .unwrap_or_default();
    if node.drifted {
        config.extend(DRIFTED_KEYS.iter().cloned());
    }
    let times = node.heartbeat_times(start_ms, end_ms);
    let count = i64::try_from(times.len()).unwrap_or(i64::MAX);
    for (k, &at) in (0i64..).zip(&times) {
        let from_last = count - 1 - k;
        let slow = node.delayed && from_last < DELAYED_HEARTBEATS;
        let heartbeat = Heartbeat {
            rtt_ms: if slow {
                DELAYED_RTT_MS
            } else {
                40.0 + (node.index % 20) as f64
            },
            loss_pct: 0.1,
            bandwidth_kbps: if slow { 800 } else { 20_000 },
            backlog_messages: 0,
            health: Health::Ok,
            uptime_s: u64::try_from(86_400 + node.index * 3600 + (at - start_ms) / 1000)
                .unwrap_or(0),
        };
        let body = Via {
            body: heartbeat,
            via: node.via.as_deref(),
        };
        t.node(&node.id, "heartbeat", at, body)?;
        if k == 0 || from_last % SNAPSHOT_EVERY == 0 {
            let snapshot = Snapshot {
                reported_version: version,
                policy_version: policy,
                config: &config,
                firmware_version: "2.1.3",
                sbom_hash: SBOM,
                inventory: inventory(node.kind),
            };
            t.node(&node.id, "snapshot", at, snapshot)?;
        }
    }
    if let (true, Some(&last)) = (node.goes_silent, times.last()) {
        let lost = Link {
            state: LinkState::Lost,
        };
        t.node(&node.id, "link", last + LINK_LOST_AFTER_MS, lost)?;
    }
    Ok(())
}

fn model(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Relay => "SX-RLY-100",
        NodeKind::Gateway => "SX-GW-400",
        _ => "SX-EDGE-200",
    }
}

fn inventory(kind: NodeKind) -> Inventory {
    let (cpu, ram_gb, storage_gb) = match kind {
        NodeKind::Relay => ("arm64-4c", 8, 128),
        NodeKind::Gateway => ("x86_64-16c", 32, 512),
        _ => ("arm64-8c", 16, 256),
    };
    Inventory {
        cpu,
        ram_gb,
        storage_gb,
        gpus: &[],
    }
}

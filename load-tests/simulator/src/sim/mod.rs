//! The deterministic fleet simulator: an iterator of raw `fleet.raw.v1`
//! messages in event-time order.
//!
//! Timeline: every `domain` record at `start_ms`, then the control plane of
//! [`crate::control_plane`] (claims, a bundle and its assignment, a split brain);
//! each node's `register` at
//! `start_ms + phase` (a per-node phase in `[0, heartbeat_interval)`); then
//! heartbeat round `r >= 1` at `start_ms + r * heartbeat_interval + phase`.
//! Nodes are visited in phase order, so event times never decrease. A round
//! may add a snapshot after a heartbeat, or a `link lost` / `link detected`
//! around an outage; these share the round's event time.
//!
//! During an outage a node records the heartbeats it cannot send in a buffer,
//! each with its round's event time and the next `seq`. On return it sends
//! `link detected`, then uploads the buffer as one replay session at the
//! round's event time: `replay` `begin` (announcing `backlog_total`), `chunk`s
//! of up to [`REPLAY_CHUNK_EVENTS`] buffered events, `end`; then its heartbeat
//! and snapshot. So a node's top-level `seq`s increase in emit order, and with
//! the `seq`s its chunks carry they make up `1..=N` exactly.
//!
//! Topology ([`crate::topology`]): every live heartbeat carries the node's relay
//! path as `via` (`[]` when direct); after its first live heartbeat a node
//! declares its `edge`s. While a relay is failed its heartbeats report health
//! FAILED and the nodes behind it report a slow, lossy link.

use std::collections::VecDeque;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::behaviour::{Dynamics, LinkStep, SOFTWARE_VERSIONS};
use crate::federation::FEDERATION;
use crate::fleet::{self, NodeIdentity, FIRMWARE_VERSIONS};
use crate::message::{encode, node_message, RawMessage};
use crate::topology::{self, FaultPlan, NodeLinks};
use crate::wire::{self, DomainRecord, Firmware, Hardware, Link, LinkState, Via};

mod config;
mod replay;

pub use config::{SimConfig, SimError, DEFAULT_START_MS};
pub use replay::REPLAY_CHUNK_EVENTS;

use replay::{Buffered, ReplaySend};

/// A simulated node: identity plus everything that changes.
#[derive(Debug)]
struct SimNode {
    id: NodeIdentity,
    phase_ms: i64,
    seq: u64,
    heartbeats: u64,
    snapshot_offset: u32,
    dynamics: Dynamics,
    /// Heartbeats recorded during the current outage, oldest first.
    buffer: Vec<Buffered>,
    /// Replay sessions sent so far (numbers the session ids).
    replays: u64,
    /// Its relay path and declared edges.
    links: NodeLinks,
    /// Its edges have been declared (after its first live heartbeat).
    edges_sent: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Domains(usize),
    Control,
    Registers(usize),
    Round { round: u64, next: usize },
    Done,
}

/// The simulator. Yields messages forever unless limited with
/// [`Simulator::with_max_rounds`]; stops early only on a [`SimError`], which
/// [`Simulator::error`] then returns.
#[derive(Debug)]
pub struct Simulator {
    config: SimConfig,
    interval_ms: i64,
    rng: ChaCha8Rng,
    nodes: Vec<SimNode>,
    sbom_hashes: Vec<String>,
    firmware_signatures: Vec<String>,
    stage: Stage,
    max_rounds: Option<u64>,
    pending: VecDeque<RawMessage>,
    error: Option<SimError>,
    faults: FaultPlan,
}

impl Simulator {
    /// Builds the fleet for `config`.
    ///
    /// # Errors
    /// [`SimError::InvalidConfig`] as [`SimConfig::validate`].
    pub fn new(config: SimConfig) -> Result<Self, SimError> {
        let interval_ms = config.validate()?;
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let sbom_hashes = SOFTWARE_VERSIONS
            .iter()
            .map(|_| sha256_like(&mut rng))
            .collect();
        let firmware_signatures = FIRMWARE_VERSIONS
            .iter()
            .map(|_| sha256_like(&mut rng))
            .collect();
        let identities = fleet::generate(config.nodes, &mut rng);
        // The topology draws from RNGs of its own: the rest of the run does not depend on it.
        let (links, faults) = topology::build(&identities, config.seed);
        let faults = if config.relay_faults {
            faults
        } else {
            FaultPlan::none()
        };
        let mut nodes: Vec<SimNode> = identities
            .into_iter()
            .zip(links)
            .map(|(id, links)| {
                let dynamics = Dynamics::new(&id, &mut rng);
                SimNode {
                    phase_ms: rng.random_range(0..interval_ms),
                    snapshot_offset: rng.random_range(0..config.snapshot_every),
                    seq: 0,
                    heartbeats: 0,
                    dynamics,
                    buffer: Vec::new(),
                    replays: 0,
                    links,
                    edges_sent: false,
                    id,
                }
            })
            .collect();
        // Stable sort: nodes with equal phases keep their fleet order.
        nodes.sort_by_key(|n| n.phase_ms);
        Ok(Self {
            config,
            interval_ms,
            rng,
            nodes,
            sbom_hashes,
            firmware_signatures,
            stage: Stage::Domains(0),
            max_rounds: None,
            pending: VecDeque::new(),
            error: None,
            faults,
        })
    }

    /// Stops after heartbeat round `rounds` (0 = only domains and registers).
    #[must_use]
    pub fn with_max_rounds(mut self, rounds: u64) -> Self {
        self.max_rounds = Some(rounds);
        self
    }

    /// The node ids of the fleet, in register order.
    pub fn node_ids(&self) -> impl Iterator<Item = &str> {
        self.nodes.iter().map(|n| n.id.node_id.as_str())
    }

    /// Each node's relay path and declared edges, in register order.
    pub fn links(&self) -> impl Iterator<Item = (&str, &NodeLinks)> {
        self.nodes.iter().map(|n| (n.id.node_id.as_str(), &n.links))
    }

    /// The relay failures this simulator injects ([`SimConfig::relay_faults`]).
    pub fn fault_plan(&self) -> &FaultPlan {
        &self.faults
    }

    /// The error that ended the iteration early, if any.
    pub fn error(&self) -> Option<&SimError> {
        self.error.as_ref()
    }

    fn ts(&self, round: u64, phase_ms: i64) -> Result<(i64, String), SimError> {
        let ms = i64::try_from(round)
            .ok()
            .and_then(|r| r.checked_mul(self.interval_ms))
            .and_then(|o| o.checked_add(phase_ms))
            .and_then(|o| o.checked_add(self.config.start_ms));
        ms.and_then(|ms| wire::format_ts(ms).map(|s| (ms, s)))
            .ok_or(SimError::TimeOutOfRange { round })
    }

    fn emit_domain(&mut self, i: usize) -> Result<(), SimError> {
        let Some(d) = FEDERATION.get(i) else {
            return Ok(());
        };
        let (ms, ts) = self.ts(0, 0)?;
        let record = DomainRecord {
            kind: "domain",
            domain_id: d.id,
            ts: &ts,
            seq: 1,
            parent_id: d.parent,
            level: d.level,
            autonomy: d.autonomy,
            version: None,
            sync: None,
        };
        self.pending
            .push_back(encode(d.id, ms, &record)?.into_control());
        Ok(())
    }

    fn emit_control_plane(&mut self) -> Result<(), SimError> {
        if !self.config.control_plane {
            return Ok(());
        }
        let (ms, ts) = self.ts(0, 0)?;
        let records = crate::control_plane::records(&ts, ms)?;
        self.pending.extend(records);
        Ok(())
    }

    fn emit_register(&mut self, i: usize) -> Result<(), SimError> {
        let Some(phase) = self.nodes.get(i).map(|n| n.phase_ms) else {
            return Ok(());
        };
        let (ms, ts) = self.ts(0, phase)?;
        let event_ids = self.config.event_ids;
        let Some(node) = self.nodes.get_mut(i) else {
            return Ok(());
        };
        let id = &node.id;
        let body = wire::Register {
            kind: id.kind,
            domain_id: id.zone.id,
            region: id.zone.region,
            zone: id.zone.id,
            tags: &id.tags,
            hardware: Hardware {
                serial: &id.serial,
                manufacturer: id.batch.manufacturer,
                model: id.model(),
                batch_id: id.batch.id,
                origin: id.batch.origin,
            },
            firmware: Firmware {
                version: id.firmware_version(),
                signature: self
                    .firmware_signatures
                    .get(id.firmware)
                    .map_or("", String::as_str),
            },
            public_key: None,
        };
        node.seq += 1;
        let msg = node_message("register", &id.node_id, &ts, node.seq, event_ids, body, ms)?;
        self.pending.push_back(msg);
        Ok(())
    }

    fn emit_round(&mut self, round: u64, i: usize) -> Result<(), SimError> {
        let Some(phase) = self.nodes.get(i).map(|n| n.phase_ms) else {
            return Ok(());
        };
        let (ms, ts) = self.ts(round, phase)?;
        let (event_ids, outage_rate) = (self.config.event_ids, self.config.outage_rate);
        let (snapshot_every, start_ms) =
            (u64::from(self.config.snapshot_every), self.config.start_ms);
        let fault = self.faults.failed_at(round);
        let Some(node) = self.nodes.get_mut(i) else {
            return Ok(());
        };
        let rng = &mut self.rng;
        let key = node.id.node_id.as_str();
        let step = node
            .dynamics
            .step_link(rng, node.id.zone.opportunistic, outage_rate);
        let link = |state, seq: &mut u64| {
            *seq += 1;
            node_message("link", key, &ts, *seq, event_ids, Link { state }, ms)
        };
        let uptime_s =
            node.dynamics.boot_uptime_s + u64::try_from((ms - start_ms) / 1000).unwrap_or(0);
        match step {
            LinkStep::Offline => {
                let buffered = u64::try_from(node.buffer.len()).unwrap_or(u64::MAX);
                let heartbeat = node.dynamics.buffered_heartbeat(rng, uptime_s, buffered);
                node.seq += 1;
                node.buffer.push(Buffered {
                    ts,
                    seq: node.seq,
                    heartbeat,
                });
                return Ok(());
            }
            LinkStep::Lost => {
                let msg = link(LinkState::Lost, &mut node.seq)?;
                self.pending.push_back(msg);
                return Ok(());
            }
            LinkStep::Returned => {
                let msg = link(LinkState::Detected, &mut node.seq)?;
                self.pending.push_back(msg);
                let buffer = std::mem::take(&mut node.buffer);
                node.replays += 1;
                let session_id = format!("rs-{key}-{}", node.replays);
                let sent = ReplaySend {
                    node_id: key,
                    session_id: &session_id,
                    ts: &ts,
                    event_time_ms: ms,
                    event_ids,
                };
                sent.upload(&buffer, &mut node.seq, &mut self.pending)?;
            }
            LinkStep::Online => {}
        }
        let mut heartbeat = node.dynamics.heartbeat(rng, uptime_s);
        if let Some(fault) = &fault {
            let impact = topology::impact(&fault.relay_id, key, &node.links.via);
            topology::degrade(&mut heartbeat, impact);
        }
        node.heartbeats += 1;
        node.seq += 1;
        let body = Via {
            body: heartbeat,
            via: Some(&node.links.via),
        };
        let msg = node_message("heartbeat", key, &ts, node.seq, event_ids, body, ms)?;
        self.pending.push_back(msg);

        let due = (node.heartbeats + u64::from(node.snapshot_offset)) % snapshot_every == 0;
        if node.heartbeats == 1 || due || step == LinkStep::Returned {
            node.dynamics.maybe_upgrade(rng);
            let d = &node.dynamics;
            let snapshot = wire::Snapshot {
                reported_version: d.version(),
                policy_version: d.policy(),
                config: &d.config,
                firmware_version: node.id.firmware_version(),
                sbom_hash: self.sbom_hashes.get(d.version).map_or("", String::as_str),
                inventory: node.id.inventory,
            };
            node.seq += 1;
            let msg = node_message("snapshot", key, &ts, node.seq, event_ids, snapshot, ms)?;
            self.pending.push_back(msg);
        }
        if !node.edges_sent {
            node.edges_sent = true;
            for e in &node.links.edges {
                let edge = wire::Edge {
                    peer_id: &e.peer_id,
                    relation: e.relation,
                    state: e.state,
                };
                node.seq += 1;
                let msg = node_message("edge", key, &ts, node.seq, event_ids, edge, ms)?;
                self.pending.push_back(msg);
            }
        }
        Ok(())
    }

    /// Advances the stage machine by one step, queueing zero or more messages.
    fn advance(&mut self) -> Result<(), SimError> {
        match self.stage {
            Stage::Done => {}
            Stage::Domains(i) if i < FEDERATION.len() => {
                self.stage = Stage::Domains(i + 1);
                self.emit_domain(i)?;
            }
            Stage::Domains(_) => {
                self.stage = Stage::Control;
                self.emit_control_plane()?;
            }
            Stage::Control => self.stage = Stage::Registers(0),
            Stage::Registers(i) if i < self.nodes.len() => {
                self.stage = Stage::Registers(i + 1);
                self.emit_register(i)?;
            }
            Stage::Registers(_) => self.stage = self.next_round(0),
            Stage::Round { round, next } if next < self.nodes.len() => {
                self.stage = Stage::Round {
                    round,
                    next: next + 1,
                };
                self.emit_round(round, next)?;
            }
            Stage::Round { round, .. } => self.stage = self.next_round(round),
        }
        Ok(())
    }

    fn next_round(&self, finished: u64) -> Stage {
        match (self.max_rounds, finished.checked_add(1)) {
            (Some(max), _) if finished >= max => Stage::Done,
            (_, Some(round)) => Stage::Round { round, next: 0 },
            (_, None) => Stage::Done,
        }
    }
}

impl Iterator for Simulator {
    type Item = RawMessage;

    fn next(&mut self) -> Option<RawMessage> {
        loop {
            if let Some(msg) = self.pending.pop_front() {
                return Some(msg);
            }
            if self.stage == Stage::Done {
                return None;
            }
            if let Err(e) = self.advance() {
                self.error = Some(e);
                self.stage = Stage::Done;
                self.pending.clear();
            }
        }
    }
}

impl std::iter::FusedIterator for Simulator {}

/// All messages up to and including heartbeat round `rounds`.
///
/// # Errors
/// Any [`SimError`] from [`Simulator::new`] or from the iteration.
pub fn messages_for_rounds(config: &SimConfig, rounds: u64) -> Result<Vec<RawMessage>, SimError> {
    let mut sim = Simulator::new(config.clone())?.with_max_rounds(rounds);
    let out: Vec<RawMessage> = sim.by_ref().collect();
    match sim.error.take() {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// A `sha256:`-prefixed 64-hex-digit string drawn from the RNG.
fn sha256_like(rng: &mut ChaCha8Rng) -> String {
    let words: [u64; 4] = rng.random();
    let hex: String = words.iter().map(|w| format!("{w:016x}")).collect();
    format!("sha256:{hex}")
}

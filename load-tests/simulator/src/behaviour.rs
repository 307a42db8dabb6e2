//! How a simulated node behaves over time: link quality, health, outages,
//! backlog and software upgrades. Pure state transitions driven by the
//! simulator's seeded RNG; no clock, no I/O.

use std::collections::BTreeMap;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::fleet::{pick_weighted, NodeIdentity};
use crate::wire::{ConfigValue, Health, Heartbeat};

/// Software versions in the fleet with their initial shares, oldest first.
pub const SOFTWARE_VERSIONS: [(&str, u32); 3] = [("1.4.5", 15), ("1.4.6", 50), ("1.4.7", 35)];

/// Policy versions, oldest first; a node on the newest software runs the newest policy.
pub const POLICY_VERSIONS: [&str; 2] = ["policy-v2.0", "policy-v2.1"];

/// Chance per snapshot that a node not on the newest version upgrades one step.
const UPGRADE_PER_SNAPSHOT: f64 = 0.05;

/// Per-round chance that an online node loses its link, before zone and link
/// multipliers and the configured `outage_rate`.
const BASE_OUTAGE_PER_ROUND: f64 = 0.0005;

/// Quality class of a node's link; decides its heartbeat metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkClass {
    /// Low latency, negligible loss: a projection sees LIVE.
    Good,
    /// High latency, some loss: a projection sees DELAYED.
    Congested,
    /// Very high latency and loss, small backlog: DELAYED or worse.
    Poor,
}

/// What a node's link does in one heartbeat round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkStep {
    /// Online: send a heartbeat.
    Online,
    /// The link just went down: send `link lost`, then nothing.
    Lost,
    /// Still down: record a heartbeat in the node's buffer instead of sending it.
    Offline,
    /// The link came back: send `link detected`, upload the buffer as a replay
    /// session, then a heartbeat and a snapshot.
    Returned,
}

/// The changing state of one node.
#[derive(Debug, Clone, PartialEq)]
pub struct Dynamics {
    /// Current link class.
    pub link: LinkClass,
    /// The node degrades often (bad hardware batch or bad luck).
    pub flaky: bool,
    /// Last reported health.
    pub health: Health,
    /// Rounds left in the current outage; 0 when online.
    pub outage_left: u32,
    /// Messages buffered on the node.
    pub backlog: u64,
    /// Index into [`SOFTWARE_VERSIONS`].
    pub version: usize,
    /// Applied configuration.
    pub config: BTreeMap<&'static str, ConfigValue>,
    /// Uptime at the start of the simulation, seconds.
    pub boot_uptime_s: u64,
}

impl Dynamics {
    /// Initial state of `node`.
    pub fn new(node: &NodeIdentity, rng: &mut ChaCha8Rng) -> Self {
        let (congested, poor) = if node.zone.opportunistic {
            (0.15, 0.07)
        } else {
            (0.05, 0.02)
        };
        let roll: f64 = rng.random();
        let link = if roll < poor {
            LinkClass::Poor
        } else if roll < poor + congested {
            LinkClass::Congested
        } else {
            LinkClass::Good
        };
        let flaky = (node.batch.flaky && rng.random_bool(0.3)) || rng.random_bool(0.03);
        let version = pick_weighted(rng, &SOFTWARE_VERSIONS);
        let strict = version + 1 == SOFTWARE_VERSIONS.len() && rng.random_bool(0.9);
        Self {
            link,
            flaky,
            health: Health::Ok,
            outage_left: 0,
            backlog: 0,
            version,
            config: config(strict),
            boot_uptime_s: rng.random_range(60..7 * 24 * 3600),
        }
    }

    /// Running software version.
    pub fn version(&self) -> &'static str {
        SOFTWARE_VERSIONS
            .get(self.version)
            .map_or(SOFTWARE_VERSIONS[0].0, |(v, _)| v)
    }

    /// Applied policy version: the newest for nodes on the newest software.
    pub fn policy(&self) -> &'static str {
        if self.version + 1 == SOFTWARE_VERSIONS.len() {
            POLICY_VERSIONS[1]
        } else {
            POLICY_VERSIONS[0]
        }
    }

    /// Advances the link by one round. `opportunistic` zones lose links more
    /// often and for longer; `outage_rate` scales the chance (0 disables outages).
    pub fn step_link(
        &mut self,
        rng: &mut ChaCha8Rng,
        opportunistic: bool,
        outage_rate: f64,
    ) -> LinkStep {
        if self.outage_left > 0 {
            self.outage_left -= 1;
            return if self.outage_left == 0 {
                LinkStep::Returned
            } else {
                LinkStep::Offline
            };
        }
        let zone_factor = if opportunistic { 4.0 } else { 1.0 };
        let link_factor = match self.link {
            LinkClass::Good => 1.0,
            LinkClass::Congested => 2.0,
            LinkClass::Poor => 4.0,
        };
        let p = (BASE_OUTAGE_PER_ROUND * zone_factor * link_factor * outage_rate).clamp(0.0, 1.0);
        if rng.random_bool(p) {
            // Rounds spent offline, including the one that reports the return.
            // Opportunistic zones stay away for minutes to hours (seed 003's
            // zone C node is gone for three), the others for a few rounds.
            self.outage_left = if opportunistic {
                rng.random_range(10..=360)
            } else {
                rng.random_range(2..=10)
            };
            return LinkStep::Lost;
        }
        if rng.random_bool(0.001) {
            self.link = match self.link {
                LinkClass::Good => LinkClass::Congested,
                LinkClass::Congested | LinkClass::Poor => LinkClass::Good,
            };
        }
        LinkStep::Online
    }

    /// The next heartbeat: link metrics for the current class, health after one
    /// Markov step, and the backlog after this round's drain.
    pub fn heartbeat(&mut self, rng: &mut ChaCha8Rng, uptime_s: u64) -> Heartbeat {
        let (metrics, drain) = self.link_metrics(rng);
        let backlog = self.backlog;
        self.backlog = self.backlog.saturating_sub(drain);
        self.heartbeat_with(rng, metrics, backlog, uptime_s)
    }

    /// A heartbeat recorded while the link is down, to be uploaded by the next
    /// replay: metrics as [`Dynamics::heartbeat`], but nothing drains, and the
    /// backlog it reports includes the `buffered` events recorded before it.
    pub fn buffered_heartbeat(
        &mut self,
        rng: &mut ChaCha8Rng,
        uptime_s: u64,
        buffered: u64,
    ) -> Heartbeat {
        let (metrics, _) = self.link_metrics(rng);
        let backlog = self.backlog.saturating_add(buffered);
        self.heartbeat_with(rng, metrics, backlog, uptime_s)
    }

    fn heartbeat_with(
        &mut self,
        rng: &mut ChaCha8Rng,
        (rtt, loss, bandwidth): (f64, f64, u64),
        backlog: u64,
        uptime_s: u64,
    ) -> Heartbeat {
        self.health = next_health(self.health, self.flaky, rng);
        Heartbeat {
            rtt_ms: round_to(rtt, 10.0),
            loss_pct: round_to(loss, 100.0).clamp(0.0, 100.0),
            bandwidth_kbps: bandwidth,
            backlog_messages: backlog,
            health: self.health,
            uptime_s,
        }
    }

    /// `(rtt, loss, bandwidth)` for the current class and the round's drain;
    /// slow classes add to the backlog.
    fn link_metrics(&mut self, rng: &mut ChaCha8Rng) -> ((f64, f64, u64), u64) {
        let (rtt, loss, bandwidth, drain) = match self.link {
            LinkClass::Good => {
                // A rare transient spike, not a change of class.
                let spike = if rng.random_bool(0.002) {
                    rng.random_range(3.0..8.0)
                } else {
                    1.0
                };
                (
                    rng.random_range(15.0..90.0) * spike,
                    rng.random_range(0.0..0.3),
                    rng.random_range(10_000..=100_000),
                    200,
                )
            }
            LinkClass::Congested => {
                self.backlog += rng.random_range(0..=8);
                (
                    rng.random_range(600.0..2500.0),
                    rng.random_range(1.0..6.0),
                    rng.random_range(500..=5_000),
                    40,
                )
            }
            LinkClass::Poor => {
                self.backlog += rng.random_range(0..=20);
                (
                    rng.random_range(2500.0..8000.0),
                    rng.random_range(6.0..25.0),
                    rng.random_range(64..=800),
                    10,
                )
            }
        };
        ((rtt, loss, bandwidth), drain)
    }

    /// Called when the node sends a snapshot: it may have upgraded one version
    /// since the last one, taking the newest policy and config with the newest software.
    pub fn maybe_upgrade(&mut self, rng: &mut ChaCha8Rng) {
        if self.version + 1 < SOFTWARE_VERSIONS.len() && rng.random_bool(UPGRADE_PER_SNAPSHOT) {
            self.version += 1;
            if self.version + 1 == SOFTWARE_VERSIONS.len() {
                self.config = config(true);
            }
        }
    }
}

/// One step of the health Markov chain.
fn next_health(current: Health, flaky: bool, rng: &mut ChaCha8Rng) -> Health {
    let (degrade, recover) = if flaky { (0.10, 0.20) } else { (0.001, 0.5) };
    match current {
        Health::Ok if rng.random_bool(degrade) => Health::Degraded,
        Health::Degraded if rng.random_bool(recover) => Health::Ok,
        other => other,
    }
}

/// The configuration a node applies: strict (what the newest policy wants) or lax.
fn config(strict: bool) -> BTreeMap<&'static str, ConfigValue> {
    let (mode, cps) = if strict {
        ("hard", 2000)
    } else {
        ("soft", 1500)
    };
    BTreeMap::from([
        ("rate_limit.max_cps", ConfigValue::Int(cps)),
        ("stir.enforcement_mode", ConfigValue::Text(mode)),
    ])
}

/// Rounds `x` to `1/scale` (e.g. scale 10 keeps one decimal).
fn round_to(x: f64, scale: f64) -> f64 {
    (x * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn dynamics(link: LinkClass) -> Dynamics {
        Dynamics {
            link,
            flaky: false,
            health: Health::Ok,
            outage_left: 0,
            backlog: 0,
            version: 0,
            config: config(false),
            boot_uptime_s: 0,
        }
    }

    #[test]
    fn link_classes_separate_by_rtt_and_loss() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..1000 {
            let good = dynamics(LinkClass::Good).heartbeat(&mut rng, 0);
            let congested = dynamics(LinkClass::Congested).heartbeat(&mut rng, 0);
            let poor = dynamics(LinkClass::Poor).heartbeat(&mut rng, 0);
            assert!(good.loss_pct < 0.5);
            assert!(congested.rtt_ms >= 600.0 && congested.loss_pct >= 1.0);
            assert!(poor.rtt_ms >= 2500.0 && poor.loss_pct >= 6.0);
            assert!(poor.loss_pct <= 100.0);
        }
    }

    #[test]
    fn outage_ends_with_return_and_nothing_to_drain() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        for (opportunistic, rounds) in [(false, 2..=10), (true, 10..=360)] {
            for _ in 0..20 {
                let mut d = dynamics(LinkClass::Good);
                assert_eq!(d.step_link(&mut rng, opportunistic, 1e9), LinkStep::Lost);
                let mut offline = 0;
                let last = loop {
                    let step = d.step_link(&mut rng, opportunistic, 1e9);
                    offline += 1;
                    if step != LinkStep::Offline {
                        break step;
                    }
                };
                assert_eq!(last, LinkStep::Returned);
                assert!(rounds.contains(&offline), "{opportunistic}: {offline}");
                // The outage itself leaves nothing to drain: the node replays it.
                assert_eq!(d.heartbeat(&mut rng, 0).backlog_messages, 0);
            }
        }
    }

    #[test]
    fn buffered_heartbeats_count_the_buffer_and_do_not_drain() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut d = dynamics(LinkClass::Good);
        d.backlog = 7;
        for buffered in 0..5 {
            let hb = d.buffered_heartbeat(&mut rng, 0, buffered);
            assert_eq!(hb.backlog_messages, 7 + buffered);
        }
        assert_eq!(d.backlog, 7);
    }

    #[test]
    fn no_outages_when_disabled() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut d = dynamics(LinkClass::Poor);
        for _ in 0..10_000 {
            assert_eq!(d.step_link(&mut rng, true, 0.0), LinkStep::Online);
        }
    }

    #[test]
    fn upgrades_reach_newest_and_stop() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let mut d = dynamics(LinkClass::Good);
        for _ in 0..10_000 {
            d.maybe_upgrade(&mut rng);
        }
        assert_eq!(d.version(), "1.4.7");
        assert_eq!(d.policy(), "policy-v2.1");
        assert_eq!(
            d.config.get("stir.enforcement_mode"),
            Some(&ConfigValue::Text("hard"))
        );
    }
}

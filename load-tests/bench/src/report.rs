//! One [`Measurement`] per benchmark, and the [`Report`] printed as a table or as JSON.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use super::cpu::CpuTime;

/// Throughput of one benchmark.
#[derive(Clone, Debug, Serialize)]
pub struct Measurement {
    /// What ran, e.g. `normalizer`.
    pub name: String,
    /// Which input it read: `raw` or `events`.
    pub input: String,
    /// Input records processed.
    pub records: u64,
    /// Records the stage wrote (outputs + changelog); `None` for the baseline.
    pub records_out: Option<u64>,
    /// Committed batches (transactions); `None` for the baseline.
    pub batches: Option<u64>,
    /// Wall-clock seconds.
    pub wall_s: f64,
    /// Seconds from starting a stage until its first commit was seen (start-up and first
    /// batch, included in `wall_s`); `None` for the baseline.
    pub first_commit_s: Option<f64>,
    /// CPU seconds of this process (user + system, all threads).
    pub cpu_s: f64,
    /// CPU seconds of the broker meanwhile, when `--broker-pid` was given.
    pub broker_cpu_s: Option<f64>,
    /// `records / wall_s`.
    pub events_per_s: f64,
    /// Records after the first commit over the time after it: the rate without start-up;
    /// `None` for the baseline.
    pub steady_events_per_s: Option<f64>,
    /// `records / cpu_s`.
    pub events_per_cpu_s: f64,
    /// `events_per_s` over the baseline's on the same input.
    pub ratio_wall: f64,
    /// `events_per_cpu_s` over the baseline's on the same input.
    pub ratio_cpu: f64,
}

impl Measurement {
    /// A measurement of `records` in `wall` and `cpu`, its ratios against `baseline` (itself
    /// when `None`).
    pub fn new(
        name: &str,
        input: &str,
        records: u64,
        wall: Duration,
        cpu: CpuTime,
        baseline: Option<&Measurement>,
    ) -> Self {
        let wall_s = wall.as_secs_f64();
        let cpu_s = cpu.own.as_secs_f64();
        let per = |seconds: f64| {
            if seconds > 0.0 {
                records as f64 / seconds
            } else {
                f64::NAN
            }
        };
        let (events_per_s, events_per_cpu_s) = (per(wall_s), per(cpu_s));
        let (ratio_wall, ratio_cpu) = match baseline {
            Some(base) => (
                events_per_s / base.events_per_s,
                events_per_cpu_s / base.events_per_cpu_s,
            ),
            None => (1.0, 1.0),
        };
        Self {
            name: name.to_owned(),
            input: input.to_owned(),
            records,
            records_out: None,
            batches: None,
            wall_s,
            first_commit_s: None,
            cpu_s,
            broker_cpu_s: cpu.broker.map(|d| d.as_secs_f64()),
            events_per_s,
            steady_events_per_s: None,
            events_per_cpu_s,
            ratio_wall,
            ratio_cpu,
        }
    }
}

/// Everything one `stage_bench` run measured.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// When the run started (RFC 3339, UTC).
    pub date: String,
    /// `release` or `debug`.
    pub build: String,
    /// CPU cores available to this process.
    pub cores: usize,
    /// Broker address.
    pub kafka: String,
    /// Caveat about the broker sharing the machine.
    pub note: String,
    /// Raw messages requested (`--events`).
    pub events: u64,
    /// Rate at which the raw messages were produced (setup, for reference).
    pub produce_events_per_s: f64,
    /// The benchmarks, in the order they ran.
    pub measurements: Vec<Measurement>,
}

impl Report {
    /// The report as an aligned text table with a header.
    pub fn table(&self) -> String {
        let mut text = String::new();
        let _ = writeln!(
            text,
            "stage_bench {} | {} build | {} cores | kafka {} | {} raw events (produced at {:.0}/s)",
            self.date, self.build, self.cores, self.kafka, self.events, self.produce_events_per_s
        );
        let _ = writeln!(text, "note: {}", self.note);
        let _ = writeln!(
            text,
            "{:<19} {:<6} {:>7} {:>6} {:>6} {:>6} {:>9} {:>9} {:>6} {:>8} {:>9} {:>8} {:>9}",
            "benchmark",
            "input",
            "records",
            "out",
            "wall s",
            "1st s",
            "events/s",
            "steady/s",
            "cpu s",
            "brk cpu",
            "ev/cpu-s",
            "x raw/s",
            "x raw/cpu"
        );
        let or_dash = |value: Option<String>| value.unwrap_or_else(|| "-".to_owned());
        for m in &self.measurements {
            let _ = writeln!(
                text,
                "{:<19} {:<6} {:>7} {:>6} {:>6.2} {:>6} {:>9.0} {:>9} {:>6.2} {:>8} {:>9.0} {:>8.3} {:>9.3}",
                m.name,
                m.input,
                m.records,
                or_dash(m.records_out.map(|n| n.to_string())),
                m.wall_s,
                or_dash(m.first_commit_s.map(|s| format!("{s:.2}"))),
                m.events_per_s,
                or_dash(m.steady_events_per_s.map(|r| format!("{r:.0}"))),
                m.cpu_s,
                or_dash(m.broker_cpu_s.map(|s| format!("{s:.2}"))),
                m.events_per_cpu_s,
                m.ratio_wall,
                m.ratio_cpu
            );
        }
        text
    }
}

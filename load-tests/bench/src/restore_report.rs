//! The `restore_bench` report: figures of the full and the snapshot + tail restores, printed
//! as a table or as JSON.

use serde::Serialize;

use super::restore::RestorePass;

/// Partitions of the benchmark's changelog.
pub const PARTITIONS: i32 = 4;

/// Everything one run measured.
#[derive(Debug, Serialize)]
pub struct RestoreReport {
    /// When the run started (RFC 3339, UTC).
    pub date: String,
    /// `release` or `debug`.
    pub build: String,
    /// CPU cores available to this process.
    pub cores: usize,
    /// Broker address.
    pub kafka: String,
    /// Extra properties of the restore consumers (`--restore-property`).
    pub restore_properties: Vec<String>,
    /// Caveat about the broker sharing the machine.
    pub note: String,
    /// The changelog topic (left on the broker).
    pub topic: String,
    /// Keys written.
    pub keys: u64,
    /// Average key size in bytes.
    pub avg_key_bytes: f64,
    /// Average value size in bytes.
    pub avg_value_bytes: f64,
    /// Rate of filling the changelog (setup, for reference).
    pub produce_records_per_s: f64,
    /// Full restore of the `keys` records, before the tail.
    pub full: Pass,
    /// Seconds writing the snapshots of all partitions (fsync included).
    pub snapshot_write_s: f64,
    /// Size of the snapshot files.
    pub snapshot_bytes: u64,
    /// Updates appended after the snapshots.
    pub tail_records: u64,
    /// Full restore of the whole changelog after the tail (`keys + tail` records).
    pub full_after_tail: Pass,
    /// Snapshot + tail restore of the same changelog.
    pub snapshot_tail: SnapshotTailPass,
    /// `full_after_tail.wall_s / snapshot_tail.wall_s`.
    pub speed_up: f64,
}

/// A restore from the whole changelog.
#[derive(Debug, Serialize)]
pub struct Pass {
    /// Changelog records replayed.
    pub records: u64,
    /// Wall-clock seconds, all partitions.
    pub wall_s: f64,
    /// `records / wall_s`.
    pub records_per_s: f64,
    /// CPU seconds of this process.
    pub cpu_s: f64,
    /// The broker's CPU seconds meanwhile (with `--broker-pid`).
    pub broker_cpu_s: Option<f64>,
}

/// A restore from snapshots plus the changelog's tail.
#[derive(Debug, Serialize)]
pub struct SnapshotTailPass {
    /// Entries loaded from snapshots.
    pub snapshot_entries: u64,
    /// Time inside `load_snapshot` (read, CRC check, decode), all partitions.
    pub snapshot_load_s: f64,
    /// Changelog records replayed after the snapshots.
    pub tail_records: u64,
    /// `wall_s - snapshot_load_s`: reading the tail (consumer start-up included).
    pub tail_s: f64,
    /// Wall-clock seconds, all partitions.
    pub wall_s: f64,
    /// (snapshot entries + tail records) / wall.
    pub entries_per_s: f64,
    /// CPU seconds of this process.
    pub cpu_s: f64,
    /// The broker's CPU seconds meanwhile (with `--broker-pid`).
    pub broker_cpu_s: Option<f64>,
}

impl Pass {
    /// The figures of a restore from the whole changelog.
    pub fn of(pass: &RestorePass) -> Self {
        let wall_s = pass.wall.as_secs_f64();
        Self {
            records: pass.from_changelog(),
            wall_s,
            records_per_s: ratio(pass.from_changelog() as f64, wall_s),
            cpu_s: pass.cpu.own.as_secs_f64(),
            broker_cpu_s: broker_cpu(pass),
        }
    }
}

/// The broker's CPU seconds during `pass`, when they were measured.
pub fn broker_cpu(pass: &RestorePass) -> Option<f64> {
    pass.cpu.broker.map(|cpu| cpu.as_secs_f64())
}

fn cpu_text(cpu: Option<f64>) -> String {
    cpu.map_or_else(|| "-".to_owned(), |cpu| format!("{cpu:.2}"))
}

/// `a / b`, or NaN when `b` is not positive.
pub fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        f64::NAN
    }
}

impl RestoreReport {
    /// The report as text: a table of the three restores and the snapshot figures.
    pub fn table(&self) -> String {
        let r = self;
        let full = &r.full;
        let after = &r.full_after_tail;
        let snap = &r.snapshot_tail;
        format!(
            "restore_bench {date} ({build}, {cores} cores, broker {kafka})\n\
             note: {note}\n\
             restore consumer properties: {props}\n\
             keys {keys}  avg key {key:.1} B  avg value {value:.1} B  changelog {topic} ({PARTITIONS} partitions)\n\
             \n\
             restore                    records   snap entries  wall s   records/s    cpu s  brk cpu\n\
             full (before tail)      {fr:>10}  {dash:>13}  {fw:>6.2}  {frs:>10.0}  {fc:>7.2}  {fb:>7}\n\
             full (after tail)       {ar:>10}  {dash:>13}  {aw:>6.2}  {ars:>10.0}  {ac:>7.2}  {ab:>7}\n\
             snapshot + tail         {sr:>10}  {se:>13}  {sw:>6.2}  {srs:>10.0}  {sc:>7.2}  {sb:>7}\n\
             \n\
             snapshot write s {write:.2} ({bytes} bytes)  snapshot load s {load:.2}  tail records {tail}  \
             tail s {tail_s:.2}  snapshot+tail s {sw:.2}\n\
             speed-up (full after tail / snapshot + tail) {speed:.1}x\n\
             state check: both restores hold identical keys and counts in every partition\n",
            date = r.date,
            build = r.build,
            cores = r.cores,
            kafka = r.kafka,
            note = r.note,
            props = if r.restore_properties.is_empty() {
                "(runtime defaults)".to_owned()
            } else {
                r.restore_properties.join(", ")
            },
            keys = r.keys,
            key = r.avg_key_bytes,
            value = r.avg_value_bytes,
            topic = r.topic,
            dash = "-",
            fr = full.records,
            fw = full.wall_s,
            frs = full.records_per_s,
            fc = full.cpu_s,
            fb = cpu_text(full.broker_cpu_s),
            ar = after.records,
            aw = after.wall_s,
            ars = after.records_per_s,
            ac = after.cpu_s,
            ab = cpu_text(after.broker_cpu_s),
            sr = snap.tail_records,
            se = snap.snapshot_entries,
            sw = snap.wall_s,
            srs = snap.entries_per_s,
            sc = snap.cpu_s,
            sb = cpu_text(snap.broker_cpu_s),
            write = r.snapshot_write_s,
            bytes = r.snapshot_bytes,
            load = snap.snapshot_load_s,
            tail = r.tail_records,
            tail_s = snap.tail_s,
            speed = r.speed_up,
        )
    }
}

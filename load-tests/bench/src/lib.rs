//! Building blocks of the stage throughput benchmark (`stage_bench`): process CPU time, a
//! plain-consumer baseline, a trivial counting stage, and a way to run a real stage until it
//! has consumed a topic; of the restore benchmark (`restore_bench`); and of the sink
//! benchmark (`sink_bench`).
//!
//! Layout:
//! - [`cpu`]: CPU time of this process (or the broker's) from `/proc/<pid>/stat`.
//! - [`clickhouse`]: a private ClickHouse server (`dev/services clickhouse-private`) for runs
//!   that stop the server or measure its CPU alone; used by `sink_bench` and the outage test.
//! - [`counting`]: [`CountingStage`], the cheapest stateful stage (a count per key).
//! - [`kafka`]: the raw-consume baseline and [`run_until_consumed`].
//! - [`restore`]: filling a changelog directly, restoring all its partitions, timing
//!   snapshot loads ([`SnapshotTimed`]).
//! - [`restore_report`]: the restore benchmark's figures, as a table or JSON.
//! - [`report`]: one [`Measurement`] per benchmark and the table / JSON output.

pub mod clickhouse;
pub mod counting;
pub mod cpu;
pub mod kafka;
pub mod report;
pub mod restore;
pub mod restore_report;

pub use clickhouse::PrivateClickHouse;
pub use counting::CountingStage;
pub use cpu::{children_cpu, pid_cpu, process_cpu, CpuClock, CpuError, CpuTime};
pub use kafka::{consume_all, run_until_consumed, ConsumeOutcome, StageOutcome};
pub use report::{Measurement, Report};
pub use restore::{
    produce_changelog, restore_partitions, ChangelogRecord, Produced, RestorePass, SnapshotTimed,
};

/// Logs of a benchmark binary: to stderr, `RUST_LOG` or warnings only, so the figures on
/// stdout stay clean.
pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
}

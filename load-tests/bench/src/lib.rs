//! Benchmarks of the Souverix fleet pipeline: stage throughput next to a plain consumer
//! (`stage_bench`), state restore from the changelog and from snapshots (`restore_bench`), and
//! the ClickHouse sink next to ClickHouse's own loaders (`sink_bench`); see
//! `load-tests/README.md`. The binaries live in `src/bin/`; this library holds their building
//! blocks. Inputs come from `sxfleet-simulator`, the private ClickHouse server of `sink_bench`
//! from `sxfleet-private-clickhouse`.
//!
//! Layout:
//! - [`cpu`]: CPU time of this process (or the broker's) from `/proc/<pid>/stat`.
//! - [`counting`]: [`CountingStage`], the cheapest stateful stage (a count per key).
//! - [`kafka`]: the raw-consume baseline and [`run_until_consumed`].
//! - [`restore`]: filling a changelog directly, restoring all its partitions, timing
//!   snapshot loads ([`SnapshotTimed`]).
//! - [`restore_report`]: the restore benchmark's figures, as a table or JSON.
//! - [`report`]: one [`Measurement`] per benchmark and the table / JSON output.

pub mod counting;
pub mod cpu;
pub mod kafka;
pub mod report;
pub mod restore;
pub mod restore_report;

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

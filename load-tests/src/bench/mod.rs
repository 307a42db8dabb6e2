//! Building blocks of the stage throughput benchmark (`stage_bench`): process CPU time, a
//! plain-consumer baseline, a trivial counting stage, and a way to run a real stage until it
//! has consumed a topic; and of the restore benchmark (`restore_bench`).
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
pub use cpu::{pid_cpu, process_cpu, CpuClock, CpuError, CpuTime};
pub use kafka::{consume_all, run_until_consumed, ConsumeOutcome, StageOutcome};
pub use report::{Measurement, Report};
pub use restore::{
    produce_changelog, restore_partitions, ChangelogRecord, Produced, RestorePass, SnapshotTimed,
};

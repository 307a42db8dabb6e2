//! Metric names of the runtime, in one place.

/// Counter: changelog records replayed while restoring, labelled by `store` (changelog topic).
pub const RESTORED_RECORDS: &str = "sxfleet_restore_records_total";
/// Gauge: changelog records still to replay in the current restore, labelled by `store`.
pub const RESTORE_REMAINING: &str = "sxfleet_restore_remaining_records";
/// Counter: snapshots written, labelled by `store`.
pub const SNAPSHOTS_WRITTEN: &str = "sxfleet_snapshots_written_total";
/// Counter: committed batches, labelled by `stage`.
pub const BATCHES_COMMITTED: &str = "sxfleet_batches_committed_total";
/// Counter: stage sessions that failed and were restarted, labelled by `stage`.
pub const SESSIONS_FAILED: &str = "sxfleet_sessions_failed_total";
/// Counter: stages stopped on an internal error (a broken invariant), labelled by `stage`.
pub const STAGES_STOPPED: &str = "sxfleet_stages_stopped_total";
/// Counter: input partitions stopped on an internal error, labelled by `stage`.
pub const PARTITIONS_STOPPED: &str = "sxfleet_partitions_stopped_total";

//! [`SinkStats`]: the counters of one sink run.

use std::collections::BTreeMap;

/// What a run did. Row counts are rows the server acknowledged.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SinkStats {
    /// Records read from Kafka and handled (including those later dropped by a revocation).
    pub records: u64,
    /// Rows landed per table (by name); tables without rows are absent.
    pub inserted: BTreeMap<&'static str, u64>,
    /// Undecodable (or unfit) input records written to the DLQ topic.
    pub dead_lettered: u64,
    /// Records on the DLQ topic that could not be read; logged with their coordinates.
    pub unreadable_dead_letters: u64,
    /// Tombstones on the twin topic (nothing to insert).
    pub tombstones: u64,
    /// Tick records on the events topic (a processor's punctuation; nothing to insert).
    pub ticks: u64,
    /// Control-plane copies on the events topic (landed from the control topic, not here).
    pub control_copies: u64,
    /// Rows not inserted because they already landed: ClickHouse already had them (read again
    /// after a crash, a failed commit, or an insert that failed but was applied), or a Parquet
    /// file already holds them (read again after a restart).
    pub already_landed: u64,
    /// Rows ClickHouse rejected as bad data; written to the DLQ topic (except dead letters).
    pub rejected_rows: u64,
    /// Batches whose offsets were committed.
    pub commits: u64,
    /// Commits that failed (their rows may be inserted again later).
    pub commit_failures: u64,
    /// Failed tries of inserts and dead-letter writes that were retried.
    pub retries: u64,
    /// Rows dropped from the batch because their partition was revoked.
    pub revoked_rows: u64,
    /// Rows of the last batch left uninserted (or uncommitted) because shutdown came first.
    pub abandoned_rows: u64,
    /// Errors reported by the consumer while polling (transient; librdkafka recovers).
    pub consumer_errors: u64,
}

impl SinkStats {
    /// Rows landed in `table`.
    pub fn inserted(&self, table: &str) -> u64 {
        self.inserted.get(table).copied().unwrap_or(0)
    }

    /// Rows landed over all tables.
    pub fn inserted_total(&self) -> u64 {
        self.inserted.values().sum()
    }

    /// Counts `rows` more landed in `table`.
    pub fn add_inserted(&mut self, table: &'static str, rows: u64) {
        if rows > 0 {
            *self.inserted.entry(table).or_default() += rows;
        }
    }
}

//! One batch: rows per table plus the highest offset seen per input partition. Pure state; the
//! driver decides when to close it (limits, linger, shutdown) and what to do with it.

use crate::ddl::table;
use crate::route::TableRow;
use crate::rows::{
    AlertRow, AuthorityRow, DlqRow, DriftRow, EventRow, NodeStateRow, TransitionRow,
};

/// An input partition.
pub type Partition = (String, i32);

/// The rows of a batch, per table, in the order their records were read.
#[derive(Debug, Default)]
pub struct TableRows {
    /// For `events`.
    pub events: Vec<EventRow>,
    /// For `node_state`.
    pub node_state: Vec<NodeStateRow>,
    /// For `dlq`.
    pub dlq: Vec<DlqRow>,
    /// For `transitions`.
    pub transitions: Vec<TransitionRow>,
    /// For `drift_evaluations`.
    pub drift: Vec<DriftRow>,
    /// For `alerts`.
    pub alerts: Vec<AlertRow>,
    /// For `authority_audit`.
    pub authority: Vec<AuthorityRow>,
}

/// Rows waiting to be inserted and the offsets to commit once they are.
#[derive(Debug, Default)]
pub struct Batch {
    events: Vec<EventRow>,
    node_state: Vec<NodeStateRow>,
    dlq: Vec<DlqRow>,
    transitions: Vec<TransitionRow>,
    drift: Vec<DriftRow>,
    alerts: Vec<AlertRow>,
    authority: Vec<AuthorityRow>,
    /// Index into `partitions` of each row, per table, in row order (for revocation).
    events_from: Vec<usize>,
    node_state_from: Vec<usize>,
    dlq_from: Vec<usize>,
    transitions_from: Vec<usize>,
    drift_from: Vec<usize>,
    alerts_from: Vec<usize>,
    authority_from: Vec<usize>,
    /// Each partition seen in this batch with the first and the highest offset handled (row
    /// or not).
    partitions: Vec<(Partition, i64, i64)>,
    bytes: usize,
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one handled record: its row if it has one, and its offset (also for records that
    /// produce no row, such as dead-lettered ones, so the commit moves past them).
    pub fn push(
        &mut self,
        topic: &str,
        partition: i32,
        offset: i64,
        row: Option<TableRow>,
        bytes: usize,
    ) {
        let index = match self
            .partitions
            .iter()
            .position(|((t, p), _, _)| t == topic && *p == partition)
        {
            Some(index) => {
                if let Some((_, first, highest)) = self.partitions.get_mut(index) {
                    *first = (*first).min(offset);
                    *highest = (*highest).max(offset);
                }
                index
            }
            None => {
                self.partitions
                    .push(((topic.to_owned(), partition), offset, offset));
                self.partitions.len() - 1
            }
        };
        self.bytes = self.bytes.saturating_add(bytes);
        match row {
            Some(TableRow::Event(row)) => {
                self.events.push(row);
                self.events_from.push(index);
            }
            Some(TableRow::NodeState(row)) => {
                self.node_state.push(*row);
                self.node_state_from.push(index);
            }
            Some(TableRow::Dlq(row)) => {
                self.dlq.push(row);
                self.dlq_from.push(index);
            }
            Some(TableRow::Transition(row)) => {
                self.transitions.push(*row);
                self.transitions_from.push(index);
            }
            Some(TableRow::Drift(row)) => {
                self.drift.push(*row);
                self.drift_from.push(index);
            }
            Some(TableRow::Alert(row)) => {
                self.alerts.push(*row);
                self.alerts_from.push(index);
            }
            Some(TableRow::Authority(row)) => {
                self.authority.push(*row);
                self.authority_from.push(index);
            }
            None => {}
        }
    }

    /// Rows over all tables.
    pub fn rows(&self) -> usize {
        self.events.len()
            + self.node_state.len()
            + self.dlq.len()
            + self.transitions.len()
            + self.drift.len()
            + self.alerts.len()
            + self.authority.len()
    }

    /// Payload bytes of the records added.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// True when no record was added since the last [`Batch::clear`].
    pub fn is_empty(&self) -> bool {
        self.partitions.is_empty()
    }

    /// True when the batch reached `max_rows` rows or `max_bytes` bytes.
    pub fn is_full(&self, max_rows: usize, max_bytes: usize) -> bool {
        self.rows() >= max_rows || self.bytes >= max_bytes
    }

    /// Rows for `events`.
    pub fn events(&self) -> &[EventRow] {
        &self.events
    }

    /// Rows for `node_state`.
    pub fn node_state(&self) -> &[NodeStateRow] {
        &self.node_state
    }

    /// Rows for `dlq`.
    pub fn dlq(&self) -> &[DlqRow] {
        &self.dlq
    }

    /// Rows for `transitions`.
    pub fn transitions(&self) -> &[TransitionRow] {
        &self.transitions
    }

    /// Rows for `drift_evaluations`.
    pub fn drift(&self) -> &[DriftRow] {
        &self.drift
    }

    /// Rows for `alerts`.
    pub fn alerts(&self) -> &[AlertRow] {
        &self.alerts
    }

    /// Rows for `authority_audit`.
    pub fn authority(&self) -> &[AuthorityRow] {
        &self.authority
    }

    /// Moves the rows out for inserting; the offsets stay for [`Batch::commit_offsets`].
    pub fn take_rows(&mut self) -> TableRows {
        for from in [
            &mut self.events_from,
            &mut self.node_state_from,
            &mut self.dlq_from,
            &mut self.transitions_from,
            &mut self.drift_from,
            &mut self.alerts_from,
            &mut self.authority_from,
        ] {
            from.clear();
        }
        TableRows {
            events: std::mem::take(&mut self.events),
            node_state: std::mem::take(&mut self.node_state),
            dlq: std::mem::take(&mut self.dlq),
            transitions: std::mem::take(&mut self.transitions),
            drift: std::mem::take(&mut self.drift),
            alerts: std::mem::take(&mut self.alerts),
            authority: std::mem::take(&mut self.authority),
        }
    }

    /// The offsets to commit: for each partition, the offset after the highest one handled.
    pub fn commit_offsets(&self) -> Vec<(Partition, i64)> {
        self.partitions
            .iter()
            .map(|(partition, _, highest)| (partition.clone(), highest.saturating_add(1)))
            .collect()
    }

    /// Each partition of the batch with the first and the highest offset handled, indexed
    /// like [`Batch::row_partitions`].
    pub fn partition_ranges(&self) -> &[(Partition, i64, i64)] {
        &self.partitions
    }

    /// For each row of `table` (a [`crate::ddl::table`] name), in row order, the index of
    /// its input partition in [`Batch::partition_ranges`]; empty for other names.
    pub fn row_partitions(&self, table: &str) -> &[usize] {
        match table {
            table::EVENTS => &self.events_from,
            table::NODE_STATE => &self.node_state_from,
            table::DLQ => &self.dlq_from,
            table::TRANSITIONS => &self.transitions_from,
            table::DRIFT_EVALUATIONS => &self.drift_from,
            table::ALERTS => &self.alerts_from,
            table::AUTHORITY_AUDIT => &self.authority_from,
            _ => &[],
        }
    }

    /// Forgets everything read from `revoked` partitions: their rows are not inserted and their
    /// offsets not committed, so whoever owns them next reads them again from the last commit.
    /// Returns the number of rows dropped.
    pub fn drop_partitions(&mut self, revoked: &[Partition]) -> usize {
        let gone: Vec<bool> = self
            .partitions
            .iter()
            .map(|(partition, _, _)| revoked.contains(partition))
            .collect();
        if !gone.contains(&true) {
            return 0;
        }
        let before = self.rows();
        retain_rows(&mut self.events, &mut self.events_from, &gone);
        retain_rows(&mut self.node_state, &mut self.node_state_from, &gone);
        retain_rows(&mut self.dlq, &mut self.dlq_from, &gone);
        retain_rows(&mut self.transitions, &mut self.transitions_from, &gone);
        retain_rows(&mut self.drift, &mut self.drift_from, &gone);
        retain_rows(&mut self.alerts, &mut self.alerts_from, &gone);
        retain_rows(&mut self.authority, &mut self.authority_from, &gone);
        // Renumber the partitions that stay.
        let mut new_index = Vec::with_capacity(gone.len());
        let mut next = 0;
        for is_gone in &gone {
            new_index.push(next);
            if !is_gone {
                next += 1;
            }
        }
        for from in [
            &mut self.events_from,
            &mut self.node_state_from,
            &mut self.dlq_from,
            &mut self.transitions_from,
            &mut self.drift_from,
            &mut self.alerts_from,
            &mut self.authority_from,
        ] {
            for index in from.iter_mut() {
                *index = new_index.get(*index).copied().unwrap_or(0);
            }
        }
        let mut flags = gone.iter();
        self.partitions
            .retain(|_| !flags.next().copied().unwrap_or(false));
        // `bytes` is not split per partition; it stays as an upper bound until the batch
        // is cleared (at worst the batch closes a little early).
        if self.partitions.is_empty() {
            self.bytes = 0;
        }
        before - self.rows()
    }

    /// Empties the batch after it was written and committed.
    pub fn clear(&mut self) {
        *self = Self::default();
    }
}

fn retain_rows<T>(rows: &mut Vec<T>, from: &mut Vec<usize>, gone: &[bool]) {
    let is_gone = |index: &usize| gone.get(*index).copied().unwrap_or(false);
    let mut keep = from.iter().map(|index| !is_gone(index));
    rows.retain(|_| keep.next().unwrap_or(true));
    from.retain(|index| !is_gone(index));
}

#[cfg(test)]
#[path = "batch_tests.rs"]
mod tests;

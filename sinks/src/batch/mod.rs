//! One batch: rows per table plus the highest offset seen per input partition. Pure state; the
//! driver decides when to close it (limits, linger, shutdown) and what to do with it. Works for
//! any [`crate::tables::Table`]: the listed tables have their place from the start (in list
//! order, the order they land in), any other table's rows get one when they first arrive.

use crate::tables::{self, AnyRows, Table, TableRow};

/// An input partition.
pub type Partition = (String, i32);

/// Rows waiting to be inserted and the offsets to commit once they are.
#[derive(Debug)]
pub struct Batch {
    /// Rows per table, each with the index into `partitions` of every row.
    tables: Vec<Box<dyn AnyRows>>,
    /// Each partition seen in this batch with the first and the highest offset handled (row
    /// or not).
    partitions: Vec<(Partition, i64, i64)>,
    bytes: usize,
}

impl Default for Batch {
    fn default() -> Self {
        Self {
            tables: tables::landed().iter().map(|entry| entry.rows()).collect(),
            partitions: Vec::new(),
            bytes: 0,
        }
    }
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
        if let Some(row) = row {
            self.push_row(row, index);
        }
    }

    fn push_row(&mut self, row: TableRow, index: usize) {
        let row = match self.tables.iter_mut().find(|t| t.table() == row.table()) {
            Some(rows) => match rows.push(row, index) {
                Ok(()) => return,
                Err(row) => row,
            },
            None => row,
        };
        let mut rows = row.new_rows();
        // A fresh set of the row's own table takes it.
        if rows.push(row, index).is_ok() {
            self.tables.push(rows);
        }
    }

    /// Rows over all tables.
    pub fn rows(&self) -> usize {
        self.tables.iter().map(|rows| rows.len()).sum()
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

    /// Rows of table `T`, in the order their records were read.
    pub fn table<T: Table>(&self) -> &[T::Row] {
        self.tables
            .iter()
            .find_map(|rows| rows.as_any().downcast_ref::<tables::Rows<T>>())
            .map_or(&[], |rows| rows.rows.as_slice())
    }

    /// Rows per table (those with rows too), in landing order.
    pub fn tables(&self) -> impl Iterator<Item = &dyn AnyRows> {
        self.tables.iter().map(|rows| rows.as_ref())
    }

    /// Moves the rows out for inserting, per table in landing order; the offsets stay for
    /// [`Batch::commit_offsets`].
    pub fn take_rows(&mut self) -> Vec<Box<dyn AnyRows>> {
        self.tables.iter_mut().map(|rows| rows.take()).collect()
    }

    /// The offsets to commit: for each partition, the offset after the highest one handled.
    pub fn commit_offsets(&self) -> Vec<(Partition, i64)> {
        self.partitions
            .iter()
            .map(|(partition, _, highest)| (partition.clone(), highest.saturating_add(1)))
            .collect()
    }

    /// Each partition of the batch with the first and the highest offset handled, indexed
    /// like [`tables::Rows::from`].
    pub fn partition_ranges(&self) -> &[(Partition, i64, i64)] {
        &self.partitions
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
        // The new index of each partition that stays.
        let mut new_index = Vec::with_capacity(gone.len());
        let mut next = 0;
        for is_gone in &gone {
            new_index.push(next);
            if !is_gone {
                next += 1;
            }
        }
        for rows in &mut self.tables {
            rows.drop_partitions(&gone, &new_index);
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

#[cfg(test)]
mod tests;

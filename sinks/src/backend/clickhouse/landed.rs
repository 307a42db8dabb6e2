//! Effectively-once landing: which records of an input partition are already in ClickHouse.
//!
//! Every row carries the Kafka coordinates of the record it was built from
//! ([`crate::tables::SourceRow`]), in the columns its table names
//! ([`crate::tables::Table::COORDINATES`]). When the sink starts reading a partition (at
//! start-up, after a rebalance or a crash) its first record sits at the last committed offset;
//! everything the previous owner inserted after that commit is found with one query on the table
//! itself ([`landed_offsets`]) and skipped ([`Landed`]). The same query runs before an insert is
//! retried, because a failed `INSERT` may still have been applied. ClickHouse 18.16 has no
//! insert deduplication for non-replicated tables and no transactions, so the rows themselves
//! are the only record of what landed that cannot disagree with them.

use std::collections::{BTreeSet, HashMap};

use clickhouse::Client;

use crate::batch::Partition;
use crate::tables::Entry;

/// The query behind [`landed_offsets`]: offsets of `topic`/`partition` at or after a bound,
/// ascending, bound as `?` parameters in that order.
pub fn offsets_sql(table: &Entry) -> String {
    let columns = &table.coordinates;
    format!(
        "SELECT `{o}` FROM `{t}` WHERE `{tp}` = ? AND `{p}` = ? AND `{o}` >= ? ORDER BY `{o}`",
        o = columns.offset,
        t = table.name,
        tp = columns.topic,
        p = columns.partition,
    )
}

/// Offsets of `partition` of `topic` at or after `from` that already have a row in the
/// table. `client` must default to the sink's database.
///
/// # Errors
/// The client's error when the server cannot be reached or refuses the query.
pub async fn landed_offsets(
    client: &Client,
    table: &Entry,
    topic: &str,
    partition: i32,
    from: i64,
) -> Result<Vec<i64>, clickhouse::error::Error> {
    client
        .query(&offsets_sql(table))
        .bind(topic)
        .bind(partition)
        .bind(from)
        .fetch_all::<i64>()
        .await
}

/// Per input partition read since its assignment: the offsets ahead that already landed.
/// Pure state; the driver fills it with [`landed_offsets`] on a partition's first record.
#[derive(Debug, Default)]
pub struct Landed {
    partitions: HashMap<Partition, BTreeSet<i64>>,
}

impl Landed {
    /// True once [`Landed::learn`] ran for the partition since it was last forgotten.
    pub fn knows(&self, topic: &str, partition: i32) -> bool {
        self.partitions.contains_key(&(topic.to_owned(), partition))
    }

    /// Records what already landed of a partition ahead of the record about to be read.
    pub fn learn(&mut self, topic: &str, partition: i32, offsets: Vec<i64>) {
        self.partitions
            .insert((topic.to_owned(), partition), offsets.into_iter().collect());
    }

    /// True when the record at `offset` already landed, so its row must not be inserted
    /// again. Forgets offsets up to it: the partition is read in order.
    pub fn take(&mut self, topic: &str, partition: i32, offset: i64) -> bool {
        let Some(ahead) = self.partitions.get_mut(&(topic.to_owned(), partition)) else {
            return false;
        };
        let landed = ahead.contains(&offset);
        *ahead = ahead.split_off(&offset.saturating_add(1));
        landed
    }

    /// Forgets revoked partitions: a later owner (maybe this sink again) asks anew.
    pub fn forget(&mut self, revoked: &[Partition]) {
        for partition in revoked {
            self.partitions.remove(partition);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_exactly_what_landed_and_forgets_what_is_behind() {
        let mut landed = Landed::default();
        assert!(!landed.knows("t", 0));
        assert!(!landed.take("t", 0, 5), "unknown partitions skip nothing");
        landed.learn("t", 0, vec![10, 11, 13]);
        assert!(landed.knows("t", 0));
        assert!(!landed.knows("t", 1));
        let skipped: Vec<i64> = (10..16).filter(|o| landed.take("t", 0, *o)).collect();
        assert_eq!(skipped, [10, 11, 13]);
        // Read again from 10 (not a real sequence, but nothing is left to skip).
        assert!(!landed.take("t", 0, 10));
        landed.forget(&[("t".to_owned(), 0)]);
        assert!(!landed.knows("t", 0));
    }

    #[test]
    fn every_role_has_its_own_table() {
        use crate::tables::{self, TopicRole};
        let names: BTreeSet<&str> = TopicRole::ALL
            .iter()
            .filter_map(|role| tables::of_role(*role).map(|table| table.name))
            .collect();
        assert_eq!(names.len(), TopicRole::ALL.len());
        let dlq = tables::of_role(TopicRole::DeadLetters).unwrap();
        assert_eq!(
            offsets_sql(dlq),
            "SELECT `dlq_offset` FROM `dlq` WHERE `dlq_topic` = ? AND `dlq_partition` = ? \
             AND `dlq_offset` >= ? ORDER BY `dlq_offset`"
        );
    }
}

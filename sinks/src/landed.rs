//! Effectively-once landing: which records of an input partition are already in ClickHouse.
//!
//! Every row carries the Kafka coordinates of the record it was built from
//! ([`crate::rows::SourceRow`]), and each input topic lands in exactly one table
//! ([`Landing::of`]). When the sink starts reading a partition (at start-up, after a rebalance
//! or a crash) its first record sits at the last committed offset; everything the previous
//! owner inserted after that commit is found with one query on the table itself
//! ([`landed_offsets`]) and skipped ([`Landed`]). The same query runs before an insert is
//! retried, because a failed `INSERT` may still have been applied. ClickHouse 18.16 has no
//! insert deduplication for non-replicated tables and no transactions, so the rows themselves
//! are the only record of what landed that cannot disagree with them.

use std::collections::{BTreeSet, HashMap};

use clickhouse::Client;

use crate::batch::Partition;
use crate::ddl::table;
use crate::route::TopicRole;

/// The table a topic role lands in and the columns holding each row's coordinates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Landing {
    /// Table name (of the sink's database).
    pub table: &'static str,
    /// Column with the source topic.
    pub topic: &'static str,
    /// Column with the source partition.
    pub partition: &'static str,
    /// Column with the source offset.
    pub offset: &'static str,
}

impl Landing {
    /// Where records of `role` land. A new topic role gets one line here and a table with
    /// coordinate columns (see `docs/contracts.md`, "Effectively-once").
    pub fn of(role: TopicRole) -> Self {
        let plain = |table| Landing {
            table,
            topic: "topic",
            partition: "partition",
            offset: "offset",
        };
        match role {
            TopicRole::Events => plain(table::EVENTS),
            TopicRole::Twin => plain(table::NODE_STATE),
            TopicRole::Transitions => plain(table::TRANSITIONS),
            TopicRole::Drift => plain(table::DRIFT_EVALUATIONS),
            TopicRole::Alerts => plain(table::ALERTS),
            TopicRole::Authority => plain(table::AUTHORITY_AUDIT),
            TopicRole::DeadLetters => Landing {
                table: table::DLQ,
                topic: "dlq_topic",
                partition: "dlq_partition",
                offset: "dlq_offset",
            },
        }
    }

    /// The query behind [`landed_offsets`]: offsets of `topic`/`partition` at or after a
    /// bound, ascending, bound as `?` parameters in that order.
    pub fn offsets_sql(&self) -> String {
        format!(
            "SELECT `{o}` FROM `{t}` WHERE `{tp}` = ? AND `{p}` = ? AND `{o}` >= ? ORDER BY `{o}`",
            o = self.offset,
            t = self.table,
            tp = self.topic,
            p = self.partition,
        )
    }
}

/// Offsets of `partition` of `topic` at or after `from` that already have a row in the
/// landing table. `client` must default to the sink's database.
///
/// # Errors
/// The client's error when the server cannot be reached or refuses the query.
pub async fn landed_offsets(
    client: &Client,
    landing: &Landing,
    topic: &str,
    partition: i32,
    from: i64,
) -> Result<Vec<i64>, clickhouse::error::Error> {
    client
        .query(&landing.offsets_sql())
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
        let roles = [
            TopicRole::Events,
            TopicRole::Twin,
            TopicRole::DeadLetters,
            TopicRole::Transitions,
        ];
        let tables: BTreeSet<&str> = roles.iter().map(|r| Landing::of(*r).table).collect();
        assert_eq!(tables.len(), roles.len());
        assert_eq!(
            Landing::of(TopicRole::DeadLetters).offsets_sql(),
            "SELECT `dlq_offset` FROM `dlq` WHERE `dlq_topic` = ? AND `dlq_partition` = ? \
             AND `dlq_offset` >= ? ORDER BY `dlq_offset`"
        );
    }
}

//! The ClickHouse backend: a server fitted to its version, the migrations, one RowBinary
//! `INSERT` per table and batch, and effectively-once landing by reading back what landed.
//!
//! Layout:
//! - [`client`]: ClickHouse settings and a connection fitted to the server.
//! - [`mod@migrate`]: the migration list and the idempotent migrator.
//! - [`insert`]: one `INSERT` per table and batch.
//! - [`land`]: landing one table's rows: retry outages, skip landed rows, bisect rejections.
//! - [`landed`]: which records of a partition already landed.

pub mod client;
pub mod insert;
pub mod land;
pub mod landed;
pub mod migrate;

use std::any::Any;

use futures::future::BoxFuture;
use futures::FutureExt;
use sxfleet_runtime::error::error_chain;
use tracing::{info, warn};

pub use client::{ClickHouse, ClickHouseConfig};
use land::Lander;
use landed::{landed_offsets, Landed};

use super::api::{Backend, Rejects, Retry, Seen};
use crate::batch::{Batch, Partition};
use crate::dead_letters::{now_ms, rejected};
use crate::error::SinkError;
use crate::stats::SinkStats;
use crate::tables::{self, AnyRows, Coords, Entry, Rows, SourceRow, Table, TopicRole, Visit};

/// What landing one table's rows needs.
struct Flush<'f> {
    lander: Lander<'f>,
    stats: &'f mut SinkStats,
    rejects: &'f mut dyn Rejects,
}

/// Lands one table's rows (a [`Rows`] of its table); false once shutdown stopped it.
type LandFn =
    for<'f> fn(&'f mut Flush<'_>, Box<dyn AnyRows>) -> BoxFuture<'f, Result<bool, SinkError>>;

/// The sink's ClickHouse database, migrated, and what of each partition read since its
/// assignment already landed.
pub struct ClickHouseBackend {
    ch: ClickHouse,
    client: clickhouse::Client,
    landed: Landed,
    /// One typed landing per table of the list.
    landers: Vec<(&'static str, LandFn)>,
}

impl std::fmt::Debug for ClickHouseBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClickHouseBackend")
            .field("ch", &self.ch)
            .field("landed", &self.landed)
            .finish_non_exhaustive()
    }
}

impl ClickHouseBackend {
    /// The backend over `ch` (migrated by the caller).
    pub fn new(ch: ClickHouse) -> Self {
        struct Collect(Vec<(&'static str, LandFn)>);
        impl Visit for Collect {
            fn table<T: Table>(&mut self) {
                self.0
                    .push((T::NAME, |flush, rows| land_table::<T>(flush, rows).boxed()));
            }
        }
        let mut landers = Collect(Vec::new());
        tables::each(&mut landers);
        Self {
            client: ch.client(),
            ch,
            landed: Landed::default(),
            landers: landers.0,
        }
    }

    /// Reads which records of the partition at `at` already landed (from `at` on), retrying
    /// until ClickHouse answers. False if shutdown came first.
    async fn learn_landed(
        &mut self,
        table: &Entry,
        at: Coords<'_>,
        retry: Retry<'_>,
        stats: &mut SinkStats,
    ) -> bool {
        let mut backoff = retry.backoff();
        loop {
            match landed_offsets(&self.client, table, at.topic, at.partition, at.offset).await {
                Ok(offsets) => {
                    if !offsets.is_empty() {
                        info!(
                            table = table.name,
                            topic = at.topic,
                            partition = at.partition,
                            from = at.offset,
                            rows = offsets.len(),
                            "rows past the committed offset already landed; skipping them"
                        );
                    }
                    self.landed.learn(at.topic, at.partition, offsets);
                    return true;
                }
                Err(err) => {
                    stats.retries += 1;
                    if retry.shutdown.is_triggered() {
                        return false;
                    }
                    let delay = backoff.next_delay();
                    warn!(table = table.name, error = %error_chain(&err),
                        retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        "reading landed offsets failed; retrying");
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        () = retry.shutdown.triggered() => return false,
                    }
                }
            }
        }
    }
}

impl Backend for ClickHouseBackend {
    fn describe(&self) -> String {
        format!("clickhouse database {}", self.ch.database())
    }

    /// On a partition's first record since its assignment, asks the table of its role which
    /// records from there on landed; then says whether this one did.
    async fn seen(
        &mut self,
        role: TopicRole,
        at: Coords<'_>,
        retry: Retry<'_>,
        stats: &mut SinkStats,
    ) -> Seen {
        if !self.landed.knows(at.topic, at.partition) {
            if let Some(table) = tables::of_role(role) {
                if !self.learn_landed(table, at, retry, stats).await {
                    return Seen::Stopped;
                }
            }
        }
        Seen::Route {
            landed: self.landed.take(at.topic, at.partition, at.offset),
        }
    }

    fn forget(&mut self, revoked: &[Partition]) {
        self.landed.forget(revoked);
    }

    /// One `INSERT` per non-empty table ([`land`]), in list order; the rows ClickHouse
    /// rejected are dead-lettered after their table.
    async fn land(
        &mut self,
        batch: &mut Batch,
        retry: Retry<'_>,
        stats: &mut SinkStats,
        rejects: &mut dyn Rejects,
    ) -> Result<bool, SinkError> {
        let mut flush = Flush {
            lander: Lander {
                client: &self.client,
                timeout: Some(retry.write_timeout),
                backoff: retry.backoff(),
                shutdown: retry.shutdown,
            },
            stats,
            rejects,
        };
        for rows in batch.take_rows() {
            if rows.is_empty() {
                continue;
            }
            let name = rows.table();
            let Some((_, land)) = self.landers.iter().find(|(table, _)| *table == name) else {
                return Err(SinkError::UnknownTable(name));
            };
            if !land(&mut flush, rows).await? {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// Lands the rows of table `T` and dead-letters those the server rejected. False once
/// shutdown stopped it.
async fn land_table<T: Table>(
    flush: &mut Flush<'_>,
    rows: Box<dyn AnyRows>,
) -> Result<bool, SinkError> {
    let rows: Box<dyn Any> = rows.into_any();
    let Ok(rows) = rows.downcast::<Rows<T>>() else {
        return Err(SinkError::UnknownTable(T::NAME));
    };
    let table = Entry::of::<T>();
    let landed = match flush.lander.land(&table, rows.rows).await {
        Ok(landed) => landed,
        Err(abandoned) => {
            flush.stats.retries += abandoned.failures;
            return Ok(false);
        }
    };
    flush.stats.retries += landed.failures;
    flush.stats.already_landed += landed.already_landed as u64;
    for (row, message) in &landed.rejected {
        flush.stats.rejected_rows += 1;
        let at = row.source();
        warn!(table = T::NAME, topic = at.topic, partition = at.partition,
            offset = at.offset, %message, "clickhouse rejected a row");
        if T::ROLE == TopicRole::DeadLetters {
            // Dead-lettering a dead letter would feed the sink its own output.
            continue;
        }
        let dead = rejected(row, message, now_ms());
        if !flush.rejects.reject(flush.stats, dead, at).await? {
            return Ok(false);
        }
    }
    flush.stats.add_inserted(T::NAME, landed.inserted as u64);
    Ok(true)
}

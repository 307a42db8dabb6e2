//! The driver's output side: landing a batch, dead-letter writes, and reading what already
//! landed of a partition. A child module of [`crate::sink`], so it shares `Sink`'s fields.

use std::time::Duration;

use clickhouse::{RowOwned, RowWrite};
use rdkafka::consumer::StreamConsumer;
use rdkafka::producer::FutureRecord;
use rdkafka::util::Timeout;
use sxfleet_runtime::error::error_chain;
use tracing::{debug, info, warn};

use super::{internal, Sink, SinkStats, Store};
use crate::consumer::{commit, RevocationLog};
use crate::error::SinkError;
use crate::insert::{retry, Retried};
use crate::land::Lander;
use crate::landed::{landed_offsets, Landing};
use crate::route::{self, TopicRole};
use crate::rows::{Coords, SourceRow};

impl Sink<'_> {
    /// Writes a dead letter to the DLQ topic, retrying until it is acknowledged. False if
    /// shutdown came first.
    pub(super) async fn write_dead_letter(
        &mut self,
        encoded: &[u8],
        key: Option<&str>,
        at: Coords<'_>,
    ) -> bool {
        let (producer, dlq) = (&self.producer, self.topics.dlq.as_str());
        let outcome = retry(
            "write dead letter",
            self.backoff(),
            self.shutdown,
            || async move {
                let mut record = FutureRecord::<str, [u8]>::to(dlq).payload(encoded);
                if let Some(key) = key {
                    record = record.key(key);
                }
                producer
                    .send(record, Timeout::After(Duration::from_secs(30)))
                    .await
                    .map(|_| ())
                    .map_err(|(err, _)| err)
            },
        )
        .await;
        match outcome {
            Retried::Done { failures } => {
                self.stats.retries += u64::from(failures);
                warn!(
                    topic = at.topic,
                    partition = at.partition,
                    offset = at.offset,
                    "undecodable record written to the DLQ topic"
                );
                true
            }
            Retried::Abandoned { failures } => {
                self.stats.retries += u64::from(failures);
                false
            }
        }
    }

    /// Lands the batch in the backend, then commits its offsets. False if shutdown stopped
    /// the writes: nothing is committed then.
    pub(super) async fn flush(
        &mut self,
        consumer: &StreamConsumer<RevocationLog>,
    ) -> Result<bool, SinkError> {
        let client = match &self.store {
            Store::ClickHouse(ch) => ch.client(),
            Store::Parquet(_) => return self.flush_files(consumer).await,
        };
        self.flush_clickhouse(consumer, &client).await
    }

    /// The Parquet backend's flush: one file per table and input partition, then the commit.
    async fn flush_files(
        &mut self,
        consumer: &StreamConsumer<RevocationLog>,
    ) -> Result<bool, SinkError> {
        if !self.write_files().await? {
            return Ok(false);
        }
        let batch = &self.batch;
        self.stats.events_inserted += batch.events().len() as u64;
        self.stats.node_states_inserted += batch.node_state().len() as u64;
        self.stats.dlq_inserted += batch.dlq().len() as u64;
        self.stats.transitions_inserted += batch.transitions().len() as u64;
        self.stats.drift_inserted += batch.drift().len() as u64;
        self.stats.alerts_inserted += batch.alerts().len() as u64;
        self.stats.authority_inserted += batch.authority().len() as u64;
        self.commit(consumer);
        Ok(true)
    }

    /// Commits the batch's offsets and empties it. A failed commit is logged and counted: the
    /// records are read again and found landed.
    fn commit(&mut self, consumer: &StreamConsumer<RevocationLog>) {
        match commit(consumer, &self.batch.commit_offsets()) {
            Ok(()) => {
                self.stats.commits += 1;
                debug!(bytes = self.batch.bytes(), "batch landed and committed");
            }
            Err(err) => {
                self.stats.commit_failures += 1;
                warn!(error = %error_chain(&err),
                    "commit failed after the write; the rows are skipped when read again");
            }
        }
        self.batch.clear();
    }

    /// Lands the batch in ClickHouse (one INSERT per non-empty table, see [`crate::land`]),
    /// dead-letters the rows ClickHouse rejected, then commits the offsets.
    async fn flush_clickhouse(
        &mut self,
        consumer: &StreamConsumer<RevocationLog>,
        client: &clickhouse::Client,
    ) -> Result<bool, SinkError> {
        let lander = Lander {
            client,
            timeout: Some(self.config.insert_timeout),
            backoff: self.backoff(),
            shutdown: self.shutdown,
        };
        let total = self.batch.rows();
        let rows = self.batch.take_rows();
        let abandon = |stats: &mut SinkStats| {
            stats.abandoned_rows += total as u64;
            warn!(
                rows = total,
                "shutdown before the batch landed; not committing"
            );
            Ok(false)
        };
        // New tables: one line each here (and a field in `TableRows`).
        let Some(n) = self.land(&lander, TopicRole::Events, rows.events).await? else {
            return abandon(&mut self.stats);
        };
        self.stats.events_inserted += n;
        let Some(n) = self.land(&lander, TopicRole::Twin, rows.node_state).await? else {
            return abandon(&mut self.stats);
        };
        self.stats.node_states_inserted += n;
        let Some(n) = self.land(&lander, TopicRole::DeadLetters, rows.dlq).await? else {
            return abandon(&mut self.stats);
        };
        self.stats.dlq_inserted += n;
        let Some(n) = self
            .land(&lander, TopicRole::Transitions, rows.transitions)
            .await?
        else {
            return abandon(&mut self.stats);
        };
        self.stats.transitions_inserted += n;
        let Some(n) = self.land(&lander, TopicRole::Drift, rows.drift).await? else {
            return abandon(&mut self.stats);
        };
        self.stats.drift_inserted += n;
        let Some(n) = self.land(&lander, TopicRole::Alerts, rows.alerts).await? else {
            return abandon(&mut self.stats);
        };
        self.stats.alerts_inserted += n;
        let Some(n) = self
            .land(&lander, TopicRole::Authority, rows.authority)
            .await?
        else {
            return abandon(&mut self.stats);
        };
        self.stats.authority_inserted += n;
        self.commit(consumer);
        Ok(true)
    }

    /// Lands one table's rows and dead-letters those the server rejected. `None` once
    /// shutdown stopped it (also for every later table of the batch).
    async fn land<T>(
        &mut self,
        lander: &Lander<'_>,
        role: TopicRole,
        rows: Vec<T>,
    ) -> Result<Option<u64>, SinkError>
    where
        T: RowOwned + RowWrite + SourceRow + serde::Serialize,
    {
        if rows.is_empty() {
            return Ok(Some(0));
        }
        let landing = Landing::of(role);
        let landed = match lander.land(&landing, rows).await {
            Ok(landed) => landed,
            Err(abandoned) => {
                self.stats.retries += abandoned.failures;
                return Ok(None);
            }
        };
        self.stats.retries += landed.failures;
        self.stats.already_landed += landed.already_landed as u64;
        for (row, message) in &landed.rejected {
            self.stats.rejected_rows += 1;
            let at = row.source();
            warn!(table = landing.table, topic = at.topic, partition = at.partition,
                offset = at.offset, %message, "clickhouse rejected a row");
            if role == TopicRole::DeadLetters {
                // Dead-lettering a dead letter would feed the sink its own output.
                continue;
            }
            let dead = route::rejected(row, message, now_ms());
            let encoded =
                sxfleet_schemas::encode(&dead).map_err(|err| internal(at, error_chain(&err)))?;
            if !self
                .write_dead_letter(&encoded, dead.node_id.as_deref(), at)
                .await
            {
                return Ok(None);
            }
            self.stats.dead_lettered += 1;
        }
        Ok(Some(landed.inserted as u64))
    }

    /// Reads which records of the partition at `at` already landed (from `at` on), retrying
    /// until ClickHouse answers. False if shutdown came first.
    pub(super) async fn learn_landed(&mut self, role: TopicRole, at: Coords<'_>) -> bool {
        let Store::ClickHouse(ch) = &self.store else {
            return true;
        };
        let client = ch.client();
        let landing = Landing::of(role);
        let mut backoff = self.backoff();
        loop {
            match landed_offsets(&client, &landing, at.topic, at.partition, at.offset).await {
                Ok(offsets) => {
                    if !offsets.is_empty() {
                        info!(
                            table = landing.table,
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
                    self.stats.retries += 1;
                    if self.shutdown.is_triggered() {
                        return false;
                    }
                    let delay = backoff.next_delay();
                    warn!(table = landing.table, error = %error_chain(&err),
                        retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        "reading landed offsets failed; retrying");
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        () = self.shutdown.triggered() => return false,
                    }
                }
            }
        }
    }
}

/// Wall-clock time for the receive time of a dead letter (the driver may read the clock).
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

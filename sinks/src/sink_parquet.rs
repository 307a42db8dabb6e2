//! The Parquet half of the sink driver's flush: encode the batch, write its files with
//! back-off, record what landed.

use std::sync::Arc;

use tracing::warn;

use super::{Sink, Store};
use crate::error::SinkError;
use crate::insert::{retry, Retried};
use crate::parquet::encode;

impl Sink<'_> {
    /// Writes the batch as Parquet files (one per table and input partition), retried with
    /// back-off. False if shutdown came first.
    pub(super) async fn write_files(&mut self) -> Result<bool, SinkError> {
        let files = Arc::new(encode(&self.batch)?);
        let backoff = self.backoff();
        let Store::Parquet(parquet) = &mut self.store else {
            return Ok(false);
        };
        let store = parquet.store();
        let outcome = retry("write parquet files", backoff, self.shutdown, || {
            store.write(files.clone())
        })
        .await;
        match outcome {
            Retried::Done { failures } => {
                self.stats.retries += u64::from(failures);
                parquet.mark_landed(&files);
                Ok(true)
            }
            Retried::Abandoned { failures } => {
                self.stats.retries += u64::from(failures);
                self.stats.abandoned_rows += self.batch.rows() as u64;
                warn!(
                    rows = self.batch.rows(),
                    "shutdown before the batch was written; not committing"
                );
                Ok(false)
            }
        }
    }
}

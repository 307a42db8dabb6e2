//! Batched RowBinary inserts.

use std::time::Duration;

use clickhouse::{Client, RowOwned, RowWrite};

/// Inserts `rows` into `table` (of the client's database) in one `INSERT ... FORMAT
/// RowBinary` (or `RowBinaryWithNamesAndTypes` when the client validates). Nothing is sent for
/// an empty slice.
///
/// # Errors
/// The client's error when serialising, sending, or the server's answer fails; the whole
/// `INSERT` is then aborted, so the server keeps none of its rows.
pub async fn insert_rows<T>(
    client: &Client,
    table: &str,
    rows: &[T],
    timeout: Option<Duration>,
) -> Result<(), clickhouse::error::Error>
where
    T: RowOwned + RowWrite,
{
    if rows.is_empty() {
        return Ok(());
    }
    let mut insert = client
        .insert::<T>(table)
        .await?
        .with_timeouts(timeout, timeout);
    for row in rows {
        insert.write(row).await?;
    }
    insert.end().await
}

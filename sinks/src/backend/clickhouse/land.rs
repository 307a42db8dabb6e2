//! Landing one table's rows of a batch: insert, retry, skip what landed, bisect rejections.
//!
//! - An outage (no answer, a timeout, a server error that is not the data's fault) is retried
//!   with back-off until it succeeds or shutdown triggers. Before each retry the rows already
//!   in the table are dropped ([`super::landed`]): a failed `INSERT` may have been applied.
//! - A server error that is the data's fault ([`rejection`]) splits the rows in halves, each
//!   inserted on its own (in order), down to single rows; a single rejected row is handed back
//!   with the server's message, so the driver dead-letters it instead of blocking its
//!   partition forever.

use std::time::Duration;

use clickhouse::{Client, RowOwned, RowWrite};
use sxfleet_runtime::error::error_chain;
use sxfleet_runtime::Shutdown;
use tracing::warn;

use super::insert::insert_rows;
use super::landed::landed_offsets;
use crate::retry::Backoff;
use crate::tables::{Entry, SourceRow};

/// ClickHouse error codes that blame the inserted data, not the server: parse and type
/// errors, values out of range, enum values the column does not know, `throwIf` in a column
/// default, violated constraints. Anything else is treated as an outage and retried.
pub const DATA_ERROR_CODES: &[u32] = &[
    6,   // CANNOT_PARSE_TEXT
    27,  // CANNOT_PARSE_INPUT_ASSERTION_FAILED
    36,  // BAD_ARGUMENTS (e.g. an unknown enum element in a text format)
    38,  // CANNOT_PARSE_DATE
    41,  // CANNOT_PARSE_DATETIME
    53,  // TYPE_MISMATCH
    69,  // ARGUMENT_OUT_OF_BOUND
    70,  // CANNOT_CONVERT_TYPE
    72,  // CANNOT_PARSE_NUMBER
    117, // INCORRECT_DATA
    131, // TOO_LARGE_STRING_SIZE
    190, // SIZES_OF_ARRAYS_DOESNT_MATCH
    321, // VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
    395, // FUNCTION_THROW_IF_VALUE_IS_NON_ZERO
    469, // VIOLATED_CONSTRAINT
    691, // UNKNOWN_ELEMENT_OF_ENUM
];

/// The server's message when `err` is a rejection of the data (see [`DATA_ERROR_CODES`]).
pub fn rejection(err: &clickhouse::error::Error) -> Option<String> {
    let clickhouse::error::Error::BadResponse(message) = err else {
        return None;
    };
    let code = server_code(message)?;
    DATA_ERROR_CODES
        .contains(&code)
        .then(|| message.trim().to_owned())
}

/// The `N` of `Code: N` in a server exception text.
fn server_code(message: &str) -> Option<u32> {
    let (_, rest) = message.split_once("Code: ")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// How one table's rows landed.
#[derive(Debug)]
pub struct Landed<T> {
    /// Rows the server acknowledged.
    pub inserted: usize,
    /// Rows dropped because the table already had them (an earlier try was applied).
    pub already_landed: usize,
    /// Rows the server rejected one by one, with its message.
    pub rejected: Vec<(T, String)>,
    /// Failed tries that were retried.
    pub failures: u64,
}

/// Shutdown came before the rows landed; some of them may be in the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Abandoned {
    /// Failed tries before giving up.
    pub failures: u64,
}

/// What landing needs besides the rows.
pub struct Lander<'a> {
    /// Client defaulting to the sink's database.
    pub client: &'a Client,
    /// Timeout of one `INSERT`.
    pub timeout: Option<Duration>,
    /// Back-off after the first failure.
    pub backoff: Backoff,
    /// Ends the retries.
    pub shutdown: &'a Shutdown,
}

impl Lander<'_> {
    /// Inserts `rows` (in order) into `table.name`, see the module docs.
    ///
    /// # Errors
    /// [`Abandoned`] when shutdown triggered after a failure.
    pub async fn land<T>(&self, table: &Entry, rows: Vec<T>) -> Result<Landed<T>, Abandoned>
    where
        T: RowOwned + RowWrite + SourceRow,
    {
        let mut out = Landed {
            inserted: 0,
            already_landed: 0,
            rejected: Vec::new(),
            failures: 0,
        };
        let mut backoff = self.backoff.clone();
        // Chunks still to insert, the next one last.
        let mut pending = vec![rows];
        let mut check = false;
        while let Some(mut chunk) = pending.pop() {
            loop {
                if check {
                    match drop_landed(self.client, table, chunk).await {
                        Ok((rest, dropped)) => {
                            chunk = rest;
                            out.already_landed += dropped;
                            check = false;
                        }
                        Err((rest, err)) => {
                            chunk = rest;
                            self.wait(&mut out, &mut backoff, table, &err).await?;
                            continue;
                        }
                    }
                }
                if chunk.is_empty() {
                    break;
                }
                let err = match insert_rows(self.client, table.name, &chunk, self.timeout).await {
                    Ok(()) => {
                        out.inserted += chunk.len();
                        break;
                    }
                    Err(err) => err,
                };
                match rejection(&err) {
                    Some(message) if chunk.len() == 1 => {
                        out.rejected.extend(chunk.pop().map(|row| (row, message)));
                        break;
                    }
                    Some(_) => {
                        let right = chunk.split_off(chunk.len() / 2);
                        pending.push(right);
                        pending.push(chunk);
                        break;
                    }
                    None => {
                        check = true;
                        self.wait(&mut out, &mut backoff, table, &err).await?;
                    }
                }
            }
        }
        Ok(out)
    }

    /// Counts a failure, then waits out the back-off; [`Abandoned`] on shutdown.
    async fn wait<T>(
        &self,
        out: &mut Landed<T>,
        backoff: &mut Backoff,
        table: &Entry,
        err: &clickhouse::error::Error,
    ) -> Result<(), Abandoned> {
        out.failures += 1;
        let abandoned = Abandoned {
            failures: out.failures,
        };
        if self.shutdown.is_triggered() {
            return Err(abandoned);
        }
        let delay = backoff.next_delay();
        warn!(table = table.name, failures = out.failures,
            retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            error = %error_chain(err), "clickhouse insert failed; retrying");
        tokio::select! {
            () = tokio::time::sleep(delay) => Ok(()),
            () = self.shutdown.triggered() => Err(abandoned),
        }
    }
}

/// `rows` without those already in the table, and how many were dropped. On error the rows
/// come back untouched.
async fn drop_landed<T: SourceRow>(
    client: &Client,
    table: &Entry,
    rows: Vec<T>,
) -> Result<(Vec<T>, usize), (Vec<T>, clickhouse::error::Error)> {
    // Lowest offset per partition of these rows: one query per partition.
    let mut from: Vec<(String, i32, i64)> = Vec::new();
    for row in &rows {
        let at = row.source();
        match from
            .iter_mut()
            .find(|(t, p, _)| t == at.topic && *p == at.partition)
        {
            Some((_, _, lowest)) => *lowest = (*lowest).min(at.offset),
            None => from.push((at.topic.to_owned(), at.partition, at.offset)),
        }
    }
    let mut landed: Vec<(String, i32, Vec<i64>)> = Vec::with_capacity(from.len());
    for (topic, partition, lowest) in from {
        match landed_offsets(client, table, &topic, partition, lowest).await {
            Ok(offsets) => landed.push((topic, partition, offsets)),
            Err(err) => return Err((rows, err)),
        }
    }
    let before = rows.len();
    let rest: Vec<T> = rows
        .into_iter()
        .filter(|row| {
            let at = row.source();
            !landed.iter().any(|(t, p, offsets)| {
                t == at.topic && *p == at.partition && offsets.binary_search(&at.offset).is_ok()
            })
        })
        .collect();
    let dropped = before - rest.len();
    Ok((rest, dropped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_errors_are_rejections_and_outages_are_not() {
        let bad = |text: &str| clickhouse::error::Error::BadResponse(text.to_owned());
        let thrown = "Code: 395, e.displayText() = DB::Exception: Value passed to 'throwIf' \
                      function is non zero, e.what() = DB::Exception\n";
        assert_eq!(rejection(&bad(thrown)).as_deref(), Some(thrown.trim()));
        assert!(rejection(&bad(
            "Code: 36, e.displayText() = Unknown element 'X' for type Enum8"
        ))
        .is_some());
        for outage in [
            "Code: 252, e.displayText() = DB::Exception: Too many parts",
            "Code: 241, e.displayText() = DB::Exception: Memory limit exceeded",
            "Code: 60, e.displayText() = DB::Exception: Table x.events doesn't exist",
            "502 Bad Gateway",
        ] {
            assert_eq!(rejection(&bad(outage)), None, "{outage}");
        }
        assert_eq!(rejection(&clickhouse::error::Error::TimedOut), None);
    }
}

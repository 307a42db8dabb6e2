//! The retry-with-back-off loop around external calls (ClickHouse, Parquet writes, the DLQ
//! topic) and its back-off.

use std::future::Future;
use std::time::Duration;

use sxfleet_runtime::Shutdown;
use tracing::warn;

/// Exponential back-off: `initial`, doubled after every failure, capped at `max`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    /// Starts at `initial`, never waits longer than `max`.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self {
            next: initial.min(max),
            max,
        }
    }

    /// The delay before the next try; doubles the one after it.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = self.next.saturating_mul(2).min(self.max);
        delay
    }
}

impl Default for Backoff {
    /// 100 ms, doubling up to 30 s.
    fn default() -> Self {
        Self::new(Duration::from_millis(100), Duration::from_secs(30))
    }
}

/// How a retried operation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retried {
    /// It succeeded after this many failed tries.
    Done {
        /// Failed tries before the success.
        failures: u32,
    },
    /// Shutdown was triggered before it succeeded.
    Abandoned {
        /// Failed tries before giving up.
        failures: u32,
    },
}

/// Runs `attempt` until it succeeds, waiting with `backoff` after each failure, or until
/// `shutdown` triggers. The first try always runs, so a batch closed by shutdown is still
/// written when the service is healthy; after a failure, shutdown (already triggered, or
/// triggered while waiting) ends the loop. Each failure is logged with `what` and the error's
/// source chain.
pub async fn retry<F, Fut, E>(
    what: &str,
    mut backoff: Backoff,
    shutdown: &Shutdown,
    mut attempt: F,
) -> Retried
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: std::error::Error,
{
    let mut failures = 0_u32;
    loop {
        let err = match attempt().await {
            Ok(()) => return Retried::Done { failures },
            Err(err) => err,
        };
        failures = failures.saturating_add(1);
        if shutdown.is_triggered() {
            warn!(operation = what, failures, error = %sxfleet_runtime::error::error_chain(&err), "external call failed during shutdown; giving up");
            return Retried::Abandoned { failures };
        }
        let delay = backoff.next_delay();
        warn!(
            operation = what,
            failures,
            retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            error = %sxfleet_runtime::error::error_chain(&err),
            "external call failed; retrying"
        );
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = shutdown.triggered() => return Retried::Abandoned { failures },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(700));
        let delays: Vec<u128> = (0..6).map(|_| backoff.next_delay().as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 700, 700, 700]);
    }

    #[derive(Debug, thiserror::Error)]
    #[error("nope")]
    struct Nope;

    #[tokio::test(start_paused = true)]
    async fn retry_counts_failures_until_success() {
        let mut left = 3;
        let outcome = retry("test", Backoff::default(), &Shutdown::new(), || {
            left -= 1;
            let result = if left > 0 { Err(Nope) } else { Ok(()) };
            async move { result }
        })
        .await;
        assert_eq!(outcome, Retried::Done { failures: 2 });
    }

    #[tokio::test(start_paused = true)]
    async fn retry_stops_on_shutdown() {
        let shutdown = Shutdown::new();
        let trigger = shutdown.clone();
        let mut tries = 0;
        let outcome = retry("test", Backoff::default(), &shutdown, || {
            tries += 1;
            if tries == 4 {
                trigger.trigger();
            }
            async { Err::<(), _>(Nope) }
        })
        .await;
        assert_eq!(outcome, Retried::Abandoned { failures: 4 });
        assert_eq!(tries, 4);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_tries_once_even_after_shutdown() {
        let shutdown = Shutdown::new();
        shutdown.trigger();
        let mut tries = 0;
        let outcome = retry("test", Backoff::default(), &shutdown, || {
            tries += 1;
            async { Ok::<(), Nope>(()) }
        })
        .await;
        assert_eq!(outcome, Retried::Done { failures: 0 });
        assert_eq!(tries, 1);
    }
}

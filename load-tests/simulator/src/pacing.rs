//! A token bucket for pacing sends to a target rate. Pure: the caller passes
//! the time elapsed since it started, so tests need no clock.

use std::time::Duration;

/// Burst allowance as a share of one second's worth of messages. Timers tick
/// in milliseconds, so the bucket must hold at least a few ticks of tokens or
/// high rates would be capped at one message per tick.
const BURST_SECONDS: f64 = 0.05;

/// Token bucket: `rate` tokens per second, at most `capacity` banked.
#[derive(Debug, Clone, PartialEq)]
pub struct Pacer {
    rate: f64,
    capacity: f64,
    tokens: f64,
    last: Duration,
}

impl Pacer {
    /// A pacer for `rate` messages per second; `None` unless `rate` is finite and positive.
    pub fn new(rate: f64) -> Option<Self> {
        (rate.is_finite() && rate > 0.0).then(|| Self {
            rate,
            capacity: (rate * BURST_SECONDS).max(1.0),
            tokens: 1.0,
            last: Duration::ZERO,
        })
    }

    /// Target rate, messages per second.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// Takes a token at `elapsed` (time since the pacer started). `None`: send
    /// now (the token is spent). `Some(wait)`: no token yet; ask again after `wait`.
    pub fn acquire(&mut self, elapsed: Duration) -> Option<Duration> {
        let gained = elapsed.saturating_sub(self.last).as_secs_f64() * self.rate;
        self.tokens = (self.tokens + gained).min(self.capacity);
        self.last = self.last.max(elapsed);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            None
        } else {
            Some(Duration::from_secs_f64((1.0 - self.tokens) / self.rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Simulates a sender that sends whenever allowed and otherwise sleeps as
    /// told, rounded up to whole milliseconds like a tokio timer.
    fn sent_within(rate: f64, window: Duration) -> u64 {
        let mut pacer = Pacer::new(rate).unwrap_or_else(|| panic!("rate {rate}"));
        let (mut now, mut sent) = (Duration::ZERO, 0u64);
        while now < window {
            match pacer.acquire(now) {
                None => sent += 1,
                Some(wait) => {
                    let ms = wait.as_micros().div_ceil(1000).max(1);
                    now += Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX));
                }
            }
        }
        sent
    }

    #[test]
    fn holds_the_target_rate_across_magnitudes() {
        for rate in [5.0, 100.0, 1_000.0, 20_000.0, 250_000.0] {
            let sent = sent_within(rate, Duration::from_secs(2)) as f64;
            let expected = rate * 2.0;
            assert!(
                (sent - expected).abs() <= expected * 0.02 + 2.0,
                "rate {rate}: sent {sent}, expected about {expected}"
            );
        }
    }

    #[test]
    fn burst_after_idle_is_capped() {
        let mut pacer = Pacer::new(1_000.0).unwrap_or_else(|| panic!("pacer"));
        let mut burst = 0;
        while pacer.acquire(Duration::from_secs(60)).is_none() {
            burst += 1;
        }
        assert_eq!(burst, 50);
    }

    #[test]
    fn first_message_goes_at_once_and_wait_is_exact() {
        let mut pacer = Pacer::new(10.0).unwrap_or_else(|| panic!("pacer"));
        assert_eq!(pacer.acquire(Duration::ZERO), None);
        let wait = pacer.acquire(Duration::ZERO);
        assert_eq!(wait, Some(Duration::from_millis(100)));
        assert_eq!(pacer.acquire(Duration::from_millis(100)), None);
    }

    #[test]
    fn rejects_unusable_rates() {
        for rate in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(Pacer::new(rate).is_none(), "{rate}");
        }
    }
}

//! Produces a stream of [`RawMessage`]s to a Kafka topic: idempotent, paced,
//! with a bounded number of sends in flight, an optional progress bar and an
//! explicit shutdown trigger. Every delivery failure is counted, logged and
//! reported in the [`ProduceSummary`].

use std::io::IsTerminal;
use std::pin::pin;
use std::time::Duration;

use futures::stream::FuturesUnordered;
use futures::{FutureExt, Stream, StreamExt};
use indicatif::{ProgressBar, ProgressStyle};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::future_producer::{DeliveryFuture, OwnedDeliveryResult};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use tokio::sync::watch;
use tokio::time::{sleep, sleep_until, Instant};

use crate::message::RawMessage;
use crate::pacing::Pacer;

/// How many delivery errors a summary keeps verbatim (all are counted).
const MAX_ERROR_SAMPLES: usize = 10;

/// Settings the producer always gets, whatever the caller passed.
const FORCED: [(&str, &str); 2] = [("enable.idempotence", "true"), ("acks", "all")];

/// Settings the producer gets unless the caller set them.
const DEFAULTS: [(&str, &str); 2] = [("linger.ms", "5"), ("compression.type", "lz4")];

/// Whether to draw a progress bar on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Progress {
    /// Draw it when stderr is a terminal.
    #[default]
    Auto,
    /// Never draw it.
    Hidden,
}

/// What to produce and how fast.
#[derive(Debug, Clone, PartialEq)]
pub struct ProduceOptions {
    /// Destination topic.
    pub topic: String,
    /// Target rate in messages per second; `None` sends as fast as the broker takes them.
    pub rate: Option<f64>,
    /// Stop sending after this long (in-flight sends still complete).
    pub duration: Option<Duration>,
    /// Most sends awaiting delivery at once (at least 1); bounds memory.
    pub max_in_flight: usize,
    /// Progress bar mode.
    pub progress: Progress,
    /// Number of messages expected, for the progress bar's length.
    pub expected_total: Option<u64>,
}

impl ProduceOptions {
    /// Options for `topic` with defaults: unpaced, unbounded in time, 4096 in flight.
    pub fn new(topic: impl Into<String>) -> Self {
        Self {
            topic: topic.into(),
            rate: None,
            duration: None,
            max_in_flight: 4096,
            progress: Progress::Auto,
            expected_total: None,
        }
    }
}

/// Why sending stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The input stream ended.
    Exhausted,
    /// `duration` elapsed.
    Duration,
    /// The shutdown trigger fired.
    Shutdown,
}

/// The outcome of one [`produce`] run.
#[derive(Debug, Clone, PartialEq)]
pub struct ProduceSummary {
    /// Messages the broker acknowledged.
    pub sent: u64,
    /// Messages that could not be enqueued or delivered.
    pub failed: u64,
    /// From start until the last delivery report.
    pub elapsed: Duration,
    /// `sent` per second of `elapsed`.
    pub events_per_sec: f64,
    /// Why sending stopped.
    pub stopped_by: StopReason,
    /// The first few failure messages.
    pub errors: Vec<String>,
}

impl ProduceSummary {
    /// Turns delivery failures into an error, for callers that need every message.
    ///
    /// # Errors
    /// [`ProduceError::Undelivered`] when `failed > 0`.
    pub fn ensure_delivered(&self) -> Result<(), ProduceError> {
        if self.failed == 0 {
            return Ok(());
        }
        Err(ProduceError::Undelivered {
            failed: self.failed,
            attempted: self.sent + self.failed,
            first: self.errors.first().cloned().unwrap_or_default(),
        })
    }
}

/// Errors of [`produce`].
#[derive(Debug, thiserror::Error)]
pub enum ProduceError {
    /// The options are unusable; the caller must fix them.
    #[error("invalid produce options: {0}")]
    InvalidOptions(&'static str),
    /// The Kafka client could not be created (bad config); the caller must fix it.
    #[error("cannot create the Kafka producer")]
    Client(#[source] KafkaError),
    /// Some messages were not delivered (external: broker or network).
    #[error("{failed} of {attempted} messages were not delivered; first error: {first}")]
    Undelivered {
        /// Failed messages.
        failed: u64,
        /// Messages attempted.
        attempted: u64,
        /// The first failure.
        first: String,
    },
}

/// `base` (bootstrap servers, security, ...) plus the simulator's producer
/// settings: idempotence and `acks=all` always; `linger.ms=5` and lz4
/// compression unless `base` sets them.
pub fn producer_config(base: &ClientConfig) -> ClientConfig {
    let mut config = base.clone();
    for (key, value) in FORCED {
        config.set(key, value);
    }
    for (key, value) in DEFAULTS {
        if config.get(key).is_none() {
            config.set(key, value);
        }
    }
    config
}

/// Creates a producer from [`producer_config`]`(client)` and sends `messages`
/// with it; see [`produce_with`].
///
/// # Errors
/// [`ProduceError::Client`] if the producer cannot be created, otherwise as
/// [`produce_with`].
pub async fn produce<S>(
    client: &ClientConfig,
    options: &ProduceOptions,
    messages: S,
    shutdown: watch::Receiver<bool>,
) -> Result<ProduceSummary, ProduceError>
where
    S: Stream<Item = RawMessage>,
{
    let producer: FutureProducer = producer_config(client)
        .create()
        .map_err(ProduceError::Client)?;
    produce_with(&producer, options, messages, shutdown).await
}

/// Sends `messages` to `options.topic`, keyed by [`RawMessage::key`], until the
/// stream ends, `options.duration` passes or `shutdown` turns `true`; then waits
/// for every in-flight delivery report (bounded by the producer's
/// `message.timeout.ms`). Delivery failures do not stop the run: they are
/// counted in [`ProduceSummary::failed`] and logged.
///
/// # Errors
/// [`ProduceError::InvalidOptions`] for a zero `max_in_flight` or a rate that is
/// not finite and positive.
pub async fn produce_with<S>(
    producer: &FutureProducer,
    options: &ProduceOptions,
    messages: S,
    mut shutdown: watch::Receiver<bool>,
) -> Result<ProduceSummary, ProduceError>
where
    S: Stream<Item = RawMessage>,
{
    if options.max_in_flight == 0 {
        return Err(ProduceError::InvalidOptions(
            "max_in_flight must be at least 1",
        ));
    }
    let mut pacer = match options.rate {
        None => None,
        Some(rate) => Some(Pacer::new(rate).ok_or(ProduceError::InvalidOptions(
            "rate must be finite and positive",
        ))?),
    };
    let start = Instant::now();
    let deadline = options.duration.map(|d| start + d);
    let mut tally = Tally::new(progress_bar(options));
    let mut in_flight: FuturesUnordered<DeliveryFuture> = FuturesUnordered::new();
    let mut messages = pin!(messages);

    let stopped_by = loop {
        while let Some(Some(report)) = in_flight.next().now_or_never() {
            tally.record(report);
        }
        if *shutdown.borrow() {
            break StopReason::Shutdown;
        }
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) {
            break StopReason::Duration;
        }
        // What to wait for before the next send, if anything.
        let wake = if in_flight.len() >= options.max_in_flight {
            Some(deadline)
        } else {
            let wait = pacer.as_mut().and_then(|p| p.acquire(now - start));
            wait.map(|w| Some(deadline.map_or(now + w, |d| d.min(now + w))))
        };
        if let Some(until) = wake {
            tokio::select! {
                Some(report) = in_flight.next(), if !in_flight.is_empty() => tally.record(report),
                () = requested(&mut shutdown) => {}
                () = sleep_until_some(until) => {}
            }
            continue;
        }
        let next = tokio::select! {
            next = messages.next() => next,
            () = requested(&mut shutdown) => continue,
            () = sleep_until_some(deadline) => continue,
        };
        let Some(msg) = next else {
            break StopReason::Exhausted;
        };
        enqueue(producer, &options.topic, &msg, &mut in_flight, &mut tally).await;
    };
    while let Some(report) = in_flight.next().await {
        tally.record(report);
    }
    Ok(tally.finish(start.elapsed(), stopped_by))
}

/// Hands one message to librdkafka, waiting for room while its queue is full.
async fn enqueue(
    producer: &FutureProducer,
    topic: &str,
    msg: &RawMessage,
    in_flight: &mut FuturesUnordered<DeliveryFuture>,
    tally: &mut Tally,
) {
    loop {
        let record = FutureRecord::to(topic)
            .key(msg.key.as_bytes())
            .payload(&msg.payload);
        match producer.send_result(record) {
            Ok(delivery) => {
                in_flight.push(delivery);
                return;
            }
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                match in_flight.next().await {
                    Some(report) => tally.record(report),
                    None => sleep(Duration::from_millis(5)).await,
                }
            }
            Err((e, _)) => {
                tally.fail(format!("enqueue failed for key {}: {e}", msg.key));
                return;
            }
        }
    }
}

/// Resolves once the shutdown value is `true`; never if the sender is gone.
async fn requested(shutdown: &mut watch::Receiver<bool>) {
    if shutdown.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

async fn sleep_until_some(deadline: Option<Instant>) {
    match deadline {
        Some(d) => sleep_until(d).await,
        None => std::future::pending().await,
    }
}

fn progress_bar(options: &ProduceOptions) -> ProgressBar {
    if options.progress == Progress::Hidden || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let (bar, template) = match options.expected_total {
        Some(total) => (
            ProgressBar::new(total),
            "{bar:40} {human_pos}/{human_len} msgs  {per_sec}  {elapsed_precise}  {msg}",
        ),
        None => (
            ProgressBar::new_spinner(),
            "{spinner} {human_pos} msgs  {per_sec}  {elapsed_precise}  {msg}",
        ),
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Delivery accounting shared by the send loop and the drain.
struct Tally {
    sent: u64,
    failed: u64,
    errors: Vec<String>,
    bar: ProgressBar,
}

impl Tally {
    fn new(bar: ProgressBar) -> Self {
        Self {
            sent: 0,
            failed: 0,
            errors: Vec::new(),
            bar,
        }
    }

    fn record(&mut self, report: Result<OwnedDeliveryResult, futures::channel::oneshot::Canceled>) {
        match report {
            Ok(Ok(_)) => {
                self.sent += 1;
                self.bar.inc(1);
            }
            Ok(Err((e, _))) => self.fail(format!("delivery failed: {e}")),
            Err(_) => self.fail("delivery report lost: producer dropped".to_owned()),
        }
    }

    fn fail(&mut self, error: String) {
        self.failed += 1;
        self.bar.inc(1);
        if self.errors.len() < MAX_ERROR_SAMPLES {
            tracing::error!(error = %error, failed = self.failed, "message not delivered");
            self.errors.push(error);
        }
    }

    fn finish(self, elapsed: Duration, stopped_by: StopReason) -> ProduceSummary {
        self.bar.finish_and_clear();
        if self.failed > 0 {
            tracing::error!(
                failed = self.failed,
                sent = self.sent,
                "messages not delivered"
            );
        }
        let secs = elapsed.as_secs_f64();
        ProduceSummary {
            sent: self.sent,
            failed: self.failed,
            elapsed,
            events_per_sec: if secs > 0.0 {
                self.sent as f64 / secs
            } else {
                0.0
            },
            stopped_by,
            errors: self.errors,
        }
    }
}

//! Durable writes of a request's lines: one Kafka transaction per request (accepted lines to
//! the raw topic, rejected ones to the DLQ), on a small pool of transactional producers.
//!
//! A request is answered 2xx only after its transaction committed (acks=all, idempotent); a
//! failed or timed-out transaction is aborted, so `read_committed` readers (the normalizer,
//! the DLQ sink) never see part of a request. A producer that failed is dropped and a new one
//! (same transactional id: the broker fences the old one) is started on next use.

use std::sync::Mutex;
use std::time::Duration;

use futures::future::try_join_all;
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use sxfleet_runtime::records::encoded;
use sxfleet_runtime::stage::SOURCE_HEADER;
use sxfleet_runtime::KafkaConfig;
use sxfleet_schemas::DeadLetter;
use tokio::sync::Semaphore;

use crate::context::HTTP_SOURCE;

/// Why a request's lines were not written. All are retryable by the client.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// Kafka refused or could not be reached.
    #[error("kafka {operation}: {source}")]
    Kafka {
        /// What was being done.
        operation: &'static str,
        /// Why it failed.
        source: KafkaError,
    },
    /// The write did not finish within the write timeout.
    #[error("the write did not finish within {0:?}")]
    Timeout(Duration),
    /// A DLQ record did not encode (a bug).
    #[error("{0}")]
    Encode(String),
    /// The blocking task running a transaction call failed.
    #[error("transaction task failed: {0}")]
    Task(String),
}

/// Where and how a lane writes.
#[derive(Clone, Debug)]
pub struct WriterConfig {
    /// The cluster.
    pub kafka: KafkaConfig,
    /// The raw topic.
    pub raw_topic: String,
    /// The DLQ topic.
    pub dlq_topic: String,
    /// Transactional id prefix; producer `i` uses `<prefix>-<i>`.
    pub transactional_id: String,
    /// Producers in the pool.
    pub producers: usize,
    /// Longest a request's write may take.
    pub timeout: Duration,
}

/// A pool of transactional producers for one lane.
pub struct Writer {
    config: WriterConfig,
    permits: Semaphore,
    /// Free producer slots: (index, started producer if any). Locked only to pop or push.
    slots: Mutex<Vec<(usize, Option<FutureProducer>)>>,
}

impl Writer {
    /// A pool of `config.producers` producers, started lazily.
    pub fn new(config: WriterConfig) -> Self {
        let count = config.producers.max(1);
        Self {
            permits: Semaphore::new(count),
            slots: Mutex::new((0..count).map(|i| (i, None)).collect()),
            config,
        }
    }

    /// Writes `accepted` (node_id, raw line) to the raw topic and `dead_letters` to the DLQ
    /// in one transaction, with `timestamp_ms` as the records' timestamp.
    ///
    /// # Errors
    /// [`WriteError`] when the transaction did not commit; nothing of it is visible to
    /// `read_committed` readers.
    pub async fn write(
        &self,
        accepted: &[(String, Vec<u8>)],
        dead_letters: &[DeadLetter],
        timestamp_ms: i64,
    ) -> Result<(), WriteError> {
        let mut letters = Vec::with_capacity(dead_letters.len());
        for letter in dead_letters {
            letters.push(encoded(letter).map_err(|e| WriteError::Encode(e.0))?);
        }
        let timeout = self.config.timeout;
        // Waiting for a free producer counts against the write timeout too.
        let _permit = tokio::time::timeout(timeout, self.permits.acquire())
            .await
            .map_err(|_| WriteError::Timeout(timeout))?
            .map_err(|e| WriteError::Task(e.to_string()))?;
        let (index, producer) = self.take_slot();
        let attempt = async {
            let producer = match producer {
                Some(producer) => producer,
                None => self.start(index).await?,
            };
            let outcome = self
                .transaction(&producer, accepted, dead_letters, &letters, timestamp_ms)
                .await;
            Ok::<_, WriteError>((producer, outcome))
        };
        let result = match tokio::time::timeout(timeout, attempt).await {
            Err(_) => Err(WriteError::Timeout(timeout)),
            Ok(Err(error)) => Err(error),
            Ok(Ok((producer, Ok(())))) => {
                self.put_slot(index, Some(producer));
                return Ok(());
            }
            Ok(Ok((producer, Err(error)))) => {
                let _ = blocking(move || producer.abort_transaction(Duration::from_secs(5))).await;
                Err(error)
            }
        };
        // A failed producer is not reused: the next request starts a fresh one.
        self.put_slot(index, None);
        result
    }

    async fn transaction(
        &self,
        producer: &FutureProducer,
        accepted: &[(String, Vec<u8>)],
        dead_letters: &[DeadLetter],
        letters: &[Vec<u8>],
        timestamp_ms: i64,
    ) -> Result<(), WriteError> {
        producer
            .begin_transaction()
            .map_err(kafka("begin transaction"))?;
        let mut deliveries = Vec::with_capacity(accepted.len() + letters.len());
        for (node_id, line) in accepted {
            let headers = OwnedHeaders::new().insert(Header {
                key: SOURCE_HEADER,
                value: Some(HTTP_SOURCE),
            });
            let record = FutureRecord::<[u8], [u8]>::to(&self.config.raw_topic)
                .key(node_id.as_bytes())
                .payload(line.as_slice())
                .timestamp(timestamp_ms)
                .headers(headers);
            deliveries.push(send(producer, record)?);
        }
        for (letter, bytes) in dead_letters.iter().zip(letters) {
            let mut record = FutureRecord::<[u8], [u8]>::to(&self.config.dlq_topic)
                .payload(bytes.as_slice())
                .timestamp(timestamp_ms);
            if let Some(node_id) = &letter.node_id {
                record = record.key(node_id.as_bytes());
            }
            deliveries.push(send(producer, record)?);
        }
        try_join_all(deliveries).await?;
        let committing = producer.clone();
        blocking(move || committing.commit_transaction(Duration::from_secs(30)))
            .await?
            .map_err(kafka("commit transaction"))
    }

    async fn start(&self, index: usize) -> Result<FutureProducer, WriteError> {
        let id = format!("{}-{index}", self.config.transactional_id);
        let producer: FutureProducer = self
            .config
            .kafka
            .producer(Some(&id), self.config.timeout)
            .create()
            .map_err(kafka("create producer"))?;
        let timeout = self.config.timeout;
        let starting = producer.clone();
        blocking(move || starting.init_transactions(timeout))
            .await?
            .map_err(kafka("init transactions"))?;
        Ok(producer)
    }

    fn take_slot(&self) -> (usize, Option<FutureProducer>) {
        // A permit is held, so a slot is free; a poisoned lock only means another request
        // panicked while pushing, and the vector is still valid.
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.pop().unwrap_or((0, None))
    }

    fn put_slot(&self, index: usize, producer: Option<FutureProducer>) {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.push((index, producer));
    }
}

type Delivery = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), WriteError>> + Send>>;

fn send(
    producer: &FutureProducer,
    record: FutureRecord<'_, [u8], [u8]>,
) -> Result<Delivery, WriteError> {
    let delivery = producer
        .send_result(record)
        .map_err(|(source, _)| WriteError::Kafka {
            operation: "produce",
            source,
        })?;
    Ok(Box::pin(async move {
        match delivery.await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err((source, _))) => Err(WriteError::Kafka {
                operation: "deliver",
                source,
            }),
            Err(_canceled) => Err(WriteError::Kafka {
                operation: "deliver",
                source: KafkaError::Canceled,
            }),
        }
    }))
}

fn kafka(operation: &'static str) -> impl FnOnce(KafkaError) -> WriteError {
    move |source| WriteError::Kafka { operation, source }
}

async fn blocking<T: Send + 'static>(
    call: impl FnOnce() -> T + Send + 'static,
) -> Result<T, WriteError> {
    tokio::task::spawn_blocking(call)
        .await
        .map_err(|e| WriteError::Task(e.to_string()))
}

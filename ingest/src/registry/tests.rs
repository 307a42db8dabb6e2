//! Caching and retry rules of the registry client, over an in-memory fake.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use super::*;

const RECORD: &str =
    r#"{"type": "record", "name": "R", "fields": [{"name": "x", "type": "long"}]}"#;

/// What the fake answers to one request.
#[derive(Clone)]
enum Answer {
    Schema(&'static str),
    Typed(&'static str, &'static str),
    WithReferences,
    NotFound,
    Down,
}

/// Answers from a script (the last answer repeats), counting requests.
struct Fake {
    script: Mutex<Vec<Answer>>,
    calls: Arc<AtomicU32>,
}

impl Fake {
    fn new(script: Vec<Answer>) -> (Self, Arc<AtomicU32>) {
        let calls = Arc::new(AtomicU32::new(0));
        let fake = Self {
            script: Mutex::new(script),
            calls: Arc::clone(&calls),
        };
        (fake, calls)
    }
}

impl FetchSchema for Fake {
    fn fetch(&self, id: u32) -> Result<RegisteredSchema, FetchError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let answer = {
            let mut script = self.script.lock().unwrap();
            if script.len() > 1 {
                script.remove(0)
            } else {
                script[0].clone()
            }
        };
        let registered = |schema: &str, schema_type: Option<&str>, references| {
            Ok(RegisteredSchema {
                schema: schema.to_owned(),
                schema_type: schema_type.map(str::to_owned),
                references,
            })
        };
        match answer {
            Answer::Schema(text) => registered(text, None, 0),
            Answer::Typed(text, kind) => registered(text, Some(kind), 0),
            Answer::WithReferences => registered(RECORD, None, 2),
            Answer::NotFound => Err(FetchError::NotFound {
                id,
                message: format!("Schema {id} not found"),
            }),
            Answer::Down => Err(FetchError::Status {
                status: 500,
                message: "error_code 50001: down".to_owned(),
            }),
        }
    }
}

fn config() -> SchemaRegistryConfig {
    let mut config = SchemaRegistryConfig::new(RegistryUrl::parse("http://127.0.0.1:1").unwrap());
    config.retry_backoff = Duration::from_millis(5);
    config.max_retry_backoff = Duration::from_millis(20);
    config.max_outage = Duration::from_millis(200);
    config
}

fn registry(
    script: Vec<Answer>,
    config: &SchemaRegistryConfig,
) -> (SchemaRegistry, Arc<AtomicU32>) {
    let (fake, calls) = Fake::new(script);
    (SchemaRegistry::new(config, Box::new(fake)), calls)
}

fn rejected_code(result: Result<Arc<Schema>, LookupError>) -> ReasonCode {
    match result {
        Err(LookupError::Rejected(rejection)) => rejection.code,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn schemas_are_fetched_once_per_id() {
    let (mut registry, calls) = registry(vec![Answer::Schema(RECORD)], &config());
    let first = registry.writer_schema(1).await.unwrap();
    let again = registry.writer_schema(1).await.unwrap();
    assert!(Arc::ptr_eq(&first, &again));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    registry.writer_schema(2).await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn unknown_ids_are_bad_data_and_asked_again_next_time() {
    let (mut registry, calls) = registry(vec![Answer::NotFound, Answer::Schema(RECORD)], &config());
    assert_eq!(
        rejected_code(registry.writer_schema(9).await),
        ReasonCode::UnknownSchema
    );
    // Registered meanwhile (a replica caught up): found on the next message.
    assert!(registry.writer_schema(9).await.is_ok());
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn unusable_schemas_are_bad_data_and_cached() {
    for answer in [
        Answer::Schema(r#""string""#),
        Answer::Schema("{not a schema"),
        Answer::Typed("syntax = \"proto3\";", "PROTOBUF"),
        Answer::WithReferences,
    ] {
        let (mut registry, calls) = registry(vec![answer], &config());
        assert_eq!(
            rejected_code(registry.writer_schema(4).await),
            ReasonCode::InvalidAvro
        );
        assert_eq!(
            rejected_code(registry.writer_schema(4).await),
            ReasonCode::InvalidAvro
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
    let (mut registry, _) = registry(vec![Answer::Typed(RECORD, "AVRO")], &config());
    assert!(registry.writer_schema(4).await.is_ok());
}

#[tokio::test]
async fn failures_are_retried_until_the_registry_answers() {
    let (mut registry, calls) = registry(
        vec![
            Answer::Down,
            Answer::Down,
            Answer::Down,
            Answer::Schema(RECORD),
        ],
        &config(),
    );
    assert!(registry.writer_schema(5).await.is_ok());
    assert_eq!(calls.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn a_registry_down_past_max_outage_is_given_up_and_not_cached() {
    let config = config();
    let (mut registry, calls) = registry(vec![Answer::Down], &config);
    let started = Instant::now();
    match registry.writer_schema(6).await {
        Err(LookupError::Unavailable {
            id,
            attempts,
            waited,
            last,
        }) => {
            assert_eq!(id, 6);
            assert!(attempts > 3, "{attempts} attempts");
            assert!(waited <= config.max_outage, "{waited:?}");
            assert!(matches!(last, FetchError::Status { status: 500, .. }));
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(100) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );
    let before = calls.load(Ordering::SeqCst);
    assert!(registry.writer_schema(6).await.is_err());
    assert!(calls.load(Ordering::SeqCst) > before, "not cached");
}

#[tokio::test]
async fn the_cache_keeps_the_newest_ids_within_its_bound() {
    let mut config = config();
    config.max_cached_schemas = 2;
    let (mut registry, calls) = registry(vec![Answer::Schema(RECORD)], &config);
    for id in [1, 2, 3, 3, 2] {
        registry.writer_schema(id).await.unwrap();
    }
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    registry.writer_schema(1).await.unwrap(); // evicted by 3
    assert_eq!(calls.load(Ordering::SeqCst), 4);
}

#[test]
fn lookups_run_on_either_tokio_runtime() {
    for multi in [true, false] {
        let runtime = if multi {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_time()
                .build()
        } else {
            tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
        }
        .unwrap();
        let (mut registry, _) = registry(vec![Answer::Down, Answer::Schema(RECORD)], &config());
        // In a task of the runtime, as in the normalizer's driver task.
        let task = runtime.spawn(async move { registry.writer_schema(1).await.is_ok() });
        let found = runtime.block_on(task).unwrap();
        assert!(found, "multi-thread: {multi}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_failing_registry_does_not_hold_up_other_tasks_of_the_thread() {
    let (mut registry, _) = registry(vec![Answer::Down], &config());
    let ticks = Arc::new(AtomicU32::new(0));
    let ticker = tokio::spawn({
        let ticks = Arc::clone(&ticks);
        async move {
            loop {
                ticks.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    });
    // Retried for max_outage (200 ms) on this one thread; the ticker runs meanwhile.
    assert!(registry.writer_schema(3).await.is_err());
    ticker.abort();
    let ticks = ticks.load(Ordering::SeqCst);
    assert!(ticks >= 10, "{ticks} ticks while the lookup retried");
}

#[tokio::test]
async fn a_batch_is_resolved_up_to_the_first_unavailable_id_and_decoded_without_io() {
    let datum = |id: u32, x: u8| {
        let mut raw = vec![sxfleet_schemas::MAGIC];
        raw.extend_from_slice(&id.to_be_bytes());
        raw.push(x);
        raw
    };
    let (mut registry, calls) = registry(
        vec![Answer::Schema(RECORD), Answer::NotFound, Answer::Down],
        &config(),
    );
    let batch = [
        datum(1, 2),
        b"{}".to_vec(),
        datum(1, 4),
        datum(2, 2),
        datum(3, 2),
        datum(4, 2),
    ];
    registry.resolve(batch.iter().map(Vec::as_slice)).await;
    // 1 fetched once, 2 unknown, 3 unavailable after retries; 4 never asked.
    let after_resolve = calls.load(Ordering::SeqCst);
    assert!(after_resolve > 3, "{after_resolve}");
    assert_eq!(registry.decode(&batch[0]).unwrap().unwrap()["x"], 1);
    assert_eq!(registry.decode(&batch[2]).unwrap().unwrap()["x"], 2);
    assert_eq!(
        registry.decode(&batch[3]).unwrap().unwrap_err().code,
        ReasonCode::UnknownSchema
    );
    let unavailable = registry.decode(&batch[4]).unwrap_err();
    assert!(
        unavailable.0.contains("schema registry unavailable") && unavailable.0.contains("500"),
        "{}",
        unavailable.0
    );
    assert!(registry.decode(&batch[5]).is_err(), "4 was not resolved");
    assert_eq!(
        registry
            .decode(&[sxfleet_schemas::MAGIC, 0])
            .unwrap()
            .unwrap_err()
            .code,
        ReasonCode::InvalidAvro
    );
    assert_eq!(
        calls.load(Ordering::SeqCst),
        after_resolve,
        "decoding asks nothing"
    );

    // The next batch starts afresh: 1 comes from the cache, 2 is asked again (the registry
    // is down by now).
    registry
        .resolve([batch[0].as_slice(), batch[3].as_slice()])
        .await;
    assert!(calls.load(Ordering::SeqCst) > after_resolve);
    assert_eq!(registry.decode(&batch[0]).unwrap().unwrap()["x"], 1);
    assert!(registry.decode(&batch[3]).is_err(), "unavailable now");
    assert!(
        registry.decode(&batch[4]).is_err(),
        "3 is not part of this batch"
    );
}

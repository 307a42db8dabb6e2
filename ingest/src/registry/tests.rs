//! Caching and retry rules of the registry client, over an in-memory fake.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

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

#[test]
fn schemas_are_fetched_once_per_id() {
    let (mut registry, calls) = registry(vec![Answer::Schema(RECORD)], &config());
    let first = registry.writer_schema(1).unwrap();
    let again = registry.writer_schema(1).unwrap();
    assert!(Arc::ptr_eq(&first, &again));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    registry.writer_schema(2).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[test]
fn unknown_ids_are_bad_data_and_asked_again_next_time() {
    let (mut registry, calls) = registry(vec![Answer::NotFound, Answer::Schema(RECORD)], &config());
    assert_eq!(
        rejected_code(registry.writer_schema(9)),
        ReasonCode::UnknownSchema
    );
    // Registered meanwhile (a replica caught up): found on the next message.
    assert!(registry.writer_schema(9).is_ok());
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[test]
fn unusable_schemas_are_bad_data_and_cached() {
    for answer in [
        Answer::Schema(r#""string""#),
        Answer::Schema("{not a schema"),
        Answer::Typed("syntax = \"proto3\";", "PROTOBUF"),
        Answer::WithReferences,
    ] {
        let (mut registry, calls) = registry(vec![answer], &config());
        assert_eq!(
            rejected_code(registry.writer_schema(4)),
            ReasonCode::InvalidAvro
        );
        assert_eq!(
            rejected_code(registry.writer_schema(4)),
            ReasonCode::InvalidAvro
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
    let (mut registry, _) = registry(vec![Answer::Typed(RECORD, "AVRO")], &config());
    assert!(registry.writer_schema(4).is_ok());
}

#[test]
fn failures_are_retried_until_the_registry_answers() {
    let (mut registry, calls) = registry(
        vec![
            Answer::Down,
            Answer::Down,
            Answer::Down,
            Answer::Schema(RECORD),
        ],
        &config(),
    );
    assert!(registry.writer_schema(5).is_ok());
    assert_eq!(calls.load(Ordering::SeqCst), 4);
}

#[test]
fn a_registry_down_past_max_outage_is_given_up_and_not_cached() {
    let config = config();
    let (mut registry, calls) = registry(vec![Answer::Down], &config);
    let started = Instant::now();
    match registry.writer_schema(6) {
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
    assert!(registry.writer_schema(6).is_err());
    assert!(calls.load(Ordering::SeqCst) > before, "not cached");
}

#[test]
fn the_cache_keeps_the_newest_ids_within_its_bound() {
    let mut config = config();
    config.max_cached_schemas = 2;
    let (mut registry, calls) = registry(vec![Answer::Schema(RECORD)], &config);
    for id in [1, 2, 3, 3, 2] {
        registry.writer_schema(id).unwrap();
    }
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    registry.writer_schema(1).unwrap(); // evicted by 3
    assert_eq!(calls.load(Ordering::SeqCst), 4);
}

#[test]
fn lookups_block_safely_on_either_tokio_runtime() {
    for multi in [true, false] {
        let runtime = if multi {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .build()
        } else {
            tokio::runtime::Builder::new_current_thread().build()
        }
        .unwrap();
        let (mut registry, _) = registry(vec![Answer::Down, Answer::Schema(RECORD)], &config());
        // On a worker thread of the runtime, as in the normalizer's driver task.
        let task = runtime.spawn(async move { registry.writer_schema(1).is_ok() });
        let found = runtime.block_on(task).unwrap();
        assert!(found, "multi-thread: {multi}");
    }
}

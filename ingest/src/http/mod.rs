//! The HTTP ingest API: NDJSON batches in front of the raw topic (see `docs/ingest.md`).
//!
//! Each line is checked with the same pure normalizer the Kafka stage runs (for its per-line
//! result), and the accepted lines are written unchanged to the raw topic, rejected ones to
//! the DLQ, in one Kafka transaction per request. Dedupe, ordering and signatures stay in one
//! place: the normalizer stage reading the raw topic.
//!
//! Two lanes, each with its own memory budget and producers: `/v1/events` for live messages
//! and `/v1/replay` for backlog uploads (also limited in concurrent requests), so a node
//! uploading hours of backlog cannot take the capacity live traffic needs.
//!
//! Plain HTTP by default; with a `tls` section HTTPS, and with client certificates (mTLS) the
//! verified certificate can name the sender instead of a bearer token.
//!
//! Layout:
//! - [`config`]: settings, bearer tokens, TLS files and client certificate names.
//! - `error`: [`HttpError`].
//! - [`auth`]: bearer tokens and client certificates resolved to one principal (pure).
//! - [`lines`]: per-line checks of a batch (pure).
//! - [`writer`]: the transactional Kafka writes.
//! - [`tls`]: the TLS settings from PEM files, and client certificate names.
//! - [`https`]: the HTTPS accept loop.

pub mod auth;
pub mod config;
mod error;
pub mod https;
pub mod lines;
pub mod tls;
pub mod writer;

use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::StreamExt;
use serde_json::json;
use sxfleet_runtime::{KafkaConfig, Shutdown, Topics};
use sxfleet_schemas::Source;
use tokio::sync::Semaphore;

use self::auth::{Authenticator, ClientCertificate};
use self::config::{HttpConfig, HttpConfigError};
pub use self::error::HttpError;
use self::https::serve_tls_on;
use self::lines::{check_batch, Lane};
use self::tls::TlsServer;
use self::writer::{Writer, WriterConfig};
use crate::config::load_toml;
use crate::telemetry;

// Loading is defined here, above both the settings and the authenticator that checks them, so
// `config` does not depend on `auth`.
impl HttpConfig {
    /// Reads the settings from a TOML file (missing fields take their defaults) and checks
    /// that they fit together (the TLS files are read when serving starts).
    ///
    /// # Errors
    /// [`HttpConfigError`] when the file cannot be read or parsed, repeats a token or a
    /// client name, or `auth`, `tls`, `tokens` and `clients` do not fit together.
    pub fn load(path: &Path) -> Result<Self, HttpConfigError> {
        let config: Self = load_toml(path)?;
        Authenticator::new(&config)?;
        Ok(config)
    }
}

struct LaneState {
    lane: Lane,
    /// Body bytes this lane may hold at once.
    memory: Semaphore,
    memory_budget: usize,
    /// Requests this lane may serve at once, when limited.
    concurrency: Option<Semaphore>,
    /// Status when the lane is full: 503 for live, 429 for replay.
    busy: StatusCode,
    writer: Writer,
}

struct AppState {
    config: HttpConfig,
    auth: Authenticator,
    live: LaneState,
    replay: LaneState,
    commands: LaneState,
}

/// The API's router, writing with `kafka` to `topics`; producers use transactional ids
/// `<transactional_id>-<lane>-<i>`.
///
/// # Errors
/// [`HttpError::Config`] when tokens or client names repeat or do not fit the `auth` mode.
pub fn router(
    config: HttpConfig,
    kafka: KafkaConfig,
    topics: &Topics,
    transactional_id: &str,
) -> Result<Router, HttpError> {
    let auth = Authenticator::new(&config)?;
    let lane = |lane: Lane, budget: usize, concurrency: Option<usize>, busy| {
        let budget = budget.clamp(1, u32::MAX as usize);
        LaneState {
            lane,
            memory: Semaphore::new(budget),
            memory_budget: budget,
            concurrency: concurrency.map(|n| Semaphore::new(n.max(1))),
            busy,
            writer: Writer::new(WriterConfig {
                kafka: kafka.clone(),
                raw_topic: topics.raw.clone(),
                dlq_topic: topics.dlq.clone(),
                transactional_id: format!("{transactional_id}-{}", lane.as_str()),
                producers: config.producers_per_lane,
                timeout: config.write_timeout,
            }),
        }
    };
    let state = Arc::new(AppState {
        live: lane(
            Lane::Live,
            config.live_memory_bytes,
            None,
            StatusCode::SERVICE_UNAVAILABLE,
        ),
        replay: lane(
            Lane::Replay,
            config.replay_memory_bytes,
            Some(config.replay_concurrency),
            StatusCode::TOO_MANY_REQUESTS,
        ),
        commands: lane(
            Lane::Commands,
            config.live_memory_bytes,
            None,
            StatusCode::SERVICE_UNAVAILABLE,
        ),
        auth,
        config,
    });
    Ok(Router::new()
        .route("/v1/events", post(live))
        .route("/v1/replay", post(replay))
        .route("/v1/commands", post(commands))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(state))
}

/// Serves the API on `config.listen` until `shutdown`: HTTPS when `config.tls` is set, plain
/// HTTP otherwise.
///
/// # Errors
/// [`HttpError`] when the settings are invalid, the TLS files cannot be used or the address
/// cannot be served.
pub async fn serve(
    config: HttpConfig,
    kafka: KafkaConfig,
    topics: &Topics,
    transactional_id: &str,
    shutdown: &Shutdown,
) -> Result<(), HttpError> {
    let addr = config.listen;
    // The files first: a bad certificate should not wait for a port or for Kafka.
    let tls = match &config.tls {
        Some(tls) => Some(TlsServer::load(tls, config.auth)?),
        None => None,
    };
    let app = router(config, kafka, topics, transactional_id)?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| HttpError::Serve { addr, source })?;
    match tls {
        Some(tls) => serve_tls_on(listener, app, tls, shutdown).await,
        None => serve_on(listener, app, shutdown).await,
    }
}

/// Serves `app` (from [`router`]) over plain HTTP on a bound `listener` until `shutdown`.
///
/// # Errors
/// [`HttpError::Serve`] when serving fails.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: &Shutdown,
) -> Result<(), HttpError> {
    let addr = listener.local_addr().map_err(|source| HttpError::Serve {
        addr: std::net::SocketAddr::from(([0, 0, 0, 0], 0)),
        source,
    })?;
    tracing::info!(%addr, "HTTP ingest listening");
    let stop = shutdown.clone();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { stop.triggered().await })
        .await
        .map_err(|source| HttpError::Serve { addr, source })
}

async fn live(State(state): State<Arc<AppState>>, request: Request) -> Response {
    ingest(&state, &state.live, request).await
}

async fn replay(State(state): State<Arc<AppState>>, request: Request) -> Response {
    ingest(&state, &state.replay, request).await
}

async fn commands(State(state): State<Arc<AppState>>, request: Request) -> Response {
    ingest(&state, &state.commands, request).await
}

async fn ingest(state: &AppState, lane: &LaneState, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    // Set by the TLS accept loop when the connection has a verified client certificate.
    let certificate = parts.extensions.get::<Arc<ClientCertificate>>();
    let (response, accepted, rejected) = handle(
        state,
        lane,
        &parts.headers,
        certificate.map(Arc::as_ref),
        body,
    )
    .await;
    telemetry::http_request(
        lane.lane.as_str(),
        response.status().as_u16(),
        accepted,
        rejected,
    );
    response
}

async fn handle(
    state: &AppState,
    lane: &LaneState,
    headers: &HeaderMap,
    certificate: Option<&ClientCertificate>,
    body: Body,
) -> (Response, u64, u64) {
    let sender = match state.auth.authenticate(bearer(headers), certificate) {
        Ok(sender) => sender,
        Err(refused) => {
            let mut response = problem(StatusCode::UNAUTHORIZED, "unauthorized", &refused.detail);
            if refused.bearer_challenge {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            return (response, 0, 0);
        }
    };
    let limit = state.config.max_body_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return (too_large(limit), 0, 0);
    }
    let busy = || {
        let detail = "this lane is full; retry after the given delay";
        (problem_retry(lane.busy, "busy", detail, state), 0, 0)
    };
    let _slot = match &lane.concurrency {
        Some(requests) => match requests.try_acquire() {
            Ok(permit) => Some(permit),
            Err(_) => return busy(),
        },
        None => None,
    };
    let reserve = declared.unwrap_or(limit).clamp(1, lane.memory_budget);
    let Ok(_memory) = lane
        .memory
        .try_acquire_many(u32::try_from(reserve).unwrap_or(u32::MAX))
    else {
        return busy();
    };
    let bytes = match read_body(body, limit).await {
        Ok(bytes) => bytes,
        Err(BodyError::TooLarge) => return (too_large(limit), 0, 0),
        Err(BodyError::Broken(detail)) => {
            return (
                problem(StatusCode::BAD_REQUEST, "body_interrupted", &detail),
                0,
                0,
            )
        }
    };
    let received_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let batch = check_batch(
        &state.config.normalizer,
        &sender,
        lane.lane,
        &bytes,
        received_ms,
    );
    let (accepted, rejected) = (batch.accepted.len() as u64, batch.dead_letters.len() as u64);
    if !batch.results.is_empty() {
        if let Err(error) = lane
            .writer
            .write(&batch.accepted, &batch.dead_letters, received_ms)
            .await
        {
            tracing::warn!(principal = %sender.principal.name, credential = sender.credential.as_str(), lane = lane.lane.as_str(), error = %error, "batch not written");
            let response = problem_retry(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                &error.to_string(),
                state,
            );
            return (response, 0, 0);
        }
    }
    for code in batch.results.iter().filter_map(|r| r.reason) {
        telemetry::rejected(code, Source::Http);
    }
    let body = json!({
        "accepted": accepted,
        "rejected": rejected,
        "lines": batch.results,
    });
    (
        (StatusCode::OK, Json(body)).into_response(),
        accepted,
        rejected,
    )
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

enum BodyError {
    TooLarge,
    Broken(String),
}

/// Reads the body, failing as soon as it passes `limit` bytes.
async fn read_body(body: Body, limit: usize) -> Result<Vec<u8>, BodyError> {
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| BodyError::Broken(e.to_string()))?;
        if bytes.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

fn problem(status: StatusCode, error: &str, detail: &str) -> Response {
    (status, Json(json!({"error": error, "detail": detail}))).into_response()
}

fn too_large(limit: usize) -> Response {
    problem(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        &format!("the body is larger than {limit} bytes"),
    )
}

fn problem_retry(status: StatusCode, error: &str, detail: &str, state: &AppState) -> Response {
    let mut response = problem(status, error, detail);
    let seconds = state.config.retry_after.as_secs().max(1).to_string();
    if let Ok(value) = HeaderValue::from_str(&seconds) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

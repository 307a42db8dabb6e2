//! The HTTP server: the axum router (`/`, `/domains/{id}`, `/nodes/{id}`, each with a JSON
//! twin by `.json` suffix or `Accept: application/json`; the embedded stylesheet), the bearer
//! token check, and [`serve`], which binds (port 0 works) and says where it listens.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Serialize;
use sxfleet_ingest::http::config::AuthMode;
use sxfleet_ingest::http::https::serve_tls_on;
use sxfleet_ingest::http::tls::{TlsError, TlsServer};
use sxfleet_runtime::Shutdown;
use sxfleet_sinks::cookbook::Params;
use sxfleet_sinks::{AnswerError, Source};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::config::{UiConfig, UiConfigError};
use crate::pages::errors::{self, ErrorPage};
use crate::pages::{self, cells::ShapeError, domain, domain_html, node, node_html, overview};
use crate::pages::{overview_html, Answers};
use crate::request::{checked, node_page_of, same, split_id, wants_json, BadRequest};

/// The stylesheet, embedded.
pub const STYLESHEET: &str = include_str!("../assets/ui.css");

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum UiError {
    /// The settings are refused.
    #[error(transparent)]
    Config(#[from] UiConfigError),
    /// The TLS files cannot be used.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The address cannot be bound or served.
    #[error("serving the UI on {addr} failed")]
    Serve {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

struct AppState {
    source: Source,
    config: UiConfig,
}

/// The router over `source` with `config`'s token and timeout.
pub fn router(config: UiConfig, source: Source) -> Router {
    let state = Arc::new(AppState { source, config });
    Router::new()
        .route("/", get(overview_page))
        .route("/.json", get(overview_json))
        .route("/index.json", get(overview_json))
        .route("/domains/{id}", get(domain_page))
        .route("/nodes/{id}", get(node_page))
        .route("/assets/ui.css", get(stylesheet))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            authorize,
        ))
        .with_state(state)
}

/// A running server: where it listens, and its task.
#[derive(Debug)]
pub struct Serving {
    /// The bound address (the real port when asked for port 0).
    pub addr: SocketAddr,
    /// `https` or `http`.
    pub scheme: &'static str,
    task: JoinHandle<Result<(), UiError>>,
}

impl Serving {
    /// Waits until the server stopped (after its shutdown trigger).
    ///
    /// # Errors
    /// [`UiError::Serve`] when serving failed.
    pub async fn wait(self) -> Result<(), UiError> {
        match self.task.await {
            Ok(result) => result,
            Err(join) => Err(UiError::Serve {
                addr: self.addr,
                source: std::io::Error::other(join.to_string()),
            }),
        }
    }
}

/// Checks `config`, binds its address and serves the pages over `source` until `shutdown`:
/// HTTPS when `config.tls` is set. Returns once listening.
///
/// # Errors
/// [`UiError::Config`] for refused settings, [`UiError::Tls`] for unusable TLS files,
/// [`UiError::Serve`] when the address cannot be bound.
pub async fn serve(
    config: UiConfig,
    source: Source,
    shutdown: Shutdown,
) -> Result<Serving, UiError> {
    config.check()?;
    let tls = match &config.tls {
        Some(tls) => Some(TlsServer::load(tls, AuthMode::Token)?),
        None => None,
    };
    let wanted = config.listen;
    let listener = TcpListener::bind(wanted)
        .await
        .map_err(|source| UiError::Serve {
            addr: wanted,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| UiError::Serve {
        addr: wanted,
        source,
    })?;
    let app = router(config, source);
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(%addr, scheme, "operator UI listening");
    let task = tokio::spawn(async move {
        match tls {
            Some(tls) => serve_tls_on(listener, app, tls, &shutdown)
                .await
                .map_err(|e| UiError::Serve {
                    addr,
                    source: std::io::Error::other(e.to_string()),
                }),
            None => axum::serve(listener, app)
                .with_graceful_shutdown(async move { shutdown.triggered().await })
                .await
                .map_err(|source| UiError::Serve { addr, source }),
        }
    });
    Ok(Serving { addr, scheme, task })
}

async fn authorize(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let Some(token) = &state.config.token else {
        return next.run(request).await;
    };
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if given.is_some_and(|given| same(given.as_bytes(), token.as_bytes())) {
        return next.run(request).await;
    }
    let json = wants_json(request.headers(), request.uri().path());
    let mut response = error(
        json,
        ErrorPage::new(
            401,
            "This UI needs a bearer token: Authorization: Bearer <token>.",
        ),
    );
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// Why a page failed, by who must act.
enum Failure {
    BadRequest(String),
    NotFound(String),
    Unavailable(String),
    Bug(String),
}

impl From<AnswerError> for Failure {
    fn from(error: AnswerError) -> Self {
        match &error {
            AnswerError::Unreachable { source, .. } => {
                Failure::Unavailable(format!("{error} ({source}). Retry once it is back."))
            }
            AnswerError::NoData { .. } => Failure::Unavailable(error.to_string()),
            AnswerError::BadId(bad) => Failure::BadRequest(bad.to_string()),
            _ => Failure::Bug(error.to_string()),
        }
    }
}

impl From<ShapeError> for Failure {
    fn from(error: ShapeError) -> Self {
        Failure::Bug(error.to_string())
    }
}

impl From<BadRequest> for Failure {
    fn from(error: BadRequest) -> Self {
        Failure::BadRequest(error.0)
    }
}

fn fail(json: bool, failure: Failure) -> Response {
    let page = match failure {
        Failure::BadRequest(message) => ErrorPage::new(400, message),
        Failure::NotFound(message) => ErrorPage::new(404, message),
        Failure::Unavailable(message) => {
            ErrorPage::new(503, format!("The backend is unavailable: {message}"))
        }
        Failure::Bug(detail) => {
            tracing::error!(%detail, "operator UI page failed");
            ErrorPage::new(500, "Internal error: a query's answer was not what the page expected. The server log has the details.")
        }
    };
    error(json, page)
}

fn error(json: bool, page: ErrorPage) -> Response {
    let status = StatusCode::from_u16(page.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = if json {
        json_body(&page)
    } else {
        html_body(errors::render(&page))
    };
    *response.status_mut() = status;
    response
}

fn json_body<T: Serialize>(value: &T) -> Response {
    match serde_json::to_string_pretty(value) {
        Ok(text) => ([(header::CONTENT_TYPE, "application/json")], text).into_response(),
        Err(e) => fail(false, Failure::Bug(e.to_string())),
    }
}

fn html_body(text: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'self'; img-src 'self' data:",
            ),
        ],
        text,
    )
        .into_response()
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Loads `queries` with `params` within the configured timeout, with the page's freshness.
async fn answers(
    state: &AppState,
    queries: &[&'static str],
    params: &Params<'_>,
) -> Result<(Answers, pages::Freshness), Failure> {
    let timeout = state.config.request_timeout;
    let loading = async {
        let reader = state.source.reader().await?;
        pages::load(&reader, queries, params).await
    };
    let answers = within(timeout, loading).await.ok_or_else(|| {
        Failure::Unavailable(format!(
            "{} did not answer within {} s",
            state.source.describe(),
            timeout.as_secs()
        ))
    })??;
    let fresh = pages::freshness(
        answers.get("freshness")?,
        &state.source.describe(),
        now_ms(),
    )?;
    Ok((answers, fresh))
}

async fn within<T>(limit: std::time::Duration, work: impl Future<Output = T>) -> Option<T> {
    tokio::time::timeout(limit, work).await.ok()
}

async fn overview_page(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    overview(&state, wants_json(&headers, "/")).await
}

async fn overview_json(State(state): State<Arc<AppState>>) -> Response {
    overview(&state, true).await
}

async fn overview(state: &AppState, json: bool) -> Response {
    let result = async {
        let (answers, fresh) = answers(state, &overview::QUERIES, &Params::default()).await?;
        Ok::<_, Failure>(overview::model(&answers, fresh)?)
    };
    match result.await {
        Ok(page) if json => json_body(&page),
        Ok(page) => html_body(overview_html::render(&page)),
        Err(failure) => fail(json, failure),
    }
}

async fn domain_page(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Response {
    let segment = path.map(|Path(s)| s).unwrap_or_default();
    let (id, suffix) = split_id(&segment);
    let json = suffix || wants_json(&headers, "");
    let result = async {
        checked(id, "domain")?;
        let page = node_page_of(query.as_deref())?;
        let params = Params {
            domain_id: id,
            page,
            ..Params::default()
        };
        let (answers, fresh) = answers(&state, &domain::QUERIES, &params).await?;
        if !domain::exists(&answers)? {
            return Err(Failure::NotFound(format!("No domain {id} is known.")));
        }
        Ok((domain::model(&answers, fresh, id, &page)?, page))
    };
    match result.await {
        Ok((model, _)) if json => json_body(&model),
        Ok((model, page)) => html_body(domain_html::render(&model, &page)),
        Err(failure) => fail(json, failure),
    }
}

async fn node_page(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    let segment = path.map(|Path(s)| s).unwrap_or_default();
    let (id, suffix) = split_id(&segment);
    let json = suffix || wants_json(&headers, "");
    let result = async {
        checked(id, "node")?;
        let params = Params {
            node_id: id,
            ..Params::default()
        };
        let (answers, fresh) = answers(&state, &node::QUERIES, &params).await?;
        if !node::exists(&answers)? {
            return Err(Failure::NotFound(format!("No node {id} is known.")));
        }
        Ok(node::model(&answers, fresh, id)?)
    };
    match result.await {
        Ok(model) if json => json_body(&model),
        Ok(model) => html_body(node_html::render(&model)),
        Err(failure) => fail(json, failure),
    }
}

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        STYLESHEET,
    )
        .into_response()
}

async fn not_found(request: Request) -> Response {
    let json = wants_json(request.headers(), request.uri().path());
    error(
        json,
        ErrorPage::new(404, "There is no such page: try / (the fleet overview)."),
    )
}

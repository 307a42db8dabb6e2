//! A schema registry fixture for the tests: the Confluent REST endpoints the normalizer and our
//! test producers use, served by axum on 127.0.0.1. It is not a Confluent server (none can be
//! installed here); it follows the documented API:
//!
//! - `GET /schemas/ids/{id}` -> `{"schema": "<text>"}`, or 404 `{"error_code": 40403, ...}`;
//! - `POST /subjects/{subject}/versions` with `{"schema": "<text>"}` -> `{"id": N}` (the same
//!   schema text gets the same id under any subject, as in Confluent's registry).
//!
//! It can be told to fail: every request answered with a status (500 -> error code 50001), or
//! stopped altogether (connections refused) and started again on the same port.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::sync::oneshot;

#[derive(Default)]
struct Registered {
    /// Schema text by id; ids start at 1.
    by_id: Vec<String>,
    /// Requests to `GET /schemas/ids/{id}` per id, answered or not.
    lookups: HashMap<u32, u32>,
    /// Requests answered with the failure status.
    failed: u32,
    /// When set, every request is answered with this status.
    failing: Option<u16>,
}

type Shared = Arc<Mutex<Registered>>;

/// A running (or stopped) registry fixture.
pub struct Registry {
    state: Shared,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

impl Registry {
    /// Starts a registry on a free port of 127.0.0.1.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut registry = Self {
            state: Shared::default(),
            addr,
            stop: None,
        };
        registry.serve(listener);
        registry
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let app = Router::new()
            .route("/schemas/ids/{id}", get(schema_by_id))
            .route("/subjects/{subject}/versions", post(register))
            .with_state(Arc::clone(&self.state));
        let (stop, stopped) = oneshot::channel::<()>();
        self.stop = Some(stop);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
    }

    /// The base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// From now on every request is answered with `status` (`None`: answered normally).
    pub fn fail_with(&self, status: Option<u16>) {
        self.state.lock().unwrap().failing = status;
    }

    /// Stops serving: connections are refused until [`Registry::restart`].
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Serves again on the same port, with the same schemas.
    pub async fn restart(&mut self) {
        let listener = tokio::net::TcpListener::bind(self.addr).await.unwrap();
        self.serve(listener);
    }

    /// Registers `schema` directly (as `POST /subjects/.../versions` would); returns its id.
    pub fn register(&self, schema: &str) -> u32 {
        id_of(&mut self.state.lock().unwrap(), schema)
    }

    /// How many times `GET /schemas/ids/{id}` was asked for `id`.
    pub fn lookups(&self, id: u32) -> u32 {
        self.state
            .lock()
            .unwrap()
            .lookups
            .get(&id)
            .copied()
            .unwrap_or(0)
    }

    /// How many requests were answered with the failure status.
    pub fn failed(&self) -> u32 {
        self.state.lock().unwrap().failed
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

fn id_of(state: &mut Registered, schema: &str) -> u32 {
    let index = match state.by_id.iter().position(|known| known == schema) {
        Some(index) => index,
        None => {
            state.by_id.push(schema.to_owned());
            state.by_id.len() - 1
        }
    };
    index as u32 + 1
}

fn error(status: StatusCode, code: u32, message: String) -> (StatusCode, Json<Value>) {
    (
        status,
        Json(json!({"error_code": code, "message": message})),
    )
}

/// The failure answer, when the fixture is told to fail.
fn failure(state: &mut Registered) -> Option<(StatusCode, Json<Value>)> {
    let status = state.failing?;
    state.failed += 1;
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    Some(error(
        status,
        u32::from(status.as_u16()) * 100 + 1,
        "the fixture was told to fail".to_owned(),
    ))
}

async fn schema_by_id(
    State(state): State<Shared>,
    Path(id): Path<u32>,
) -> (StatusCode, Json<Value>) {
    let mut state = state.lock().unwrap();
    *state.lookups.entry(id).or_default() += 1;
    if let Some(failed) = failure(&mut state) {
        return failed;
    }
    match id
        .checked_sub(1)
        .and_then(|index| state.by_id.get(index as usize))
    {
        Some(schema) => (StatusCode::OK, Json(json!({ "schema": schema }))),
        None => error(
            StatusCode::NOT_FOUND,
            40403,
            format!("Schema {id} not found"),
        ),
    }
}

async fn register(
    State(state): State<Shared>,
    Path(_subject): Path<String>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let mut state = state.lock().unwrap();
    if let Some(failed) = failure(&mut state) {
        return failed;
    }
    let Some(schema) = body.get("schema").and_then(Value::as_str) else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            42201,
            "Invalid schema".to_owned(),
        );
    };
    let id = id_of(&mut state, schema);
    (StatusCode::OK, Json(json!({ "id": id })))
}

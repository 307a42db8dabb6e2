//! Shared helpers of the integration tests: the real services and a throw-away database.
#![allow(dead_code)] // each test binary uses a different subset

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use sxfleet_sinks::{ClickHouse, ClickHouseConfig};

pub mod commands;
pub mod fleet;
pub mod kafka;
pub mod tree;
pub use sxfleet_sinks::samples;

/// ClickHouse HTTP endpoint: `CLICKHOUSE_URL`, else the one `dev/services` starts.
pub fn clickhouse_url() -> String {
    std::env::var("CLICKHOUSE_URL").unwrap_or_else(|_| "http://127.0.0.1:8123".to_owned())
}

/// Kafka bootstrap servers: `KAFKA_BOOTSTRAP`, else the broker `dev/services` starts.
pub fn kafka_bootstrap() -> String {
    std::env::var("KAFKA_BOOTSTRAP").unwrap_or_else(|_| "127.0.0.1:9092".to_owned())
}

/// Starts Kafka and ClickHouse through `dev/services up` (idempotent) once per test binary,
/// unless both already answer.
pub fn ensure_services() {
    static UP: OnceLock<()> = OnceLock::new();
    UP.get_or_init(|| {
        let answers = |addr: &str| {
            addr.parse()
                .ok()
                .and_then(|a| TcpStream::connect_timeout(&a, Duration::from_secs(2)).ok())
                .is_some()
        };
        if answers(&host_port(&clickhouse_url())) && answers(&kafka_bootstrap()) {
            return;
        }
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dev/services");
        let status = Command::new(script)
            .arg("up")
            .status()
            .expect("run dev/services up");
        assert!(status.success(), "dev/services up failed: {status}");
    });
}

fn host_port(url: &str) -> String {
    let rest = url.split("://").nth(1).unwrap_or(url);
    rest.split('/').next().unwrap_or(rest).to_owned()
}

/// Coordinates for twin rows built outside a sink run.
pub const TWIN_AT: sxfleet_sinks::tables::Coords<'static> = sxfleet_sinks::tables::Coords {
    topic: "t.twin",
    partition: 0,
    offset: 1,
};

/// A random name with `prefix`, e.g. `fleet_t3f9a0c...`.
pub fn random_name(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

/// A database name no other test uses; dropped when the guard goes out of scope, even when
/// the test panics.
pub struct TestDb {
    pub name: String,
}

impl TestDb {
    pub fn new() -> Self {
        ensure_services();
        Self {
            name: random_name("fleet_t"),
        }
    }

    pub fn config(&self) -> ClickHouseConfig {
        ClickHouseConfig::new(clickhouse_url(), &self.name)
    }

    pub async fn connect(&self) -> ClickHouse {
        ClickHouse::connect(&self.config()).await.expect("connect")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS `{}`", self.name);
        if let Err(response) = blocking_sql(&sql) {
            eprintln!("dropping {} failed: {response}", self.name);
        }
    }
}

/// Runs `sql` over plain blocking HTTP, so it also works in `Drop` while unwinding out of an
/// async test. The error is the server's whole response.
pub fn blocking_sql(sql: &str) -> Result<(), String> {
    let addr = host_port(&clickhouse_url());
    let mut stream = TcpStream::connect(&addr).map_err(|err| err.to_string())?;
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{sql}",
        sql.len()
    );
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    stream
        .write_all(request.as_bytes())
        .map_err(|err| err.to_string())?;
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    if response.starts_with("HTTP/1.1 200") {
        Ok(())
    } else {
        Err(response)
    }
}

/// Runs `sql` and returns the answer as TabSeparated text.
pub async fn tsv(ch: &ClickHouse, sql: &str) -> String {
    try_tsv(ch, sql).await.expect("query")
}

/// As [`tsv`], with the error instead of a panic.
pub async fn try_tsv(ch: &ClickHouse, sql: &str) -> Result<String, clickhouse::error::Error> {
    let mut cursor = ch
        .server_client()
        .query_raw(sql)
        .fetch_bytes("TabSeparated")?;
    let bytes = cursor.collect().await?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

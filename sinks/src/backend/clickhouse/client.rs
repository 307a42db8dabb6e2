//! Connecting to ClickHouse: settings, version detection, and a client fitted to the server.

use std::fmt;

use clickhouse::{Client, Compression};
use serde::Deserialize;
use tracing::info;

use crate::caps::ServerCaps;
use crate::error::ClickHouseError;
use crate::tables::ddl;

/// Where the sink's ClickHouse database lives.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClickHouseConfig {
    /// HTTP endpoint, e.g. `http://127.0.0.1:8123`.
    pub url: String,
    /// Database holding the sink's tables; created by the migrations. A plain identifier.
    pub database: String,
    /// User name; the server's default user when absent.
    pub user: Option<String>,
    /// Password; redacted in `Debug` output.
    pub password: Option<String>,
}

impl Default for ClickHouseConfig {
    fn default() -> Self {
        Self {
            url: "http://127.0.0.1:8123".to_owned(),
            database: "fleet".to_owned(),
            user: None,
            password: None,
        }
    }
}

impl fmt::Debug for ClickHouseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClickHouseConfig")
            .field("url", &self.url)
            .field("database", &self.database)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl ClickHouseConfig {
    /// Settings for `url` and `database`, default user, no password.
    pub fn new(url: impl Into<String>, database: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            database: database.into(),
            user: None,
            password: None,
        }
    }
}

/// A connection to one ClickHouse server: its capabilities and clients fitted to them.
///
/// `clickhouse::Client` is a cheap handle over a shared HTTP pool; clone it freely.
#[derive(Clone)]
pub struct ClickHouse {
    server: Client,
    database: String,
    caps: ServerCaps,
}

impl fmt::Debug for ClickHouse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClickHouse")
            .field("database", &self.database)
            .field("caps", &self.caps)
            .finish_non_exhaustive()
    }
}

impl ClickHouse {
    /// Asks the server for its version and builds clients fitted to it: schema validation
    /// (`RowBinaryWithNamesAndTypes`) only where the server can serve it, LZ4 insert bodies only
    /// where they are known to work. Does not need the database to exist.
    ///
    /// # Errors
    /// [`ClickHouseError::BadDatabaseName`] for a database name that is not a plain identifier,
    /// [`ClickHouseError::Request`] when the server cannot be reached or refuses the query,
    /// [`ClickHouseError::Version`] when its version string cannot be parsed.
    pub async fn connect(config: &ClickHouseConfig) -> Result<Self, ClickHouseError> {
        if !ddl::is_identifier(&config.database) {
            return Err(ClickHouseError::BadDatabaseName(config.database.clone()));
        }
        let mut base = Client::default()
            .with_url(&config.url)
            .with_validation(false)
            .with_compression(Compression::None);
        if let Some(user) = &config.user {
            base = base.with_user(user);
        }
        if let Some(password) = &config.password {
            base = base.with_password(password);
        }
        let version: String = base
            .query("SELECT version()")
            .fetch_one()
            .await
            .map_err(ClickHouseError::request("select version()"))?;
        let caps = ServerCaps::from_version(&version)?;
        info!(server = %caps, url = %config.url, database = %config.database, "connected to clickhouse");
        let compression = if caps.lz4_insert {
            Compression::Lz4
        } else {
            Compression::None
        };
        let server = base
            .with_validation(caps.row_binary_validation)
            .with_compression(compression);
        Ok(Self {
            server,
            database: config.database.clone(),
            caps,
        })
    }

    /// What the server can do.
    pub fn caps(&self) -> &ServerCaps {
        &self.caps
    }

    /// The sink's database name (a plain identifier).
    pub fn database(&self) -> &str {
        &self.database
    }

    /// A client whose queries and inserts default to the sink's database. The database must
    /// exist (run [`super::migrate::migrate`] first): the server rejects every request naming a
    /// missing one.
    pub fn client(&self) -> Client {
        self.server.clone().with_database(&self.database)
    }

    /// A client without a default database, for statements that name their tables in full
    /// (`CREATE DATABASE`, the migrations).
    pub fn server_client(&self) -> &Client {
        &self.server
    }
}

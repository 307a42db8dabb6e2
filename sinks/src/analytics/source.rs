//! Where the cookbook's questions are answered: a ClickHouse database or a directory of
//! Parquet tables. A [`Source`] opens a [`Reader`] (for the Parquet tables, a DataFusion
//! session over the files as they are now, so every answer of one page reads the same files),
//! and a reader answers a named query of `docs/sql-cookbook.md` in its backend's dialect, bound
//! to [`Params`], as an [`Answer`].
//!
//! Errors say who must act: the backend is unreachable or has no data yet (external: retry
//! later, a page answers 503), or the query is wrong (internal: a bug).

use std::path::PathBuf;

use clickhouse::{Client, Compression};
use datafusion::prelude::SessionContext;

use super::answer::{Answer, AnswerShapeError};
use super::cookbook::{self, Dialect, Params};
use crate::backend::clickhouse::ClickHouseConfig;
use crate::backend::parquet::query::{self, QueryError};
use crate::backend::parquet::snapshot::Snapshots;
use crate::error::ErrorClass;
use crate::tables::ddl;

/// A backend to answer from.
#[derive(Clone, Debug)]
pub enum Source {
    /// A ClickHouse database (the sink's).
    ClickHouse {
        /// The server's HTTP endpoint (for messages).
        url: String,
        /// The database (a plain identifier).
        database: String,
        /// A client whose queries default to `database`.
        client: ClickHouseClient,
    },
    /// The Parquet tables under a directory (the embedded backend), read through snapshots
    /// kept across readers ([`Snapshots`]).
    Parquet(Snapshots),
}

/// A ClickHouse client (a cheap handle over a shared HTTP pool), `Debug` without secrets.
#[derive(Clone)]
pub struct ClickHouseClient(Box<Client>);

impl std::fmt::Debug for ClickHouseClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClickHouseClient")
    }
}

/// Why a question got no answer.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    /// The backend does not answer (connection refused, timed out, ...).
    #[error("{backend} cannot be reached")]
    Unreachable {
        /// Which backend, e.g. `ClickHouse at http://127.0.0.1:8123`.
        backend: String,
        /// The client's error.
        #[source]
        source: clickhouse::error::Error,
    },
    /// The backend answers but holds no data yet: the database or the table directories do
    /// not exist (the sink has not run).
    #[error("{backend}: no landed data yet ({detail})")]
    NoData {
        /// Which backend.
        backend: String,
        /// What is missing.
        detail: String,
    },
    /// A database name that is not a plain identifier (bad configuration).
    #[error("database name {0:?} is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*)")]
    BadDatabaseName(String),
    /// The cookbook has no query of this name in this dialect (a bug).
    #[error("docs/sql-cookbook.md has no {dialect} query {name:?}")]
    UnknownQuery {
        /// The name asked for.
        name: String,
        /// The dialect.
        dialect: Dialect,
    },
    /// An id that is not one ([`cookbook::is_id`]): bad input, refused before any SQL.
    #[error(transparent)]
    BadId(#[from] cookbook::BadId),
    /// The backend refused the query, or its answer could not be read (a bug).
    #[error("query {name:?} failed: {detail}")]
    Query {
        /// The query's name (or `sql` for SQL run as given).
        name: String,
        /// The backend's message.
        detail: String,
    },
}

impl AnswerError {
    /// External when the backend is down or empty, internal for a bad query or setting (a
    /// bad id is the caller's to refuse first, with [`cookbook::is_id`]).
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Unreachable { .. } | Self::NoData { .. } => ErrorClass::External,
            Self::BadDatabaseName(_)
            | Self::BadId(_)
            | Self::UnknownQuery { .. }
            | Self::Query { .. } => ErrorClass::Internal,
        }
    }
}

impl Source {
    /// The database of `config`. Connects lazily: a server that is down now is reported by
    /// each answer, not here.
    ///
    /// # Errors
    /// [`AnswerError::BadDatabaseName`] when `config.database` is not a plain identifier.
    pub fn clickhouse(config: &ClickHouseConfig) -> Result<Self, AnswerError> {
        if !ddl::is_identifier(&config.database) {
            return Err(AnswerError::BadDatabaseName(config.database.clone()));
        }
        let mut client = Client::default()
            .with_url(&config.url)
            .with_database(&config.database)
            .with_compression(Compression::None);
        if let Some(user) = &config.user {
            client = client.with_user(user);
        }
        if let Some(password) = &config.password {
            client = client.with_password(password);
        }
        Ok(Self::ClickHouse {
            url: config.url.clone(),
            database: config.database.clone(),
            client: ClickHouseClient(Box::new(client)),
        })
    }

    /// The Parquet tables under `dir` ([`Snapshots::new`]).
    pub fn parquet(dir: impl Into<PathBuf>) -> Self {
        Self::Parquet(Snapshots::new(dir))
    }

    /// The SQL dialect of the backend.
    pub fn dialect(&self) -> Dialect {
        match self {
            Self::ClickHouse { .. } => Dialect::ClickHouse,
            Self::Parquet(_) => Dialect::DataFusion,
        }
    }

    /// The backend in words, for messages: `ClickHouse database fleet at http://...` or
    /// `the Parquet tables under data`.
    pub fn describe(&self) -> String {
        match self {
            Self::ClickHouse { url, database, .. } => {
                format!("ClickHouse database {database} at {url}")
            }
            Self::Parquet(snapshots) => {
                format!("the Parquet tables under {}", snapshots.dir().display())
            }
        }
    }

    /// A reader of the backend as it is now (for the Parquet tables, as they were at most
    /// [`crate::backend::parquet::snapshot::REUSE_FOR`] ago).
    ///
    /// # Errors
    /// [`AnswerError::NoData`] for a data directory without table directories;
    /// [`AnswerError::Query`] when the DataFusion session cannot be built.
    pub async fn reader(&self) -> Result<Reader, AnswerError> {
        match self {
            Self::ClickHouse { client, .. } => Ok(Reader {
                backend: self.describe(),
                engine: Engine::ClickHouse(client.0.clone()),
            }),
            Self::Parquet(snapshots) => {
                let ctx = snapshots
                    .session()
                    .await
                    .map_err(|e| datafusion_error(&self.describe(), "session", e))?;
                Ok(Reader::datafusion(ctx, self.describe()))
            }
        }
    }

    /// Cookbook query `name` bound to `params`, answered by a new [`Reader`].
    ///
    /// # Errors
    /// As [`Source::reader`] and [`Reader::answer`].
    pub async fn answer(&self, name: &str, params: &Params<'_>) -> Result<Answer, AnswerError> {
        self.reader().await?.answer(name, params).await
    }
}

/// Answers from one backend: a ClickHouse client, or a DataFusion session over the Parquet
/// files as they were when it was opened.
#[derive(Clone)]
pub struct Reader {
    backend: String,
    engine: Engine,
}

#[derive(Clone)]
enum Engine {
    // Boxed: a client is several times the size of a session handle.
    ClickHouse(Box<Client>),
    DataFusion(SessionContext),
}

impl Reader {
    /// A reader over `client` (its default database is the one read).
    pub fn clickhouse(client: Client, backend: impl Into<String>) -> Self {
        Self {
            backend: backend.into(),
            engine: Engine::ClickHouse(Box::new(client)),
        }
    }

    /// A reader over a DataFusion session (see [`query::session`]).
    pub fn datafusion(ctx: SessionContext, backend: impl Into<String>) -> Self {
        Self {
            backend: backend.into(),
            engine: Engine::DataFusion(ctx),
        }
    }

    /// The SQL dialect the reader speaks.
    pub fn dialect(&self) -> Dialect {
        match self.engine {
            Engine::ClickHouse(_) => Dialect::ClickHouse,
            Engine::DataFusion(_) => Dialect::DataFusion,
        }
    }

    /// Cookbook query `name` in the reader's dialect, bound to `params`, answered.
    ///
    /// # Errors
    /// [`AnswerError::BadId`] for an id of `params` that is not one ([`Params::check`]),
    /// [`AnswerError::UnknownQuery`] for a name the cookbook lacks, else as [`Reader::sql`].
    pub async fn answer(&self, name: &str, params: &Params<'_>) -> Result<Answer, AnswerError> {
        let dialect = self.dialect();
        let query = cookbook::named(name, dialect).ok_or_else(|| AnswerError::UnknownQuery {
            name: name.to_owned(),
            dialect,
        })?;
        self.run(name, &query.bind_checked(params)?).await
    }

    /// `sql` (in the reader's dialect) answered.
    ///
    /// # Errors
    /// [`AnswerError::Unreachable`] when ClickHouse does not answer, [`AnswerError::NoData`]
    /// when its database does not exist, [`AnswerError::Query`] when the backend refuses the
    /// SQL or its answer cannot be read.
    pub async fn sql(&self, sql: &str) -> Result<Answer, AnswerError> {
        self.run("sql", sql).await
    }

    async fn run(&self, name: &str, sql: &str) -> Result<Answer, AnswerError> {
        let failed = |detail: String| AnswerError::Query {
            name: name.to_owned(),
            detail,
        };
        let shape = |e: AnswerShapeError| failed(e.to_string());
        match &self.engine {
            Engine::ClickHouse(client) => {
                let body = async {
                    let mut cursor = client.query(sql).fetch_bytes("JSONCompact")?;
                    cursor.collect().await
                };
                let bytes = body.await.map_err(|e| self.clickhouse_error(name, e))?;
                Answer::from_json_compact(&bytes).map_err(shape)
            }
            Engine::DataFusion(ctx) => {
                let batches = query::run(ctx, sql)
                    .await
                    .map_err(|e| datafusion_error(&self.backend, name, e))?;
                Answer::from_batches(&batches).map_err(shape)
            }
        }
    }

    fn clickhouse_error(&self, name: &str, error: clickhouse::error::Error) -> AnswerError {
        use clickhouse::error::Error;
        match error {
            Error::Network(_) | Error::TimedOut => AnswerError::Unreachable {
                backend: self.backend.clone(),
                source: error,
            },
            // UNKNOWN_DATABASE: the sink has not created it yet.
            Error::BadResponse(message) if message.contains("Code: 81") => AnswerError::NoData {
                backend: self.backend.clone(),
                detail: message,
            },
            other => AnswerError::Query {
                name: name.to_owned(),
                detail: other.to_string(),
            },
        }
    }
}

fn datafusion_error(backend: &str, name: &str, error: QueryError) -> AnswerError {
    match error {
        QueryError::NoTables(dir) => AnswerError::NoData {
            backend: backend.to_owned(),
            detail: format!("{dir} holds no table directory"),
        },
        other => AnswerError::Query {
            name: name.to_owned(),
            detail: format!("{other}: {other:?}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_empty_data_directory_has_no_data() {
        let dir = tempfile::tempdir().unwrap();
        let source = Source::parquet(dir.path());
        let error = source
            .answer("fleet_connectivity", &Params::default())
            .await
            .unwrap_err();
        assert!(matches!(error, AnswerError::NoData { .. }), "{error}");
        assert_eq!(error.class(), ErrorClass::External);
    }

    #[tokio::test]
    async fn a_refused_connection_is_unreachable() {
        // Port 9 (discard) on loopback: nothing listens there.
        let config = ClickHouseConfig::new("http://127.0.0.1:9", "fleet");
        let source = Source::clickhouse(&config).unwrap();
        let error = source
            .answer("fleet_connectivity", &Params::default())
            .await
            .unwrap_err();
        assert!(matches!(error, AnswerError::Unreachable { .. }), "{error}");
        assert!(error.to_string().contains("http://127.0.0.1:9"), "{error}");
    }

    #[test]
    fn database_names_are_checked() {
        let config = ClickHouseConfig::new("http://127.0.0.1:8123", "fleet; DROP");
        assert!(matches!(
            Source::clickhouse(&config),
            Err(AnswerError::BadDatabaseName(_))
        ));
    }

    #[tokio::test]
    async fn unknown_queries_are_bugs() {
        let ctx = SessionContext::new();
        let reader = Reader::datafusion(ctx, "memory");
        let error = reader
            .answer("no_such_question", &Params::default())
            .await
            .unwrap_err();
        assert!(matches!(error, AnswerError::UnknownQuery { .. }));
        assert_eq!(error.class(), ErrorClass::Internal);
    }
}

//! Errors of the sink, classed by who must act.
//!
//! Bad data never surfaces here: an undecodable record becomes a dead letter (counted, offset
//! committed). What is left is either external (ClickHouse or Kafka unreachable or refusing:
//! back off and retry, or restart later) or internal (a configuration or programming mistake:
//! stop and alert).

/// Who must act on an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorClass {
    /// A service outside the process failed; retrying later may succeed.
    External,
    /// Bad configuration or a broken invariant; retrying will not help.
    Internal,
}

/// A failed ClickHouse operation.
#[derive(Debug, thiserror::Error)]
pub enum ClickHouseError {
    /// The configured database name is not a plain identifier.
    #[error("database name {0:?} is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*)")]
    BadDatabaseName(String),
    /// `SELECT version()` returned something unparseable.
    #[error(transparent)]
    Version(#[from] crate::caps::VersionParseError),
    /// A request to the server failed.
    #[error("clickhouse {operation} failed")]
    Request {
        /// What the sink was doing, e.g. `insert into events`.
        operation: String,
        /// The client error.
        #[source]
        source: clickhouse::error::Error,
    },
}

impl ClickHouseError {
    /// Wraps a client error with what the sink was doing.
    pub fn request(operation: impl Into<String>) -> impl FnOnce(clickhouse::error::Error) -> Self {
        let operation = operation.into();
        move |source| Self::Request { operation, source }
    }

    /// External for failed requests, internal for bad configuration.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Request { .. } => ErrorClass::External,
            Self::BadDatabaseName(_) | Self::Version(_) => ErrorClass::Internal,
        }
    }
}

/// A failed file operation of the Parquet backend.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// Reading a directory, creating, syncing or renaming a file failed.
    #[error("{operation} {path} failed")]
    Io {
        /// What was done.
        operation: &'static str,
        /// On which path.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The Parquet writer failed.
    #[error("writing parquet file {path} failed")]
    Parquet {
        /// The temporary file.
        path: std::path::PathBuf,
        /// The writer's error.
        #[source]
        source: datafusion::parquet::errors::ParquetError,
    },
}

/// Why [`crate::run_sink`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// Connecting to ClickHouse or migrating its schema failed.
    #[error("clickhouse set-up failed")]
    ClickHouse(#[from] ClickHouseError),
    /// A Kafka client could not be created or subscribed.
    #[error("kafka {operation} failed")]
    Kafka {
        /// What the sink was doing.
        operation: &'static str,
        /// The client error.
        #[source]
        source: rdkafka::error::KafkaError,
    },
    /// The Parquet backend's directory cannot be used.
    #[error("parquet store set-up failed")]
    ParquetStore(#[from] FileError),
    /// A batch does not fit its Arrow tables: a bug in row building, stop and alert.
    #[error("encoding a batch for parquet failed")]
    ParquetEncode(#[from] crate::tables::arrow::ConvertError),
    /// A batch holds rows of a table the backend cannot land (not in [`crate::tables::each`]):
    /// a bug, stop and alert.
    #[error("no landing for rows of table {0}")]
    UnknownTable(&'static str),
    /// The configuration is unusable.
    #[error("invalid sink configuration: {0}")]
    Config(String),
    /// A broken invariant, e.g. an embedded schema that does not load or a dead letter that
    /// does not fit its own schema: a bug, stop and alert.
    #[error("internal error at {topic}[{partition}]@{offset}: {detail}")]
    Internal {
        /// Topic of the record being handled.
        topic: String,
        /// Its partition.
        partition: i32,
        /// Its offset.
        offset: i64,
        /// What broke.
        detail: String,
    },
}

impl SinkError {
    /// Wraps a Kafka client error with what the sink was doing.
    pub fn kafka(operation: &'static str) -> impl FnOnce(rdkafka::error::KafkaError) -> Self {
        move |source| Self::Kafka { operation, source }
    }

    /// Who must act.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::ClickHouse(err) => err.class(),
            // A client that cannot be created was given bad properties.
            Self::Kafka {
                source: rdkafka::error::KafkaError::ClientCreation(_),
                ..
            } => ErrorClass::Internal,
            Self::Kafka { .. } => ErrorClass::External,
            Self::ParquetStore(_) => ErrorClass::External,
            Self::ParquetEncode(_) => ErrorClass::Internal,
            Self::Config(_) | Self::Internal { .. } | Self::UnknownTable(_) => ErrorClass::Internal,
        }
    }
}

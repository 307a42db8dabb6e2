//! Errors running the HTTP ingest API.

use super::config::HttpConfigError;
use super::tls::TlsError;

/// Errors running the HTTP ingest API.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The settings are invalid.
    #[error(transparent)]
    Config(#[from] HttpConfigError),
    /// The TLS files cannot be used.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The listener cannot be bound or failed.
    #[error("serving on {addr}: {source}")]
    Serve {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

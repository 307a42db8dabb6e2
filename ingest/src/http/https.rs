//! The HTTPS accept loop: serves the router over TLS connections, handing each request the
//! names of its connection's verified client certificate.
//!
//! axum's `serve` only takes plain listeners, so TLS connections are served with hyper's
//! HTTP/1 connection (what axum runs on too) and hyper-util's graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use sxfleet_runtime::Shutdown;
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

use super::error::HttpError;
use super::tls::{certificate_names, TlsServer};
use crate::telemetry;

/// After a failed `accept` (e.g. out of file descriptors), wait this long before the next.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Serves `app` (from [`super::router`]) over TLS on a bound `listener` until `shutdown`; then
/// stops accepting, lets every connection finish the request it is serving, and returns.
///
/// # Errors
/// [`HttpError::Serve`] when the listener's address cannot be read; a failed `accept` or
/// handshake only costs that connection.
pub async fn serve_tls_on(
    listener: TcpListener,
    app: Router,
    tls: TlsServer,
    shutdown: &Shutdown,
) -> Result<(), HttpError> {
    let addr = listener.local_addr().map_err(|source| HttpError::Serve {
        addr: SocketAddr::from(([0, 0, 0, 0], 0)),
        source,
    })?;
    tracing::info!(%addr, client_certificates = tls.client_auth.as_str(), "HTTPS ingest listening");
    let connections = GracefulShutdown::new();
    loop {
        let accepted = tokio::select! {
            () = shutdown.triggered() => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, remote)) => {
                // Watched from before the handshake, so shutdown waits for it too.
                let watcher = connections.watcher();
                tokio::spawn(connection(
                    stream,
                    remote,
                    app.clone(),
                    tls.clone(),
                    watcher,
                ));
            }
            Err(error) => {
                tracing::warn!(%addr, %error, "accepting a connection failed");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
    drop(listener);
    tracing::info!(%addr, open = connections.count(), "HTTPS ingest draining connections");
    connections.shutdown().await;
    Ok(())
}

/// One connection: the handshake (bounded by the handshake timeout), then HTTP/1 requests,
/// each carrying the client certificate's names as an `Arc<ClientCertificate>` extension.
async fn connection(
    stream: TcpStream,
    remote: SocketAddr,
    app: Router,
    tls: TlsServer,
    watcher: Watcher,
) {
    let stream =
        match tokio::time::timeout(tls.handshake_timeout, tls.acceptor.accept(stream)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(error)) => {
                telemetry::tls_refused("handshake");
                tracing::debug!(%remote, %error, "TLS handshake failed");
                return;
            }
            Err(_elapsed) => {
                telemetry::tls_refused("timeout");
                tracing::debug!(%remote, "TLS handshake timed out");
                return;
            }
        };
    let certificate = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(<[_]>::first)
        .map(|der| Arc::new(certificate_names(der)));
    let service = app.map_request(move |mut request: Request<Incoming>| {
        if let Some(certificate) = &certificate {
            request.extensions_mut().insert(Arc::clone(certificate));
        }
        request
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    // The timer enables hyper's header read timeout against clients that never finish one.
    http.timer(TokioTimer::new());
    let serving = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
    if let Err(error) = watcher.watch(serving).await {
        tracing::debug!(%remote, %error, "HTTPS connection ended with an error");
    }
}

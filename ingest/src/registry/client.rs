//! A small blocking HTTP/1.1 client for the one request the normalizer makes:
//! `GET <url>/schemas/ids/{id}`.
//!
//! Why hand-rolled over `std::net::TcpStream`: a lookup happens once per schema id, so a
//! blocking request, run on tokio's blocking pool by the registry's retry loop, is the
//! simplest correct shape. Blocking crates
//! such as `ureq` would add a new dependency tree for one GET. Response heads are parsed with `httparse`
//! (already in the build through hyper); bodies may be sized or chunked. Plain HTTP only:
//! there is no TLS stack in the workspace (see `RegistryUrl`).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Deserialize;

use super::config::SchemaRegistryConfig;
use super::fetch::{FetchError, FetchSchema, RegisteredSchema};

/// Confluent's error code for "schema not found".
const SCHEMA_NOT_FOUND: i64 = 40403;
/// Most header lines accepted in an answer.
const MAX_HEADERS: usize = 64;

/// The registry over HTTP/1.1, one connection per request (`Connection: close`).
pub struct HttpRegistry {
    url: url::Url,
    authorization: Option<String>,
    timeout: Duration,
    max_response_bytes: usize,
}

impl HttpRegistry {
    /// A client for the registry `config` names.
    pub fn new(config: &SchemaRegistryConfig) -> Self {
        let authorization = config.basic_auth.as_ref().map(|auth| {
            let pair = format!("{}:{}", auth.username, auth.password);
            format!("Basic {}", STANDARD.encode(pair))
        });
        Self {
            url: config.url.url().clone(),
            authorization,
            timeout: config.request_timeout,
            max_response_bytes: config.max_response_bytes,
        }
    }

    fn io_error(&self, source: std::io::Error) -> FetchError {
        FetchError::Io {
            url: self.url.to_string(),
            source,
        }
    }

    /// Sends `GET path` and returns (status, body).
    fn get(&self, path: &str) -> Result<(u16, Vec<u8>), FetchError> {
        let deadline = Instant::now() + self.timeout;
        let mut stream = self.connect(deadline)?;
        let host = match (self.url.host_str(), self.url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            (None, _) => String::new(),
        };
        let mut request = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\n\
             Accept: application/vnd.schemaregistry.v1+json, application/json\r\n\
             User-Agent: sxfleet\r\nConnection: close\r\n"
        );
        if let Some(authorization) = &self.authorization {
            request.push_str("Authorization: ");
            request.push_str(authorization);
            request.push_str("\r\n");
        }
        request.push_str("\r\n");
        stream
            .set_write_timeout(Some(remaining(deadline).map_err(|e| self.io_error(e))?))
            .map_err(|e| self.io_error(e))?;
        stream
            .write_all(request.as_bytes())
            .map_err(|e| self.io_error(e))?;
        self.read_response(&mut stream, deadline)
    }

    fn connect(&self, deadline: Instant) -> Result<TcpStream, FetchError> {
        let addresses: Vec<SocketAddr> = self
            .url
            .socket_addrs(|| Some(80))
            .map_err(|e| self.io_error(e))?;
        let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "no address");
        for address in addresses {
            let timeout = remaining(deadline).map_err(|e| self.io_error(e))?;
            match TcpStream::connect_timeout(&address, timeout) {
                Ok(stream) => return Ok(stream),
                Err(error) => last = error,
            }
        }
        Err(self.io_error(last))
    }

    /// Reads until the answer is complete (by `Content-Length`, the last chunk, or the end
    /// of the stream), at most `max_response_bytes`, by `deadline`.
    fn read_response(
        &self,
        stream: &mut TcpStream,
        deadline: Instant,
    ) -> Result<(u16, Vec<u8>), FetchError> {
        let mut data = Vec::with_capacity(4096);
        let mut chunk = [0u8; 8192];
        loop {
            if let Some(answer) = complete(&data, false)? {
                return Ok(answer);
            }
            stream
                .set_read_timeout(Some(remaining(deadline).map_err(|e| self.io_error(e))?))
                .map_err(|e| self.io_error(e))?;
            let read = stream.read(&mut chunk).map_err(|e| self.io_error(e))?;
            if read == 0 {
                return complete(&data, true)?.ok_or_else(|| FetchError::Malformed {
                    detail: format!("the answer broke off after {} bytes", data.len()),
                });
            }
            data.extend_from_slice(&chunk[..read]);
            if data.len() > self.max_response_bytes {
                return Err(FetchError::Malformed {
                    detail: format!(
                        "the answer is larger than max_response_bytes ({})",
                        self.max_response_bytes
                    ),
                });
            }
        }
    }
}

/// Time left until `deadline`, or a timeout error.
fn remaining(deadline: Instant) -> std::io::Result<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "request timed out",
        ));
    }
    Ok(left)
}

/// (status, body) when `data` holds a whole answer; `None` when more is needed. At the end of
/// the stream (`eof`), a body without length is whatever came.
fn complete(data: &[u8], eof: bool) -> Result<Option<(u16, Vec<u8>)>, FetchError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let head_len = match response.parse(data) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(error) => {
            return Err(FetchError::Malformed {
                detail: format!("not an HTTP response: {error}"),
            })
        }
    };
    let status = response.code.unwrap_or_default();
    let body = &data[head_len..];
    let header = |name: &str| {
        response
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_ascii_lowercase())
    };
    if header("transfer-encoding").is_some_and(|te| te.ends_with("chunked")) {
        return Ok(dechunk(body)?.map(|body| (status, body)));
    }
    if let Some(length) = header("content-length") {
        let length: usize = length.parse().map_err(|_| FetchError::Malformed {
            detail: format!("bad Content-Length {length:?}"),
        })?;
        return Ok((body.len() >= length).then(|| (status, body[..length].to_vec())));
    }
    Ok(eof.then(|| (status, body.to_vec())))
}

/// The body of a chunked answer, or `None` when its last chunk has not arrived.
fn dechunk(mut data: &[u8]) -> Result<Option<Vec<u8>>, FetchError> {
    let mut body = Vec::new();
    loop {
        let (start, size) = match httparse::parse_chunk_size(data) {
            Ok(httparse::Status::Complete(found)) => found,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(_) => {
                return Err(FetchError::Malformed {
                    detail: "bad chunk size in a chunked answer".to_owned(),
                })
            }
        };
        if size == 0 {
            return Ok(Some(body));
        }
        let size = usize::try_from(size).map_err(|_| FetchError::Malformed {
            detail: "chunk too large".to_owned(),
        })?;
        let rest = &data[start..];
        let Some(after) = size.checked_add(2).filter(|&end| end <= rest.len()) else {
            return Ok(None);
        };
        if &rest[size..after] != b"\r\n" {
            return Err(FetchError::Malformed {
                detail: "a chunk does not end with CRLF".to_owned(),
            });
        }
        body.extend_from_slice(&rest[..size]);
        data = &rest[after..];
    }
}

/// `GET /schemas/ids/{id}` answered 200.
#[derive(Deserialize)]
struct SchemaAnswer {
    schema: String,
    #[serde(rename = "schemaType")]
    schema_type: Option<String>,
    #[serde(default)]
    references: Vec<serde_json::Value>,
}

/// An error answer: `{"error_code": 40403, "message": "..."}`.
#[derive(Deserialize)]
struct ErrorAnswer {
    error_code: i64,
    #[serde(default)]
    message: String,
}

impl FetchSchema for HttpRegistry {
    fn fetch(&self, id: u32) -> Result<RegisteredSchema, FetchError> {
        let base = self.url.path().trim_end_matches('/');
        let (status, body) = self.get(&format!("{base}/schemas/ids/{id}"))?;
        interpret(id, status, &body)
    }
}

/// What an answer to `GET /schemas/ids/{id}` means.
fn interpret(id: u32, status: u16, body: &[u8]) -> Result<RegisteredSchema, FetchError> {
    if status == 200 {
        let answer: SchemaAnswer =
            serde_json::from_slice(body).map_err(|error| FetchError::Malformed {
                detail: format!("200 without a schema: {error}"),
            })?;
        return Ok(RegisteredSchema {
            schema: answer.schema,
            schema_type: answer.schema_type,
            references: answer.references.len(),
        });
    }
    let error = serde_json::from_slice::<ErrorAnswer>(body).ok();
    match error {
        // Only the registry's own "schema not found" is bad data; any other 404 (a wrong base
        // path, a proxy) is a configuration problem and must not dead-letter messages.
        Some(answer) if status == 404 && answer.error_code == SCHEMA_NOT_FOUND => {
            Err(FetchError::NotFound {
                id,
                message: answer.message,
            })
        }
        Some(answer) => Err(FetchError::Status {
            status,
            message: format!("error_code {}: {}", answer.error_code, answer.message),
        }),
        None => Err(FetchError::Status {
            status,
            message: String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
        }),
    }
}

#[cfg(test)]
mod tests;

//! Settings of the HTTP ingest API (plain data; `HttpConfig::load`, which reads a TOML file and
//! checks it with the authenticator, is defined in the module root).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::config::ConfigFileError;
use crate::config::NormalizerConfig;

/// HTTP ingest settings (`sxfleet ingest-http --config FILE`).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Largest request body accepted, in bytes; a larger one is answered 413.
    pub max_body_bytes: usize,
    /// Request bodies the live lane (`/v1/events`) holds at once, in bytes; a request that
    /// does not fit is answered 503 with `Retry-After`.
    pub live_memory_bytes: usize,
    /// Request bodies the replay lane (`/v1/replay`) holds at once, in bytes; a request that
    /// does not fit is answered 429 with `Retry-After`.
    pub replay_memory_bytes: usize,
    /// Replay requests served at once; one more is answered 429 with `Retry-After`.
    pub replay_concurrency: usize,
    /// Transactional producers per lane (one request's transaction at a time each).
    pub producers_per_lane: usize,
    /// Longest a request may take to be written durably (producer start-up included) before
    /// it is aborted and answered 503.
    #[serde(with = "humantime_serde")]
    pub write_timeout: Duration,
    /// The `Retry-After` given with 429 and 503.
    #[serde(with = "humantime_serde")]
    pub retry_after: Duration,
    /// Per-line validation (the same normalizer the Kafka stage runs).
    pub normalizer: NormalizerConfig,
    /// What names a request's principal: `token` (default), `mtls` or `either`.
    pub auth: AuthMode,
    /// Serve HTTPS instead of plain HTTP (and, with `client_ca`, require client certificates).
    pub tls: Option<TlsConfig>,
    /// Bearer tokens and whom they speak for (`auth = "token"` or `"either"`).
    pub tokens: Vec<TokenConfig>,
    /// Client certificate names and whom they speak for (`auth = "mtls"` or `"either"`).
    pub clients: Vec<ClientConfig>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8088)),
            max_body_bytes: 1 << 20,
            live_memory_bytes: 32 << 20,
            replay_memory_bytes: 8 << 20,
            replay_concurrency: 2,
            producers_per_lane: 2,
            write_timeout: Duration::from_secs(15),
            retry_after: Duration::from_secs(1),
            normalizer: NormalizerConfig::default(),
            auth: AuthMode::Token,
            tls: None,
            tokens: Vec::new(),
            clients: Vec::new(),
        }
    }
}

impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConfig")
            .field("listen", &self.listen)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("live_memory_bytes", &self.live_memory_bytes)
            .field("replay_memory_bytes", &self.replay_memory_bytes)
            .field("replay_concurrency", &self.replay_concurrency)
            .field("producers_per_lane", &self.producers_per_lane)
            .field("write_timeout", &self.write_timeout)
            .field("retry_after", &self.retry_after)
            .field("normalizer", &self.normalizer)
            .field("auth", &self.auth)
            .field("tls", &self.tls)
            .field("tokens", &self.tokens)
            .field("clients", &self.clients)
            .finish()
    }
}

/// One bearer token.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// The secret (redacted in `Debug`).
    pub token: String,
    /// Who holds it: a node id, a relay id, or an operator's or controller's name.
    pub principal: String,
    /// The node ids it may send for: the node itself, or the nodes behind a relay (none for an
    /// operator's token).
    #[serde(default)]
    pub nodes: Vec<String>,
    /// The controller ids whose authority it may issue commands under on `/v1/commands`: an
    /// operator's or controller's token. A node's token has none, so it cannot issue commands.
    #[serde(default)]
    pub controllers: Vec<String>,
}

impl std::fmt::Debug for TokenConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenConfig")
            .field("token", &"<redacted>")
            .field("principal", &self.principal)
            .field("nodes", &self.nodes)
            .field("controllers", &self.controllers)
            .finish()
    }
}

/// How a request's principal is established.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// A bearer token (`[[tokens]]`). With `tls.client_ca`, a client certificate from that CA
    /// is required to connect as well, but the token alone names the principal.
    #[default]
    Token,
    /// The verified client certificate (`[[clients]]`); needs `tls.client_ca`. Bearer tokens
    /// are not accepted.
    Mtls,
    /// The client certificate when one is presented, a bearer token otherwise; needs
    /// `tls.client_ca` (a certificate is then optional at the handshake, but one that is
    /// presented must chain to that CA).
    Either,
}

impl AuthMode {
    /// The name used in the settings.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::Token => "token",
            AuthMode::Mtls => "mtls",
            AuthMode::Either => "either",
        }
    }
}

/// HTTPS settings: PEM files read at start-up.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM file with the server's certificate chain, its own certificate first.
    pub cert: PathBuf,
    /// PEM file with the server's private key (PKCS#8, PKCS#1 or SEC1; the first key in it).
    pub key: PathBuf,
    /// PEM file with the CA certificates that client certificates must chain to. When given,
    /// clients must present such a certificate (optional with `auth = "either"`).
    #[serde(default)]
    pub client_ca: Option<PathBuf>,
    /// Longest a TLS handshake may take before the connection is closed.
    #[serde(default = "default_handshake_timeout", with = "humantime_serde")]
    pub handshake_timeout: Duration,
}

fn default_handshake_timeout() -> Duration {
    Duration::from_secs(10)
}

impl TlsConfig {
    /// HTTPS with `cert` and `key`, no client certificates, the default handshake timeout.
    pub fn new(cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        Self {
            cert: cert.into(),
            key: key.into(),
            client_ca: None,
            handshake_timeout: default_handshake_timeout(),
        }
    }
}

/// One client certificate name and whom it speaks for. In the file: `principal`, `nodes`
/// and exactly one of `common_name` or `dns_name`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "ClientEntry")]
pub struct ClientConfig {
    /// The name a certificate must carry to be this client.
    pub name: CertName,
    /// Who holds it: a node id, or a relay id.
    pub principal: String,
    /// The node ids it may send for: the node itself, or the nodes behind a relay.
    pub nodes: Vec<String>,
}

/// A name in a client certificate.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CertName {
    /// A common name (CN) of the certificate's subject.
    CommonName(String),
    /// A DNS name among the certificate's subject alternative names.
    DnsName(String),
}

impl std::fmt::Display for CertName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CertName::CommonName(name) => write!(f, "CN={name}"),
            CertName::DnsName(name) => write!(f, "DNS:{name}"),
        }
    }
}

/// `[[clients]]` as written in the file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientEntry {
    /// The subject common name that identifies the client.
    common_name: Option<String>,
    /// A DNS subject alternative name that identifies the client.
    dns_name: Option<String>,
    /// See [`ClientConfig::principal`].
    principal: String,
    /// See [`ClientConfig::nodes`].
    nodes: Vec<String>,
}

impl TryFrom<ClientEntry> for ClientConfig {
    type Error = String;

    fn try_from(entry: ClientEntry) -> Result<Self, String> {
        let name = match (entry.common_name, entry.dns_name) {
            (Some(cn), None) => CertName::CommonName(cn),
            (None, Some(dns)) => CertName::DnsName(dns),
            _ => {
                return Err(format!(
                    "client {}: give exactly one of `common_name` and `dns_name`",
                    entry.principal
                ))
            }
        };
        Ok(Self {
            name,
            principal: entry.principal,
            nodes: entry.nodes,
        })
    }
}

/// Errors loading the HTTP settings.
#[derive(Debug, thiserror::Error)]
pub enum HttpConfigError {
    /// The file cannot be read or parsed.
    #[error(transparent)]
    File(#[from] ConfigFileError),
    /// Two entries share a token.
    #[error("token of {principal} is given twice")]
    DuplicateToken {
        /// The second holder.
        principal: String,
    },
    /// Two `[[clients]]` entries name the same certificate name.
    #[error("client certificate name {name} is given twice (second for {principal})")]
    DuplicateClient {
        /// The name.
        name: CertName,
        /// The second holder.
        principal: String,
    },
    /// `auth` needs client certificates but `tls.client_ca` is not set.
    #[error("auth = \"{}\" needs client certificates: set tls.client_ca", .0.as_str())]
    NeedsClientCa(AuthMode),
    /// Entries are given that the `auth` mode never consults.
    #[error("[[{table}]] entries are given but auth = \"{}\" does not use them", .auth.as_str())]
    Unused {
        /// `tokens` or `clients`.
        table: &'static str,
        /// The mode.
        auth: AuthMode,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_load_from_toml_with_defaults_and_redact_tokens() {
        let dir = std::env::temp_dir().join(format!("sxfleet-http-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("http.toml");
        std::fs::write(
            &file,
            "max_body_bytes = 1000\nwrite_timeout = \"2s\"\n[normalizer]\nsignatures = \"verify\"\n\
             [[tokens]]\ntoken = \"s3cret\"\nprincipal = \"relay-1\"\nnodes = [\"a\", \"b\"]\n",
        )
        .unwrap();
        let config = HttpConfig::load(&file).unwrap();
        assert_eq!(config.max_body_bytes, 1000);
        assert_eq!(config.write_timeout, Duration::from_secs(2));
        assert_eq!(config.replay_concurrency, 2);
        assert_eq!(config.tokens[0].nodes, vec!["a", "b"]);
        assert!(!format!("{config:?}").contains("s3cret"));

        std::fs::write(&file, "[[tokens]]\ntoken = \"t\"\nprincipal = \"a\"\nnodes = []\n[[tokens]]\ntoken = \"t\"\nprincipal = \"b\"\nnodes = []\n").unwrap();
        assert!(matches!(
            HttpConfig::load(&file),
            Err(HttpConfigError::DuplicateToken { .. })
        ));
        std::fs::write(&file, "listen_on = 3\n").unwrap();
        assert!(matches!(
            HttpConfig::load(&file),
            Err(HttpConfigError::File(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn tls_auth_and_clients_load_from_toml() {
        let dir = std::env::temp_dir().join(format!("sxfleet-http-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("http.toml");
        let load = |text: &str| {
            std::fs::write(&file, text).unwrap();
            HttpConfig::load(&file)
        };
        let config = load(
            "auth = \"either\"\n\
             [tls]\ncert = \"s.pem\"\nkey = \"s.key\"\nclient_ca = \"ca.pem\"\n\
             handshake_timeout = \"3s\"\n\
             [[clients]]\ncommon_name = \"n-1\"\nprincipal = \"n-1\"\nnodes = [\"n-1\"]\n\
             [[clients]]\ndns_name = \"r.example\"\nprincipal = \"r\"\nnodes = [\"n-2\"]\n",
        )
        .unwrap();
        assert_eq!(config.auth, AuthMode::Either);
        let tls = config.tls.unwrap();
        assert_eq!(tls.client_ca, Some(PathBuf::from("ca.pem")));
        assert_eq!(tls.handshake_timeout, Duration::from_secs(3));
        assert_eq!(
            config.clients.iter().map(|c| &c.name).collect::<Vec<_>>(),
            vec![
                &CertName::CommonName("n-1".to_owned()),
                &CertName::DnsName("r.example".to_owned())
            ]
        );
        // Defaults: plain HTTP with tokens, as before TLS existed.
        let config = load("").unwrap();
        assert_eq!(config.auth, AuthMode::Token);
        assert!(config.tls.is_none());

        let error = |text: &str| load(text).unwrap_err().to_string();
        let both = error(
            "auth = \"mtls\"\n[tls]\ncert = \"a\"\nkey = \"b\"\nclient_ca = \"c\"\n\
             [[clients]]\ncommon_name = \"x\"\ndns_name = \"y\"\nprincipal = \"p\"\nnodes = []\n",
        );
        assert!(
            both.contains("client p: give exactly one of `common_name` and `dns_name`"),
            "{both}"
        );
        let typo = error("[tls]\ncert = \"a\"\nkey = \"b\"\nclient_cert = \"c\"\n");
        assert!(typo.contains("unknown field `client_cert`"), "{typo}");
        let mode = error("auth = \"cert\"\n");
        assert!(mode.contains("unknown variant `cert`"), "{mode}");
        assert_eq!(
            error("auth = \"mtls\"\n"),
            "auth = \"mtls\" needs client certificates: set tls.client_ca"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

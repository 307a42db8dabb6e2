//! Settings of the UI server: where it listens, who may read it, how long a page may take.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;
use sxfleet_ingest::http::config::TlsConfig;

/// The UI server's settings (`sxfleet ui`).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UiConfig {
    /// Address to listen on; loopback by default. Any other address needs a token or TLS.
    pub listen: SocketAddr,
    /// When set, every request must carry `Authorization: Bearer <token>` (redacted in
    /// `Debug`).
    pub token: Option<String>,
    /// Serve HTTPS with these files (the ingest API's TLS settings; `client_ca` makes client
    /// certificates required).
    pub tls: Option<TlsConfig>,
    /// Longest a page's queries may take together before the page answers 503.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// Entries of the overview's attention queue.
    pub attention_top: usize,
}

impl Default for UiConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            token: None,
            tls: None,
            request_timeout: Duration::from_secs(20),
            attention_top: 10,
        }
    }
}

impl fmt::Debug for UiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UiConfig")
            .field("listen", &self.listen)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("tls", &self.tls)
            .field("request_timeout", &self.request_timeout)
            .field("attention_top", &self.attention_top)
            .finish()
    }
}

/// Settings the server refuses to start with.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum UiConfigError {
    /// A non-loopback address without a token or TLS would show the fleet to the network.
    #[error(
        "refusing to serve the UI on {0} without a token or TLS: set a token (--token or \
         SXFLEET_UI_TOKEN) or TLS files, or listen on loopback"
    )]
    OpenToTheNetwork(SocketAddr),
    /// An empty token would let everyone in.
    #[error("the UI token is empty")]
    EmptyToken,
}

impl UiConfig {
    /// Ok for settings the server may start with.
    ///
    /// # Errors
    /// [`UiConfigError::OpenToTheNetwork`] for a non-loopback address with neither a token
    /// nor TLS; [`UiConfigError::EmptyToken`] for a token of no characters.
    pub fn check(&self) -> Result<(), UiConfigError> {
        if self.token.as_deref().is_some_and(str::is_empty) {
            return Err(UiConfigError::EmptyToken);
        }
        let guarded = self.token.is_some() || self.tls.is_some();
        if !self.listen.ip().is_loopback() && !guarded {
            return Err(UiConfigError::OpenToTheNetwork(self.listen));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_the_default_and_needs_nothing() {
        let config = UiConfig::default();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.check(), Ok(()));
    }

    #[test]
    fn other_addresses_need_a_token_or_tls() {
        let open = UiConfig {
            listen: "0.0.0.0:8080".parse().unwrap(),
            ..UiConfig::default()
        };
        assert!(matches!(
            open.check(),
            Err(UiConfigError::OpenToTheNetwork(_))
        ));
        let with_token = UiConfig {
            token: Some("s3cret".to_owned()),
            ..open.clone()
        };
        assert_eq!(with_token.check(), Ok(()));
        assert!(!format!("{with_token:?}").contains("s3cret"));
        let with_tls = UiConfig {
            tls: Some(TlsConfig::new("cert.pem", "key.pem")),
            ..open
        };
        assert_eq!(with_tls.check(), Ok(()));
        let empty = UiConfig {
            token: Some(String::new()),
            ..UiConfig::default()
        };
        assert_eq!(empty.check(), Err(UiConfigError::EmptyToken));
    }

    #[test]
    fn settings_read_from_toml_like_json() {
        let config: UiConfig =
            serde_json::from_str(r#"{"listen": "127.0.0.1:0", "request_timeout": "5s"}"#).unwrap();
        assert_eq!(config.request_timeout, Duration::from_secs(5));
        assert!(serde_json::from_str::<UiConfig>(r#"{"listn": "x"}"#).is_err());
    }
}

//! Who sent a request: a bearer token or a verified client certificate, resolved to one
//! [`Principal`] with the nodes it may send for. Pure: the TLS layer hands in the
//! certificate's names, the handler the `Authorization` header.

use std::collections::HashMap;
use std::sync::Arc;

use super::config::{AuthMode, CertName, HttpConfig, HttpConfigError};

/// A sender and the nodes it may send for. Bearer tokens and client certificates both
/// resolve to one, so a line is authorized the same way whichever credential brought it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// A node id, or a relay id.
    pub name: String,
    /// The node ids it may send for.
    pub nodes: Vec<String>,
    /// The controller ids it may issue commands as (`/v1/commands`).
    pub controllers: Vec<String>,
}

/// Which credential named the principal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credential {
    /// `Authorization: Bearer`.
    Token,
    /// The TLS client certificate.
    Certificate,
}

impl Credential {
    /// How rejections and logs name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Credential::Token => "token",
            Credential::Certificate => "client certificate",
        }
    }
}

/// A request's principal and the credential that named it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authenticated {
    /// Who.
    pub principal: Arc<Principal>,
    /// How we know.
    pub credential: Credential,
}

/// The names of a client certificate the TLS handshake verified. Attached to every request of
/// its connection as a request extension (`Arc<ClientCertificate>`); absent on plain HTTP and
/// on TLS connections without a client certificate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientCertificate {
    /// The subject's common names (usually one).
    pub common_names: Vec<String>,
    /// The DNS names among the subject alternative names.
    pub dns_names: Vec<String>,
}

impl ClientCertificate {
    /// The certificate's names as `[[clients]]` entries match them.
    fn names(&self) -> impl Iterator<Item = CertName> + '_ {
        let dns = self.dns_names.iter().cloned().map(CertName::DnsName);
        let cn = self.common_names.iter().cloned().map(CertName::CommonName);
        dns.chain(cn)
    }
}

/// Why a request is answered 401.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unauthorized {
    /// For the client.
    pub detail: String,
    /// Whether to answer with `WWW-Authenticate: Bearer` (a token would have been accepted).
    pub bearer_challenge: bool,
}

/// Resolves credentials to principals, per the `auth` mode.
#[derive(Debug)]
pub struct Authenticator {
    mode: AuthMode,
    tokens: HashMap<String, Arc<Principal>>,
    clients: HashMap<CertName, Arc<Principal>>,
}

impl Authenticator {
    /// The tokens and client names of `config`.
    ///
    /// # Errors
    /// [`HttpConfigError`] when a token or a client name is given twice, `auth` needs client
    /// certificates without `tls.client_ca`, or `tokens` / `clients` are given that `auth`
    /// never consults.
    pub fn new(config: &HttpConfig) -> Result<Self, HttpConfigError> {
        let mode = config.auth;
        let client_ca = config.tls.as_ref().and_then(|t| t.client_ca.as_ref());
        if mode != AuthMode::Token && client_ca.is_none() {
            return Err(HttpConfigError::NeedsClientCa(mode));
        }
        let unused = |table| Err(HttpConfigError::Unused { table, auth: mode });
        match mode {
            AuthMode::Token if !config.clients.is_empty() => return unused("clients"),
            AuthMode::Mtls if !config.tokens.is_empty() => return unused("tokens"),
            _ => {}
        }
        let mut tokens = HashMap::with_capacity(config.tokens.len());
        for entry in &config.tokens {
            let principal = principal(&entry.principal, &entry.nodes, &entry.controllers);
            if tokens.insert(entry.token.clone(), principal).is_some() {
                return Err(HttpConfigError::DuplicateToken {
                    principal: entry.principal.clone(),
                });
            }
        }
        let mut clients = HashMap::with_capacity(config.clients.len());
        for entry in &config.clients {
            let principal = principal(&entry.principal, &entry.nodes, &[]);
            if clients.insert(entry.name.clone(), principal).is_some() {
                return Err(HttpConfigError::DuplicateClient {
                    name: entry.name.clone(),
                    principal: entry.principal.clone(),
                });
            }
        }
        Ok(Self {
            mode,
            tokens,
            clients,
        })
    }

    /// The principal of a request that brought `bearer` (the token of an `Authorization:
    /// Bearer` header) over a connection with client certificate `certificate`.
    ///
    /// # Errors
    /// [`Unauthorized`] when the credential the mode asks for is missing or names nobody.
    pub fn authenticate(
        &self,
        bearer: Option<&str>,
        certificate: Option<&ClientCertificate>,
    ) -> Result<Authenticated, Unauthorized> {
        match (self.mode, certificate) {
            (AuthMode::Token, _) | (AuthMode::Either, None) => self.by_token(bearer),
            (AuthMode::Mtls | AuthMode::Either, Some(certificate)) => {
                self.by_certificate(certificate)
            }
            (AuthMode::Mtls, None) => Err(Unauthorized {
                detail: "missing client certificate".to_owned(),
                bearer_challenge: false,
            }),
        }
    }

    fn by_token(&self, bearer: Option<&str>) -> Result<Authenticated, Unauthorized> {
        match bearer.and_then(|token| self.tokens.get(token)) {
            Some(principal) => Ok(Authenticated {
                principal: Arc::clone(principal),
                credential: Credential::Token,
            }),
            None => Err(Unauthorized {
                detail: "missing or unknown bearer token".to_owned(),
                bearer_challenge: true,
            }),
        }
    }

    /// The one principal the certificate's names map to. A certificate whose names map to
    /// several entries is refused rather than given the union or a guess.
    fn by_certificate(
        &self,
        certificate: &ClientCertificate,
    ) -> Result<Authenticated, Unauthorized> {
        let mut found: Option<&Arc<Principal>> = None;
        for name in certificate.names() {
            let Some(principal) = self.clients.get(&name) else {
                continue;
            };
            match found {
                Some(earlier) if !Arc::ptr_eq(earlier, principal) => {
                    return Err(Unauthorized {
                        detail: format!(
                            "the client certificate names several clients ({} and {})",
                            earlier.name, principal.name
                        ),
                        bearer_challenge: false,
                    });
                }
                _ => found = Some(principal),
            }
        }
        match found {
            Some(principal) => Ok(Authenticated {
                principal: Arc::clone(principal),
                credential: Credential::Certificate,
            }),
            None => {
                let names: Vec<String> = certificate.names().map(|n| n.to_string()).collect();
                Err(Unauthorized {
                    detail: format!(
                        "the client certificate ({}) is not a known client",
                        names.join(", ")
                    ),
                    bearer_challenge: false,
                })
            }
        }
    }
}

fn principal(name: &str, nodes: &[String], controllers: &[String]) -> Arc<Principal> {
    Arc::new(Principal {
        name: name.to_owned(),
        nodes: nodes.to_vec(),
        controllers: controllers.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::config::{ClientConfig, TlsConfig, TokenConfig};

    fn config(auth: AuthMode) -> HttpConfig {
        let mut tls = TlsConfig::new("server.pem", "server.key");
        tls.client_ca = Some("ca.pem".into());
        HttpConfig {
            auth,
            tls: Some(tls),
            tokens: vec![TokenConfig {
                token: "t-1".to_owned(),
                principal: "relay-7".to_owned(),
                nodes: vec!["n-2".to_owned(), "n-3".to_owned()],
                controllers: vec![],
            }],
            clients: vec![
                ClientConfig {
                    name: CertName::CommonName("n-1".to_owned()),
                    principal: "n-1".to_owned(),
                    nodes: vec!["n-1".to_owned()],
                },
                ClientConfig {
                    name: CertName::DnsName("relay-7.fleet.example".to_owned()),
                    principal: "relay-7".to_owned(),
                    nodes: vec!["n-2".to_owned()],
                },
            ],
            ..HttpConfig::default()
        }
    }

    fn cert(cn: &[&str], dns: &[&str]) -> ClientCertificate {
        ClientCertificate {
            common_names: cn.iter().map(|s| (*s).to_owned()).collect(),
            dns_names: dns.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// (principal name, credential) or the 401 detail.
    fn who(
        auth: &Authenticator,
        bearer: Option<&str>,
        certificate: Option<&ClientCertificate>,
    ) -> Result<(String, Credential), String> {
        auth.authenticate(bearer, certificate)
            .map(|a| (a.principal.name.clone(), a.credential))
            .map_err(|e| e.detail)
    }

    #[test]
    fn each_mode_takes_its_credential() {
        let node = cert(&["n-1"], &[]);
        let relay = cert(&["whatever"], &["relay-7.fleet.example"]);
        let stranger = cert(&["n-9"], &["n-9.fleet.example"]);
        let token = || Ok(("relay-7".to_owned(), Credential::Token));
        let by_cert = |name: &str| Ok((name.to_owned(), Credential::Certificate));
        let no_token = || Err("missing or unknown bearer token".to_owned());

        let mut token_only = config(AuthMode::Token);
        token_only.clients.clear();
        let auth = Authenticator::new(&token_only).unwrap();
        assert_eq!(who(&auth, Some("t-1"), None), token());
        // A certificate does not stand in for the token in token mode.
        assert_eq!(who(&auth, None, Some(&node)), no_token());
        assert_eq!(who(&auth, Some("t-2"), Some(&node)), no_token());

        let mut mtls = config(AuthMode::Mtls);
        mtls.tokens.clear();
        let auth = Authenticator::new(&mtls).unwrap();
        assert_eq!(who(&auth, None, Some(&node)), by_cert("n-1"));
        assert_eq!(who(&auth, None, Some(&relay)), by_cert("relay-7"));
        assert_eq!(
            who(&auth, Some("t-1"), None),
            Err("missing client certificate".to_owned())
        );
        assert_eq!(
            who(&auth, Some("t-1"), Some(&stranger)),
            Err(
                "the client certificate (DNS:n-9.fleet.example, CN=n-9) is not a known client"
                    .to_owned()
            )
        );

        let auth = Authenticator::new(&config(AuthMode::Either)).unwrap();
        assert_eq!(who(&auth, Some("t-1"), None), token());
        assert_eq!(who(&auth, None, None), no_token());
        // A presented certificate decides; the token is not a fallback for an unknown one.
        assert_eq!(who(&auth, Some("t-1"), Some(&node)), by_cert("n-1"));
        assert!(who(&auth, Some("t-1"), Some(&stranger)).is_err());
    }

    #[test]
    fn a_certificate_naming_two_clients_is_refused() {
        let auth = Authenticator::new(&config(AuthMode::Either)).unwrap();
        let both = cert(&["n-1"], &["relay-7.fleet.example"]);
        let refused = auth.authenticate(None, Some(&both)).unwrap_err();
        assert!(!refused.bearer_challenge);
        assert_eq!(
            refused.detail,
            "the client certificate names several clients (relay-7 and n-1)"
        );
    }

    #[test]
    fn settings_that_do_not_fit_together_are_refused() {
        let error = |config: HttpConfig| Authenticator::new(&config).unwrap_err().to_string();

        let mut no_ca = config(AuthMode::Either);
        no_ca.tls.as_mut().unwrap().client_ca = None;
        assert_eq!(
            error(no_ca),
            "auth = \"either\" needs client certificates: set tls.client_ca"
        );
        let mut plain = config(AuthMode::Mtls);
        plain.tls = None;
        plain.tokens.clear();
        assert_eq!(
            error(plain),
            "auth = \"mtls\" needs client certificates: set tls.client_ca"
        );
        assert_eq!(
            error(config(AuthMode::Mtls)),
            "[[tokens]] entries are given but auth = \"mtls\" does not use them"
        );
        assert_eq!(
            error(config(AuthMode::Token)),
            "[[clients]] entries are given but auth = \"token\" does not use them"
        );
        let mut twice = config(AuthMode::Either);
        let mut again = twice.clients[0].clone();
        again.principal = "n-1b".to_owned();
        twice.clients.push(again);
        assert_eq!(
            error(twice),
            "client certificate name CN=n-1 is given twice (second for n-1b)"
        );
    }
}

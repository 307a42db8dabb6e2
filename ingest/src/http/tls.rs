//! TLS for the ingest API: the server's rustls settings from PEM files (with client
//! certificate verification for mTLS), and the names of a verified client certificate.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio_rustls::rustls::crypto::{ring, CryptoProvider};
use tokio_rustls::rustls::pki_types::pem::{self, PemObject};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{RootCertStore, ServerConfig};
use tokio_rustls::TlsAcceptor;

use super::auth::ClientCertificate;
use super::config::{AuthMode, TlsConfig};

/// Why the TLS settings cannot be used. Each names the file to fix.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file cannot be read.
    #[error("cannot read the {what} {}: {source}", .path.display())]
    Read {
        /// Which file: certificate chain, private key, client CA bundle.
        what: &'static str,
        /// Where.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file is not PEM, or holds no item of the kind expected.
    #[error("the {what} {} has no usable PEM {expected}: {source}", .path.display())]
    Pem {
        /// Which file.
        what: &'static str,
        /// Where.
        path: PathBuf,
        /// What was looked for.
        expected: &'static str,
        /// Why.
        source: pem::Error,
    },
    /// The key is not usable, or does not belong to the chain's first certificate.
    #[error("the certificate chain {} and the private key {} do not fit: {source}",
        .cert.display(), .key.display())]
    KeyPair {
        /// The chain.
        cert: PathBuf,
        /// The key.
        key: PathBuf,
        /// Why.
        source: tokio_rustls::rustls::Error,
    },
    /// A client CA certificate is not a usable trust anchor.
    #[error("the client CA bundle {}: {detail}", .path.display())]
    ClientCa {
        /// The bundle.
        path: PathBuf,
        /// Why.
        detail: String,
    },
}

/// A loaded TLS setup: what [`super::https::serve_tls_on`] needs.
#[derive(Clone)]
pub struct TlsServer {
    pub(super) acceptor: TlsAcceptor,
    pub(super) handshake_timeout: Duration,
    pub(super) client_auth: ClientAuth,
}

impl std::fmt::Debug for TlsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsServer")
            .field("handshake_timeout", &self.handshake_timeout)
            .field("client_auth", &self.client_auth)
            .finish_non_exhaustive()
    }
}

/// Whether the handshake asks for a client certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ClientAuth {
    /// Not asked for.
    None,
    /// Asked for; verified when presented (`auth = "either"`).
    Optional,
    /// Required and verified.
    Required,
}

impl ClientAuth {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            ClientAuth::None => "none",
            ClientAuth::Optional => "optional",
            ClientAuth::Required => "required",
        }
    }
}

impl TlsServer {
    /// Reads the certificate chain, the key and the client CA bundle of `config`; client
    /// certificates are required when `config.client_ca` is set, except with
    /// `auth = "either"`, where they are optional (but verified when presented).
    ///
    /// # Errors
    /// [`TlsError`] naming the file that cannot be read, holds no certificate or key, or does
    /// not fit the others.
    pub fn load(config: &TlsConfig, auth: AuthMode) -> Result<Self, TlsError> {
        let provider = Arc::new(ring::default_provider());
        let chain = read_certificates(&config.cert, "certificate chain")?;
        let key_pem = read(&config.key, "private key")?;
        let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|source| TlsError::Pem {
            what: "private key",
            path: config.key.clone(),
            expected: "private key",
            source,
        })?;
        let key_pair = |source| TlsError::KeyPair {
            cert: config.cert.clone(),
            key: config.key.clone(),
            source,
        };
        let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(key_pair)?;
        let (builder, client_auth) = match &config.client_ca {
            None => (builder.with_no_client_auth(), ClientAuth::None),
            Some(path) => {
                let client_auth = if auth == AuthMode::Either {
                    ClientAuth::Optional
                } else {
                    ClientAuth::Required
                };
                let verifier = client_verifier(path, provider, client_auth)?;
                (builder.with_client_cert_verifier(verifier), client_auth)
            }
        };
        let mut server = builder.with_single_cert(chain, key).map_err(key_pair)?;
        // The router speaks HTTP/1 only (axum is built without http2).
        server.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            acceptor: TlsAcceptor::from(Arc::new(server)),
            handshake_timeout: config.handshake_timeout,
            client_auth,
        })
    }
}

fn client_verifier(
    path: &Path,
    provider: Arc<CryptoProvider>,
    client_auth: ClientAuth,
) -> Result<Arc<dyn tokio_rustls::rustls::server::danger::ClientCertVerifier>, TlsError> {
    let mut roots = RootCertStore::empty();
    for certificate in read_certificates(path, "client CA bundle")? {
        roots.add(certificate).map_err(|e| TlsError::ClientCa {
            path: path.to_owned(),
            detail: e.to_string(),
        })?;
    }
    let mut builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
    if client_auth == ClientAuth::Optional {
        builder = builder.allow_unauthenticated();
    }
    builder.build().map_err(|e| TlsError::ClientCa {
        path: path.to_owned(),
        detail: e.to_string(),
    })
}

fn read(path: &Path, what: &'static str) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        what,
        path: path.to_owned(),
        source,
    })
}

/// Every certificate in a PEM file; at least one.
fn read_certificates(
    path: &Path,
    what: &'static str,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem_error = |source| TlsError::Pem {
        what,
        path: path.to_owned(),
        expected: "certificate",
        source,
    };
    let certificates = CertificateDer::pem_slice_iter(&read(path, what)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(pem_error)?;
    if certificates.is_empty() {
        return Err(pem_error(pem::Error::NoItemsFound));
    }
    Ok(certificates)
}

/// The names of a certificate the handshake verified. A certificate x509-parser cannot read
/// (webpki could) yields no names, so it maps to no client.
pub(super) fn certificate_names(der: &[u8]) -> ClientCertificate {
    let Ok((_, certificate)) = x509_parser::parse_x509_certificate(der) else {
        tracing::warn!("a verified client certificate could not be parsed for its names");
        return ClientCertificate::default();
    };
    let common_names = certificate
        .subject()
        .iter_common_name()
        .filter_map(|cn| cn.as_str().ok())
        .map(str::to_owned)
        .collect();
    let dns_names = match certificate.subject_alternative_name() {
        Ok(Some(san)) => san
            .value
            .general_names
            .iter()
            .filter_map(|name| match name {
                x509_parser::extensions::GeneralName::DNSName(dns) => Some((*dns).to_owned()),
                _ => None,
            })
            .collect(),
        Ok(None) | Err(_) => Vec::new(),
    };
    ClientCertificate {
        common_names,
        dns_names,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Files {
        dir: PathBuf,
    }

    impl Files {
        fn new(name: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("sxfleet-tls-{name}-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            Self { dir }
        }

        fn write(&self, name: &str, text: &str) -> PathBuf {
            let path = self.dir.join(name);
            std::fs::write(&path, text).unwrap();
            path
        }
    }

    impl Drop for Files {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    /// A self-signed certificate for `name` and its key, in PEM.
    fn self_signed(name: &str) -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec![name.to_owned()]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let cert = params.self_signed(&key).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    fn load(config: &TlsConfig) -> Result<TlsServer, String> {
        TlsServer::load(config, AuthMode::Token).map_err(|e| e.to_string())
    }

    #[test]
    fn a_good_pair_loads_and_bad_files_say_which_file_is_wrong() {
        let files = Files::new("load");
        let (cert, key) = self_signed("localhost");
        let (_, other_key) = self_signed("other");
        let cert = files.write("server.pem", &cert);
        let key = files.write("server.key", &key);
        let mut config = TlsConfig::new(&cert, &key);
        assert!(load(&config).is_ok());
        config.client_ca = Some(cert.clone());
        assert_eq!(
            load(&config).map(|t| t.client_auth),
            Ok(ClientAuth::Required)
        );
        assert_eq!(
            TlsServer::load(&config, AuthMode::Either)
                .map(|t| t.client_auth)
                .ok(),
            Some(ClientAuth::Optional)
        );

        let missing = files.dir.join("missing.pem");
        let error = load(&TlsConfig::new(&missing, &key)).unwrap_err();
        assert!(
            error.starts_with(&format!(
                "cannot read the certificate chain {}: ",
                missing.display()
            )),
            "{error}"
        );

        let garbage = files.write("garbage.pem", "not a certificate\n");
        let error = load(&TlsConfig::new(&garbage, &key)).unwrap_err();
        assert_eq!(
            error,
            format!(
                "the certificate chain {} has no usable PEM certificate: no items found",
                garbage.display()
            )
        );
        // A certificate where the key should be.
        let error = load(&TlsConfig::new(&cert, &cert)).unwrap_err();
        assert!(
            error.starts_with(&format!(
                "the private key {} has no usable PEM",
                cert.display()
            )),
            "{error}"
        );

        let other_key = files.write("other.key", &other_key);
        let error = load(&TlsConfig::new(&cert, &other_key)).unwrap_err();
        assert!(
            error.starts_with(&format!(
                "the certificate chain {} and the private key {} do not fit: ",
                cert.display(),
                other_key.display()
            )),
            "{error}"
        );

        let mut bad_ca = TlsConfig::new(&cert, &key);
        bad_ca.client_ca = Some(key.clone());
        let error = load(&bad_ca).unwrap_err();
        assert!(
            error.starts_with(&format!(
                "the client CA bundle {} has no usable PEM",
                key.display()
            )),
            "{error}"
        );
    }

    #[test]
    fn the_names_of_a_certificate_are_its_common_name_and_dns_names() {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params =
            rcgen::CertificateParams::new(vec!["relay-7.fleet.example".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "relay-7");
        params
            .subject_alt_names
            .push(rcgen::SanType::IpAddress([127, 0, 0, 1].into()));
        let cert = params.self_signed(&key).unwrap();
        assert_eq!(
            certificate_names(cert.der()),
            ClientCertificate {
                common_names: vec!["relay-7".to_owned()],
                dns_names: vec!["relay-7.fleet.example".to_owned()],
            }
        );
        assert_eq!(certificate_names(b"junk"), ClientCertificate::default());
    }
}

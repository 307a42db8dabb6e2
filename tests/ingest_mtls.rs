//! The HTTP ingest API over HTTPS against the real broker, with certificates made at test
//! time: the mTLS examples of docs/ingest.md (run with curl), refusals at the handshake
//! (checked with rustls' own client to see the alert), a certificate naming no client,
//! HTTPS with bearer tokens, `auth = "either"`, and a graceful stop.

mod common;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::http::{
    check_doc_examples, code_blocks, curl, deployment, doc_section, post, read_async,
};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::AlertDescription;
use serde_json::{json, Value};
use sxfleet::pipeline::PipelineConfig;
use sxfleet_ingest::http::config::{AuthMode, CertName, HttpConfig, TokenConfig};
use sxfleet_ingest::http::https::serve_tls_on;
use sxfleet_ingest::http::tls::TlsServer;
use sxfleet_ingest::http::{router, HttpError};
use sxfleet_runtime::Shutdown;
use sxfleet_schemas::{decode, DeadLetter, Source};
use tokio::task::JoinHandle;

const HEADING: &str = "HTTPS and client certificates (mTLS)";
const RELAY_TOKEN: &str = "relay-secret";

/// A throwaway CA with the certificates the tests use, as PEM files in a temporary folder.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    /// `ca.pem`; `server.*` (localhost, 127.0.0.1); client certificates `node.*` (CN
    /// sx-node-1), `relay.*` (CN relay-7, DNS relay-7.fleet.example), `stranger.*` (CN
    /// sx-node-9); and `rogue.*` (CN sx-node-1) from another CA.
    fn new() -> Self {
        let pki = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        let ca = authority("sxfleet test CA");
        pki.write("ca.pem", &ca.pem());
        pki.issue(
            &ca,
            "server",
            "sxfleet ingest",
            &["localhost", "127.0.0.1"],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        let client = ExtendedKeyUsagePurpose::ClientAuth;
        pki.issue(&ca, "node", "sx-node-1", &[], client.clone());
        pki.issue(
            &ca,
            "relay",
            "relay-7",
            &["relay-7.fleet.example"],
            client.clone(),
        );
        pki.issue(&ca, "stranger", "sx-node-9", &[], client.clone());
        let other = authority("somebody else's CA");
        pki.issue(&other, "rogue", "sx-node-1", &[], client);
        pki
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, pem: &str) {
        std::fs::write(self.path(name), pem).unwrap();
    }

    fn issue(
        &self,
        ca: &CertifiedIssuer<'static, KeyPair>,
        name: &str,
        common_name: &str,
        sans: &[&str],
        usage: ExtendedKeyUsagePurpose,
    ) {
        let key = KeyPair::generate().unwrap();
        let sans: Vec<String> = sans.iter().map(|s| (*s).to_owned()).collect();
        let mut params = CertificateParams::new(sans).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.extended_key_usages = vec![usage];
        let cert = params.signed_by(&key, ca).unwrap();
        self.write(&format!("{name}.pem"), &cert.pem());
        self.write(&format!("{name}.key"), &key.serialize_pem());
    }

    /// The documented settings of the TLS section, with this PKI's files.
    fn documented_config(&self) -> HttpConfig {
        let section = doc_section(HEADING);
        let (_, text) = code_blocks(&section)
            .into_iter()
            .find(|(lang, _)| lang == "toml")
            .unwrap();
        let text = text
            .replace("/etc/sxfleet/tls/server.pem", &self.file("server.pem"))
            .replace("/etc/sxfleet/tls/server.key", &self.file("server.key"))
            .replace("/etc/sxfleet/tls/fleet-ca.pem", &self.file("ca.pem"));
        let file = self.path("http.toml");
        std::fs::write(&file, text).unwrap();
        let mut config = HttpConfig::load(&file).unwrap();
        config.write_timeout = Duration::from_secs(5);
        config
    }

    fn file(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }
}

fn authority(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

struct Server {
    url: String,
    addr: SocketAddr,
    task: JoinHandle<Result<(), HttpError>>,
}

/// Serves `http` over TLS writing to the topics of `config`.
async fn start(config: &PipelineConfig, http: HttpConfig, stop: &Shutdown) -> Server {
    let tls = TlsServer::load(http.tls.as_ref().unwrap(), http.auth).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let txn = common::unique("https");
    let app = router(http, config.kafka.clone(), &config.topics, &txn).unwrap();
    let stop = stop.clone();
    let task = tokio::spawn(async move { serve_tls_on(listener, app, tls, &stop).await });
    Server {
        url: format!("https://127.0.0.1:{}", addr.port()),
        addr,
        task,
    }
}

fn heartbeat(node: &str) -> String {
    format!(r#"{{"type":"heartbeat","node_id":"{node}","ts":"2026-01-01T00:00:00Z","seq":1}}"#)
}

/// curl arguments for a POST over TLS trusting the test CA, as client certificate `client`
/// (`node`, `relay`, ...) if given.
fn tls_post(
    pki: &Pki,
    url: &str,
    client: Option<&str>,
    token: Option<&str>,
    body: &str,
) -> Vec<String> {
    let mut args = vec!["--cacert".to_owned(), pki.file("ca.pem")];
    if let Some(client) = client {
        args.extend([
            "--cert".to_owned(),
            pki.file(&format!("{client}.pem")),
            "--key".to_owned(),
            pki.file(&format!("{client}.key")),
        ]);
    }
    args.extend(post(&format!("{url}/v1/events"), token, body));
    args
}

fn json_body(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// POSTs `body` with rustls' own client, as client certificate `client` if given, and
/// returns the raw HTTP answer or the error that ended the exchange (blocking I/O: the
/// certificates' failures show up as rustls errors inside the `io::Error`).
fn exchange(
    pki: &Pki,
    addr: SocketAddr,
    client: Option<&str>,
    body: &str,
) -> std::io::Result<String> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(pki.path("ca.pem")).unwrap())
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match client {
        Some(client) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from_pem_file(pki.path(&format!("{client}.pem"))).unwrap()],
                PrivateKeyDer::from_pem_file(pki.path(&format!("{client}.key"))).unwrap(),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    let name = ServerName::try_from("localhost").unwrap();
    let connection = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let tcp = std::net::TcpStream::connect(addr)?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut tls = rustls::StreamOwned::new(connection, tcp);
    let request = format!(
        "POST /v1/events HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    tls.write_all(request.as_bytes())?;
    tls.flush()?;
    let mut answer = String::new();
    tls.read_to_string(&mut answer)?;
    Ok(answer)
}

async fn exchange_async(
    pki: &Arc<Pki>,
    addr: SocketAddr,
    client: Option<&'static str>,
    body: String,
) -> std::io::Result<String> {
    let pki = Arc::clone(pki);
    tokio::task::spawn_blocking(move || exchange(&pki, addr, client, &body))
        .await
        .unwrap()
}

/// The TLS alert that ended an exchange as client certificate `client`; fails when the
/// exchange got through, or ended otherwise.
async fn refusal(
    pki: &Arc<Pki>,
    addr: SocketAddr,
    client: Option<&'static str>,
) -> AlertDescription {
    let line = heartbeat("sx-node-1");
    let error = match exchange_async(pki, addr, client, line).await {
        Ok(answer) => panic!("{client:?} got through: {answer}"),
        Err(error) => error,
    };
    match error
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
    {
        Some(rustls::Error::AlertReceived(alert)) => *alert,
        _ => panic!("{client:?} was not refused with an alert: {error}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_documented_mtls_examples_answer_as_documented_and_land_in_kafka() {
    let config = deployment("mtls_doc").await;
    let _cleanup = common::Cleanup::new(&common::services().kafka, config.topics.prefix());
    let pki = Pki::new();
    let http = pki.documented_config();
    assert_eq!(http.auth, AuthMode::Mtls);
    let stop = Shutdown::new();
    let server = start(&config, http, &stop).await;
    let env = [
        ("SXFLEET_HTTPS", server.url.clone()),
        ("CA_PEM", pki.file("ca.pem")),
        ("NODE_CERT", pki.file("node.pem")),
        ("NODE_KEY", pki.file("node.key")),
        ("RELAY_CERT", pki.file("relay.pem")),
        ("RELAY_KEY", pki.file("relay.key")),
    ];
    check_doc_examples("Examples over mTLS", &env, 2).await;

    // sx-node-1 from the node's certificate, sx-node-2 and -3 from the relay's, unchanged.
    let raw = read_async(config.topics.raw.clone(), config.partitions).await;
    let mut landed: Vec<(String, Value)> = raw
        .iter()
        .map(|r| {
            let key = String::from_utf8(r.2.clone()).unwrap();
            (
                key,
                serde_json::from_slice(r.3.as_deref().unwrap()).unwrap(),
            )
        })
        .collect();
    landed.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        landed.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        vec!["sx-node-1", "sx-node-2", "sx-node-3"]
    );
    assert_eq!(landed[0].1["health"], "OK");
    assert_eq!(landed[0].1["rtt_ms"], 12);
    // The line the node's certificate may not send is dead-lettered like a token's would be.
    let letters: Vec<DeadLetter> = read_async(config.topics.dlq.clone(), config.partitions)
        .await
        .iter()
        .map(|r| decode(r.3.as_deref().unwrap()).unwrap())
        .collect();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].reason_code, "forbidden_node");
    assert_eq!(letters[0].node_id.as_deref(), Some("sx-node-2"));
    assert_eq!(letters[0].source, Source::Http);
    assert_eq!(
        letters[0].detail,
        "line 2: the client certificate may not send for node \"sx-node-2\""
    );
    stop.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_a_trusted_known_client_certificate_nothing_gets_through() {
    let config = deployment("mtls_refuse").await;
    let _cleanup = common::Cleanup::new(&common::services().kafka, config.topics.prefix());
    let pki = Arc::new(Pki::new());
    let mut http = pki.documented_config();
    http.tls.as_mut().unwrap().handshake_timeout = Duration::from_secs(1);
    let stop = Shutdown::new();
    let server = start(&config, http, &stop).await;
    let line = heartbeat("sx-node-1");

    // The exchange itself works: the node's certificate gets its answer.
    let answer = exchange_async(&pki, server.addr, Some("node"), line.clone())
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    let (_, body) = answer.split_once("\r\n\r\n").unwrap();
    assert_eq!(
        json_body(body),
        json!({"accepted": 1, "rejected": 0, "lines": [{"line": 1, "status": "accepted"}]})
    );

    // No certificate: the handshake ends with "certificate required", nothing is answered.
    assert_eq!(
        refusal(&pki, server.addr, None).await,
        AlertDescription::CertificateRequired
    );
    let reply = curl(tls_post(&pki, &server.url, None, None, &line)).await;
    assert_eq!(reply.status, 0, "{}", reply.body);
    assert_ne!(reply.exit, Some(0));
    assert!(
        reply.stderr.contains("alert certificate required"),
        "{}",
        reply.stderr
    );

    // The same name from a CA we do not trust: "unknown ca".
    assert_eq!(
        refusal(&pki, server.addr, Some("rogue")).await,
        AlertDescription::UnknownCA
    );

    // A good certificate whose name no [[clients]] entry has: 401, no challenge for a token.
    let reply = curl(tls_post(
        &pki,
        &server.url,
        Some("stranger"),
        Some(RELAY_TOKEN),
        &line,
    ))
    .await;
    assert_eq!(reply.status, 401, "{}", reply.body);
    assert_eq!(
        json_body(&reply.body),
        json!({"error": "unauthorized", "detail": "the client certificate (CN=sx-node-9) is not a known client"})
    );
    assert!(!reply.headers.iter().any(|(k, _)| k == "www-authenticate"));

    // A connection that never starts its handshake is closed after the handshake timeout.
    let silent = tokio::task::spawn_blocking(move || {
        let mut tcp = std::net::TcpStream::connect(server.addr).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let started = Instant::now();
        let read = tcp.read(&mut [0u8; 16]).map_err(|e| e.kind());
        (read, started.elapsed())
    })
    .await
    .unwrap();
    assert_eq!(silent.0, Ok(0), "closed, not timed out on our side");
    assert!(
        silent.1 >= Duration::from_millis(900) && silent.1 < Duration::from_secs(5),
        "{:?}",
        silent.1
    );

    // Only the node's own request was written.
    let raw = read_async(config.topics.raw.clone(), config.partitions).await;
    assert_eq!(raw.len(), 1);
    assert_eq!(raw[0].3.as_deref(), Some(line.as_bytes()));
    assert!(read_async(config.topics.dlq.clone(), config.partitions)
        .await
        .is_empty());
    stop.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn https_with_tokens_and_either_credential_then_a_graceful_stop() {
    let config = deployment("mtls_either").await;
    let _cleanup = common::Cleanup::new(&common::services().kafka, config.topics.prefix());
    let pki = Arc::new(Pki::new());
    let relay_token = TokenConfig {
        token: RELAY_TOKEN.to_owned(),
        principal: "relay-7".to_owned(),
        nodes: vec!["sx-node-2".to_owned(), "sx-node-3".to_owned()],
        controllers: vec![],
    };
    let stop = Shutdown::new();

    // HTTPS without client certificates: bearer tokens as over plain HTTP.
    let mut tls_tokens = pki.documented_config();
    tls_tokens.auth = AuthMode::Token;
    tls_tokens.tls.as_mut().unwrap().client_ca = None;
    tls_tokens.clients.clear();
    tls_tokens.tokens = vec![relay_token.clone()];
    let tokens_only = start(&config, tls_tokens, &stop).await;
    let reply = curl(tls_post(
        &pki,
        &tokens_only.url,
        None,
        Some(RELAY_TOKEN),
        &heartbeat("sx-node-2"),
    ))
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(json_body(&reply.body)["accepted"], 1);
    let reply = curl(tls_post(
        &pki,
        &tokens_only.url,
        None,
        None,
        &heartbeat("sx-node-2"),
    ))
    .await;
    assert_eq!(reply.status, 401);
    assert!(reply
        .headers
        .iter()
        .any(|(k, v)| k == "www-authenticate" && v == "Bearer"));
    // Plain HTTP on the HTTPS port gets no HTTP answer.
    let reply = curl(post(
        &format!("http://{}/v1/events", tokens_only.addr),
        Some(RELAY_TOKEN),
        &heartbeat("sx-node-2"),
    ))
    .await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (0, ""),
        "{}",
        reply.stderr
    );
    assert_ne!(reply.exit, Some(0));

    // auth = "either": the certificate when there is one, the token otherwise.
    let mut either = pki.documented_config();
    either.auth = AuthMode::Either;
    either.tokens = vec![relay_token];
    either
        .clients
        .retain(|c| c.name == CertName::CommonName("sx-node-1".to_owned()));
    assert_eq!(either.clients.len(), 1);
    let either = start(&config, either, &stop).await;
    let batch = [heartbeat("sx-node-1"), heartbeat("sx-node-2")].join("\n");
    let by_token = curl(tls_post(&pki, &either.url, None, Some(RELAY_TOKEN), &batch)).await;
    let by_cert = curl(tls_post(&pki, &either.url, Some("node"), None, &batch)).await;
    assert_eq!(by_token.status, 200, "{}", by_token.body);
    assert_eq!(by_cert.status, 200, "{}", by_cert.body);
    // Each may send for its own node only, and the other line is refused the same way.
    assert_eq!(
        json_body(&by_token.body),
        json!({"accepted": 1, "rejected": 1, "lines": [
            {"line": 1, "status": "rejected", "reason": "forbidden_node", "detail": "the token may not send for node \"sx-node-1\""},
            {"line": 2, "status": "accepted"}]})
    );
    assert_eq!(
        json_body(&by_cert.body),
        json!({"accepted": 1, "rejected": 1, "lines": [
            {"line": 1, "status": "accepted"},
            {"line": 2, "status": "rejected", "reason": "forbidden_node", "detail": "the client certificate may not send for node \"sx-node-2\""}]})
    );
    // A presented certificate decides, even with a good token beside it.
    let reply = curl(tls_post(
        &pki,
        &either.url,
        Some("stranger"),
        Some(RELAY_TOKEN),
        &heartbeat("sx-node-2"),
    ))
    .await;
    assert_eq!(reply.status, 401, "{}", reply.body);
    let reply = curl(tls_post(
        &pki,
        &either.url,
        None,
        None,
        &heartbeat("sx-node-2"),
    ))
    .await;
    assert_eq!(reply.status, 401, "{}", reply.body);
    // Optional does not mean unverified.
    assert_eq!(
        refusal(&pki, either.addr, Some("rogue")).await,
        AlertDescription::UnknownCA
    );

    // One accepted line each from the token over HTTPS, and from the token and the
    // certificate with `either`; the two refused lines dead-lettered.
    assert_eq!(
        read_async(config.topics.raw.clone(), config.partitions)
            .await
            .len(),
        3
    );
    assert_eq!(
        read_async(config.topics.dlq.clone(), config.partitions)
            .await
            .len(),
        2
    );

    // Stop: both servers return, and their ports no longer take connections.
    stop.trigger();
    for server in [tokens_only, either] {
        let stopped = tokio::time::timeout(Duration::from_secs(10), server.task).await;
        assert!(matches!(stopped, Ok(Ok(Ok(())))), "{stopped:?}");
        assert!(std::net::TcpStream::connect(server.addr).is_err());
    }
}

//! The HTTP client against canned answers from a local socket.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread::JoinHandle;

use super::*;
use crate::registry::config::{BasicAuth, RegistryUrl};

/// Serves one connection: reads the request head, writes `answer`, closes. Returns the URL
/// (with `base`) and the request as received.
fn serve(answer: Vec<u8>, base: &str) -> (SchemaRegistryConfig, JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        let mut request = Vec::new();
        let mut byte = [0u8; 1];
        while !request.ends_with(b"\r\n\r\n") && socket.read(&mut byte).unwrap() == 1 {
            request.push(byte[0]);
        }
        let _ = socket.write_all(&answer);
        String::from_utf8(request).unwrap()
    });
    let url = RegistryUrl::parse(&format!("http://127.0.0.1:{port}{base}")).unwrap();
    (SchemaRegistryConfig::new(url), handle)
}

fn answer(status: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/vnd.schemaregistry.v1+json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

const SCHEMA_BODY: &str = r#"{"schema":"{\"type\":\"record\",\"name\":\"R\",\"fields\":[]}"}"#;

#[test]
fn a_schema_is_fetched_with_auth_under_the_base_path() {
    let (mut config, server) = serve(answer("200 OK", SCHEMA_BODY), "/registry/");
    config.basic_auth = Some(BasicAuth {
        username: "sx".into(),
        password: "pw".into(),
    });
    let schema = HttpRegistry::new(&config).fetch(42).unwrap();
    assert_eq!(
        schema,
        RegisteredSchema {
            schema: r#"{"type":"record","name":"R","fields":[]}"#.into(),
            schema_type: None,
            references: 0,
        }
    );
    let request = server.join().unwrap();
    assert!(
        request.starts_with("GET /registry/schemas/ids/42 HTTP/1.1\r\n"),
        "{request}"
    );
    assert!(
        request.contains("\r\nAuthorization: Basic c3g6cHc=\r\n"),
        "{request}"
    );
    assert!(request.contains("\r\nHost: 127.0.0.1:"), "{request}");
    assert!(request.contains("\r\nConnection: close\r\n"), "{request}");
}

#[test]
fn chunked_and_unsized_bodies_are_read_whole() {
    let chunked = format!(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{}\r\n{:x}\r\n{}\r\n0\r\n\r\n",
        10,
        &SCHEMA_BODY[..10],
        SCHEMA_BODY.len() - 10,
        &SCHEMA_BODY[10..]
    );
    let (config, server) = serve(chunked.into_bytes(), "");
    let schema = HttpRegistry::new(&config).fetch(1).unwrap();
    assert!(schema.schema.contains("\"name\":\"R\""));
    server.join().unwrap();

    let no_length = format!("HTTP/1.0 200 OK\r\n\r\n{SCHEMA_BODY}");
    let (config, server) = serve(no_length.into_bytes(), "");
    assert!(HttpRegistry::new(&config).fetch(1).is_ok());
    server.join().unwrap();
}

#[test]
fn only_the_registrys_own_not_found_means_an_unknown_id() {
    let not_found = r#"{"error_code":40403,"message":"Schema 7 not found"}"#;
    let (config, server) = serve(answer("404 Not Found", not_found), "");
    match HttpRegistry::new(&config).fetch(7) {
        Err(FetchError::NotFound { id, message }) => {
            assert_eq!((id, message.as_str()), (7, "Schema 7 not found"))
        }
        other => panic!("{other:?}"),
    }
    server.join().unwrap();

    // A 404 from something that is not the registry (wrong base path, a proxy) is not bad
    // data: it is retried like an outage.
    for body in [
        r#"{"error_code":404,"message":"HTTP 404 Not Found"}"#,
        "<html>nope</html>",
    ] {
        let (config, server) = serve(answer("404 Not Found", body), "");
        match HttpRegistry::new(&config).fetch(7) {
            Err(FetchError::Status { status: 404, .. }) => {}
            other => panic!("{body}: {other:?}"),
        }
        server.join().unwrap();
    }
}

#[test]
fn server_errors_garbage_and_oversized_answers_are_external() {
    let (config, server) = serve(
        answer(
            "500 Internal Server Error",
            r#"{"error_code":50001,"message":"store"}"#,
        ),
        "",
    );
    match HttpRegistry::new(&config).fetch(1) {
        Err(FetchError::Status { status, message }) => {
            assert_eq!((status, message.as_str()), (500, "error_code 50001: store"))
        }
        other => panic!("{other:?}"),
    }
    server.join().unwrap();

    let (config, server) = serve(b"SSH-2.0-OpenSSH\r\n\r\n".to_vec(), "");
    assert!(matches!(
        HttpRegistry::new(&config).fetch(1),
        Err(FetchError::Malformed { .. })
    ));
    server.join().unwrap();

    let (config, server) = serve(answer("200 OK", "{\"schema\": 3}"), "");
    assert!(matches!(
        HttpRegistry::new(&config).fetch(1),
        Err(FetchError::Malformed { .. })
    ));
    server.join().unwrap();

    let big = format!("{{\"schema\":\"{}\"}}", "x".repeat(5_000));
    let (mut config, server) = serve(answer("200 OK", &big), "");
    config.max_response_bytes = 1_000;
    match HttpRegistry::new(&config).fetch(1) {
        Err(FetchError::Malformed { detail }) => assert!(detail.contains("max_response_bytes")),
        other => panic!("{other:?}"),
    }
    let _ = server.join();
}

#[test]
fn a_silent_or_absent_registry_fails_within_the_timeout() {
    // Accepts, never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let mut config = SchemaRegistryConfig::new(RegistryUrl::parse(&url).unwrap());
    config.request_timeout = Duration::from_millis(300);
    let started = Instant::now();
    match HttpRegistry::new(&config).fetch(1) {
        Err(FetchError::Io { source, .. }) => assert!(
            matches!(
                source.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ),
            "{source}"
        ),
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(2));
    drop(listener);

    // Nothing listens.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config =
        SchemaRegistryConfig::new(RegistryUrl::parse(&format!("http://127.0.0.1:{port}")).unwrap());
    assert!(matches!(
        HttpRegistry::new(&config).fetch(1),
        Err(FetchError::Io { .. })
    ));
}

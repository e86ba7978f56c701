//! The `test-idp` tool as the measurements run it: it serves a JWKS file
//! and its discovery document over TLS, with a certificate its CA file
//! lets a client verify, and reports each connection when its stdin closes.

use std::process::Stdio;
use std::sync::Arc;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::{rustls, TlsConnector};

#[tokio::test]
async fn serves_a_jwks_and_its_discovery_document_over_verified_tls() {
    let dir = std::env::temp_dir().join(format!("test-idp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (jwks, ca) = (dir.join("jwks.json"), dir.join("ca.pem"));
    std::fs::write(&jwks, r#"{"keys": []}"#).unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_test-idp"))
        .args([
            "--jwks",
            jwks.to_str().unwrap(),
            "--ca-out",
            ca.to_str().unwrap(),
        ])
        .args(["--latency-ms", "10", "--max-seconds", "60"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first: Value = serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap();
    let origin = first["origin"].as_str().unwrap().to_owned();
    let port: u16 = origin.rsplit(':').next().unwrap().parse().unwrap();

    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(&ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let mut tls = TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .unwrap();
    tls.write_all(b"GET /.well-known/openid-configuration HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    tls.read_to_string(&mut answer).await.unwrap_or_default();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains(&format!(r#""jwks_uri":"{origin}/.well-known/jwks.json""#)),
        "{answer}"
    );

    drop(child.stdin.take());
    let connection: Value =
        serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap();
    assert!(
        connection["client_hello_after_ms"].as_f64().is_some(),
        "{connection}"
    );
    assert!(child.wait().await.unwrap().success());
    std::fs::remove_dir_all(&dir).unwrap();
}

//! `test-idp`: an `https` IdP at a distance, on loopback, for cold-start
//! measurements: a test CA (written where `--ca-out` says, for the
//! authorizers' `SSL_CERT_FILE`), a TLS front and a delay proxy adding
//! `--latency-ms` (or `LATENCY_MS`) of round trip, in front of either an
//! `http` server already running (`--upstream 127.0.0.1:PORT`, such as the
//! local stack's issuer) or a JWKS file served here with its discovery
//! document (`--jwks FILE`).
//!
//! `--bundle-out FILE` writes the system's CA bundle with the test CA
//! appended: a full bundle for `SSL_CERT_FILE`, as costly to load as the
//! one a deployed function reads.
//!
//! It prints one JSON line, `{"origin": "https://localhost:PORT", ...}`,
//! once it serves, and stops when its standard input closes (or after
//! `--max-seconds`, 3600 by default), printing what the proxy saw of each
//! connection: when it was accepted and when its ClientHello arrived.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::json;
use testkit::{HttpsIdp, JwksServer};
use tokio::io::AsyncReadExt;

type Error = Box<dyn std::error::Error>;

struct Args {
    upstream: Option<SocketAddr>,
    jwks: Option<String>,
    latency_ms: u64,
    port: u16,
    ca_out: Option<String>,
    bundle_out: Option<String>,
    max_seconds: u64,
}

fn parse_args() -> Result<Args, Error> {
    let mut args = Args {
        upstream: None,
        jwks: None,
        latency_ms: std::env::var("LATENCY_MS")
            .ok()
            .map(|v| v.parse())
            .transpose()?
            .unwrap_or(0),
        port: 0,
        ca_out: None,
        bundle_out: None,
        max_seconds: 3600,
    };
    let mut given = std::env::args().skip(1);
    while let Some(flag) = given.next() {
        let mut value = || given.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--upstream" => args.upstream = Some(value()?.parse()?),
            "--jwks" => args.jwks = Some(value()?),
            "--latency-ms" => args.latency_ms = value()?.parse()?,
            "--port" => args.port = value()?.parse()?,
            "--ca-out" => args.ca_out = Some(value()?),
            "--bundle-out" => args.bundle_out = Some(value()?),
            "--max-seconds" => args.max_seconds = value()?.parse()?,
            other => {
                return Err(format!(
                    "unknown argument {other:?}; usage: test-idp (--upstream ADDR | --jwks FILE) \
                     [--latency-ms N] [--port N] [--ca-out FILE] [--bundle-out FILE] [--max-seconds N]"
                )
                .into())
            }
        }
    }
    if args.upstream.is_some() == args.jwks.is_some() {
        return Err("give one of --upstream ADDR and --jwks FILE".into());
    }
    Ok(args)
}

/// The system's CA bundle (the first found where Linux distributions keep
/// one) with `ca` appended: what a function trusts when its
/// `SSL_CERT_FILE` names a full bundle, the cost of parsing every root
/// included.
fn system_bundle_with(ca: &str) -> String {
    const BUNDLES: &[&str] = &[
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/ssl/cert.pem",
    ];
    let system = BUNDLES
        .iter()
        .find_map(|path| std::fs::read_to_string(path).ok())
        .unwrap_or_default();
    format!("{system}\n{ca}")
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args = parse_args()?;
    let rtt = Duration::from_millis(args.latency_ms);
    // Serving a JWKS file: its own keep-alive server, which learns the
    // origin (for its discovery document) once the proxy listens.
    let (upstream, served) = match (&args.upstream, &args.jwks) {
        (Some(addr), _) => (*addr, None),
        (None, Some(file)) => {
            let jwks: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(file)?)?;
            let server = JwksServer::start(jwks).await;
            server.set_keep_alive(true);
            let addr: SocketAddr = server.base_url().trim_start_matches("http://").parse()?;
            (addr, Some(server))
        }
        (None, None) => unreachable!("parse_args requires one"),
    };
    let idp = HttpsIdp::start(upstream, rtt, args.port).await?;
    let origin = idp.origin();
    if let Some(server) = &served {
        server.set_discovery(json!({
            "issuer": origin,
            "jwks_uri": format!("{origin}/.well-known/jwks.json"),
        }));
    }
    if let Some(path) = &args.ca_out {
        idp.ca().write_ca(std::path::Path::new(path))?;
    }
    if let Some(path) = &args.bundle_out {
        std::fs::write(path, system_bundle_with(idp.ca().ca_pem()))?;
    }
    println!(
        "{}",
        json!({"origin": origin, "ca_file": args.ca_out, "bundle_file": args.bundle_out,
               "latency_ms": args.latency_ms})
    );
    let started = Instant::now();
    let mut stdin = tokio::io::stdin();
    let mut sink = [0u8; 256];
    let stop = async { while matches!(stdin.read(&mut sink).await, Ok(n) if n > 0) {} };
    let _ = tokio::time::timeout(Duration::from_secs(args.max_seconds), stop).await;
    for connection in idp.connections() {
        let since = |t: Instant| t.saturating_duration_since(started).as_secs_f64() * 1000.0;
        println!(
            "{}",
            json!({
                "accepted_ms": since(connection.accepted),
                "client_hello_after_ms": connection
                    .first_bytes
                    .map(|t| t.saturating_duration_since(connection.accepted).as_secs_f64() * 1000.0),
                "bytes_up": connection.bytes_up,
                "bytes_down": connection.bytes_down,
            })
        );
    }
    Ok(())
}

//! Cold starts on a network, measured: the release `authorizer` (and the
//! PyJWT reference, when its virtualenv is there) started through the
//! Lambda Runtime API against an `https` IdP `LATENCY_MS` away (the
//! `test-idp` tool: a test CA the functions trust through `SSL_CERT_FILE`,
//! a TLS front and a delay proxy, in a process of its own), with the JWKS
//! URL configured, found by discovery, or a `JWKS_SNAPSHOT` packaged.
//!
//! Ignored: a measurement, not a test. Run with
//! `cargo build --release -p authorizer -p testkit --bin authorizer --bin test-idp`, then
//! `AUTHORIZER_BIN=$PWD/target/release/authorizer cargo test -p authorizer --test cold_start_network -- --ignored --nocapture`
//! (`COLD_LATENCIES_MS=0,20,80`, `COLD_STARTS=7`, `COLD_START_OUT=file.json`
//! for the rows as JSON, `TEST_IDP_BIN`, `PYJWT_BOOTSTRAP`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};
use testkit::function::TestFunction;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};

/// A `test-idp` process serving one JWKS file.
struct Idp {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
    origin: String,
}

impl Idp {
    async fn start(binary: &Path, jwks: &Path, ca: &Path, latency_ms: u64) -> Self {
        let mut child = tokio::process::Command::new(binary)
            .args([
                "--jwks",
                jwks.to_str().unwrap(),
                "--bundle-out",
                ca.to_str().unwrap(),
            ])
            .args([
                "--latency-ms",
                &latency_ms.to_string(),
                "--max-seconds",
                "600",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "{}: {e}; build it: cargo build --release -p testkit --bin test-idp",
                    binary.display()
                )
            });
        let stdin = child.stdin.take().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines
            .next_line()
            .await
            .unwrap()
            .expect("test-idp's first line");
        let origin = serde_json::from_str::<Value>(&first).unwrap()["origin"]
            .as_str()
            .unwrap()
            .to_owned();
        Self {
            child,
            stdin,
            lines,
            origin,
        }
    }

    /// Stops it; what its proxy saw of each connection.
    async fn stop(mut self) -> Vec<Value> {
        self.stdin.shutdown().await.unwrap();
        drop(self.stdin);
        let mut connections = Vec::new();
        while let Ok(Some(line)) = self.lines.next_line().await {
            connections.push(serde_json::from_str(&line).unwrap());
        }
        let _ = self.child.wait().await;
        connections
    }
}

/// One way of starting: which authorizer, and how it finds its keys.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Keys {
    JwksUri,
    Discovery,
    Snapshot,
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

fn p95(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let rank = ((values.len() as f64) * 0.95).ceil() as usize;
    values
        .get(rank.saturating_sub(1).min(values.len().saturating_sub(1)))
        .copied()
        .unwrap_or(f64::NAN)
}

/// The first EMF record that carries `metric`.
fn metric(lines: &[Value], name: &str) -> Option<f64> {
    lines
        .iter()
        .find_map(|l| l.get(name).and_then(Value::as_f64))
}

fn workspace_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; needs AUTHORIZER_BIN and a release test-idp"]
async fn measure_cold_start_on_a_network() {
    let tollgate = std::env::var("AUTHORIZER_BIN").expect("AUTHORIZER_BIN");
    let idp_binary = std::env::var("TEST_IDP_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| workspace_path("target/release/test-idp"));
    let pyjwt = std::env::var("PYJWT_BOOTSTRAP")
        .map(PathBuf::from)
        .ok()
        .or_else(|| {
            let venv = workspace_path("loadtest/.venv/bin/python");
            venv.exists()
                .then(|| workspace_path("loadtest/pyjwt_authorizer/bootstrap"))
        });
    let latencies: Vec<u64> = std::env::var("COLD_LATENCIES_MS")
        .unwrap_or_else(|_| "0,20,80".to_owned())
        .split(',')
        .map(|v| v.trim().parse().expect("COLD_LATENCIES_MS: numbers"))
        .collect();
    let starts: usize = std::env::var("COLD_STARTS")
        .ok()
        .map_or(7, |v| v.parse().expect("COLD_STARTS"));

    let dir = std::env::temp_dir().join(format!("tollgate-cold-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = rsa_key("cold-key");
    let jwks_file = dir.join("jwks.json");
    std::fs::write(&jwks_file, testkit::jwks(&[&key]).to_string()).unwrap();
    let snapshot_file = dir.join("jwks-snapshot.json");
    let mut snapshot = testkit::jwks(&[&key]);
    snapshot["fetched_at"] = json!(environment::unix_now());
    std::fs::write(&snapshot_file, snapshot.to_string()).unwrap();
    // The system bundle with the test CA: a full bundle to load, as deployed.
    let ca = dir.join("bundle.pem");

    let mut cases = vec![
        ("tollgate", tollgate.clone(), Keys::JwksUri),
        ("tollgate", tollgate.clone(), Keys::Discovery),
        ("tollgate", tollgate.clone(), Keys::Snapshot),
    ];
    if let Some(pyjwt) = &pyjwt {
        cases.push(("pyjwt", pyjwt.to_string_lossy().into_owned(), Keys::JwksUri));
    }
    let mut rows = Vec::new();
    eprintln!(
        "| authorizer | RTT ms | keys | cold p50 ms | p95 ms | process + runtime | init (no fetch) | DNS | TCP + TLS | to ClientHello | requests | first verification µs | connections |"
    );
    eprintln!("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &latency in &latencies {
        for (name, program, keys) in &cases {
            let idp = Idp::start(&idp_binary, &jwks_file, &ca, latency).await;
            let origin = idp.origin.clone();
            let mut env = vec![
                ("JWT_ISSUER", origin.clone()),
                ("JWT_AUDIENCE", AUDIENCE.to_owned()),
                ("DPOP_MODE", "off".to_owned()),
                ("SSL_CERT_FILE", ca.to_string_lossy().into_owned()),
                ("AWS_LAMBDA_LOG_LEVEL", "INFO".to_owned()),
            ];
            if *keys != Keys::Discovery {
                env.push(("JWKS_URI", format!("{origin}/.well-known/jwks.json")));
            }
            if *keys == Keys::Snapshot {
                env.push((
                    "JWKS_SNAPSHOT",
                    snapshot_file.to_string_lossy().into_owned(),
                ));
            }
            let claims = testkit::access_claims(&origin, AUDIENCE, "alice", "books:read", 600);
            let token = key.sign(&claims);
            let (mut total, mut init, mut fetch, mut dns, mut connect, mut verify) =
                (vec![], vec![], vec![], vec![], vec![], vec![]);
            for _ in 0..starts {
                let function = TestFunction::new(program, "cold", &env);
                let started = Instant::now();
                let answer = function.invoke(token_event(&token)).await;
                total.push(started.elapsed().as_secs_f64() * 1000.0);
                assert!(
                    answer.is_ok(),
                    "{name} {keys:?} at {latency} ms: {answer:?}"
                );
                if *name == "tollgate" {
                    let lines = function
                        .stdout_json_when(|l| metric(l, "VerificationTime").is_some())
                        .await;
                    let fetched = if *keys == Keys::Snapshot {
                        0.0
                    } else {
                        metric(&lines, "JwksFetchTime").unwrap_or(f64::NAN)
                    };
                    init.push(metric(&lines, "InitTime").unwrap_or(f64::NAN) - fetched);
                    fetch.push(fetched);
                    let phase = |name: &str| {
                        if *keys == Keys::Snapshot {
                            0.0
                        } else {
                            metric(&lines, name).unwrap_or(0.0)
                        }
                    };
                    dns.push(phase("JwksDnsTime"));
                    connect.push(phase("JwksConnectTime"));
                    verify.push(metric(&lines, "VerificationTime").unwrap_or(f64::NAN));
                }
                function.stop().await;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let connections = idp.stop().await;
            let mut hello: Vec<f64> = connections
                .iter()
                .filter_map(|c| c["client_hello_after_ms"].as_f64())
                .collect();
            let (p50, p95) = (median(&mut total), p95(&mut total));
            let measured = *name == "tollgate";
            let (init_ms, fetch_ms, dns_ms, connect_ms, verify_us) = if measured {
                (
                    median(&mut init),
                    median(&mut fetch),
                    median(&mut dns),
                    median(&mut connect),
                    median(&mut verify),
                )
            } else {
                (f64::NAN, f64::NAN, f64::NAN, f64::NAN, f64::NAN)
            };
            let rest = p50 - init_ms - fetch_ms - verify_us / 1000.0;
            let requests = fetch_ms - dns_ms - connect_ms;
            let hello_ms = median(&mut hello);
            eprintln!(
                "| {name} | {latency} | {keys:?} | {p50:.1} | {p95:.1} | {rest:.1} | {init_ms:.1} | {dns_ms:.1} | {connect_ms:.1} | {hello_ms:.1} | {requests:.1} | {verify_us:.0} | {} |",
                connections.len() / starts.max(1)
            );
            let number = |v: f64| if v.is_finite() { json!(v) } else { Value::Null };
            rows.push(json!({
                "authorizer": name, "latency_ms": latency, "keys": format!("{keys:?}"),
                "cold_starts": starts, "p50_ms": p50, "p95_ms": p95,
                "process_and_runtime_ms": number(rest), "init_ms": number(init_ms),
                "dns_ms": number(dns_ms), "connect_tls_ms": number(connect_ms),
                "client_hello_after_ms": number(hello_ms), "requests_ms": number(requests),
                "first_verification_us": number(verify_us),
                "connections_per_start": connections.len() as f64 / starts.max(1) as f64,
            }));
        }
    }
    if let Ok(out) = std::env::var("COLD_START_OUT") {
        std::fs::write(
            &out,
            serde_json::to_string_pretty(&json!({"rows": rows})).unwrap(),
        )
        .unwrap();
        eprintln!("wrote {out}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

//! `tollgate serve --metrics cloudwatch` and `tollgate metrics`, as a user
//! runs them against moto: a known request mix, SIGTERM (the shutdown
//! flush: the flush interval is far longer than the test), then the sums
//! read back with our own client and printed by `tollgate metrics`.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

mod common;

use common::{assert_rows, free_port, statistics, wait_until_serving};

use serde_json::json;

/// moto keeps CloudWatch data per region and ignores the namespace when
/// dimensions are queried: this test's own region keeps other tests' data
/// out of its sums.
const REGION: &str = "eu-central-1";

async fn sum(
    client: &aws_sdk_cloudwatch::Client,
    name: &str,
    dimensions: &[(&str, &str)],
    since: SystemTime,
) -> f64 {
    statistics(client, "Tollgate", name, dimensions, since)
        .await
        .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_with_cloudwatch_metrics_then_tollgate_metrics() {
    if testkit::aws_test_endpoint().is_none() {
        return;
    }
    let since = SystemTime::now();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let addr = format!("127.0.0.1:{}", free_port());
    let mut server = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .arg("--data-dir")
        .arg(&data)
        .args([
            "serve",
            "--addr",
            &addr,
            "--authorizer-cache-ttl",
            "0",
            "--metrics",
            "cloudwatch",
        ])
        .env("METRICS_FLUSH_SECONDS", "3600")
        .env("AWS_REGION", REGION)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kept for the whole test: its reader keeps the pipe drained.
    let printed = common::lines_of(server.stdout.take().unwrap());
    wait_until_serving(&printed, &addr);
    let password = common::stored_password(&data, "demo");
    let (http, url) = (reqwest::Client::new(), format!("http://{addr}"));
    let token = common::login(&http, &url, "demo", &password).await;
    let bearer = format!("Bearer {token}");
    let mut statuses = Vec::new();
    for (path, authorization) in [
        ("/books", Some(bearer.as_str())),
        ("/books", Some(bearer.as_str())),
        ("/admin/keys", Some(bearer.as_str())),
        ("/books", Some("Bearer expired.or.forged")),
        ("/books", None),
    ] {
        let mut request = http.get(format!("{url}{path}"));
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        statuses.push(request.send().await.unwrap().status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 403, 401, 401]);

    let _ = Command::new("kill").arg(server.id().to_string()).status();
    let status = server.wait().unwrap();
    assert!(
        status.success(),
        "serve exits cleanly on SIGTERM: {status:?}"
    );

    let config = testkit::aws_config(Some(REGION)).await;
    let client = aws_sdk_cloudwatch::Client::new(&config);
    let gateway = |decision| [("Service", "gateway"), ("Decision", decision)];
    assert_eq!(
        sum(&client, "Requests", &gateway("allow"), since).await,
        2.0
    );
    assert_eq!(sum(&client, "Requests", &gateway("deny"), since).await, 1.0);
    assert_eq!(
        sum(&client, "Requests", &gateway("unauthorized"), since).await,
        2.0
    );
    let authorizer = |decision| [("Service", "authorizer"), ("Decision", decision)];
    assert_eq!(
        sum(&client, "Decisions", &authorizer("allow"), since).await,
        2.0
    );
    assert_eq!(
        sum(&client, "Decisions", &authorizer("deny"), since).await,
        1.0
    );
    assert_eq!(
        sum(&client, "Decisions", &authorizer("unauthorized"), since).await,
        1.0
    );
    assert_eq!(
        sum(&client, "Decisions", &[("Service", "authorizer")], since).await,
        4.0
    );
    assert!(sum(&client, "JwksFetches", &[("Service", "authorizer")], since).await >= 1.0);
    assert_eq!(
        sum(
            &client,
            "Logins",
            &[("Service", "issuer"), ("Decision", "ok")],
            since
        )
        .await,
        1.0
    );

    let output = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["metrics", "--since", "10m"])
        .env("AWS_REGION", REGION)
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        table.starts_with("Tollgate metrics, last 10m (namespace Tollgate)"),
        "{table}"
    );
    assert_rows(
        &table,
        &[
            "authorizer Decisions (all) (all) 4 - -",
            "authorizer Decisions deny missing_scope 1 - -",
            "gateway Requests allow 200 2 - -",
            "issuer TokensIssued ok password 1 - -",
        ],
    );
    for metric in [
        "DecisionCacheHits",
        "JwksFetches",
        "VerificationTime",
        "Logins",
        "Latency",
    ] {
        assert!(table.contains(metric), "{metric} missing:\n{table}");
    }

    let bad = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["metrics", "--since", "forever"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--since"));
}

#[test]
fn cloudwatch_metrics_without_a_region_fail_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let output = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .arg("--data-dir")
        .arg(&data)
        .args(["serve", "--addr", "127.0.0.1:0", "--metrics", "cloudwatch"])
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env("AWS_CONFIG_FILE", dir.path().join("no-config"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("AWS_REGION"));
    assert!(!data.join("credentials").exists(), "nothing written");
}

#[test]
fn serve_with_emf_metrics_prints_emf_lines() {
    let dir = tempfile::tempdir().unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let mut server = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args(["serve", "--addr", &addr, "--metrics", "emf"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let received = common::lines_of(server.stdout.take().unwrap());
    wait_until_serving(&received, &addr);
    // No Authorization header: 401 from the gateway itself.
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    std::io::Write::write_all(
        &mut stream,
        b"GET /books HTTP/1.1\r\nHost: tollgate\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut stream, &mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");

    let deadline = Instant::now() + Duration::from_secs(10);
    let mut record = None;
    while record.is_none() && Instant::now() < deadline {
        let Ok(line) = received.recv_timeout(Duration::from_millis(200)) else {
            continue;
        };
        let Ok(json) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        // The stack's own JWKS fetches are gateway records too (`public`).
        if json["Service"] == "gateway" && json["Requests"] == 1.0 && json["Decision"] != "public" {
            record = Some(json);
        }
    }
    let _ = server.kill();
    let _ = server.wait();
    let record = record.expect("an EMF line for the request on stdout");
    assert_eq!(record["Decision"], "unauthorized");
    assert_eq!(record["Reason"], "401");
    assert_eq!(
        record["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "Tollgate"
    );
    assert_eq!(
        record["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
        json!([
            ["Service"],
            ["Service", "Decision"],
            ["Service", "Decision", "Reason"]
        ])
    );
}

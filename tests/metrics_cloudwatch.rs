//! Metrics to CloudWatch from the local stack, on moto through the real SDK:
//! a known request mix reads back as exactly those sums; a CloudWatch that
//! hangs or resets costs metrics (counted), never a request's status or
//! latency; shutdown flushes what is pending.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

mod common;

use common::Stack;

use common::{assert_rows, statistics};

use serde_json::json;
use telemetry_cloudwatch::Limits;
use telemetry_cloudwatch::{CloudWatchSink, RetryPolicy, Settings};
use tollgate::local_stack::StackOptions;

/// A local stack on file stores, recording to `sink`, with the gateway's
/// authorizer cache off so that every protected request is one decision.
async fn stack(sink: Arc<CloudWatchSink>) -> Stack {
    let options = StackOptions::new("127.0.0.1:0".parse().unwrap(), Duration::ZERO);
    Stack::fresh(options.with_metrics(sink)).await
}

/// `Bearer` and a token of the demo user.
async fn demo_bearer(http: &reqwest::Client, url: &str, password: &str) -> String {
    let token: serde_json::Value = login(http, url, password).await.json().await.unwrap();
    format!("Bearer {}", token["access_token"].as_str().unwrap())
}

async fn login(http: &reqwest::Client, url: &str, password: &str) -> reqwest::Response {
    http.post(format!("{url}/token"))
        .json(&json!({"username": "demo", "password": password}))
        .send()
        .await
        .unwrap()
}

async fn get(http: &reqwest::Client, url: &str, authorization: Option<&str>) -> (u16, Duration) {
    let started = Instant::now();
    let mut request = http.get(url);
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let status = request.send().await.unwrap().status().as_u16();
    (status, started.elapsed())
}

/// Dimension names and values of one series.
type Dimensions<'a> = &'a [(&'a str, &'a str)];

fn unique_namespace() -> String {
    format!("Tollgate-test-{}", ulid::Ulid::new())
}

/// A sink to moto in `region` under a fresh namespace, flushing every
/// `flush_interval`, a client to read back with, the namespace, and when
/// the test began. moto keeps CloudWatch data per region and ignores the
/// namespace when dimensions are queried: each test's own region keeps
/// other tests' data out of its sums. `None` (skip) without moto.
async fn moto(
    region: &'static str,
    flush_interval: Duration,
) -> Option<(
    Arc<CloudWatchSink>,
    aws_sdk_cloudwatch::Client,
    String,
    SystemTime,
)> {
    testkit::aws_test_endpoint()?;
    let since = SystemTime::now();
    let config = testkit::aws_config(Some(region)).await;
    let settings = Settings {
        namespace: unique_namespace(),
        flush_interval,
        ..Settings::default()
    };
    let namespace = settings.namespace.clone();
    let sink = CloudWatchSink::start(telemetry_cloudwatch::client(&config, &settings), settings);
    Some((
        sink,
        aws_sdk_cloudwatch::Client::new(&config),
        namespace,
        since,
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_mix_reads_back_as_exact_sums_after_the_shutdown_flush() {
    // No timer flush within the test: only shutdown sends.
    let Some((sink, client, namespace, since)) = moto("eu-west-1", Duration::from_secs(3600)).await
    else {
        return;
    };
    let stack = stack(Arc::clone(&sink)).await;
    let (http, url) = (reqwest::Client::new(), stack.url.clone());

    let bearer = demo_bearer(&http, &url, &stack.demo_password).await;
    assert_eq!(login(&http, &url, "wrong").await.status(), 400);
    for _ in 0..3 {
        assert_eq!(
            get(&http, &format!("{url}/books"), Some(&bearer)).await.0,
            200
        );
    }
    for _ in 0..2 {
        // demo lacks keys:admin.
        assert_eq!(
            get(&http, &format!("{url}/admin/keys"), Some(&bearer))
                .await
                .0,
            403
        );
    }
    for _ in 0..2 {
        assert_eq!(
            get(&http, &format!("{url}/books"), Some("Bearer not-a-jwt"))
                .await
                .0,
            401
        );
    }
    assert_eq!(get(&http, &format!("{url}/books"), None).await.0, 401);
    assert_eq!(
        sink.stats().requests_sent,
        0,
        "nothing sent before shutdown"
    );

    stack.running.shutdown().await;
    sink.shutdown().await;
    let stats = sink.stats();
    assert!(
        stats.requests_sent >= 1 && stats.datums_lost == 0,
        "{stats:?}"
    );

    const GATEWAY: &str = "gateway";
    const AUTHORIZER: &str = "authorizer";
    #[rustfmt::skip]
    let counts: [(Dimensions, &str, f64); 12] = [
        (&[("Service", GATEWAY), ("Decision", "allow")], "Requests", 3.0),
        (&[("Service", GATEWAY), ("Decision", "deny")], "Requests", 2.0),
        (&[("Service", GATEWAY), ("Decision", "unauthorized")], "Requests", 3.0),
        (&[("Service", GATEWAY), ("Decision", "allow"), ("Reason", "200")], "Requests", 3.0),
        (&[("Service", AUTHORIZER), ("Decision", "allow")], "Decisions", 3.0),
        (&[("Service", AUTHORIZER), ("Decision", "deny")], "Decisions", 2.0),
        (&[("Service", AUTHORIZER), ("Decision", "unauthorized")], "Decisions", 2.0),
        (&[("Service", AUTHORIZER), ("Decision", "deny"), ("Reason", "missing_scope")], "Decisions", 2.0),
        (&[("Service", AUTHORIZER)], "Decisions", 7.0),
        (&[("Service", "issuer"), ("Decision", "ok")], "Logins", 1.0),
        (&[("Service", "issuer"), ("Decision", "refused")], "Logins", 1.0),
        (&[("Service", "issuer"), ("Decision", "ok")], "TokensIssued", 1.0),
    ];
    for (dimensions, name, expected) in counts {
        let read = statistics(&client, &namespace, name, dimensions, since).await;
        assert_eq!(read, (expected, expected, 1.0), "{name} {dimensions:?}");
    }
    // Latency and verification time: one sample per request or decision.
    let allowed = [("Service", GATEWAY), ("Decision", "allow")];
    let (_, samples, maximum) = statistics(&client, &namespace, "Latency", &allowed, since).await;
    assert!(samples == 3.0 && maximum > 0.0);
    let (_, samples, _) = statistics(
        &client,
        &namespace,
        "VerificationTime",
        &[("Service", "authorizer")],
        since,
    )
    .await;
    assert_eq!(samples, 7.0);

    // `tollgate metrics` reads the same back.
    let report = telemetry_cloudwatch::read(&client, &namespace, Duration::from_secs(600))
        .await
        .unwrap()
        .to_string();
    assert_rows(
        &report,
        &[
            "authorizer Decisions (all) (all) 7 - -",
            "authorizer Decisions deny missing_scope 2 - -",
            "gateway Requests unauthorized 401 3 - -",
            "issuer Logins refused password 1 - -",
        ],
    );
    assert!(
        report.lines().any(|l| l.starts_with("authorizer")
            && l.contains("VerificationTime")
            && l.contains("µs")),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_timer_flushes_while_serving() {
    let Some((sink, client, namespace, since)) = moto("eu-west-2", Duration::from_secs(1)).await
    else {
        return;
    };
    let stack = stack(Arc::clone(&sink)).await;
    let http = reqwest::Client::new();
    for _ in 0..4 {
        assert_eq!(
            get(&http, &format!("{}/books", stack.url), None).await.0,
            401
        );
    }
    // Still serving: the sums arrive with the timer's flushes.
    let unauthorized = [("Service", "gateway"), ("Decision", "unauthorized")];
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut read = (0.0, 0.0, 0.0);
    while Instant::now() < deadline {
        read = statistics(&client, &namespace, "Requests", &unauthorized, since).await;
        if read.0 >= 4.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(read, (4.0, 4.0, 1.0));
    assert!(sink.stats().requests_sent >= 1);
    stack.running.shutdown().await;
    sink.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_window_is_split_within_the_api_limits() {
    let Some((sink, client, namespace, since)) =
        moto("ap-southeast-2", Duration::from_secs(3600)).await
    else {
        return;
    };
    // 1800 distinct latencies (three significant digits: kept exactly),
    // 12 x 150 values per dimension set, each datum about 15 KB.
    let latencies: Vec<f64> = (100..1000)
        .map(|i| f64::from(i) / 100.0)
        .chain((100..1000).map(|i| f64::from(i) / 10.0))
        .collect();
    for millis in &latencies {
        let metrics = [telemetry::Metric::new(
            "Latency",
            telemetry::Unit::Milliseconds,
            *millis,
        )];
        telemetry::MetricsSink::emit(
            sink.as_ref(),
            &telemetry::Record::new("gateway", "allow", "200", &metrics),
        );
    }
    sink.shutdown().await;
    let stats = sink.stats();
    assert_eq!(stats.datums_sent, 36, "{stats:?}");
    assert!(
        stats.requests_sent >= 1 && stats.datums_lost == 0,
        "{stats:?}"
    );
    let (sum, samples, maximum) = statistics(
        &client,
        &namespace,
        "Latency",
        &[("Service", "gateway")],
        since,
    )
    .await;
    let expected: f64 = latencies.iter().sum();
    assert!(
        (sum - expected).abs() < 1e-6 * expected,
        "{sum} vs {expected}"
    );
    assert_eq!((samples, maximum), (1800.0, 99.9));
}

/// Accepts connections and never answers: a CloudWatch that hangs.
async fn hanging_endpoint() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    format!("http://{addr}")
}

/// Accepts connections and resets them at once.
async fn resetting_endpoint() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            // Linger 0: closing sends a reset, not a clean end of stream.
            if let Ok(socket) = socket.into_std() {
                let _ = socket2::SockRef::from(&socket).set_linger(Some(Duration::ZERO));
            }
        }
    });
    format!("http://{addr}")
}

async fn failing_sink(endpoint: &str) -> Arc<CloudWatchSink> {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .test_credentials()
        .load()
        .await;
    let settings = Settings {
        namespace: unique_namespace(),
        flush_interval: Duration::from_millis(300),
        limits: Limits {
            max_series: 64,
            max_distinct_values: 1_000,
        },
        retry: RetryPolicy {
            attempts: 2,
            first_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(200),
        },
        attempt_timeout: Duration::from_secs(4),
        shutdown_timeout: Duration::from_secs(3),
    };
    CloudWatchSink::start(telemetry_cloudwatch::client(&config, &settings), settings)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_cloudwatch_costs_metrics_never_requests() {
    let resetting = resetting_endpoint().await;
    for endpoint in [hanging_endpoint().await, resetting.clone()] {
        let sink = failing_sink(&endpoint).await;
        let stack = stack(Arc::clone(&sink)).await;
        let (http, url) = (reqwest::Client::new(), stack.url.clone());
        let bearer = demo_bearer(&http, &url, &stack.demo_password).await;
        // Requests for 2 s, while flushes (every 300 ms) hang for 4 s per
        // attempt or fail at once.
        let started = Instant::now();
        let mut slowest = Duration::ZERO;
        let mut requests = 0;
        while started.elapsed() < Duration::from_secs(2) {
            let (status, took) = get(&http, &format!("{url}/books"), Some(&bearer)).await;
            assert_eq!(status, 200);
            let (status, _) = get(&http, &format!("{url}/books"), None).await;
            assert_eq!(status, 401);
            slowest = slowest.max(took);
            requests += 2;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(requests >= 20, "{requests} requests in 2 s");
        // A request waiting on a flush would take the 4 s attempt timeout.
        assert!(
            slowest < Duration::from_millis(1500),
            "slowest request {slowest:?} ({endpoint})"
        );
        let (series, distinct) = sink.pending();
        assert!(
            series <= 64 && distinct <= 1_000,
            "bounded: {series} series, {distinct} values"
        );

        stack.running.shutdown().await;
        // Shutdown gives up after its timeout instead of hanging with CloudWatch.
        let shutting_down = Instant::now();
        sink.shutdown().await;
        assert!(shutting_down.elapsed() < Duration::from_secs(6));
        // The failure is counted: the hanging endpoint's first attempt timed
        // out (4 s after the first flush) before shutdown gave up.
        let stats = sink.stats();
        eprintln!("{endpoint}: {requests} requests, slowest {slowest:?}, {stats:?}");
        assert!(stats.attempts_failed >= 1, "{stats:?} ({endpoint})");
        if endpoint == resetting {
            assert!(stats.datums_lost >= 1, "given up on and counted: {stats:?}");
        }
        assert_eq!(stats.requests_sent, 0, "{stats:?}");
    }
}

//! The release artefact end to end: the `authorizer` binary, started against
//! a minimal Lambda Runtime API served here, answers real API Gateway events.

mod common;

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use common::*;
use serde_json::{json, Value};
use testkit::{jwks, JwksServer, ServerMode};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot};

/// What the function answered for one invocation.
#[derive(Debug)]
enum Outcome {
    Response(Value),
    Error(Value),
}

/// Invocations waiting for the function: (request id, event).
type EventQueue = mpsc::Receiver<(String, Value)>;

#[derive(Clone, Default)]
struct RuntimeState {
    queue: Arc<tokio::sync::Mutex<Option<EventQueue>>>,
    waiting: Arc<Mutex<HashMap<String, oneshot::Sender<Outcome>>>>,
    init_errors: Arc<Mutex<Vec<Value>>>,
}

async fn next(State(state): State<RuntimeState>) -> (StatusCode, HeaderMap, Json<Value>) {
    let mut guard = state.queue.lock().await;
    let Some(queue) = guard.as_mut() else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            HeaderMap::new(),
            Json(Value::Null),
        );
    };
    let Some((id, event)) = queue.recv().await else {
        // Test over: keep the function parked.
        tokio::time::sleep(Duration::from_secs(3600)).await;
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            HeaderMap::new(),
            Json(Value::Null),
        );
    };
    let mut headers = HeaderMap::new();
    headers.insert(
        "Lambda-Runtime-Aws-Request-Id",
        HeaderValue::from_str(&id).unwrap(),
    );
    let deadline = (testkit::now() + 30) * 1000;
    headers.insert(
        "Lambda-Runtime-Deadline-Ms",
        HeaderValue::from_str(&deadline.to_string()).unwrap(),
    );
    headers.insert(
        "Lambda-Runtime-Invoked-Function-Arn",
        HeaderValue::from_static(
            "arn:aws:lambda:eu-west-1:123456789012:function:tollgate-authorizer",
        ),
    );
    headers.insert(
        "Lambda-Runtime-Trace-Id",
        HeaderValue::from_static("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"),
    );
    (StatusCode::OK, headers, Json(event))
}

async fn response(
    State(state): State<RuntimeState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> StatusCode {
    finish(
        &state,
        &id,
        Outcome::Response(serde_json::from_slice(&body).unwrap_or(Value::Null)),
    )
}

async fn error(
    State(state): State<RuntimeState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> StatusCode {
    finish(
        &state,
        &id,
        Outcome::Error(serde_json::from_slice(&body).unwrap_or(Value::Null)),
    )
}

fn finish(state: &RuntimeState, id: &str, outcome: Outcome) -> StatusCode {
    if let Some(tx) = state.waiting.lock().unwrap().remove(id) {
        let _ = tx.send(outcome);
    }
    StatusCode::ACCEPTED
}

async fn init_error(State(state): State<RuntimeState>, body: axum::body::Bytes) -> StatusCode {
    state
        .init_errors
        .lock()
        .unwrap()
        .push(serde_json::from_slice(&body).unwrap_or(Value::Null));
    StatusCode::ACCEPTED
}

/// A Runtime API on loopback plus the function process using it.
struct Function {
    state: RuntimeState,
    events: mpsc::Sender<(String, Value)>,
    child: Child,
    stdout: Arc<Mutex<Vec<String>>>,
    counter: usize,
}

impl Function {
    /// Starts the binary under test: `AUTHORIZER_BIN` if set (a release or
    /// arm64 build), else this package's own build.
    async fn start(env: &[(&str, String)]) -> Self {
        let binary = std::env::var("AUTHORIZER_BIN")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_authorizer").to_owned());
        Self::start_binary(&binary, env).await
    }

    async fn start_binary(binary: &str, env: &[(&str, String)]) -> Self {
        let (tx, rx) = mpsc::channel(16);
        let state = RuntimeState {
            queue: Arc::new(tokio::sync::Mutex::new(Some(rx))),
            ..RuntimeState::default()
        };
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });

        let mut command = Command::new(binary);
        command
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "tollgate-authorizer")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "stream")
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                "/aws/lambda/tollgate-authorizer",
            )
            .env("AWS_LAMBDA_LOG_LEVEL", "DEBUG")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("spawn authorizer binary");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let lines = Arc::clone(&stdout);
        let mut reader = BufReader::new(child.stdout.take().unwrap()).lines();
        tokio::spawn(async move {
            while let Ok(Some(line)) = reader.next_line().await {
                lines.lock().unwrap().push(line);
            }
        });
        Self {
            state,
            events: tx,
            child,
            stdout,
            counter: 0,
        }
    }

    async fn invoke(&mut self, event: Value) -> Outcome {
        self.counter += 1;
        let id = format!("req-{}", self.counter);
        let (tx, rx) = oneshot::channel();
        self.state.waiting.lock().unwrap().insert(id.clone(), tx);
        self.events.send((id, event)).await.unwrap();
        tokio::time::timeout(Duration::from_secs(30), rx)
            .await
            .expect("the function answered in time")
            .expect("answer delivered")
    }

    fn stdout_json(&self) -> Vec<Value> {
        self.stdout
            .lock()
            .unwrap()
            .iter()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|_| panic!("stdout line is not JSON: {l}"))
            })
            .collect()
    }
}

fn env_for(server: &JwksServer) -> Vec<(&'static str, String)> {
    vec![
        ("JWT_ISSUER", ISSUER.to_owned()),
        ("JWKS_URI", server.url()),
        ("JWT_AUDIENCE", AUDIENCE.to_owned()),
        ("JWKS_REFRESH_COOLDOWN_SECONDS", "1".to_owned()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_answers_api_gateway_events_through_the_runtime_api() {
    let key = rsa_key("lambda-key");
    let server = JwksServer::start(jwks(&[&key])).await;
    let mut function = Function::start(&env_for(&server)).await;

    let token = key.sign(&claims("books:read"));
    match function.invoke(token_event(&token)).await {
        Outcome::Response(answer) => {
            assert_eq!(answer["principalId"], "alice");
            assert_eq!(effect_for(&answer, METHOD_ARN), Some("Allow"));
            assert_eq!(answer["context"]["kid"], "lambda-key");
            assert!(answer.get("usageIdentifierKey").is_none());
        }
        other => panic!("expected a policy, got {other:?}"),
    }
    // Invalid token: the invocation fails with exactly "Unauthorized".
    match function
        .invoke(token_event("eyJhbGciOiJub25lIn0.e30."))
        .await
    {
        Outcome::Error(error) => assert_eq!(error["errorMessage"], "Unauthorized"),
        other => panic!("expected Unauthorized, got {other:?}"),
    }
    // Lacking scope: an explicit Deny, not an error.
    let event = json!({"type": "TOKEN", "authorizationToken": format!("Bearer {token}"),
        "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/DELETE/books/42"});
    match function.invoke(event).await {
        Outcome::Response(answer) => assert_eq!(
            effect_for(
                &answer,
                "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/DELETE/books/42"
            ),
            Some("Deny")
        ),
        other => panic!("expected Deny, got {other:?}"),
    }
    // A REQUEST event in API Gateway's own shape.
    let request = json!({"type": "REQUEST", "methodArn": METHOD_ARN, "resource": "/books/{id}", "path": "/books/42",
        "httpMethod": "GET", "headers": {"Authorization": format!("Bearer {token}"), "Host": "abc123.execute-api.eu-west-1.amazonaws.com"},
        "multiValueHeaders": {"Authorization": [format!("Bearer {token}")]}, "queryStringParameters": null,
        "multiValueQueryStringParameters": null, "pathParameters": {"id": "42"}, "stageVariables": null,
        "requestContext": {"path": "/prod/books/42", "accountId": "123456789012", "resourceId": "abc", "stage": "prod",
            "requestId": "r-1", "identity": {"sourceIp": "203.0.113.9", "userAgent": "curl/8"}, "resourcePath": "/books/{id}",
            "httpMethod": "GET", "apiId": "abc123"}});
    match function.invoke(request).await {
        Outcome::Response(answer) => assert_eq!(effect_for(&answer, METHOD_ARN), Some("Allow")),
        other => panic!("expected a policy, got {other:?}"),
    }
    // Warm: the repeat is a decision-cache hit and the JWKS was fetched once, at init.
    assert!(matches!(
        function.invoke(token_event(&token)).await,
        Outcome::Response(_)
    ));
    assert_eq!(server.requests(), 1);

    // stdout: JSON log lines and raw EMF lines, nothing else.
    let lines = function.stdout_json();
    let emf: Vec<&Value> = lines.iter().filter(|l| l.get("_aws").is_some()).collect();
    assert!(
        emf.iter().any(|l| l["ColdStart"] == 1.0),
        "cold start metric"
    );
    assert!(emf.iter().any(|l| l["JwksFetches"] == 1.0), "fetch metric");
    assert_eq!(emf.iter().filter(|l| l["Decision"] == "allow").count(), 3);
    assert_eq!(
        emf.iter().filter(|l| l["DecisionCacheHits"] == 1.0).count(),
        3,
        "every repeat of the token"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.get("level").is_some() && l.get("fields").is_some()),
        "JSON log lines"
    );
    assert!(function.state.init_errors.lock().unwrap().is_empty());
    function.child.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_starts_and_fails_closed_when_the_jwks_is_unreachable_at_init() {
    let key = rsa_key("late-key");
    let server = JwksServer::start(jwks(&[&key])).await;
    server.set_mode(ServerMode::Status(503));
    let mut function = Function::start(&env_for(&server)).await;
    let token = key.sign(&claims("books:read"));
    match function.invoke(token_event(&token)).await {
        Outcome::Error(error) => assert_eq!(error["errorMessage"], "Unauthorized"),
        other => panic!("expected Unauthorized, got {other:?}"),
    }
    // The JWKS comes back: after the retry back-off, the same token verifies.
    server.set_mode(ServerMode::Serve);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(matches!(
        function.invoke(token_event(&token)).await,
        Outcome::Response(_)
    ));
    function.child.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_configuration_stops_the_function_at_init() {
    let mut function = Function::start(&[("JWT_AUDIENCE", "x".to_owned())]).await;
    let status = tokio::time::timeout(Duration::from_secs(20), function.child.wait())
        .await
        .expect("exits")
        .unwrap();
    assert!(
        !status.success(),
        "missing JWT_ISSUER must stop the function"
    );
}

/// Peak resident set size of a live process, in KiB (Linux `VmHWM`).
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Figures for the release artefact: spawn to first answered token (JWKS
/// fetch included) and peak RSS after warm traffic. Run with
/// `AUTHORIZER_BIN=target/release/authorizer cargo test -p authorizer --test lambda_binary -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; needs AUTHORIZER_BIN"]
async fn measure_cold_start_and_peak_rss() {
    let binary = std::env::var("AUTHORIZER_BIN").expect("AUTHORIZER_BIN");
    let key = rsa_key("measure");
    let server = JwksServer::start(jwks(&[&key])).await;
    let token = key.sign(&claims("books:read"));
    let mut cold = Vec::new();
    let mut rss = Vec::new();
    for _ in 0..10 {
        let started = std::time::Instant::now();
        let mut function = Function::start_binary(&binary, &env_for(&server)).await;
        assert!(matches!(
            function.invoke(token_event(&token)).await,
            Outcome::Response(_)
        ));
        cold.push(started.elapsed().as_secs_f64() * 1000.0);
        // Warm traffic: distinct tokens (no decision-cache hit) and repeats.
        for i in 0..200 {
            let mut c = claims("books:read");
            c["jti"] = json!(format!("t{}", i % 100));
            assert!(matches!(
                function.invoke(token_event(&key.sign(&c))).await,
                Outcome::Response(_)
            ));
        }
        rss.push(peak_rss_kib(function.child.id().unwrap()).unwrap_or(0));
        function.child.kill().await.unwrap();
    }
    cold.sort_by(f64::total_cmp);
    rss.sort();
    eprintln!(
        "spawn -> first answered token: median {:.1} ms, min {:.1} ms, max {:.1} ms; peak RSS: median {} KiB, max {} KiB",
        cold[cold.len() / 2], cold[0], cold[cold.len() - 1], rss[rss.len() / 2], rss[rss.len() - 1]
    );
}

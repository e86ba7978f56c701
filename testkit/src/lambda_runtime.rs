//! A minimal Lambda Runtime API on loopback, and a function process using
//! it: enough to run a real `lambda_runtime`/`lambda_http` binary in a test
//! and hand it real API Gateway events.
//!
//! The local stack has its own Runtime API (`tollgate::runtime_api`, with
//! deadlines, crash and timeout handling for many instances). The two stay
//! apart: testkit cannot depend on `tollgate` (whose tests depend on
//! testkit, and which pulls the whole stack into every crate's tests), and
//! `tollgate` must not depend on a test crate.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot};

/// What the function answered for one invocation.
#[derive(Debug)]
pub enum Outcome {
    /// The function's answer.
    Response(Value),
    /// The function's error report (`errorMessage`, `errorType`).
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
    let deadline = (crate::now() + 30) * 1000;
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

/// `POST invocation/{id}/response` and `POST invocation/{id}/error`.
async fn outcome(
    State(state): State<RuntimeState>,
    Path((id, kind)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> StatusCode {
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    match kind.as_str() {
        "response" => finish(&state, &id, Outcome::Response(value)),
        "error" => finish(&state, &id, Outcome::Error(value)),
        _ => StatusCode::NOT_FOUND,
    }
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
pub struct LambdaFunction {
    state: RuntimeState,
    events: mpsc::Sender<(String, Value)>,
    /// The function's process (killed on drop).
    pub child: Child,
    stdout: Arc<Mutex<Vec<String>>>,
    counter: usize,
}

impl LambdaFunction {
    /// Starts `binary` as Lambda function `name` with `env` on top of the
    /// variables the Lambda service sets.
    pub async fn start(binary: &str, name: &str, env: &[(&str, String)]) -> Self {
        let (tx, rx) = mpsc::channel(16);
        let state = RuntimeState {
            queue: Arc::new(tokio::sync::Mutex::new(Some(rx))),
            ..RuntimeState::default()
        };
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/{kind}", post(outcome))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });

        let mut command = Command::new(binary);
        command
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "stream")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_LEVEL", "DEBUG")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("spawn the function binary");
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

    /// Queues one invocation and waits (30 s at most) for its answer.
    pub async fn invoke(&mut self, event: Value) -> Outcome {
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

    /// Every stdout line so far, each parsed as JSON (panics on a non-JSON line).
    pub fn stdout_json(&self) -> Vec<Value> {
        self.stdout
            .lock()
            .unwrap()
            .iter()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|_| panic!("stdout line is not JSON: {l}"))
            })
            .collect()
    }

    /// Waits (5 s at most) until the stdout lines read so far satisfy
    /// `ready`, then returns them: lines are read by a background task, so
    /// the last ones may trail the invocation's answer.
    pub async fn stdout_json_when(&self, ready: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let lines = self.stdout_json();
            if ready(&lines) || tokio::time::Instant::now() >= deadline {
                return lines;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// What the function reported to `/runtime/init/error`.
    pub fn init_errors(&self) -> Vec<Value> {
        self.state
            .init_errors
            .lock()
            .map(|e| e.clone())
            .unwrap_or_default()
    }
}

/// Peak resident set size of a live process, in KiB (Linux `VmHWM`).
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

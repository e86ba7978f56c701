//! The Lambda Runtime API (2018-06-01) that one function instance talks to:
//! `GET invocation/next` hands out one event at a time, `POST
//! invocation/{id}/response|error` answers it, `POST init/error` reports a
//! failed init. Each instance gets its own server on a loopback port, as
//! each Lambda sandbox has its own endpoint, and it serves that instance's
//! process alone: a connection from any other process is closed unread
//! ([`crate::peer_process`]), so no local process can take an event (and its
//! bearer token) or answer for the function. Request ids are random, and
//! only the event in flight can be answered.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

/// How long a connection may wait for its instance's process id (the
/// process can connect before `spawn` has returned it).
const OWNER_WAIT: Duration = Duration::from_secs(5);

/// One event for the function, and where its answer goes.
pub struct Invocation {
    /// `Lambda-Runtime-Aws-Request-Id`.
    pub request_id: String,
    /// The event, as JSON bytes.
    pub event: Bytes,
    /// `Lambda-Runtime-Deadline-Ms`.
    pub deadline: SystemTime,
    /// Where the function's answer (or error) goes.
    pub answer: oneshot::Sender<Outcome>,
}

/// What the function posted for one invocation.
#[derive(Debug)]
pub enum Outcome {
    /// `POST invocation/{id}/response`: the raw body.
    Response(Bytes),
    /// `POST invocation/{id}/error`: the raw body (`errorMessage`, `errorType`).
    Error(Bytes),
}

/// Why an instance can take no more events. The first cause recorded wins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Death {
    /// The function posted to `init/error` (its body).
    InitError(String),
    /// The process ended (its exit status).
    Exited(String),
    /// The host stopped it (timeout, fresh-instance mode, shutdown).
    Stopped,
}

/// Shared between the Runtime API handlers and the host's instance.
struct RuntimeState {
    function_arn: String,
    events: tokio::sync::Mutex<mpsc::Receiver<Invocation>>,
    /// The invocation handed out by `next` and not yet answered.
    current: Mutex<Option<(String, oneshot::Sender<Outcome>)>>,
    death: watch::Sender<Option<Death>>,
}

/// The Runtime API server of one instance; stops serving when dropped.
pub struct RuntimeApi {
    /// The loopback address, for `AWS_LAMBDA_RUNTIME_API`.
    pub addr: SocketAddr,
    server: JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A listener that hands the server only connections from the instance's
/// process (or its children): `owner` is its pid, once spawned.
struct OwnerOnly {
    listener: TcpListener,
    addr: SocketAddr,
    owner: watch::Receiver<Option<u32>>,
}

impl OwnerOnly {
    async fn owner(&mut self) -> Option<u32> {
        let owner = tokio::time::timeout(OWNER_WAIT, self.owner.wait_for(Option::is_some)).await;
        owner.ok()?.ok().and_then(|pid| *pid)
    }
}

impl axum::serve::Listener for OwnerOnly {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        loop {
            let Ok((stream, peer)) = self.listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            let Some(pid) = self.owner().await else {
                continue; // no process yet (or it never started): refuse
            };
            let server = self.addr;
            let held = tokio::task::spawn_blocking(move || {
                crate::peer_process::held_by(pid, peer, server)
            })
            .await
            .unwrap_or(false);
            if held {
                return (stream, peer);
            }
            tracing::warn!(%peer, instance_pid = pid, "Runtime API: a connection from another process refused");
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.addr)
    }
}

impl RuntimeApi {
    /// Serves a Runtime API on a free loopback port, taking events from `events`
    /// and recording an init error in `death`, for the process whose id
    /// `owner` will name (connections from any other are refused).
    pub async fn start(
        function_arn: String,
        events: mpsc::Receiver<Invocation>,
        death: watch::Sender<Option<Death>>,
        owner: watch::Receiver<Option<u32>>,
    ) -> std::io::Result<Self> {
        let state = Arc::new(RuntimeState {
            function_arn,
            events: tokio::sync::Mutex::new(events),
            current: Mutex::new(None),
            death,
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/{kind}", post(outcome))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(state);
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let listener = OwnerOnly {
            listener,
            addr,
            owner,
        };
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::warn!(%error, "runtime API stopped");
            }
        });
        Ok(Self { addr, server })
    }
}

/// The Runtime API's own error body.
fn api_error(status: StatusCode, error_type: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"errorType": error_type, "errorMessage": message})),
    )
        .into_response()
}

fn header(value: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(value).ok()
}

/// Long-polls until the host queues an event. When the host is gone the
/// poll never returns: the process is being stopped anyway.
async fn next(State(state): State<Arc<RuntimeState>>) -> Response {
    let invocation = {
        let mut events = state.events.lock().await;
        match events.recv().await {
            Some(invocation) => invocation,
            None => std::future::pending().await,
        }
    };
    let deadline_ms = invocation
        .deadline
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis()
        .to_string();
    let mut headers = HeaderMap::new();
    for (name, value) in [
        (
            "lambda-runtime-aws-request-id",
            invocation.request_id.as_str(),
        ),
        ("lambda-runtime-deadline-ms", deadline_ms.as_str()),
        (
            "lambda-runtime-invoked-function-arn",
            state.function_arn.as_str(),
        ),
        (
            "lambda-runtime-trace-id",
            "Root=1-00000000-000000000000000000000000;Sampled=0",
        ),
        ("content-type", "application/json"),
    ] {
        if let Some(value) = header(value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
    if let Ok(mut current) = state.current.lock() {
        *current = Some((invocation.request_id, invocation.answer));
    }
    (StatusCode::OK, headers, invocation.event).into_response()
}

/// Delivers the answer of the invocation in flight, if `id` names it.
fn finish(state: &RuntimeState, id: &str, outcome: Outcome) -> Response {
    let waiting = state
        .current
        .lock()
        .ok()
        .and_then(|mut current| match current.as_ref() {
            Some((current_id, _)) if current_id == id => current.take(),
            _ => None,
        });
    match waiting {
        Some((_, answer)) => {
            // The host may have given up (timeout): the answer is dropped then.
            let _ = answer.send(outcome);
            (StatusCode::ACCEPTED, axum::Json(json!({"status": "OK"}))).into_response()
        }
        None => api_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestID",
            "no invocation in flight with this request id",
        ),
    }
}

/// `POST invocation/{id}/response` and `POST invocation/{id}/error`.
async fn outcome(
    State(state): State<Arc<RuntimeState>>,
    Path((id, kind)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    match kind.as_str() {
        "response" => finish(&state, &id, Outcome::Response(body)),
        "error" => finish(&state, &id, Outcome::Error(body)),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn init_error(State(state): State<Arc<RuntimeState>>, body: Bytes) -> Response {
    let report = String::from_utf8_lossy(&body).into_owned();
    state.death.send_if_modified(|death| {
        if death.is_none() {
            *death = Some(Death::InitError(report));
            true
        } else {
            false
        }
    });
    (StatusCode::ACCEPTED, axum::Json(json!({"status": "OK"}))).into_response()
}

//! One running function process and its Runtime API: started, handed one
//! event at a time, watched until it exits or is stopped.

use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::{mpsc, oneshot, watch, Notify};

use crate::error::LambdaError;
use crate::function::{CapturedOutput, FunctionOutput, FunctionSpec, FUNCTION_LOG};
use crate::runtime_api::{Death, Invocation, Outcome, RuntimeApi};

/// One running function process and its Runtime API.
pub(crate) struct Instance {
    events: mpsc::Sender<Invocation>,
    death: watch::Receiver<Option<Death>>,
    stop: Arc<Notify>,
    pid: Option<u32>,
    _api: RuntimeApi,
}

/// Waits for the process to exit or to be told to stop (then kills it),
/// and records the first cause of death for the instance.
async fn watch_process(
    mut child: tokio::process::Child,
    stop: Arc<Notify>,
    name: String,
    number: u64,
    death_tx: watch::Sender<Option<Death>>,
) {
    let death = tokio::select! {
        status = child.wait() => Death::Exited(describe(status)),
        _ = stop.notified() => {
            let _ = child.kill().await;
            Death::Stopped
        }
    };
    if !matches!(death, Death::Stopped) {
        tracing::warn!(function = %name, instance = number, ?death, "instance ended");
    }
    death_tx.send_if_modified(|current| {
        if current.is_none() {
            *current = Some(death);
            true
        } else {
            false
        }
    });
}

impl Instance {
    pub(crate) async fn start(
        spec: &FunctionSpec,
        number: u64,
        timeout: Duration,
    ) -> Result<Self, LambdaError> {
        let (events, queue) = mpsc::channel(1);
        let (death_tx, death) = watch::channel(None);
        let function_arn = format!("arn:aws:lambda:local:000000000000:function:{}", spec.name);
        let (owner_tx, owner) = watch::channel(None);
        let api = RuntimeApi::start(function_arn, queue, death_tx.clone(), owner).await?;
        let mut command = spec.command(api.addr, number, timeout);
        command.stdin(Stdio::null()).kill_on_drop(true);
        let output = OutputRoute::for_spec(spec);
        output.configure(&mut command);
        let mut child = command.spawn()?;
        let pid = child.id();
        // From now on its Runtime API serves this process alone.
        owner_tx.send_replace(pid);
        tracing::debug!(function = %spec.name, instance = number, ?pid, "instance started");
        output.read(&mut child, &spec.name, number);
        let stop = Arc::new(Notify::new());
        tokio::spawn(watch_process(
            child,
            Arc::clone(&stop),
            spec.name.clone(),
            number,
            death_tx,
        ));
        Ok(Self {
            events,
            death,
            stop,
            pid,
            _api: api,
        })
    }

    /// The process id, while the process runs.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.pid.filter(|_| self.is_alive())
    }

    pub(crate) fn is_alive(&self) -> bool {
        self.death.borrow().is_none()
    }

    /// Stops the process (in the background; its exit is awaited there).
    pub(crate) fn stop(&self) {
        self.stop.notify_one();
    }

    /// Returns once the process has exited (or was never alive).
    pub(crate) async fn stopped(&self) {
        let mut death = self.death.clone();
        let _ = death.wait_for(Option::is_some).await;
    }

    pub(crate) async fn invoke(
        &self,
        request_id: String,
        event: Bytes,
        timeout: Duration,
    ) -> Result<Value, LambdaError> {
        let (answer, answered) = oneshot::channel();
        let invocation = Invocation {
            request_id,
            event,
            deadline: SystemTime::now() + timeout,
            answer,
        };
        let mut death = self.death.clone();
        let outcome = tokio::select! {
            biased;
            outcome = async {
                self.events.send(invocation).await.ok()?;
                answered.await.ok()
            } => outcome,
            _ = death.wait_for(Option::is_some) => None,
            _ = tokio::time::sleep(timeout) => {
                self.stop();
                return Err(LambdaError::Timeout(timeout));
            }
        };
        match outcome {
            Some(Outcome::Response(body)) => {
                serde_json::from_slice(&body).map_err(|_| LambdaError::MalformedResponse)
            }
            Some(Outcome::Error(body)) => Err(function_error(&body)),
            None => {
                let death = self.death.borrow().clone();
                Err(match death {
                    Some(Death::InitError(report)) => {
                        self.stop();
                        LambdaError::InitError(report)
                    }
                    Some(Death::Exited(status)) => LambdaError::Crashed(status),
                    _ => LambdaError::Crashed("stopped".to_owned()),
                })
            }
        }
    }
}

/// A request id no other process can guess (a version 4 UUID from the
/// system's randomness): only the instance that received the event can
/// answer it.
pub(crate) fn random_request_id() -> String {
    let mut bytes = [0u8; 16];
    // Should the system's randomness fail, the id is still unique per
    // process lifetime: the clock's nanoseconds.
    if aws_lc_rs::rand::fill(&mut bytes).is_err() {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes = nanos.to_le_bytes();
    }
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// A function's error report: `{"errorMessage", "errorType"}`.
fn function_error(body: &[u8]) -> LambdaError {
    let report: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let field = |name: &str| {
        report
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    LambdaError::Function {
        message: field("errorMessage"),
        error_type: field("errorType"),
    }
}

fn describe(status: std::io::Result<ExitStatus>) -> String {
    match status {
        Ok(status) => status.to_string(),
        Err(error) => error.to_string(),
    }
}

/// Where one instance's output is read to, as its [`FunctionOutput`] says.
enum OutputRoute {
    /// Logged at debug level: piped and read only when that level is on.
    Logged { enabled: bool },
    /// Stdout captured, stderr inherited.
    Captured(CapturedOutput),
}

impl OutputRoute {
    fn for_spec(spec: &FunctionSpec) -> Self {
        match &spec.output {
            FunctionOutput::Logged => Self::Logged {
                enabled: tracing::enabled!(target: FUNCTION_LOG, tracing::Level::DEBUG),
            },
            FunctionOutput::Captured(lines) => Self::Captured(lines.clone()),
        }
    }

    fn configure(&self, command: &mut tokio::process::Command) {
        match self {
            Self::Logged { enabled: true } => command.stdout(Stdio::piped()).stderr(Stdio::piped()),
            Self::Logged { enabled: false } => command.stdout(Stdio::null()).stderr(Stdio::null()),
            Self::Captured(_) => command.stdout(Stdio::piped()).stderr(Stdio::inherit()),
        };
    }

    /// Starts the readers of the spawned process's pipes.
    fn read(self, child: &mut tokio::process::Child, function: &str, instance: u64) {
        match self {
            Self::Logged { .. } => {
                if let Some(stdout) = child.stdout.take() {
                    tokio::spawn(log_lines(stdout, function.to_owned(), instance));
                }
                if let Some(stderr) = child.stderr.take() {
                    tokio::spawn(log_lines(stderr, function.to_owned(), instance));
                }
            }
            Self::Captured(lines) => {
                if let Some(stdout) = child.stdout.take() {
                    tokio::spawn(capture_lines(stdout, lines));
                }
            }
        }
    }
}

/// A function's stdout or stderr goes to the host's log at debug level
/// (what CloudWatch Logs would hold).
async fn log_lines(stream: impl AsyncRead + Unpin, function: String, instance: u64) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        tracing::debug!(target: FUNCTION_LOG, %function, instance, "{line}");
    }
}

async fn capture_lines(stream: impl AsyncRead + Unpin, captured: CapturedOutput) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        captured.push(line);
    }
}

//! Runs a Lambda function the way the Lambda service does: the function's
//! own process (any command speaking the Runtime API) with
//! `AWS_LAMBDA_RUNTIME_API` pointing at a loopback Runtime API, one event at
//! a time per instance, idle instances kept warm, another instance started
//! when all are busy (up to a bound), a per-invocation timeout, and init
//! errors and crashes reported as failed invocations, never as a hang. The
//! local stack uses it to show real cold and warm starts of real binaries.

use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;
use tokio::sync::{mpsc, oneshot, watch, Notify, Semaphore};

use crate::runtime_api::{Death, Invocation, Outcome, RuntimeApi};

/// The log target of the functions' own output.
const FUNCTION_LOG: &str = "tollgate::function_log";

/// Variables the gateway passes from its own environment to a function.
const INHERITED_ENV: &[&str] = &["PATH", "HOME", "LANG", "RUST_LOG", "RUST_BACKTRACE"];

/// What to run: the command, and the function's own environment.
#[derive(Clone, Debug)]
pub struct FunctionSpec {
    /// Shown in logs and in the invoked function ARN.
    pub name: String,
    /// The executable.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// The function's configuration (on top of Lambda's reserved variables).
    pub env: Vec<(String, String)>,
}

impl FunctionSpec {
    /// A command line of whitespace-separated words (no shell quoting).
    pub fn from_command_line(
        name: &str,
        command_line: &str,
        env: Vec<(String, String)>,
    ) -> Result<Self, LambdaError> {
        let mut words = command_line.split_whitespace().map(str::to_owned);
        let program = words.next().ok_or(LambdaError::EmptyCommand)?;
        Ok(Self {
            name: name.to_owned(),
            program: PathBuf::from(program),
            args: words.collect(),
            env,
        })
    }
}

/// How the host schedules instances.
#[derive(Clone, Copy, Debug)]
pub struct HostSettings {
    /// Concurrent instances at most; a request finding all busy waits for one
    /// (up to `timeout`).
    pub max_instances: usize,
    /// Every invocation gets a new instance, stopped after it answers: each
    /// request is a true cold start.
    pub fresh_instances: bool,
    /// Bound on one invocation (init included on a cold start); past it the
    /// instance is stopped, as Lambda does.
    pub timeout: Duration,
}

impl Default for HostSettings {
    fn default() -> Self {
        Self {
            max_instances: 8,
            fresh_instances: false,
            timeout: Duration::from_secs(10),
        }
    }
}

/// Why an invocation produced no answer.
#[derive(Debug, thiserror::Error)]
pub enum LambdaError {
    /// No program to run.
    #[error("the function command line is empty")]
    EmptyCommand,
    /// The process could not be spawned (or its Runtime API bound).
    #[error("could not start the function: {0}")]
    Spawn(#[from] std::io::Error),
    /// The function returned an error (`errorMessage` of its report).
    #[error("function error: {message}")]
    Function {
        /// `errorMessage`.
        message: String,
        /// `errorType`.
        error_type: String,
    },
    /// The function reported a failed init (`init/error`).
    #[error("function init failed: {0}")]
    InitError(String),
    /// The process ended before answering.
    #[error("function process ended: {0}")]
    Crashed(String),
    /// No answer within the function timeout; the instance is stopped.
    #[error("function timed out after {0:?}")]
    Timeout(Duration),
    /// The answer could not be parsed.
    #[error("the function's answer is not JSON")]
    MalformedResponse,
    /// The event could not be serialized for the function.
    #[error("the event could not be serialized")]
    MalformedEvent,
}

/// Counters, for tests and logs.
#[derive(Debug, Default)]
pub struct HostCounters {
    /// Processes started (cold starts).
    pub instances_started: AtomicU64,
    /// Invocations handed to an instance.
    pub invocations: AtomicU64,
}

/// A function and its instances.
pub struct LambdaHost {
    spec: FunctionSpec,
    settings: HostSettings,
    idle: Mutex<Vec<Instance>>,
    slots: Arc<Semaphore>,
    /// Bumped by [`LambdaHost::recycle`]: instances started before it are
    /// stopped instead of going back to idle (one busy during a revocation
    /// must not serve again with the old JWKS).
    generation: AtomicU64,
    /// What the host has done so far.
    pub counters: HostCounters,
}

impl LambdaHost {
    /// A host for `spec`; no instance starts before the first invocation.
    pub fn new(spec: FunctionSpec, settings: HostSettings) -> Self {
        let max = settings.max_instances.max(1);
        Self {
            spec,
            settings,
            idle: Mutex::new(Vec::new()),
            slots: Arc::new(Semaphore::new(max)),
            generation: AtomicU64::new(0),
            counters: HostCounters::default(),
        }
    }

    /// Runs one invocation on an idle instance, or a new one.
    pub async fn invoke(&self, event: &Value) -> Result<Value, LambdaError> {
        let timeout = self.settings.timeout;
        let Ok(Ok(_slot)) =
            tokio::time::timeout(timeout, Arc::clone(&self.slots).acquire_owned()).await
        else {
            return Err(LambdaError::Timeout(timeout));
        };
        let event =
            Bytes::from(serde_json::to_vec(event).map_err(|_| LambdaError::MalformedEvent)?);
        let generation = self.generation.load(Ordering::Acquire);
        let instance = match self.take_idle() {
            Some(instance) => instance,
            None => self.start_instance().await?,
        };
        let request_id = random_request_id();
        self.counters.invocations.fetch_add(1, Ordering::Relaxed);
        let result = instance.invoke(request_id, event, timeout).await;
        let reusable = !self.settings.fresh_instances
            && instance.is_alive()
            && !matches!(result, Err(LambdaError::Timeout(_)));
        match self.idle.lock() {
            // Checked under the lock that `recycle` takes, so an instance
            // cannot slip back in after a recycle.
            Ok(mut idle) if reusable && self.generation.load(Ordering::Acquire) == generation => {
                idle.push(instance);
            }
            _ => instance.stop(),
        }
        result
    }

    /// Stops every idle instance: the next invocations start fresh ones (with
    /// a fresh JWKS, say, after a key was revoked).
    pub fn recycle(&self) {
        let stopping = self
            .idle
            .lock()
            .map(|mut idle| {
                self.generation.fetch_add(1, Ordering::AcqRel);
                std::mem::take(&mut *idle)
            })
            .unwrap_or_default();
        for instance in stopping {
            instance.stop();
        }
    }

    fn take_idle(&self) -> Option<Instance> {
        let mut idle = self.idle.lock().ok()?;
        while let Some(instance) = idle.pop() {
            if instance.is_alive() {
                return Some(instance);
            }
        }
        None
    }

    async fn start_instance(&self) -> Result<Instance, LambdaError> {
        let number = self
            .counters
            .instances_started
            .fetch_add(1, Ordering::Relaxed)
            + 1;
        Instance::start(&self.spec, number, self.settings.timeout).await
    }
}

impl Drop for LambdaHost {
    fn drop(&mut self) {
        self.recycle();
    }
}

/// One running function process and its Runtime API.
struct Instance {
    events: mpsc::Sender<Invocation>,
    death: watch::Receiver<Option<Death>>,
    stop: Arc<Notify>,
    _api: RuntimeApi,
}

/// The function's process as the Lambda service starts it: only the
/// inherited variables plus the service's own (`AWS_LAMBDA_RUNTIME_API`
/// pointing at this instance's Runtime API) and the function's settings.
fn function_command(
    spec: &FunctionSpec,
    api_addr: std::net::SocketAddr,
    number: u64,
    timeout: Duration,
) -> Command {
    let mut command = Command::new(&spec.program);
    command
        .args(&spec.args)
        .env_clear()
        .envs(
            INHERITED_ENV
                .iter()
                .filter_map(|name| std::env::var(name).ok().map(|value| (*name, value))),
        )
        .env("AWS_LAMBDA_RUNTIME_API", api_addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", &spec.name)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env(
            "AWS_LAMBDA_FUNCTION_TIMEOUT",
            timeout.as_secs().max(1).to_string(),
        )
        .env(
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{}", spec.name),
        )
        .env(
            "AWS_LAMBDA_LOG_STREAM_NAME",
            format!("local/instance-{number}"),
        )
        .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
        .env("AWS_REGION", "local")
        .env("AWS_DEFAULT_REGION", "local")
        .env("TZ", ":UTC")
        .envs(spec.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    command
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
    async fn start(
        spec: &FunctionSpec,
        number: u64,
        timeout: Duration,
    ) -> Result<Self, LambdaError> {
        let (events, queue) = mpsc::channel(1);
        let (death_tx, death) = watch::channel(None);
        let function_arn = format!("arn:aws:lambda:local:000000000000:function:{}", spec.name);
        let (owner_tx, owner) = watch::channel(None);
        let api = RuntimeApi::start(function_arn, queue, death_tx.clone(), owner).await?;
        // A function writes a line per invocation (EMF metrics): read its
        // output only when it is logged, to keep that wake-up off the
        // request path otherwise.
        let logged = tracing::enabled!(target: FUNCTION_LOG, tracing::Level::DEBUG);
        let output = || {
            if logged {
                Stdio::piped()
            } else {
                Stdio::null()
            }
        };
        let mut command = function_command(spec, api.addr, number, timeout);
        command
            .stdin(Stdio::null())
            .stdout(output())
            .stderr(output())
            .kill_on_drop(true);
        let mut child = command.spawn()?;
        // From now on its Runtime API serves this process alone.
        owner_tx.send_replace(child.id());
        tracing::debug!(function = %spec.name, instance = number, pid = ?child.id(), "instance started");
        if let Some(stdout) = child.stdout.take() {
            tokio::spawn(forward_output(stdout, spec.name.clone(), number));
        }
        if let Some(stderr) = child.stderr.take() {
            tokio::spawn(forward_output(stderr, spec.name.clone(), number));
        }
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
            _api: api,
        })
    }

    fn is_alive(&self) -> bool {
        self.death.borrow().is_none()
    }

    /// Stops the process (in the background; its exit is awaited there).
    fn stop(&self) {
        self.stop.notify_one();
    }

    async fn invoke(
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
fn random_request_id() -> String {
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

/// A function's stdout and stderr go to the gateway's log at debug level
/// (what CloudWatch Logs would hold).
async fn forward_output(stream: impl AsyncRead + Unpin, function: String, instance: u64) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        tracing::debug!(target: FUNCTION_LOG, %function, instance, "{line}");
    }
}

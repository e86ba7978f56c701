//! What to run as a function: its command, its configuration, where its
//! output goes, and the process environment the Lambda service gives it.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::process::Command;

use crate::error::LambdaError;

/// Variables the host passes from its own environment to a function.
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
    /// Where its stdout and stderr go.
    pub output: FunctionOutput,
}

/// Where a function's stdout and stderr go.
#[derive(Clone, Debug, Default)]
pub enum FunctionOutput {
    /// To the host's log at debug level (target [`FUNCTION_LOG`]), as
    /// CloudWatch Logs would hold them; read only when that level is on, to
    /// keep a wake-up per line off the request path otherwise.
    #[default]
    Logged,
    /// Stdout kept as lines for the caller (a test reading the function's
    /// EMF metrics); stderr goes to the host's own stderr.
    Captured(CapturedOutput),
}

/// The log target of the functions' own output.
pub const FUNCTION_LOG: &str = "tollgate::function_log";

/// The stdout lines of every instance of a function, in arrival order.
#[derive(Clone, Debug, Default)]
pub struct CapturedOutput(Arc<Mutex<Vec<String>>>);

impl CapturedOutput {
    /// The lines read so far (they are read in the background, so the last
    /// ones may trail an invocation's answer).
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().map(|lines| lines.clone()).unwrap_or_default()
    }

    pub(crate) fn push(&self, line: String) {
        if let Ok(mut lines) = self.0.lock() {
            lines.push(line);
        }
    }
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
            output: FunctionOutput::Logged,
        })
    }

    /// The same function, its output going to `output`.
    pub fn with_output(mut self, output: FunctionOutput) -> Self {
        self.output = output;
        self
    }

    /// The function's process as the Lambda service starts it: only the
    /// inherited variables plus the service's own (`AWS_LAMBDA_RUNTIME_API`
    /// pointing at this instance's Runtime API) and the function's settings.
    pub(crate) fn command(
        &self,
        api_addr: std::net::SocketAddr,
        number: u64,
        timeout: Duration,
    ) -> Command {
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .env_clear()
            .envs(
                INHERITED_ENV
                    .iter()
                    .filter_map(|name| std::env::var(name).ok().map(|value| (*name, value))),
            )
            .env("AWS_LAMBDA_RUNTIME_API", api_addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", &self.name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env(
                "AWS_LAMBDA_FUNCTION_TIMEOUT",
                timeout.as_secs().max(1).to_string(),
            )
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{}", self.name),
            )
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                format!("local/instance-{number}"),
            )
            .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
            .env("AWS_REGION", "local")
            .env("AWS_DEFAULT_REGION", "local")
            .env("TZ", ":UTC")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        command
    }
}

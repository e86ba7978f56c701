//! A Lambda binary under test, run by the `lambda-host` crate (the local
//! stack's Runtime API): one instance at a time, its stdout captured so a
//! test can read the EMF metrics and JSON log lines it wrote.

use std::time::Duration;

use lambda_host::{CapturedOutput, FunctionOutput, FunctionSpec, HostSettings, LambdaHost};
use serde_json::Value;

pub use lambda_host::LambdaError;

/// A function binary behind its own host, with its output captured.
pub struct TestFunction {
    host: LambdaHost,
    output: CapturedOutput,
}

impl TestFunction {
    /// `binary` as Lambda function `name` with `env` on top of the variables
    /// the Lambda service sets (and `AWS_LAMBDA_LOG_LEVEL=DEBUG`). Its
    /// process starts with the first invocation, as on Lambda.
    pub fn new(binary: &str, name: &str, env: &[(&str, String)]) -> Self {
        let output = CapturedOutput::default();
        let mut variables = vec![("AWS_LAMBDA_LOG_LEVEL".to_owned(), "DEBUG".to_owned())];
        variables.extend(env.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
        let spec = FunctionSpec {
            name: name.to_owned(),
            program: binary.into(),
            args: Vec::new(),
            env: variables,
            output: FunctionOutput::Captured(output.clone()),
        };
        let settings = HostSettings {
            max_instances: 1,
            fresh_instances: false,
            timeout: Duration::from_secs(30),
        };
        Self {
            host: LambdaHost::new(spec, settings),
            output,
        }
    }

    /// One invocation: the function's answer, or why there is none (its
    /// error report is [`LambdaError::Function`]).
    pub async fn invoke(&self, event: Value) -> Result<Value, LambdaError> {
        self.host.invoke(&event).await
    }

    /// The `errorMessage` the function failed with, or a panic naming what
    /// it did instead.
    pub async fn invoke_error(&self, event: Value) -> String {
        match self.invoke(event).await {
            Err(LambdaError::Function { message, .. }) => message,
            other => panic!("expected the function to fail, got {other:?}"),
        }
    }

    /// Stops the warm instance and waits for its process to exit.
    pub async fn stop(&self) {
        self.host.shutdown().await;
    }

    /// The process id of the warm instance, if one is idle.
    pub fn pid(&self) -> Option<u32> {
        self.host.idle_pids().first().copied()
    }

    /// Every stdout line so far, each parsed as JSON (panics on a non-JSON line).
    pub fn stdout_json(&self) -> Vec<Value> {
        self.output
            .lines()
            .iter()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|_| panic!("stdout line is not JSON: {l}"))
            })
            .collect()
    }

    /// Waits (5 s at most) until the stdout lines read so far satisfy
    /// `ready`, then returns them: lines are read in the background, so the
    /// last ones may trail the invocation's answer.
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
}

/// Peak resident set size of a live process, in KiB (Linux `VmHWM`).
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

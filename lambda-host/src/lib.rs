//! Runs a Lambda function the way the Lambda service does: the function's
//! own process (any command speaking the Runtime API) with
//! `AWS_LAMBDA_RUNTIME_API` pointing at a loopback Runtime API, one event at
//! a time per instance, idle instances kept warm, another instance started
//! when all are busy (up to a bound), a per-invocation timeout, and init
//! errors and crashes reported as failed invocations, never as a hang.
//!
//! The local stack runs its Lambda-mode authorizer here, so cold and warm
//! starts of the real binary show; the Lambda crates' tests run their
//! binaries here too (with their output captured).
//!
//! ```no_run
//! # async fn run() -> Result<(), lambda_host::LambdaError> {
//! use lambda_host::{FunctionSpec, HostSettings, LambdaHost};
//!
//! let spec = FunctionSpec::from_command_line("authorizer", "target/release/authorizer", vec![])?;
//! let host = LambdaHost::new(spec, HostSettings::default());
//! let answer = host.invoke(&serde_json::json!({"type": "TOKEN"})).await;
//! # Ok(()) }
//! ```
//!
//! The map: [`host`](LambdaHost) schedules instances; `instance` is one
//! process and its `runtime_api` (2018-06-01), which serves that process
//! alone (`peer_process`, asking the kernel through `socket_diag`);
//! `function` is what to run; `error` why an invocation has no answer.

#![deny(missing_docs)]

mod error;
mod function;
mod host;
mod instance;
mod peer_process;
mod runtime_api;
mod socket_diag;

pub use error::LambdaError;
pub use function::{CapturedOutput, FunctionOutput, FunctionSpec, FUNCTION_LOG};
pub use host::{HostCounters, HostSettings, LambdaHost};

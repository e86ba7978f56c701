//! Why an invocation produced no answer.

use std::time::Duration;

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

//! `serve`'s flags for running the authorizer as a Lambda function process.

use std::time::Duration;

use crate::authorizer_backend::AuthorizerMode;
use lambda_host::HostSettings;

/// Lambda-runtime mode of the gateway's authorizer (off unless
/// `--authorizer-command` is given).
#[derive(Clone, Debug, clap::Args)]
pub struct LambdaModeArgs {
    /// Run the authorizer as a Lambda function: this command (words separated
    /// by spaces, no shell quoting), e.g. `target/release/authorizer`, speaking
    /// the Lambda Runtime API the gateway serves on loopback.
    #[arg(long, value_name = "CMD")]
    pub authorizer_command: Option<String>,
    /// Give every invocation a new instance (each request a true cold start).
    #[arg(long, requires = "authorizer_command")]
    pub lambda_fresh_instances: bool,
    /// Bound on one invocation, init included; past it the gateway answers 500.
    #[arg(long, default_value_t = 10_000, value_name = "MS")]
    pub lambda_timeout_ms: u64,
    /// Concurrent instances at most; requests finding all busy wait for one.
    #[arg(long, default_value_t = 8, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=256))]
    pub lambda_max_instances: u64,
    /// Lambda mode: the function's JWKS URL instead of this stack's own (an
    /// `https` front, such as `test-idp`'s, for cold-start measurements).
    #[arg(long, requires = "authorizer_command", value_name = "URL")]
    pub authorizer_jwks_uri: Option<String>,
}

impl LambdaModeArgs {
    /// In process unless an authorizer command was given.
    pub fn mode(&self) -> AuthorizerMode {
        match &self.authorizer_command {
            None => AuthorizerMode::InProcess,
            Some(command) => AuthorizerMode::Lambda {
                command: command.clone(),
                settings: HostSettings {
                    max_instances: usize::try_from(self.lambda_max_instances).unwrap_or(1),
                    fresh_instances: self.lambda_fresh_instances,
                    timeout: Duration::from_millis(self.lambda_timeout_ms.max(1)),
                },
                jwks_uri: self.authorizer_jwks_uri.clone(),
            },
        }
    }
}

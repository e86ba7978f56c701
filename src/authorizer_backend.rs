//! Where the gateway's authorizer runs: in-process (the library, the
//! default) or as a Lambda function process behind a Runtime API
//! ([`LambdaHost`]), so cold and warm starts of a real binary show.

use std::sync::Arc;

use authorizer::{Authorizer, Refusal};
use serde_json::Value;

use lambda_host::{FunctionSpec, HostSettings, LambdaError, LambdaHost};

/// The authorizer the gateway invokes.
pub enum AuthorizerBackend {
    /// The authorizer library, called directly.
    InProcess(Arc<Authorizer>),
    /// A Lambda function process behind a Runtime API.
    Lambda(Arc<LambdaHost>),
}

/// An invocation that produced no policy, as API Gateway tells them apart.
#[derive(Debug, thiserror::Error)]
pub enum AuthorizerFailure {
    /// The function failed with exactly `Unauthorized`: 401.
    #[error("Unauthorized")]
    Unauthorized,
    /// Any other failure (error, crash, init error, timeout): 500.
    #[error("authorizer failed: {0}")]
    Failed(#[from] LambdaError),
    /// The in-process authorizer cannot answer the event as configured: 500.
    #[error("authorizer misconfigured: {0}")]
    Misconfigured(&'static str),
}

impl AuthorizerBackend {
    /// One authorizer event in, its answer out.
    pub async fn invoke(&self, event: Value) -> Result<Value, AuthorizerFailure> {
        match self {
            Self::InProcess(authorizer) => {
                authorizer
                    .handle(event)
                    .await
                    .map_err(|refusal| match refusal {
                        Refusal::Unauthorized => AuthorizerFailure::Unauthorized,
                        Refusal::Misconfigured(why) => AuthorizerFailure::Misconfigured(why),
                    })
            }
            Self::Lambda(host) => match host.invoke(&event).await {
                Ok(answer) => Ok(answer),
                Err(LambdaError::Function { message, .. }) if message == "Unauthorized" => {
                    Err(AuthorizerFailure::Unauthorized)
                }
                Err(error) => {
                    tracing::warn!(%error, "authorizer invocation failed");
                    Err(AuthorizerFailure::Failed(error))
                }
            },
        }
    }

    /// After a token revocation in the status lists at `uris`: in-process,
    /// those lists are fetched again before they answer. Lambda instances
    /// keep theirs for up to `STATUS_LIST_MAX_AGE_SECONDS`, as deployed ones do.
    pub fn status_lists_changed(&self, uris: &[String]) {
        if let Self::InProcess(authorizer) = self {
            authorizer.forget_status_lists(uris);
        }
    }

    /// After keys were revoked (or left the keyset): they must stop
    /// verifying at once. In-process, they are dropped from the key cache
    /// first, then the JWKS is refetched (a failed refetch cannot bring
    /// them back); Lambda instances are recycled, so the next invocations
    /// start with the current JWKS.
    pub async fn keys_revoked(&self, kids: &[String]) {
        match self {
            Self::InProcess(authorizer) => {
                for (issuer, result) in authorizer.key_revoked(kids).await {
                    if let Err(error) = result {
                        tracing::warn!(%issuer, %error, ?kids, "JWKS refetch after a revocation failed: the revoked keys are dropped all the same, the others serve until a fetch succeeds or they go stale");
                    }
                }
            }
            Self::Lambda(host) => host.recycle(),
        }
    }
}

/// How the local stack runs its authorizer.
#[derive(Clone, Debug, Default)]
pub enum AuthorizerMode {
    /// The authorizer library inside the gateway (the default of `serve`).
    #[default]
    InProcess,
    /// A Lambda function process: `command` speaks the Runtime API.
    Lambda {
        /// The function's command line.
        command: String,
        /// Instances, timeout and idle time.
        settings: HostSettings,
        /// The function's `JWKS_URI` when not this stack's own (an `https`
        /// front for cold-start measurements: `--authorizer-jwks-uri`).
        jwks_uri: Option<String>,
    },
}

/// The header `typ` the stack's authorizer requires, in-process or as a
/// Lambda: `JWT_REQUIRED_TYP`, else `at+jwt` (the embedded issuer writes
/// RFC 9068 access tokens).
pub fn required_typ() -> String {
    environment::Settings::from_env()
        .text("JWT_REQUIRED_TYP")
        .unwrap_or_else(|| "at+jwt".to_owned())
}

/// The authorizer variables of docs/reference.md that a Lambda-mode authorizer
/// takes from the gateway's environment, as its function configuration.
const PASSED_TO_FUNCTION: &[&str] = &[
    "JWKS_SNAPSHOT",
    "JWKS_SNAPSHOT_MAX_AGE_SECONDS",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "JWKS_MAX_AGE_SECONDS",
    "JWKS_REFRESH_COOLDOWN_SECONDS",
    "JWKS_MAX_STALE_SECONDS",
    "JWKS_FETCH_TIMEOUT_MS",
    "JWT_LEEWAY_SECONDS",
    "ROUTE_SCOPES",
    "ROUTE_RULES",
    "SCOPE_CLAIMS",
    "CONTEXT_CLAIMS",
    "PRINCIPAL_CLAIM",
    "JWT_ALLOW_ID_TOKENS",
    "HTTP_API_SIMPLE_RESPONSES",
    "STATUS_LIST_CHECK",
    "STATUS_LIST_MAX_AGE_SECONDS",
    "STATUS_LIST_MAX_STALE_SECONDS",
    "DPOP_MODE",
    "DPOP_ALGORITHMS",
    "DPOP_MAX_AGE_SECONDS",
    "DPOP_REPLAY_TABLE",
];

/// The authorizer function's configuration when the issuer is this stack
/// at `issuer_url`: tokens must be its RFC 9068 access tokens for `audience`.
pub fn function_env(issuer_url: &str, jwks_uri: &str, audience: &str) -> Vec<(String, String)> {
    let from_gateway = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let served_at = jwks_uri.trim_end_matches("/.well-known/jwks.json");
    let configured: Vec<String> = from_gateway("DPOP_PUBLIC_BASE_URLS")
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default();
    let base_urls = crate::local_stack::public_base_urls(&configured, issuer_url, served_at);
    let mut env = vec![
        ("JWT_ISSUER".to_owned(), issuer_url.to_owned()),
        ("JWKS_URI".to_owned(), jwks_uri.to_owned()),
        ("JWT_AUDIENCE".to_owned(), audience.to_owned()),
        ("JWT_REQUIRED_TYP".to_owned(), required_typ()),
        (
            "DPOP_PUBLIC_BASE_URLS".to_owned(),
            serde_json::Value::from(base_urls).to_string(),
        ),
    ];
    env.extend(
        PASSED_TO_FUNCTION
            .iter()
            .filter_map(|name| from_gateway(name).map(|value| ((*name).to_owned(), value))),
    );
    env
}

/// A Lambda-mode authorizer for the stack issuing as `issuer_url`, its keys
/// at `jwks_uri`, its tokens for `audience`.
pub fn lambda_backend(
    command: &str,
    settings: HostSettings,
    issuer_url: &str,
    jwks_uri: &str,
    audience: &str,
) -> Result<AuthorizerBackend, LambdaError> {
    let env = function_env(issuer_url, jwks_uri, audience);
    let spec = FunctionSpec::from_command_line("authorizer", command, env)?;
    Ok(AuthorizerBackend::Lambda(Arc::new(LambdaHost::new(
        spec, settings,
    ))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_function_trusts_this_stack_and_requires_access_tokens() {
        // The issuer URL a data dir fixed may differ from where the stack serves.
        let env = function_env(
            "https://issuer.example",
            "http://127.0.0.1:9/.well-known/jwks.json",
            "books-api",
        );
        let get = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        assert_eq!(get("JWT_ISSUER"), Some("https://issuer.example"));
        assert_eq!(
            get("JWKS_URI"),
            Some("http://127.0.0.1:9/.well-known/jwks.json")
        );
        assert_eq!(get("JWT_AUDIENCE"), Some("books-api"));
        if std::env::var("JWT_REQUIRED_TYP").is_err() {
            assert_eq!(get("JWT_REQUIRED_TYP"), Some("at+jwt"));
        }
    }
}

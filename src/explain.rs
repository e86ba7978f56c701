//! `tollgate explain TOKEN`: decodes a token without trusting it, runs the
//! authorizer's checks against the configuration in force, and prints each
//! verdict, the exact refusal reason, and the routes the token's scopes grant.

use std::fmt::Write;
use std::sync::Arc;

use authorizer::explain::Explanation;
use authorizer::{Authorizer, AuthorizerConfig, ProofInput};

/// The token as given: bare, or as an `Authorization` value in the
/// Bearer or DPoP scheme (read with the authorizer's own grammar).
pub fn token_text(input: &str) -> &str {
    let input = input.trim();
    authorizer::credential(input).map_or(input, |credential| credential.token)
}

/// Explains `token` under `config` (JWKS fetched as the authorizer would),
/// and the DPoP proof of a request, if one is given.
pub async fn explain(
    config: AuthorizerConfig,
    token: &str,
    proof: Option<&ProofInput<'_>>,
) -> Result<Explanation, authorizer::BuildError> {
    let authorizer = Authorizer::new(config, Arc::new(telemetry::DiscardSink))?;
    Ok(authorizer.explain_request(token, proof).await)
}

/// The explanation as the CLI prints it.
pub fn render(explanation: &Explanation) -> String {
    let mut out = String::new();
    for check in &explanation.checks {
        let _ = writeln!(
            out,
            "{:<10} {:<4}  {}",
            check.name, check.verdict, check.detail
        );
    }
    let sender_refusal = explanation
        .checks
        .iter()
        .find(|check| check.verdict == authorizer::explain::Verdict::Fail);
    match (&explanation.outcome, sender_refusal) {
        (Ok(_), Some(check)) => {
            let _ = writeln!(
                out,
                "\nverdict: Unauthorized (reason {}: the {} check failed)",
                check.reason.unwrap_or("refused"),
                check.name
            );
        }
        (Ok(verified), None) => {
            let _ = writeln!(
                out,
                "\nverdict: valid (principalId {:?})",
                verified.principal()
            );
            if explanation.granted_routes.is_empty() {
                let _ = writeln!(out, "routes granted: none (every route answers 403)");
            } else {
                let _ = writeln!(
                    out,
                    "routes granted: {}",
                    explanation.granted_routes.join(", ")
                );
            }
        }
        (Err(error), _) => {
            let _ = writeln!(
                out,
                "\nverdict: Unauthorized (reason {}: {error})",
                error.reason()
            );
        }
    }
    out
}

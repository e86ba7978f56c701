//! `tollgate explain TOKEN`: decodes a token without trusting it, runs the
//! authorizer's checks against the configuration in force, and prints each
//! verdict, the exact refusal reason, the routes the token's scopes grant,
//! each route rule's verdict, and, for `--route`, whether one request is
//! allowed.

use std::fmt::Write;
use std::sync::Arc;

use authorizer::explain::Explanation;
use authorizer::{Access, Authorizer, AuthorizerConfig, ProofInput, RuleOutcome};

/// A request named on the command line: `METHOD /path` (below the stage).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteRequest {
    /// The verb, upper-case.
    pub method: String,
    /// The path, from `/`, without query.
    pub path: String,
}

impl RouteRequest {
    /// Reads `"GET /tenants/acme/orders"`.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let (method, path) = text
            .trim()
            .split_once(' ')
            .filter(|(m, p)| {
                authorizer::HTTP_METHODS.contains(&m.to_ascii_uppercase().as_str())
                    && p.trim().starts_with('/')
            })
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "--route must be \"METHOD /path\" (e.g. \"GET /books/1\"), not {text:?}"
                )
            })?;
        let path = path.trim();
        let path = path.split_once('?').map_or(path, |(path, _)| path);
        Ok(Self {
            method: method.to_ascii_uppercase(),
            path: path.to_owned(),
        })
    }

    fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// The token as given: bare, or as an `Authorization` value in the
/// Bearer or DPoP scheme (read with the authorizer's own grammar).
pub fn token_text(input: &str) -> &str {
    let input = input.trim();
    authorizer::credential(input).map_or(input, |credential| credential.token)
}

/// Explains `token` under `config` (JWKS fetched as the authorizer would),
/// the DPoP proof of a request, if one is given, and whether the token's
/// policy allows `route`.
pub async fn explain(
    config: AuthorizerConfig,
    token: &str,
    proof: Option<&ProofInput<'_>>,
    route: Option<&RouteRequest>,
) -> Result<(Explanation, Option<(String, Access)>), authorizer::BuildError> {
    let authorizer = Authorizer::new(config, Arc::new(telemetry::DiscardSink))?;
    let explanation = authorizer.explain_request(token, proof).await;
    let access = match (route, &explanation.outcome) {
        (Some(route), Ok(verified)) => Some((
            route.key(),
            authorizer.route_access(verified, &route.method, &route.path),
        )),
        _ => None,
    };
    Ok((explanation, access))
}

/// The explanation as the CLI prints it.
pub fn render(explanation: &Explanation, access: Option<(String, Access)>) -> String {
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
            render_rules(&mut out, &explanation.rules);
            if let Some((route, access)) = access {
                let _ = writeln!(
                    out,
                    "route {route}: {}",
                    match access {
                        Access::Allowed => "allowed",
                        Access::MissingScope => "403 (reason missing_scope: no route it matches is granted by the scopes)",
                        Access::RuleDenied => "403 (reason rule_denied: the scopes grant the route, no rule alternative allows this path)",
                    }
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

/// Each route rule: its alternatives' verdicts, bound values, refused
/// values and the paths allowed.
fn render_rules(out: &mut String, rules: &[RuleOutcome]) {
    if rules.is_empty() {
        return;
    }
    let _ = writeln!(out, "route rules:");
    for rule in rules {
        let _ = writeln!(out, "  {}", rule.key);
        for (i, (source, alt)) in rule.sources.iter().zip(&rule.alternatives).enumerate() {
            let verdict = match &alt.holds {
                Ok(true) if alt.void.is_some() || (alt.paths.is_empty()) => {
                    "holds, grants nothing".to_owned()
                }
                Ok(true) => "holds".to_owned(),
                Ok(false) => "does not hold".to_owned(),
                Err(error) => format!("error, denied ({error})"),
            };
            let _ = writeln!(out, "    {}. {source}: {verdict}", i + 1);
            for (param, values) in &alt.values {
                let _ = writeln!(out, "       {param} = {values:?}");
            }
            for (param, value, reason) in &alt.refused {
                let _ = writeln!(out, "       {param} = \"{value}\" refused: {reason}");
            }
            if let Some(void) = &alt.void {
                let _ = writeln!(out, "       grants nothing: {void}");
            }
            if !alt.paths.is_empty() {
                let _ = writeln!(out, "       allows {}", alt.paths.join(", "));
            }
        }
    }
}

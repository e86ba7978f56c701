//! `tollgate explain`: why a token is accepted or refused.

use authorizer::{Access, ProofInput};
use clap::Args;
use tollgate::local_stack::{self, DataDir};

/// `explain TOKEN [--url]`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The token (with or without its `Bearer` scheme), or - for stdin.
    pub token: String,
    /// Where the local stack serves (its JWKS), used when JWT_ISSUER and
    /// TRUSTED_ISSUERS are unset; the issuer is the data dir's.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// A request's DPoP proof (its `DPoP` header): each check of it is shown.
    #[arg(long, value_name = "PROOF", requires_all = ["method", "request_url"])]
    pub dpop: Option<String>,
    /// The method of the request the proof came with.
    #[arg(long, value_name = "M", requires = "dpop")]
    pub method: Option<String>,
    /// The URL of the request the proof came with, as the client called it.
    #[arg(long, value_name = "U", requires = "dpop")]
    pub request_url: Option<String>,
    /// A request, as "METHOD /path" below the stage: whether the token's
    /// policy allows it (scopes and route rules).
    #[arg(long, value_name = "\"METHOD /path\"")]
    pub route: Option<String>,
}

/// Explains `token` (or standard input for `-`) under the authorizer
/// configuration in force: the environment's when `JWT_ISSUER` or
/// `TRUSTED_ISSUERS` is set, else the local stack's at `url`. A refused
/// token exits with status 1 after the explanation.
pub async fn run(data: &DataDir, args: ExplainArgs) -> anyhow::Result<()> {
    let ExplainArgs {
        token,
        url,
        dpop,
        method,
        request_url,
        route,
    } = args;
    let route = route
        .map(|route| tollgate::explain::RouteRequest::parse(&route))
        .transpose()?;
    let input = if token == "-" {
        std::io::read_to_string(std::io::stdin())?
    } else {
        token
    };
    let config = if std::env::var("JWT_ISSUER").is_ok() || std::env::var("TRUSTED_ISSUERS").is_ok()
    {
        authorizer::AuthorizerConfig::from_env(Some(local_stack::demo_route_table()?))?
    } else {
        let url = url.trim_end_matches('/');
        let issuer_url = data.stored_issuer_url()?.unwrap_or_else(|| url.to_owned());
        local_stack::authorizer_config(&issuer_url, url)?
    };
    let proof = match (&dpop, &method, &request_url) {
        (Some(proof), Some(method), Some(request_url)) => Some(ProofInput {
            proof: proof.trim(),
            method,
            request_url,
        }),
        _ => None,
    };
    let token = tollgate::explain::token_text(&input);
    let (explanation, access) =
        tollgate::explain::explain(config, token, proof.as_ref(), route.as_ref()).await?;
    let route_refused = access
        .as_ref()
        .is_some_and(|(_, access)| *access != Access::Allowed);
    print!("{}", tollgate::explain::render(&explanation, access));
    if explanation.refused() || route_refused {
        std::process::exit(1);
    }
    Ok(())
}

//! The stack's authorizer: the environment's settings, with this stack as
//! the issuer and the demo API's route table as the default `ROUTE_SCOPES`
//! and `ROUTE_RULES`.

use api_routes::ApiRoutes;
use authorizer::{AuthorizerConfig, RouteScopesError, RouteTable};

use super::issuer::audiences;
use crate::authorizer_backend::required_typ;

/// The embedded authorizer's configuration: the environment variables of
/// docs/reference.md, with this stack as the issuer (`issuer_url`, its keys and
/// status lists served at `served_at`, `http://` and the address listened
/// on) unless `TRUSTED_ISSUERS` says otherwise, and the audiences the
/// embedded issuer writes.
pub fn authorizer_config(
    issuer_url: &str,
    served_at: &str,
) -> Result<AuthorizerConfig, authorizer::ConfigError> {
    let trusted_issuers_set = std::env::var("TRUSTED_ISSUERS").is_ok();
    let audiences = audiences();
    let served_at = served_at.trim_end_matches('/');
    let jwks_uri = format!("{served_at}/.well-known/jwks.json");
    let mut config = AuthorizerConfig::from_lookup(
        |name| match name {
            "JWT_ISSUER" if !trusted_issuers_set => Some(issuer_url.to_owned()),
            "JWKS_URI" if !trusted_issuers_set => Some(jwks_uri.clone()),
            "JWT_AUDIENCE" => Some(audiences.clone()),
            "JWT_REQUIRED_TYP" => Some(required_typ()),
            other => std::env::var(other).ok(),
        },
        Some(demo_route_table()?),
    )?;
    // Tokens name lists under the issuer URL the data dir fixed; this
    // listener serves them, wherever it listens now.
    for issuer in &mut config.issuers {
        if issuer.issuer == issuer_url && issuer_url.trim_end_matches('/') != served_at {
            issuer.status_lists_served_at = Some(served_at.to_owned());
        }
    }
    config.sender.public_base_urls =
        public_base_urls(&config.sender.public_base_urls, issuer_url, served_at);
    Ok(config)
}

/// Where clients call the stack, for DPoP proofs' `htu`: the address it
/// serves on and the issuer URL it issues as (a `--issuer-url` name that
/// resolves to it), after any `DPOP_PUBLIC_BASE_URLS` given.
pub fn public_base_urls(configured: &[String], issuer_url: &str, served_at: &str) -> Vec<String> {
    let mut urls = configured.to_vec();
    for url in [served_at, issuer_url].map(|url| url.trim_end_matches('/').to_owned()) {
        if !urls.contains(&url) {
            urls.push(url);
        }
    }
    urls
}

/// The demo API's `ROUTE_SCOPES` and `ROUTE_RULES` (books, shelves and key
/// administration): the stack's authorizer's table unless `ROUTE_SCOPES`
/// says otherwise, as for the `authorizer` binary.
pub fn demo_route_table() -> Result<RouteTable, authorizer::ConfigError> {
    let demo = ApiRoutes::demo().map_err(|error| RouteScopesError::NotJson(error.to_string()))?;
    Ok(RouteTable::from_json(
        &demo.route_scopes_json(),
        demo.route_rules_json().as_deref(),
    )?)
}

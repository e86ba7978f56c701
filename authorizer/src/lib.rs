//! Tollgate authorizer: verifies JWTs for API Gateway at the cost of one
//! signature check.
//!
//! Build an [`Authorizer`] once (from the environment, or from an
//! [`AuthorizerConfig`]), pre-warm its key caches, then answer each
//! invocation with [`Authorizer::handle`] (a raw Lambda event) or
//! [`Authorizer::authorize`] (a typed [`AuthorizerEvent`]):
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use authorizer::Authorizer;
//!
//! let routes = authorizer::RouteScopes::from_json(r#"{"GET /books": "books:read"}"#)?;
//! let authorizer = Authorizer::from_env(Arc::new(telemetry::StdoutSink), Some(routes.into()))?;
//! authorizer.prewarm().await;
//! let event = serde_json::json!({"type": "TOKEN",
//!     "authorizationToken": "Bearer eyJ...",
//!     "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:api/prod/GET/books"});
//! match authorizer.handle(event).await {
//!     Ok(policy) => println!("{policy}"),          // Allow/Deny over the whole API
//!     Err(unauthorized) => println!("{unauthorized}"), // "Unauthorized": a 401
//! }
//! # Ok(()) }
//! ```
//!
//! Where the speed comes from: each JWK is parsed into an aws-lc-rs
//! `ParsedPublicKey` once, when its JWKS is loaded ([`VerifyingKey`]); per
//! token we only split, base64-decode, parse two small JSON objects and check
//! one signature; a repeat of a verified token is a decision-cache hit.
//!
//! The map:
//! - verification: `authorizer` (the [`Authorizer`]), `token` (compact JWS
//!   parsing), `claims` (claim checks), `claim_mapping` (which claims grant
//!   scopes), `algorithm`, `jwk`, `key_cache`, `fetch`, `fetch_timing`, `tls_roots` and
//!   `jwks_snapshot` (keys per issuer, how they are fetched and timed, a
//!   snapshot packaged with the function), `status_lists` (token revocation, draft-ietf-oauth-status-list),
//!   `decision_cache`, `verified`, `error`;
//! - answers: `answer` (the three API Gateway shapes), `events`, `policy`
//!   and `route_scopes` (whole-API IAM policies from `ROUTE_SCOPES`),
//!   `route_rules`, `rule_expr` and `rule_grants` (`ROUTE_RULES`: CEL
//!   conditions and path parameters bound to claims), `route_template`
//!   (paths read as API Gateway does), `route_table` (the two together),
//!   `route_key` (the requests an HTTP API simple response is reused for);
//! - around them: `config` (the environment, docs/reference.md), `metrics` (EMF),
//!   [`explain`] (`tollgate explain`).
//!
//! The building blocks that read a token without verifying it are behind
//! [`unverified`], named so that a caller sees what they are.

#![deny(missing_docs)]

mod answer;
mod authorizer;
mod claim_mapping;
mod claims;
mod config;
mod decision_cache;
mod error;
mod event_request;
mod events;
pub mod explain;
mod explain_report;
mod explain_sender;
mod fetch;
mod fetch_timing;
mod jwks_snapshot;
mod key_cache;
mod metrics;
mod policy;
mod route_access;
mod route_key;
mod route_rules;
mod route_scopes;
mod route_table;
mod route_template;
mod rule_expr;
mod rule_grants;
mod sender;
mod sender_settings;
mod simple_response;
mod status_lists;
mod tls_roots;
mod token;
mod verified;

pub use answer::{Answer, Refusal, DPOP_NEEDS_REQUEST_EVENTS};
pub use authorizer::{Authorizer, BuildError};
pub use config::{
    check_fetch_url, is_loopback_url, AuthorizerConfig, CacheSettings, ConfigError, JwksSource,
    StatusCheck, StatusSettings, TrustedIssuer,
};
pub use environment::SettingError;
pub use error::VerifyError;
pub use events::{bearer_credential, credential, AuthorizerEvent, Credential, Scheme};
pub use explain_sender::ProofInput;
pub use jose::{Algorithm, JwkError, JwkSet, VerifyingKey};
pub use jwks_snapshot::{JwksSnapshot, SnapshotError};
pub use policy::{MethodArn, PolicyBuilder};
pub use route_access::Access;
pub use route_key::HTTP_METHODS;
pub use route_rules::{RouteRules, RouteRulesError};
pub use route_scopes::{glob_matches, Route, RouteScopes, RouteScopesError};
pub use route_table::{RouteTable, RouteTableError};
pub use rule_expr::RULE_VARIABLES;
pub use rule_grants::{AlternativeOutcome, RuleGrants, RuleOutcome, MAX_VALUES, MAX_VALUE_BYTES};
pub use sender::SenderError;
pub use sender_settings::{DpopMode, SenderSettings, SenderSettingsError};
pub use verified::{Binding, VerifiedToken};

/// Reading a token *without* verifying it: the compact-JWS parser and the
/// claim checks, for benches and diagnostics. Nothing here checks a
/// signature; [`Authorizer::verify`] is the way to trust a token.
pub mod unverified {
    pub use crate::claims::{ClaimChecks, Claims};
    pub use crate::token::{parse_token, SignatureBuf, UnverifiedToken, MAX_TOKEN_BYTES};
}

/// Parsers that only a fetch reaches, callable on their own for the fuzz
/// targets in `fuzz/` (docs/security.md). Not an API: no stability promised.
#[doc(hidden)]
pub mod fuzzing {
    /// The `jwks_uri` of an OpenID Connect discovery document as the key
    /// cache reads it after fetching it for `issuer`, or why it is refused.
    pub fn discovered_jwks_uri(body: &[u8], issuer: &str) -> Result<String, String> {
        crate::fetch::discovered_jwks_uri(body, issuer).map_err(|e| e.to_string())
    }
}

//! Tollgate authorizer: verifies JWTs for API Gateway at the cost of one
//! signature check.
//!
//! Start with [`Authorizer`]: build it once (`Authorizer::from_env`), pre-warm
//! its key caches, then call [`Authorizer::handle`] (raw Lambda event) or
//! [`Authorizer::authorize`] (typed event) per request.
//!
//! Where the speed comes from: each JWK is parsed into an aws-lc-rs
//! `ParsedPublicKey` once, when its JWKS is loaded ([`jwk`]); per token we
//! only split, base64-decode, parse two small JSON objects and check one
//! signature ([`token`], [`claims`]); a repeat of a verified token is a
//! decision-cache hit ([`decision_cache`]).

pub mod algorithm;
pub mod authorizer;
pub mod claim_mapping;
pub mod claims;
pub mod config;
pub mod decision_cache;
pub mod error;
pub mod events;
pub mod explain;
pub mod jwk;
pub mod jwks_fetch;
pub mod key_cache;
pub mod metrics;
pub mod policy;
pub mod route_scopes;
pub mod token;
pub mod verified;

pub use algorithm::Algorithm;
pub use authorizer::{Answer, Authorizer, BuildError, Unauthorized};
pub use config::{AuthorizerConfig, CacheSettings, IssuerConfig, JwksSource};
pub use error::VerifyError;
pub use events::AuthorizerEvent;
pub use verified::VerifiedToken;

/// Seconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

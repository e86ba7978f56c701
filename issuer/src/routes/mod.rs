//! The issuer's HTTP API as an axum router, run by `lambda_http` on AWS and
//! mounted by the local stack.
//!
//! One file per job: `oauth` (the token endpoint, discovery), `client_auth`
//! and `oauth_error` (RFC 6749's client authentication and error bodies),
//! `keys` (JWKS and key administration), `revocation` (RFC 7009 and the
//! administrator's), `status_lists`, and what they share: `request`,
//! `problem`, `admin`.

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

use crate::service::IssuerService;

mod admin;
mod client_auth;
mod keys;
mod oauth;
mod oauth_error;
mod problem;
mod request;
mod revocation;
mod status_lists;

pub use admin::ADMIN_SCOPE;
use keys::*;
use oauth::*;
use request::MAX_TOKEN_REQUEST_BYTES;
use revocation::*;
use status_lists::*;

/// The issuer's HTTP API over `service`: `/token`, `/revoke` (RFC 7009),
/// the JWKS, discovery and status list documents, and the key and token
/// administration routes.
pub fn router(service: Arc<IssuerService>) -> Router {
    let api = Router::new()
        // The limit on the route stops buffering at 8 KiB, not axum's 2 MiB default.
        .route(
            "/token",
            post(token).layer(DefaultBodyLimit::max(MAX_TOKEN_REQUEST_BYTES)),
        )
        .route(
            "/revoke",
            post(revoke_token).layer(DefaultBodyLimit::max(MAX_TOKEN_REQUEST_BYTES)),
        )
        .route("/.well-known/jwks.json", get(jwks))
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/statuslists", get(status_lists))
        .route("/statuslists/{list}", get(status_list))
        .route("/admin/keys", get(list_keys))
        .route("/admin/keys/rotate", post(rotate))
        .route("/admin/keys/{kid}/revoke", post(revoke))
        .route(
            "/admin/tokens/revoke",
            post(revoke_tokens).layer(DefaultBodyLimit::max(MAX_TOKEN_REQUEST_BYTES)),
        )
        .with_state(service);
    // The outer layer runs before routing: lambda_http's `/{stage}` prefix goes first.
    Router::new()
        .fallback_service(api)
        .layer(axum::middleware::map_request(identity::strip_stage))
}

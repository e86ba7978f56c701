//! RFC 6749 §5.2 error answers: malformed requests and failed logins.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use identity::Problem;
use serde_json::json;

use crate::accounts::AccountKind;
use dpop::ProofError;

use crate::error::LoginError;

/// An RFC 6749 §5.2 error answer.
pub(super) fn oauth_error(status: StatusCode, error: &'static str, description: &str) -> Response {
    let mut response = (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"tollgate\""),
        );
    }
    response
}

/// An RFC 6749 §5.2 error answer, kept small until it is sent.
pub(super) struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: &'static str,
}

impl OAuthError {
    pub(super) fn new(status: StatusCode, error: &'static str, description: &'static str) -> Self {
        Self {
            status,
            error,
            description,
        }
    }

    /// A body over [`MAX_TOKEN_REQUEST_BYTES`].
    pub(super) fn too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            "request too large",
        )
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        oauth_error(self.status, self.error, self.description)
    }
}

/// A failed login as its RFC 6749 answer; `kind` picks between a bad grant
/// (users) and a bad client.
pub(super) struct LoginFailure {
    pub(super) kind: AccountKind,
    pub(super) error: LoginError,
}

impl IntoResponse for LoginFailure {
    fn into_response(self) -> Response {
        let retry_after = match &self.error {
            LoginError::Throttled(wait) => Some(HeaderValue::from(wait.as_secs().max(1))),
            LoginError::Busy | LoginError::DpopProof(ProofError::ReplayStore(_)) => {
                Some(HeaderValue::from_static("1"))
            }
            _ => None,
        };
        let (status, error, description) = match self.error {
            LoginError::DpopProof(refused) => dpop_refusal(&refused),
            LoginError::InvalidCredentials => match self.kind {
                AccountKind::User => (
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "invalid username or password".into(),
                ),
                AccountKind::Client => (
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    "invalid client credentials".into(),
                ),
            },
            LoginError::InvalidScope => (
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                "the requested scope exceeds what is granted".into(),
            ),
            LoginError::Throttled(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "invalid_grant",
                "too many failed attempts; retry later".into(),
            ),
            LoginError::Busy => (
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "too many logins in progress; retry shortly".into(),
            ),
            LoginError::Service(error) => return Problem::from(error).into_response(),
        };
        let mut response = oauth_error(status, error, &description);
        if let Some(value) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// A refused DPoP proof at the token endpoint: `invalid_dpop_proof` (RFC
/// 9449 §5), or 503 when used proofs cannot be checked.
fn dpop_refusal(refused: &ProofError) -> (StatusCode, &'static str, String) {
    match refused {
        ProofError::ReplayStore(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "DPoP proofs cannot be checked now; retry".into(),
        ),
        ProofError::Missing => (
            StatusCode::BAD_REQUEST,
            "invalid_dpop_proof",
            "this client must send a DPoP proof".into(),
        ),
        refused => (
            StatusCode::BAD_REQUEST,
            "invalid_dpop_proof",
            refused.to_string(),
        ),
    }
}

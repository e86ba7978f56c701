//! What every route reads of a request: the caller's address as API
//! Gateway saw it, a body within its limit, the media type, `If-None-Match`.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use lambda_http::request::RequestContext;

use super::oauth_error::OAuthError;

/// Token request bodies above this are refused.
pub(super) const MAX_TOKEN_REQUEST_BYTES: usize = 8 * 1024;

/// The caller's address as API Gateway saw it (never a header a client sets).
pub(super) fn client_address(context: &Option<Extension<RequestContext>>) -> Option<String> {
    context
        .as_ref()
        .and_then(|Extension(context)| identity::source_ip(context))
}

/// The request's headers and its body, read within the route's body limit;
/// a body over it gets the same RFC 6749 answer as one that `parse` refuses.
pub(super) async fn limited_body<S: Send + Sync>(
    request: Request,
    state: &S,
) -> Result<(HeaderMap, Bytes), Response> {
    let headers = request.headers().clone();
    let body = Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                OAuthError::too_large().into_response()
            } else {
                rejection.into_response()
            }
        })?;
    Ok((headers, body))
}

/// The request's media type, lower-cased, without parameters.
pub(super) fn form_content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Whether `If-None-Match` names `etag` (or `*`).
pub(super) fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        })
}

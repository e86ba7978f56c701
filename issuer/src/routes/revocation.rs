//! Token revocation: RFC 7009 `POST /revoke`, and the administrator's
//! `POST /admin/tokens/revoke` by `jti` or subject.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use axum::Json;
use identity::{Caller, Problem};
use lambda_http::request::RequestContext;
use serde::Deserialize;
use serde_json::json;

use crate::accounts::AccountKind;
use crate::error::ServiceError;
use crate::revocations::{Revocation, Revoker};
use crate::service::IssuerService;
use crate::status::TokenRecord;

use super::admin::refusal_unless_admin;
use super::client_auth::client_authentication;
use super::oauth_error::{oauth_error, LoginFailure, OAuthError};
use super::request::{client_address, form_content_type, limited_body};

/// An RFC 7009 revocation request: the token, and the client if one
/// authenticates. `token_type_hint` is read and ignored, as §2.1 allows:
/// every token here is an access token.
pub(super) struct RevocationRequest {
    token: String,
    client: Option<(String, String)>,
}

#[derive(Deserialize)]
pub(super) struct RevocationForm {
    token: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

impl<S: Send + Sync> FromRequest<S> for RevocationRequest {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let (headers, body) = limited_body(request, state).await?;
        Self::parse(&headers, &body).map_err(IntoResponse::into_response)
    }
}

impl RevocationRequest {
    fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Self, OAuthError> {
        if form_content_type(headers) != "application/x-www-form-urlencoded" {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "send application/x-www-form-urlencoded",
            ));
        }
        let form = serde_urlencoded::from_bytes::<RevocationForm>(body).map_err(|_| {
            OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "malformed form body",
            )
        })?;
        let Some(token) = form.token.filter(|t| !t.is_empty()) else {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "token is required",
            ));
        };
        Ok(Self {
            token,
            client: client_authentication(headers, form.client_id, form.client_secret)?,
        })
    }
}

/// RFC 7009 §2.2: 200 with an empty body whether or not a token was
/// revoked (unknown, foreign and expired tokens change nothing).
pub(super) async fn revoke_token(
    State(service): State<Arc<IssuerService>>,
    request_context: Option<Extension<RequestContext>>,
    request: RevocationRequest,
) -> Response {
    let client = match &request.client {
        Some((name, secret)) => {
            let address = client_address(&request_context);
            match service
                .authenticate_client(name, secret, address.as_deref())
                .await
            {
                Ok(account) => Some(account.name),
                Err(error) => {
                    return LoginFailure {
                        kind: AccountKind::Client,
                        error,
                    }
                    .into_response()
                }
            }
        }
        None => None,
    };
    let by = client.as_deref().map_or(Revoker::Holder, Revoker::Client);
    match service.revoke_token(&request.token, by).await {
        Ok(_) => {
            let mut response = StatusCode::OK.into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(ServiceError::NoTokenStatus) => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_token_type",
            "this issuer does not revoke single tokens",
        ),
        Err(error) => {
            // §2.2.1: the client must assume the token still stands and retry.
            tracing::error!(%error, "token revocation failed");
            let mut response = oauth_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "the token could not be revoked now; retry",
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
    }
}

/// `{"jti": …}` or `{"sub": …}`: exactly one.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AdminRevocation {
    jti: Option<String>,
    sub: Option<String>,
}

/// `POST /admin/tokens/revoke`: one token by `jti`, or every unexpired
/// token of a subject (`keys:admin`).
pub(super) async fn revoke_tokens(
    State(service): State<Arc<IssuerService>>,
    caller: Caller,
    body: Bytes,
) -> Response {
    if let Some(refusal) = refusal_unless_admin(&caller) {
        return refusal;
    }
    let request = serde_json::from_slice::<AdminRevocation>(&body).ok();
    let by = format!("admin {}", caller.sub);
    let result = match request {
        Some(AdminRevocation {
            jti: Some(jti),
            sub: None,
        }) if !jti.is_empty() => match service.revoke_jti(&jti, &by).await {
            Ok(Revocation::Unchanged) => {
                return Problem::not_found("no unexpired token has this jti").into_response()
            }
            other => other,
        },
        Some(AdminRevocation {
            jti: None,
            sub: Some(sub),
        }) if !sub.is_empty() => service.revoke_subject(&sub, &by).await,
        _ => {
            return Problem::bad_request(
                "send {\"jti\": \"…\"} or {\"sub\": \"…\"}: exactly one, not empty",
            )
            .into_response()
        }
    };
    match result {
        Ok(revocation) => {
            let revoked: &[TokenRecord] = match &revocation {
                Revocation::Revoked(tokens) => tokens,
                Revocation::Unchanged => &[],
            };
            let tokens: Vec<_> = revoked
                .iter()
                .map(|t| json!({"jti": t.jti, "sub": t.sub, "exp": t.exp}))
                .collect();
            Json(json!({"revoked": tokens.len(), "tokens": tokens})).into_response()
        }
        Err(error) => Problem::from(error).into_response(),
    }
}

//! The token endpoint (`POST /token`: JSON logins and the password and
//! client-credentials grants) and the discovery document.

use std::sync::Arc;

use axum::extract::{FromRequest, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use axum::Json;
use lambda_http::request::RequestContext;
use serde::Deserialize;
use serde_json::json;

use dpop::ProofError;

use crate::accounts::AccountKind;
use crate::error::LoginError;
use crate::service::IssuerService;
use crate::tokens::IssuedToken;

use super::client_auth::client_authentication;
use super::oauth_error::{LoginFailure, OAuthError};
use super::request::{client_address, form_content_type, limited_body, MAX_TOKEN_REQUEST_BYTES};

#[derive(Deserialize)]
pub(super) struct JsonLogin {
    username: String,
    password: String,
    #[serde(default)]
    scope: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct TokenForm {
    grant_type: Option<String>,
    username: Option<String>,
    password: Option<String>,
    scope: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// A token request, parsed: a JSON login or an OAuth password or
/// client-credentials grant (RFC 6749 §4.3, §4.4). Anything else is rejected
/// with an RFC 6749 error body before a secret is checked.
pub(super) struct TokenRequest {
    kind: AccountKind,
    name: String,
    secret: String,
    scope: Option<String>,
}

impl<S: Send + Sync> FromRequest<S> for TokenRequest {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let (headers, body) = limited_body(request, state).await?;
        Self::parse(&headers, &body).map_err(IntoResponse::into_response)
    }
}

impl TokenRequest {
    fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Self, OAuthError> {
        // The route's body limit refuses a larger body before it is read;
        // this keeps `parse` safe on its own.
        if body.len() > MAX_TOKEN_REQUEST_BYTES {
            return Err(OAuthError::too_large());
        }
        match form_content_type(headers).as_str() {
            "application/json" => Self::from_json(body),
            "application/x-www-form-urlencoded" => Self::from_form(headers, body),
            _ => Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "send application/json or application/x-www-form-urlencoded",
            )),
        }
    }

    fn from_json(body: &[u8]) -> Result<Self, OAuthError> {
        let login = serde_json::from_slice::<JsonLogin>(body).map_err(|_| {
            OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "send {\"username\", \"password\"}",
            )
        })?;
        Ok(Self {
            kind: AccountKind::User,
            name: login.username,
            secret: login.password,
            scope: login.scope,
        })
    }

    fn from_form(headers: &HeaderMap, body: &[u8]) -> Result<Self, OAuthError> {
        let Ok(form) = serde_urlencoded::from_bytes::<TokenForm>(body) else {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "malformed form body",
            ));
        };
        match form.grant_type.as_deref() {
            Some("password") => match (form.username, form.password) {
                (Some(name), Some(secret)) => Ok(Self {
                    kind: AccountKind::User,
                    name,
                    secret,
                    scope: form.scope,
                }),
                _ => Err(OAuthError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "username and password are required",
                )),
            },
            Some("client_credentials") => Self::client_credentials(headers, form),
            Some(_) => Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "use password or client_credentials",
            )),
            None => Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "grant_type is required",
            )),
        }
    }

    fn client_credentials(headers: &HeaderMap, form: TokenForm) -> Result<Self, OAuthError> {
        let Some((name, secret)) =
            client_authentication(headers, form.client_id, form.client_secret)?
        else {
            return Err(OAuthError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "client authentication required",
            ));
        };
        Ok(Self {
            kind: AccountKind::Client,
            name,
            secret,
            scope: form.scope,
        })
    }
}

/// The RFC 6749 §5.1 success body; tokens are never cached.
pub(super) fn token_response(issued: IssuedToken) -> Response {
    let mut response = Json(json!({
        "access_token": issued.access_token,
        "token_type": issued.token_type,
        "expires_in": issued.expires_in,
        "scope": issued.scope,
    }))
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub(super) async fn token(
    State(service): State<Arc<IssuerService>>,
    request_context: Option<Extension<RequestContext>>,
    headers: HeaderMap,
    request: TokenRequest,
) -> Response {
    let address = client_address(&request_context);
    let TokenRequest {
        kind,
        name,
        secret,
        scope,
    } = request;
    // RFC 9449 §4.3: exactly one DPoP header field, when there is one.
    let proofs: Vec<&str> = headers
        .get_all("dpop")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let proof = match proofs.as_slice() {
        [] => None,
        [proof] => Some(*proof),
        _ => {
            let error =
                LoginError::DpopProof(ProofError::Invalid("more than one DPoP header".to_owned()));
            return LoginFailure { kind, error }.into_response();
        }
    };
    match service
        .login_with_proof(
            kind,
            &name,
            &secret,
            scope.as_deref(),
            address.as_deref(),
            proof,
        )
        .await
    {
        Ok(issued) => token_response(issued),
        Err(error) => LoginFailure { kind, error }.into_response(),
    }
}

pub(super) async fn discovery(State(service): State<Arc<IssuerService>>) -> Response {
    // Only what exists: a token endpoint and its two grants. No
    // authorization endpoint, so no response types; no ID tokens.
    let issuer = service.config().issuer.trim_end_matches('/');
    Json(json!({
        "issuer": service.config().issuer,
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "token_endpoint": format!("{issuer}/token"),
        "grant_types_supported": ["password", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        // RFC 7009 (RFC 8414 metadata) and the status list draft's aggregation.
        "revocation_endpoint": format!("{issuer}/revoke"),
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "status_list_aggregation_endpoint": format!("{issuer}/statuslists"),
        "scopes_supported": ["books:read", "books:write", "books:admin", "keys:admin"],
        // RFC 9449 §5.1: the token endpoint binds tokens to DPoP keys.
        "dpop_signing_alg_values_supported": service
            .proofs()
            .algorithms()
            .iter()
            .map(|alg| alg.name())
            .collect::<Vec<_>>(),
    }))
    .into_response()
}

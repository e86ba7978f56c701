//! The issuer's HTTP API as an axum router, run by `lambda_http` on AWS and
//! mounted by the local stack.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Extension;
use axum::{Json, Router};
use base64::alphabet;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use identity::{Caller, Problem};
use lambda_http::request::RequestContext;
use serde::Deserialize;
use serde_json::json;

use crate::accounts::AccountKind;
use crate::service::{IssuerService, LoginError, Revocation, Revoker, ServiceError};
use crate::status::TokenRecord;
use crate::tokens::IssuedToken;

/// The scope the admin routes require (checked by the authorizer in front
/// and again here).
pub const ADMIN_SCOPE: &str = "keys:admin";
/// Token request bodies above this are refused.
const MAX_TOKEN_REQUEST_BYTES: usize = 8 * 1024;

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

/// An RFC 6749 §5.2 error answer.
fn oauth_error(status: StatusCode, error: &'static str, description: &str) -> Response {
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

/// The answer for a failed key operation: the cause is logged, never sent.
impl From<ServiceError> for Problem {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Conflict => Problem::plain(
                StatusCode::CONFLICT,
                "the keyset changed concurrently; retry",
            ),
            ServiceError::UnknownKid(_) => Problem::plain(StatusCode::NOT_FOUND, "no such key"),
            ServiceError::NoTokenStatus => Problem::plain(
                StatusCode::NOT_IMPLEMENTED,
                "this issuer keeps no token status (set STATUS_TABLE or STATUS_FILE)",
            ),
            ServiceError::RotationTooSoon { retry_after } => {
                let seconds = retry_after.as_secs().max(1);
                Problem::plain(
                    StatusCode::TOO_MANY_REQUESTS,
                    format!(
                        "the next key was published too recently: warm authorizers may not hold \
                         it yet. Rotate again in {seconds} s; to take a compromised key out now, \
                         revoke it"
                    ),
                )
                .with_retry_after(seconds)
            }
            other => {
                // The message names the failing store, never key material.
                tracing::error!(error = %other, "issuer failure");
                Problem::plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the issuer could not complete the request",
                )
            }
        }
    }
}

#[derive(Deserialize)]
struct JsonLogin {
    username: String,
    password: String,
    #[serde(default)]
    scope: Option<String>,
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    username: Option<String>,
    password: Option<String>,
    scope: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// The caller's address as API Gateway saw it (never a header a client sets).
fn client_address(context: &Option<Extension<RequestContext>>) -> Option<String> {
    context
        .as_ref()
        .and_then(|Extension(context)| identity::source_ip(context))
}

/// Standard base64 with or without its `=` padding (some clients drop it).
const BASIC_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// What the `Authorization` header says about client authentication.
enum BasicAuth {
    Absent,
    /// The client id and secret, decoded.
    Credentials(String, String),
    /// A Basic header that does not decode: authentication failed.
    Malformed,
}

/// `Authorization: Basic` client credentials (RFC 6749 §2.3.1): base64 of
/// `id:secret`, each form-urlencoded first (so a `:` in the id is `%3A`).
fn basic_credentials(headers: &HeaderMap) -> BasicAuth {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return BasicAuth::Absent;
    };
    let Some((scheme, encoded)) = value.to_str().ok().and_then(|v| v.split_once(' ')) else {
        return BasicAuth::Malformed;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return BasicAuth::Malformed;
    }
    let decoded = BASIC_BASE64
        .decode(encoded.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok());
    let credentials = decoded.as_deref().and_then(|decoded| {
        let (id, secret) = decoded.split_once(':')?;
        Some((form_decode(id)?, form_decode(secret)?))
    });
    match credentials {
        Some((id, secret)) => BasicAuth::Credentials(id, secret),
        None => BasicAuth::Malformed,
    }
}

/// Reverses `application/x-www-form-urlencoded` encoding of one value: `+`
/// is a space and `%XX` a byte; a broken escape or non-UTF-8 result is `None`.
fn form_decode(value: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(value.len());
    let mut rest = value.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        rest = tail;
        match byte {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hex = rest.get(..2)?;
                let text = std::str::from_utf8(hex).ok()?;
                bytes.push(u8::from_str_radix(text, 16).ok()?);
                rest = &rest[2..];
            }
            other => bytes.push(other),
        }
    }
    String::from_utf8(bytes).ok()
}

/// A token request, parsed: a JSON login or an OAuth password or
/// client-credentials grant (RFC 6749 §4.3, §4.4). Anything else is rejected
/// with an RFC 6749 error body before a secret is checked.
struct TokenRequest {
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

/// The request's headers and its body, read within the route's body limit;
/// a body over it gets the same RFC 6749 answer as one that `parse` refuses.
async fn limited_body<S: Send + Sync>(
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

/// The client's credentials, if the request authenticates a client: HTTP
/// Basic, or `client_id` and `client_secret` in the body, not both (RFC
/// 6749 §2.3). A Basic header that does not decode, or a body with only
/// one of the two, is a failed authentication (401).
fn client_authentication(
    headers: &HeaderMap,
    client_id: Option<String>,
    client_secret: Option<String>,
) -> Result<Option<(String, String)>, OAuthError> {
    let failed = || {
        OAuthError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        )
    };
    let in_form = client_id.is_some() || client_secret.is_some();
    match (basic_credentials(headers), in_form) {
        (BasicAuth::Credentials(..) | BasicAuth::Malformed, true) => Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "use either HTTP Basic or client_id/client_secret in the body, not both",
        )),
        (BasicAuth::Credentials(id, secret), false) => Ok(Some((id, secret))),
        (BasicAuth::Malformed, false) => Err(failed()),
        (BasicAuth::Absent, false) => Ok(None),
        (BasicAuth::Absent, true) => client_id.zip(client_secret).map(Some).ok_or_else(failed),
    }
}

/// An RFC 7009 revocation request: the token, and the client if one
/// authenticates. `token_type_hint` is read and ignored, as §2.1 allows:
/// every token here is an access token.
struct RevocationRequest {
    token: String,
    client: Option<(String, String)>,
}

#[derive(Deserialize)]
struct RevocationForm {
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

/// The request's media type, lower-cased, without parameters.
fn form_content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// An RFC 6749 §5.2 error answer, kept small until it is sent.
struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: &'static str,
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, description: &'static str) -> Self {
        Self {
            status,
            error,
            description,
        }
    }

    /// A body over [`MAX_TOKEN_REQUEST_BYTES`].
    fn too_large() -> Self {
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
struct LoginFailure {
    kind: AccountKind,
    error: LoginError,
}

impl IntoResponse for LoginFailure {
    fn into_response(self) -> Response {
        let retry_after = match &self.error {
            LoginError::Throttled(wait) => Some(HeaderValue::from(wait.as_secs().max(1))),
            LoginError::Busy => Some(HeaderValue::from_static("1")),
            _ => None,
        };
        let (status, error, description) = match self.error {
            LoginError::InvalidCredentials => match self.kind {
                AccountKind::User => (
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "invalid username or password",
                ),
                AccountKind::Client => (
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    "invalid client credentials",
                ),
            },
            LoginError::InvalidScope => (
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                "the requested scope exceeds what is granted",
            ),
            LoginError::Throttled(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "invalid_grant",
                "too many failed attempts; retry later",
            ),
            LoginError::Busy => (
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "too many logins in progress; retry shortly",
            ),
            LoginError::Service(error) => return Problem::from(error).into_response(),
        };
        let mut response = oauth_error(status, error, description);
        if let Some(value) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// The RFC 6749 §5.1 success body; tokens are never cached.
fn token_response(issued: IssuedToken) -> Response {
    let mut response = Json(json!({
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "scope": issued.scope,
    }))
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn token(
    State(service): State<Arc<IssuerService>>,
    request_context: Option<Extension<RequestContext>>,
    request: TokenRequest,
) -> Response {
    let address = client_address(&request_context);
    let TokenRequest {
        kind,
        name,
        secret,
        scope,
    } = request;
    match service
        .login(kind, &name, &secret, scope.as_deref(), address.as_deref())
        .await
    {
        Ok(issued) => token_response(issued),
        Err(error) => LoginFailure { kind, error }.into_response(),
    }
}

async fn jwks(State(service): State<Arc<IssuerService>>, headers: HeaderMap) -> Response {
    let keyset = match service.keyset().await {
        Ok(keyset) => keyset,
        Err(error) => return Problem::from(error).into_response(),
    };
    let jwks = match keyset.jwks() {
        Ok(jwks) => jwks,
        Err(error) => return Problem::from(ServiceError::from(error)).into_response(),
    };
    let body = serde_json::to_vec(&jwks).unwrap_or_default();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &body);
    let etag = format!("\"{}\"", URL_SAFE_NO_PAD.encode(&digest.as_ref()[..16]));
    let cache_control = format!("public, max-age={}", service.config().jwks_max_age_seconds);
    let mut response = if if_none_match(&headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = body.into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/jwk-set+json"),
        );
        response
    };
    if let Ok(value) = HeaderValue::from_str(&cache_control) {
        response.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

async fn discovery(State(service): State<Arc<IssuerService>>) -> Response {
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
    }))
    .into_response()
}

/// The admin routes need `keys:admin` in the request context (no context
/// at all fails closed earlier, as 401): the refusal, if any.
fn refusal_unless_admin(caller: &Caller) -> Option<Response> {
    (!caller.has_scope(ADMIN_SCOPE)).then(|| {
        Problem::plain(StatusCode::FORBIDDEN, "this needs the keys:admin scope").into_response()
    })
}

async fn list_keys(State(service): State<Arc<IssuerService>>, caller: Caller) -> Response {
    if let Some(refusal) = refusal_unless_admin(&caller) {
        return refusal;
    }
    match service.keyset().await {
        Ok(keyset) => Json(json!({"keys": keyset.metadata()})).into_response(),
        Err(error) => Problem::from(error).into_response(),
    }
}

async fn rotate(State(service): State<Arc<IssuerService>>, caller: Caller) -> Response {
    if let Some(refusal) = refusal_unless_admin(&caller) {
        return refusal;
    }
    match service.rotate().await {
        Ok(active) => {
            tracing::info!(kid = %active.kid, by = %caller.sub, "keys rotated");
            Json(json!({"active": active})).into_response()
        }
        Err(error) => Problem::from(error).into_response(),
    }
}

async fn revoke(
    State(service): State<Arc<IssuerService>>,
    caller: Caller,
    Path(kid): Path<String>,
) -> Response {
    if let Some(refusal) = refusal_unless_admin(&caller) {
        return refusal;
    }
    match service.revoke(&kid).await {
        Ok(revoked) => {
            tracing::warn!(kid = %revoked.kid, by = %caller.sub, "key revoked");
            Json(json!({"revoked": revoked})).into_response()
        }
        Err(error) => Problem::from(error).into_response(),
    }
}

/// RFC 7009 §2.2: 200 with an empty body whether or not a token was
/// revoked (unknown, foreign and expired tokens change nothing).
async fn revoke_token(
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
struct AdminRevocation {
    jti: Option<String>,
    sub: Option<String>,
}

/// `POST /admin/tokens/revoke`: one token by `jti`, or every unexpired
/// token of a subject (`keys:admin`).
async fn revoke_tokens(
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

/// `GET /statuslists`: the Status List Aggregation (draft §9).
async fn status_lists(State(service): State<Arc<IssuerService>>) -> Response {
    match service.status_lists().await {
        Ok(uris) => {
            let mut response = Json(json!({ "status_lists": uris })).into_response();
            allow_any_origin(&mut response);
            response
        }
        Err(error) => Problem::from(error).into_response(),
    }
}

/// `GET /statuslists/{list}`: the list's `statuslist+jwt`, cacheable for
/// `STATUS_LIST_MAX_AGE_SECONDS`, with an `ETag` (304 on `If-None-Match`).
async fn status_list(
    State(service): State<Arc<IssuerService>>,
    Path(list): Path<String>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    // Historical resolution (draft §8.4) is not kept: say so, as it asks.
    if uri
        .query()
        .is_some_and(|q| q.split('&').any(|p| p.starts_with("time=")))
    {
        return Problem::plain(
            StatusCode::NOT_IMPLEMENTED,
            "historical status lists are not kept",
        )
        .into_response();
    }
    let Some(number) = list.parse::<u64>().ok().filter(|n| n.to_string() == list) else {
        return Problem::not_found("no such status list").into_response();
    };
    let token = match service.status_list(number).await {
        Ok(Some(token)) => token,
        Ok(None) => return Problem::not_found("no such status list").into_response(),
        Err(error) => return Problem::from(error).into_response(),
    };
    let max_age = service.config().status_list_max_age_seconds;
    let mut response = if if_none_match(&headers, &token.etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = token.token.to_string().into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(status_list::MEDIA_TYPE),
        );
        response
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&format!("public, max-age={max_age}")) {
        headers.insert(header::CACHE_CONTROL, value);
    }
    if let Ok(value) = HeaderValue::from_str(&token.etag) {
        headers.insert(header::ETAG, value);
    }
    allow_any_origin(&mut response);
    response
}

/// Status lists are public and meant for browsers too (draft §8.1: CORS).
fn allow_any_origin(response: &mut Response) {
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
}

/// Whether `If-None-Match` names `etag` (or `*`).
fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        })
}

#[cfg(test)]
mod tests {
    use super::form_decode;

    #[test]
    fn form_decoding_is_rfc_6749_appendix_b() {
        assert_eq!(form_decode("a%3Ab%26c%3Dd+e").as_deref(), Some("a:b&c=d e"));
        assert_eq!(form_decode("raw&=ok").as_deref(), Some("raw&=ok"));
        assert_eq!(form_decode("%C3%A9t%C3%A9").as_deref(), Some("été"));
        for broken in ["%", "%4", "%zz", "%FF"] {
            assert_eq!(form_decode(broken), None, "{broken}");
        }
    }
}

//! An in-process stand-in for API Gateway (REST API semantics) in front of
//! the issuer and books routers: the same `TOKEN` authorizer event, the same
//! authorizer cache per token, the same policy evaluation and the same
//! request context that the routers see on AWS.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use authorizer::bearer_credential;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequestContext;
use lambda_http::request::RequestContext;
use moka::sync::Cache;
use serde_json::{json, Value};
use telemetry::{DiscardSink, MetricsSink};
use tower::ServiceExt;

use crate::authorizer_backend::{AuthorizerBackend, AuthorizerFailure};
use crate::gateway_metrics;
use crate::policy_eval::{evaluate, Verdict};

/// The local API's ARN prefix (`apiId/stage` = `tollgate/local`).
pub const API_BASE: &str = "arn:aws:execute-api:local:000000000000:tollgate/local";

/// Most bytes of tokens and answers the authorizer cache holds.
pub const ANSWER_CACHE_BYTES: u64 = 32 * 1024 * 1024;

/// The gateway's parts.
pub struct Gateway {
    authorizer: AuthorizerBackend,
    issuer: Router,
    books: Router,
    /// Authorizer answers by bearer token; `None` when the TTL is 0.
    answers: Option<Cache<String, Arc<Value>>>,
    metrics: Arc<dyn MetricsSink>,
    /// Bumped by every flush: an answer computed before a flush is not
    /// cached after it (it may have used keys that are gone).
    flushes: AtomicU64,
}

impl Gateway {
    /// A gateway over the issuer and books routers, caching authorizer
    /// answers per token for `authorizer_cache_ttl` (zero: no cache).
    pub fn new(
        authorizer: AuthorizerBackend,
        issuer: Router,
        books: Router,
        cache_ttl: Duration,
    ) -> Self {
        let answers = (!cache_ttl.is_zero()).then(|| {
            Cache::builder()
                // Bounded in bytes, not entries: a token may be kilobytes long.
                .weigher(|token: &String, answer: &Arc<Value>| {
                    u32::try_from(token.len() + answer.to_string().len()).unwrap_or(u32::MAX)
                })
                .max_capacity(ANSWER_CACHE_BYTES)
                .time_to_live(cache_ttl)
                .build()
        });
        Self {
            authorizer,
            issuer,
            books,
            answers,
            metrics: Arc::new(DiscardSink),
            flushes: AtomicU64::new(0),
        }
    }

    /// Records `Requests` and `Latency` per answer to `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<dyn MetricsSink>) -> Self {
        self.metrics = metrics;
        self
    }

    /// The gateway as a router: public routes, protected routes, `/healthz`.
    pub fn router(self: Arc<Self>) -> Router {
        Router::new().fallback(dispatch).with_state(self)
    }

    /// How many authorizer answers are cached now.
    pub fn cached_answers(&self) -> u64 {
        self.answers.as_ref().map_or(0, |answers| {
            answers.run_pending_tasks();
            answers.entry_count()
        })
    }

    /// Empties the authorizer cache, as `FlushStageAuthorizersCache` does.
    pub fn flush_authorizer_cache(&self) {
        self.flushes.fetch_add(1, Ordering::SeqCst);
        if let Some(answers) = &self.answers {
            answers.invalidate_all();
        }
    }

    /// After keys were revoked (or left the keyset): the authorizer drops
    /// them and refetches the JWKS first, then the answer cache is flushed.
    /// In the other order a request in between would re-cache an answer made
    /// with the old keys for the whole TTL.
    pub async fn keys_revoked(&self, kids: &[String]) {
        self.authorizer.keys_revoked(kids).await;
        self.flush_authorizer_cache();
    }

    /// After tokens were revoked: the in-process authorizer's status lists
    /// are due again (and unusable until fetched), then the answer cache is
    /// flushed, so a revoked token's cached Allow is not served again.
    pub fn tokens_revoked(&self) {
        self.authorizer.tokens_revoked();
        self.flush_authorizer_cache();
    }
}

/// API Gateway's quota on a REST request: the request line and all header
/// names and values together at most 10240 bytes (above it: 431).
pub const MAX_REQUEST_HEAD_BYTES: usize = 10 * 1024;

fn head_too_large(request: &Request) -> bool {
    let target = request
        .uri()
        .path_and_query()
        .map_or(0, |target| target.as_str().len());
    let line = request.method().as_str().len() + target;
    let headers: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    line + headers > MAX_REQUEST_HEAD_BYTES
}

/// A path that could mean something else after decoding: a `.` or `..`
/// segment (raw or percent-encoded) or an encoded `/` or `\`. Refused
/// before routing, so no route or policy ever sees it.
fn ambiguous_path(raw_path: &str) -> bool {
    let lower = raw_path.to_ascii_lowercase();
    if lower.contains("%2f") || lower.contains("%5c") || raw_path.contains('\\') {
        return true;
    }
    raw_path.split('/').any(|segment| {
        let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
        decoded == "." || decoded == ".."
    })
}

/// API Gateway's own error bodies.
fn gateway_error(status: StatusCode, message: Option<&str>) -> Response {
    (status, axum::Json(json!({ "message": message }))).into_response()
}

async fn dispatch(State(gateway): State<Arc<Gateway>>, request: Request) -> Response {
    let started = Instant::now();
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let (response, cache_hit) = route(&gateway, request).await;
    let (status, latency_ms) = (
        response.status().as_u16(),
        started.elapsed().as_secs_f64() * 1000.0,
    );
    gateway_metrics::record(
        gateway.metrics.as_ref(),
        &path,
        cache_hit.is_some(),
        status,
        latency_ms,
    );
    tracing::info!(%method, %path, status, latency_ms, authorizer_cache_hit = ?cache_hit, "request");
    response
}

async fn route(gateway: &Arc<Gateway>, request: Request) -> (Response, Option<bool>) {
    if head_too_large(&request) {
        return (
            gateway_error(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                Some("Request Header Fields Too Large"),
            ),
            None,
        );
    }
    if ambiguous_path(request.uri().path()) {
        return (
            gateway_error(StatusCode::BAD_REQUEST, Some("Bad Request")),
            None,
        );
    }
    let path = request.uri().path();
    if path == "/healthz" && request.method() == Method::GET {
        return (
            (StatusCode::OK, axum::Json(json!({"status": "ok"}))).into_response(),
            None,
        );
    }
    let revokes_tokens =
        request.method() == Method::POST && (path == "/revoke" || path == "/admin/tokens/revoke");
    if gateway_metrics::is_public(path) {
        let request = with_public_context(request);
        let response = forward(&gateway.issuer, request).await;
        if revokes_tokens && response.status().is_success() {
            gateway.tokens_revoked();
        }
        return (response, None);
    }
    let target = if path == "/books" || path.starts_with("/books/") {
        &gateway.books
    } else if path.starts_with("/admin/") {
        &gateway.issuer
    } else {
        return (
            gateway_error(StatusCode::NOT_FOUND, Some("Not Found")),
            None,
        );
    };
    // `POST /admin/keys/{kid}/revoke`: the kid, when this is a key revocation.
    let revoked_kid = (request.method() == Method::POST)
        .then(|| path.strip_prefix("/admin/keys/")?.strip_suffix("/revoke"))
        .flatten()
        .filter(|kid| !kid.is_empty() && !kid.contains('/'))
        .map(str::to_owned);
    let (request, cache_hit) = match authorize(gateway, request).await {
        Ok(authorized) => authorized,
        Err(refusal) => return (refusal, None),
    };
    let response = forward(target, request).await;
    if let Some(kid) = revoked_kid.filter(|_| response.status().is_success()) {
        // The in-process authorizer is part of this gateway: the revoked key
        // and every answer made with it go at once.
        gateway.keys_revoked(&[kid]).await;
    }
    if revokes_tokens && response.status().is_success() {
        gateway.tokens_revoked();
    }
    (response, Some(cache_hit))
}

async fn forward(router: &Router, request: Request) -> Response {
    match router.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// The peer's IP address, as API Gateway's `identity.sourceIp`.
fn source_ip(request: &Request) -> Option<String> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip().to_string())
}

/// The REST request context every route sees: method, path, stage, API,
/// account and the client address (no authorizer part). Built field by
/// field, not through JSON: it is made on every request.
fn request_context(request: &Request) -> ApiGatewayProxyRequestContext {
    let mut context = ApiGatewayProxyRequestContext::default();
    context.http_method = request.method().clone();
    context.path = Some(request.uri().path().to_owned());
    context.stage = Some("local".to_owned());
    context.apiid = Some("tollgate".to_owned());
    context.account_id = Some("000000000000".to_owned());
    context.identity.source_ip = source_ip(request);
    context
}

/// Unauthenticated routes get a request context too (no authorizer part),
/// so the issuer sees the client address it throttles logins by.
fn with_public_context(mut request: Request) -> Request {
    let context = request_context(&request);
    request
        .extensions_mut()
        .insert(RequestContext::ApiGatewayV1(context));
    request
}

/// Runs the authorizer (or reuses its cached answer) and evaluates the policy
/// for this request's `methodArn`. On Allow, returns the request carrying the
/// authorizer context as `lambda_http` would present it.
async fn authorize(gateway: &Gateway, mut request: Request) -> Result<(Request, bool), Response> {
    let Some(authorization) = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
    else {
        return Err(gateway_error(
            StatusCode::UNAUTHORIZED,
            Some("Unauthorized"),
        ));
    };
    let method_arn = format!("{API_BASE}/{}{}", request.method(), request.uri().path());
    let (answer, cache_hit) = authorizer_answer(gateway, &authorization, &method_arn).await?;
    check_policy(&answer, &method_arn)
        .and_then(|()| insert_authorizer_context(&mut request, &answer))
        .map_err(|(status, message)| gateway_error(status, message))?;
    request.headers_mut().insert(
        "x-tollgate-authorizer-cache",
        HeaderValue::from_static(if cache_hit { "hit" } else { "miss" }),
    );
    Ok((request, cache_hit))
}

/// The authorizer's answer for this `Authorization` header, from the cache
/// when caching is on and the token was seen, and whether it was a hit.
/// Refusals and failures become the gateway's own 401 and 500.
async fn authorizer_answer(
    gateway: &Gateway,
    authorization: &str,
    method_arn: &str,
) -> Result<(Arc<Value>, bool), Response> {
    // The key is the token as the authorizer reads it (RFC 6750), so variants
    // of one header share an entry and a malformed one is never answered
    // from the cache. No cache (TTL 0): no key to find and copy.
    let cache_key = gateway
        .answers
        .as_ref()
        .and_then(|_| bearer_credential(authorization))
        .map(str::to_owned);
    let cached = gateway
        .answers
        .as_ref()
        .zip(cache_key.as_ref())
        .and_then(|(answers, key)| answers.get(key));
    if let Some(answer) = cached {
        return Ok((answer, true));
    }
    let flushes_seen = gateway.flushes.load(Ordering::SeqCst);
    let event =
        json!({"type": "TOKEN", "authorizationToken": authorization, "methodArn": method_arn});
    match gateway.authorizer.invoke(event).await {
        Ok(answer) => {
            let answer = Arc::new(answer);
            if let (Some(answers), Some(key)) = (&gateway.answers, cache_key) {
                answers.insert(key.clone(), Arc::clone(&answer));
                // A flush since the authorizer was called: undo.
                if gateway.flushes.load(Ordering::SeqCst) != flushes_seen {
                    answers.invalidate(&key);
                }
            }
            Ok((answer, false))
        }
        Err(AuthorizerFailure::Unauthorized) => Err(gateway_error(
            StatusCode::UNAUTHORIZED,
            Some("Unauthorized"),
        )),
        Err(AuthorizerFailure::Failed(_)) => {
            Err(gateway_error(StatusCode::INTERNAL_SERVER_ERROR, None))
        }
    }
}

/// A gateway refusal not yet rendered: its status and `message`, as
/// [`gateway_error`] takes them.
type Refusal = (StatusCode, Option<&'static str>);

/// API Gateway's verdict on the answer's policy for `method_arn`: 403 on
/// Deny, 500 when there is no policy or it cannot be read.
fn check_policy(answer: &Value, method_arn: &str) -> Result<(), Refusal> {
    let Some(policy) = answer.get("policyDocument") else {
        return Err((StatusCode::INTERNAL_SERVER_ERROR, None));
    };
    match evaluate(policy, method_arn) {
        Ok(Verdict::Allow) => Ok(()),
        Ok(Verdict::Deny) => Err((
            StatusCode::FORBIDDEN,
            Some("User is not authorized to access this resource"),
        )),
        Err(_) => Err((StatusCode::INTERNAL_SERVER_ERROR, None)),
    }
}

/// The request context the routers see on AWS: the answer's `context`
/// fields plus its `principalId` under `authorizer`.
/// API Gateway answers 500 when `context` is anything but an object.
fn insert_authorizer_context(request: &mut Request, answer: &Value) -> Result<(), Refusal> {
    let mut context = request_context(request);
    let fields = &mut context.authorizer.fields;
    match answer.get("context") {
        Some(Value::Object(map)) => {
            fields.extend(
                map.iter()
                    .map(|(name, value)| (name.clone(), value.clone())),
            );
        }
        None | Some(Value::Null) => {}
        Some(_) => return Err((StatusCode::INTERNAL_SERVER_ERROR, None)),
    }
    if let Some(principal) = answer.get("principalId") {
        fields.insert("principalId".to_owned(), principal.clone());
    }
    request
        .extensions_mut()
        .insert(RequestContext::ApiGatewayV1(context));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_segments_and_encoded_separators_are_ambiguous() {
        for path in [
            "/books/../admin/keys",
            "/books/%2e%2e/admin/keys",
            "/books/%2E%2e",
            "/books/.",
            "/books/%2E",
            "/books%2fx",
            "/books/a%2Fb",
            "/books/a%5cb",
            "/books/a\\b",
        ] {
            assert!(ambiguous_path(path), "{path}");
        }
        for path in [
            "/books",
            "/books/01ARZ3NDEKTSV4RRFFQ69G5FAV",
            "/books/a..b",
            "/.well-known/jwks.json",
        ] {
            assert!(!ambiguous_path(path), "{path}");
        }
    }

    #[test]
    fn the_cache_key_is_the_token_of_a_well_formed_bearer_header() {
        assert_eq!(
            bearer_credential("Bearer abc.def-_~+/=="),
            Some("abc.def-_~+/==")
        );
        assert_eq!(bearer_credential("bearer   abc.def"), Some("abc.def"));
        assert_eq!(bearer_credential("BEARER abc"), Some("abc"));
        for refused in [
            "Bearer",
            "Bearer ",
            "Basic abc",
            "Bearer abc def",
            "Bearer a=b",
            "abc",
        ] {
            assert_eq!(bearer_credential(refused), None, "{refused:?}");
        }
    }

    fn authorizer_fields(answer: Value) -> Result<Value, Refusal> {
        let mut request = Request::builder()
            .method(Method::GET)
            .uri("/books/42")
            .body(axum::body::Body::empty())
            .map_err(|_| (StatusCode::BAD_REQUEST, None))?;
        insert_authorizer_context(&mut request, &answer)?;
        let Some(RequestContext::ApiGatewayV1(context)) = request.extensions().get() else {
            return Err((StatusCode::NOT_FOUND, None));
        };
        assert_eq!(context.http_method, Method::GET);
        assert_eq!(context.path.as_deref(), Some("/books/42"));
        assert_eq!(context.stage.as_deref(), Some("local"));
        Ok(json!(context.authorizer.fields))
    }

    #[test]
    fn the_routes_see_the_answers_context_and_principal_under_authorizer() {
        let fields = authorizer_fields(
            json!({"principalId": "alice", "context": {"scope": "books:read", "n": 1}}),
        );
        assert_eq!(
            fields,
            Ok(json!({"principalId": "alice", "scope": "books:read", "n": 1}))
        );
        assert_eq!(
            authorizer_fields(json!({"principalId": "bob"})),
            Ok(json!({"principalId": "bob"}))
        );
    }

    #[test]
    fn a_context_that_is_not_an_object_is_a_gateway_500() {
        for context in [json!("text"), json!([1]), json!(3)] {
            assert_eq!(
                authorizer_fields(json!({"principalId": "alice", "context": context})),
                Err((StatusCode::INTERNAL_SERVER_ERROR, None))
            );
        }
    }
}

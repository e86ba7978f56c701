//! An in-process stand-in for API Gateway (REST API semantics) in front of
//! the issuer and books routers: the same `TOKEN` authorizer event, the same
//! authorizer cache per token, the same policy evaluation and the same
//! request context that the routers see on AWS.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use lambda_http::request::RequestContext;
use moka::sync::Cache;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::authorizer_backend::{AuthorizerBackend, AuthorizerFailure};
use crate::policy_eval::{evaluate, Verdict};

/// The local API's ARN prefix (`apiId/stage` = `tollgate/local`).
pub const API_BASE: &str = "arn:aws:execute-api:local:000000000000:tollgate/local";

/// The gateway's parts.
pub struct Gateway {
    authorizer: AuthorizerBackend,
    issuer: Router,
    books: Router,
    /// Authorizer answers by `Authorization` value; `None` when the TTL is 0.
    answers: Option<Cache<String, Arc<Value>>>,
}

impl Gateway {
    pub fn new(
        authorizer: AuthorizerBackend,
        issuer: Router,
        books: Router,
        cache_ttl: Duration,
    ) -> Self {
        let answers = (!cache_ttl.is_zero()).then(|| {
            Cache::builder()
                .max_capacity(10_000)
                .time_to_live(cache_ttl)
                .build()
        });
        Self {
            authorizer,
            issuer,
            books,
            answers,
        }
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
        if let Some(answers) = &self.answers {
            answers.invalidate_all();
        }
    }
}

/// API Gateway's own error bodies.
fn gateway_error(status: StatusCode, message: Option<&str>) -> Response {
    (status, axum::Json(json!({ "message": message }))).into_response()
}

async fn dispatch(State(gateway): State<Arc<Gateway>>, request: Request) -> Response {
    let started = Instant::now();
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let (response, cache_hit) = route(&gateway, request).await;
    tracing::info!(%method, %path, status = response.status().as_u16(), latency_ms = started.elapsed().as_secs_f64() * 1000.0, authorizer_cache_hit = ?cache_hit, "request");
    response
}

async fn route(gateway: &Arc<Gateway>, request: Request) -> (Response, Option<bool>) {
    let path = request.uri().path();
    if path == "/healthz" && request.method() == Method::GET {
        return (
            (StatusCode::OK, axum::Json(json!({"status": "ok"}))).into_response(),
            None,
        );
    }
    if path == "/token" || path.starts_with("/.well-known/") {
        return (forward(&gateway.issuer, request).await, None);
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
    let revoking = request.method() == Method::POST
        && path.starts_with("/admin/keys/")
        && path.ends_with("/revoke");
    let (request, cache_hit) = match authorize(gateway, request).await {
        Ok(authorized) => authorized,
        Err(refusal) => return (refusal, None),
    };
    let response = forward(target, request).await;
    if revoking && response.status().is_success() {
        gateway.flush_authorizer_cache();
        // The authorizer is part of this stack: the revoked key and its
        // cached decisions go at once.
        gateway.authorizer.key_revoked().await;
    }
    (response, Some(cache_hit))
}

async fn forward(router: &Router, request: Request) -> Response {
    match router.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
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
    let cached = gateway
        .answers
        .as_ref()
        .and_then(|answers| answers.get(&authorization));
    let cache_hit = cached.is_some();
    let answer = match cached {
        Some(answer) => answer,
        None => {
            let event = json!({"type": "TOKEN", "authorizationToken": authorization, "methodArn": method_arn});
            match gateway.authorizer.invoke(event).await {
                Ok(answer) => {
                    let answer = Arc::new(answer);
                    if let Some(answers) = &gateway.answers {
                        answers.insert(authorization, Arc::clone(&answer));
                    }
                    answer
                }
                Err(AuthorizerFailure::Unauthorized) => {
                    return Err(gateway_error(
                        StatusCode::UNAUTHORIZED,
                        Some("Unauthorized"),
                    ))
                }
                Err(AuthorizerFailure::Failed(_)) => {
                    return Err(gateway_error(StatusCode::INTERNAL_SERVER_ERROR, None))
                }
            }
        }
    };
    let Some(policy) = answer.get("policyDocument") else {
        return Err(gateway_error(StatusCode::INTERNAL_SERVER_ERROR, None));
    };
    match evaluate(policy, &method_arn) {
        Ok(Verdict::Allow) => {}
        Ok(Verdict::Deny) => {
            return Err(gateway_error(
                StatusCode::FORBIDDEN,
                Some("User is not authorized to access this resource"),
            ))
        }
        Err(_) => return Err(gateway_error(StatusCode::INTERNAL_SERVER_ERROR, None)),
    }
    let mut fields = answer.get("context").cloned().unwrap_or_else(|| json!({}));
    if let (Value::Object(map), Some(principal)) = (&mut fields, answer.get("principalId")) {
        map.insert("principalId".to_owned(), principal.clone());
    }
    let context = json!({"httpMethod": request.method().as_str(), "stage": "local", "apiId": "tollgate",
        "accountId": "000000000000", "path": request.uri().path(), "authorizer": fields});
    match serde_json::from_value(context) {
        Ok(context) => {
            request
                .extensions_mut()
                .insert(RequestContext::ApiGatewayV1(context));
        }
        Err(_) => return Err(gateway_error(StatusCode::INTERNAL_SERVER_ERROR, None)),
    }
    request.headers_mut().insert(
        "x-tollgate-authorizer-cache",
        HeaderValue::from_static(if cache_hit { "hit" } else { "miss" }),
    );
    Ok((request, cache_hit))
}

//! An in-process stand-in for API Gateway (REST API semantics) in front of
//! the issuer and books routers: the demo API's route table decides what is
//! open and what goes through the authorizer, with the same `TOKEN`
//! authorizer event, the same authorizer cache per token, the same policy
//! evaluation and the same request context that the routers see on AWS.
//!
//! The map: `guards` (what is refused before routing), `authorize` (the
//! authorizer's answer and the policy's verdict), `answer_cache`,
//! [`policy_eval`] (IAM's evaluation of the answer), `context` (what the
//! routers see), `metrics`.

mod answer_cache;
mod authorize;
mod context;
mod guards;
mod metrics;
pub mod policy_eval;

use std::sync::Arc;
use std::time::{Duration, Instant};

use api_routes::{ApiRoutes, Function};
use async_trait::async_trait;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use issuer::{RevocationListener, Revoked};
use serde_json::json;
use telemetry::{DiscardSink, MetricsSink};
use tower::ServiceExt;

use crate::authorizer_backend::AuthorizerBackend;
use answer_cache::AnswerCache;
use guards::gateway_error;

/// The gateway's parts.
pub struct Gateway {
    authorizer: AuthorizerBackend,
    issuer: Router,
    books: Router,
    /// What is open, what is behind the authorizer, and who serves it.
    routes: ApiRoutes,
    /// The host and port clients call (the authorizer events' `domainName`).
    domain_name: String,
    answers: AnswerCache,
    metrics: Arc<dyn MetricsSink>,
}

impl Gateway {
    /// A gateway routing by `routes` to the issuer and books routers,
    /// caching authorizer answers per token for `cache_ttl` (zero: no cache),
    /// answering at `domain_name` (host and port).
    pub fn new(
        authorizer: AuthorizerBackend,
        issuer: Router,
        books: Router,
        routes: ApiRoutes,
        cache_ttl: Duration,
        domain_name: String,
    ) -> Self {
        Self {
            authorizer,
            issuer,
            books,
            routes,
            domain_name,
            answers: AnswerCache::new(cache_ttl),
            metrics: Arc::new(DiscardSink),
        }
    }

    /// Records `Requests` and `Latency` per answer to `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<dyn MetricsSink>) -> Self {
        self.metrics = metrics;
        self
    }

    /// The gateway as a router: every route of the table, and `/healthz`.
    pub fn router(self: Arc<Self>) -> Router {
        Router::new().fallback(dispatch).with_state(self)
    }

    /// How many authorizer answers are cached now.
    pub fn cached_answers(&self) -> u64 {
        self.answers.len()
    }

    /// Empties the authorizer cache, as `FlushStageAuthorizersCache` does.
    pub fn flush_authorizer_cache(&self) {
        self.answers.clear();
    }

    /// After keys were revoked (or left the keyset): the authorizer drops
    /// them and refetches the JWKS first, then the answers made with them
    /// go. In the other order a request in between would re-cache an answer
    /// made with the old keys for the whole TTL.
    pub async fn keys_revoked(&self, kids: &[String]) {
        if kids.is_empty() {
            return;
        }
        self.authorizer.keys_revoked(kids).await;
        self.answers.drop_kids(kids);
    }

    /// After tokens were revoked (their status list URIs and indices): the
    /// in-process authorizer's copies of those lists are due again (and
    /// unusable until fetched), then those tokens' cached answers go.
    pub fn tokens_revoked(&self, entries: Vec<(String, u64)>) {
        if entries.is_empty() {
            return;
        }
        let mut uris: Vec<String> = entries.iter().map(|(uri, _)| uri.clone()).collect();
        uris.dedup();
        self.authorizer.status_lists_changed(&uris);
        self.answers.drop_status_entries(entries);
    }
}

/// The issuer says what each revocation it served took out of service;
/// the gateway drops exactly that before the revocation is answered.
#[async_trait]
impl RevocationListener for Gateway {
    async fn revoked(&self, revoked: &Revoked) {
        match revoked {
            Revoked::Key { kid } => self.keys_revoked(std::slice::from_ref(kid)).await,
            Revoked::Tokens { entries } => self.tokens_revoked(
                entries
                    .iter()
                    .map(|entry| (entry.uri.clone(), entry.idx))
                    .collect(),
            ),
        }
    }
}

async fn dispatch(State(gateway): State<Arc<Gateway>>, request: Request) -> Response {
    let started = Instant::now();
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let public = gateway.routes.is_public(&path) || path == "/healthz";
    let (response, cache_hit) = route(&gateway, request).await;
    let (status, latency_ms) = (
        response.status().as_u16(),
        started.elapsed().as_secs_f64() * 1000.0,
    );
    metrics::record(
        gateway.metrics.as_ref(),
        metrics::decision(public, cache_hit.is_some(), status),
        status,
        latency_ms,
    );
    tracing::info!(%method, %path, status, latency_ms, authorizer_cache_hit = ?cache_hit, "request");
    response
}

/// The request's answer, and whether the authorizer cache answered (`None`:
/// no authorizer was involved).
async fn route(gateway: &Gateway, request: Request) -> (Response, Option<bool>) {
    if let Some(refusal) = guards::refusal(&request) {
        return (refusal, None);
    }
    let path = request.uri().path();
    if path == "/healthz" && request.method() == Method::GET {
        let healthy = (StatusCode::OK, axum::Json(json!({"status": "ok"})));
        return (healthy.into_response(), None);
    }
    let Some(method) = gateway.routes.method_for(request.method().as_str(), path) else {
        return (
            gateway_error(StatusCode::NOT_FOUND, Some("Not Found")),
            None,
        );
    };
    let target = match method.function {
        Function::Issuer => &gateway.issuer,
        Function::Backend => &gateway.books,
    };
    if !method.authorized {
        let request = context::with_public_context(request);
        return (forward(target, request).await, None);
    }
    let authorized = authorize::authorize(
        &gateway.authorizer,
        &gateway.answers,
        &gateway.domain_name,
        request,
    )
    .await;
    match authorized {
        Ok((request, cache_hit)) => (forward(target, request).await, Some(cache_hit)),
        Err(refusal) => (refusal, None),
    }
}

async fn forward(router: &Router, request: Request) -> Response {
    match router.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

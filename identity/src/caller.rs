//! Who is calling, read only from the authorizer's request context, and the
//! stage to strip from the path.

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Request, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use lambda_http::request::RequestContext;
use serde_json::Value;

use crate::Problem;

/// The authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The token's subject (`sub`).
    pub sub: String,
    /// The token's issuer, when the authorizer passed it (Tollgate's does):
    /// a `sub` is only unique within its issuer.
    pub iss: Option<String>,
    /// The granted scopes, from the context's space-separated `scope`.
    pub scopes: Vec<String>,
}

impl Caller {
    /// Whether the caller was granted `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// Reads `sub` and `scope`. `None` when `sub` is missing: callers fail closed.
    pub fn from_context(context: &RequestContext) -> Option<Self> {
        let fields = match context {
            RequestContext::ApiGatewayV1(ctx) => &ctx.authorizer.fields,
            RequestContext::ApiGatewayV2(ctx) => &ctx.authorizer.as_ref()?.fields,
            _ => return None,
        };
        let sub = fields
            .get("sub")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())?;
        let scope = fields.get("scope").and_then(Value::as_str).unwrap_or("");
        Some(Self {
            sub: sub.to_owned(),
            iss: fields
                .get("iss")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            scopes: scope
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        })
    }
}

/// The client address API Gateway saw (`identity.sourceIp` of a REST
/// context, `http.sourceIp` of an HTTP API one).
pub fn source_ip(context: &RequestContext) -> Option<String> {
    let ip = match context {
        RequestContext::ApiGatewayV1(ctx) => ctx.identity.source_ip.clone(),
        RequestContext::ApiGatewayV2(ctx) => ctx.http.source_ip.clone(),
        _ => None,
    };
    ip.filter(|ip| !ip.is_empty())
}

/// What the client's path had in front of `routed_path` (the path the
/// router matched, stage stripped): the stage (`/prod`) or a custom
/// domain's base path, read from the request context's own path. Empty
/// when there is none or the context does not say.
pub fn path_prefix<'a>(context: &'a RequestContext, routed_path: &str) -> &'a str {
    let client_path = match context {
        RequestContext::ApiGatewayV1(ctx) => ctx.path.as_deref(),
        RequestContext::ApiGatewayV2(ctx) => ctx.http.path.as_deref(),
        _ => None,
    };
    client_path
        .and_then(|path| path.strip_suffix(routed_path))
        .filter(|prefix| prefix.is_empty() || (prefix.starts_with('/') && !prefix.ends_with('/')))
        .unwrap_or("")
}

/// No identity in the request context: 401, as `application/problem+json`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MissingIdentity;

impl IntoResponse for MissingIdentity {
    fn into_response(self) -> Response {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "about:blank#unauthorized",
            "Unauthorized",
        )
        .with_detail("no caller identity in the request context")
        .into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = MissingIdentity;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<RequestContext>()
            .and_then(Caller::from_context)
            .ok_or(MissingIdentity)
    }
}

/// lambda_http puts a REST API's stage in front of the path (`/prod/books`);
/// routes are stage-independent, so it is removed, using the stage that the
/// request context names.
pub async fn strip_stage(mut request: Request<Body>) -> Request<Body> {
    let stage = match request.extensions().get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.stage.clone(),
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.stage.clone(),
        _ => None,
    };
    let Some(stage) = stage.filter(|s| !s.is_empty() && s != "$default") else {
        return request;
    };
    let prefix = format!("/{stage}");
    let path = request.uri().path();
    let rest = match path.strip_prefix(&prefix) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => rest,
        _ => return request,
    };
    let rest = if rest.is_empty() { "/" } else { rest };
    let path_and_query = match request.uri().query() {
        Some(query) => format!("{rest}?{query}"),
        None => rest.to_owned(),
    };
    let mut parts = request.uri().clone().into_parts();
    if let Ok(stripped) = path_and_query.parse() {
        parts.path_and_query = Some(stripped);
        if let Ok(uri) = Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
    request
}

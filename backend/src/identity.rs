//! Who is calling: read only from the authorizer's request context, which
//! API Gateway (or the local gateway) fills. Never from a header a client can set.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use lambda_http::request::RequestContext;
use serde_json::Value;

use crate::problem::Problem;

pub const READ_SCOPE: &str = "books:read";
pub const WRITE_SCOPE: &str = "books:write";
/// May change or delete any book, not only its own.
pub const ADMIN_SCOPE: &str = "books:admin";

/// The authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub sub: String,
    pub scopes: Vec<String>,
}

impl Caller {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// Defence in depth: the authorizer already checked the route's scope.
    pub fn require(&self, scope: &str) -> Result<(), Problem> {
        if self.has_scope(scope) {
            Ok(())
        } else {
            Err(Problem::forbidden(format!("this needs the {scope} scope")))
        }
    }

    /// Owners and admins may change a book.
    pub fn may_change(&self, owner: &str) -> bool {
        self.sub == owner || self.has_scope(ADMIN_SCOPE)
    }

    /// Reads `sub` and `scope` from the REST flat authorizer map or the HTTP
    /// API `lambda` map. `None` when either is missing: callers fail closed.
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
            scopes: scope
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<RequestContext>()
            .and_then(Caller::from_context)
            .ok_or_else(Problem::unauthorized)
    }
}

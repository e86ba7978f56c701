//! The REST request context the routers see, as `lambda_http` presents API
//! Gateway's: method, path, stage, API, account and client address, plus
//! the authorizer's `context` and `principalId` on authorized routes.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request};
use axum::http::StatusCode;
use lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequestContext;
use lambda_http::request::RequestContext;
use serde_json::Value;

/// The local API's id, stage and account, as they appear in its ARNs.
pub(super) const API_ID: &str = "tollgate";
pub(super) const STAGE: &str = "local";
pub(super) const ACCOUNT_ID: &str = "000000000000";

/// The local API's ARN prefix (`apiId/stage` = `tollgate/local`).
pub const API_BASE: &str = "arn:aws:execute-api:local:000000000000:tollgate/local";

/// A gateway refusal not yet rendered: its status and `message`.
pub(super) type Refusal = (StatusCode, Option<&'static str>);

/// The peer's IP address, as API Gateway's `identity.sourceIp`.
pub(super) fn source_ip(request: &Request) -> Option<String> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip().to_string())
}

/// The context every route sees (no authorizer part). Built field by field,
/// not through JSON: it is made on every request.
fn request_context(request: &Request) -> ApiGatewayProxyRequestContext {
    let mut context = ApiGatewayProxyRequestContext::default();
    context.http_method = request.method().clone();
    context.path = Some(request.uri().path().to_owned());
    context.stage = Some(STAGE.to_owned());
    context.apiid = Some(API_ID.to_owned());
    context.account_id = Some(ACCOUNT_ID.to_owned());
    context.identity.source_ip = source_ip(request);
    context
}

/// Unauthenticated routes get a request context too (no authorizer part),
/// so the issuer sees the client address it throttles logins by.
pub(super) fn with_public_context(mut request: Request) -> Request {
    let context = request_context(&request);
    request
        .extensions_mut()
        .insert(RequestContext::ApiGatewayV1(context));
    request
}

/// The request context the routers see on AWS: the answer's `context`
/// fields plus its `principalId` under `authorizer`.
/// API Gateway answers 500 when `context` is anything but an object.
pub(super) fn insert_authorizer_context(
    request: &mut Request,
    answer: &Value,
) -> Result<(), Refusal> {
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
    use axum::http::Method;
    use serde_json::json;

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
    fn the_api_base_names_this_api_stage_and_account() {
        assert_eq!(
            API_BASE,
            format!("arn:aws:execute-api:local:{ACCOUNT_ID}:{API_ID}/{STAGE}")
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

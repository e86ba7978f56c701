//! The three authorizer event shapes API Gateway sends, and the bearer
//! token and route each carries.

use aws_lambda_events::event::apigw::{
    ApiGatewayCustomAuthorizerRequest, ApiGatewayCustomAuthorizerRequestTypeRequest,
    ApiGatewayV2CustomAuthorizerV2Request,
};
use aws_lambda_events::http::{self, HeaderMap};
use serde_json::Value;

/// An authorizer invocation.
#[derive(Clone, Debug)]
pub enum AuthorizerEvent {
    /// REST API `TOKEN` authorizer.
    Token(ApiGatewayCustomAuthorizerRequest),
    /// REST API `REQUEST` authorizer.
    Request(Box<ApiGatewayCustomAuthorizerRequestTypeRequest>),
    /// HTTP API Lambda authorizer, payload format 2.0.
    HttpApiV2(Box<ApiGatewayV2CustomAuthorizerV2Request>),
}

/// The event was none of the shapes above.
#[derive(Debug, thiserror::Error)]
#[error("not an API Gateway authorizer event")]
pub struct UnknownEvent;

impl AuthorizerEvent {
    /// Recognises the event by its `type` and `version` members.
    pub fn from_json(event: Value) -> Result<Self, UnknownEvent> {
        let kind = event
            .get("type")
            .and_then(Value::as_str)
            .map(str::to_ascii_uppercase);
        let version = event.get("version").and_then(Value::as_str);
        match (kind.as_deref(), version) {
            (Some("TOKEN"), _) => serde_json::from_value(event)
                .map(AuthorizerEvent::Token)
                .map_err(|_| UnknownEvent),
            (Some("REQUEST"), Some("2.0")) => serde_json::from_value(event)
                .map(|e| AuthorizerEvent::HttpApiV2(Box::new(e)))
                .map_err(|_| UnknownEvent),
            (Some("REQUEST"), _) => serde_json::from_value(event)
                .map(|e| AuthorizerEvent::Request(Box::new(e)))
                .map_err(|_| UnknownEvent),
            _ => Err(UnknownEvent),
        }
    }

    /// The bearer token: the `Authorization` value without its `Bearer `
    /// scheme (a bare token is accepted too). HTTP API events may list
    /// several identity sources (`$context.routeKey` among them): the first
    /// that carries a `Bearer` token wins, then the header.
    pub fn bearer_token(&self) -> Option<&str> {
        match self {
            AuthorizerEvent::Token(e) => e.authorization_token.as_deref().and_then(token_of),
            AuthorizerEvent::Request(e) => authorization_header(&e.headers)
                .or_else(|| authorization_header(&e.multi_value_headers))
                .and_then(token_of),
            AuthorizerEvent::HttpApiV2(e) => {
                let sources = e.identity_source.as_deref().unwrap_or_default();
                sources
                    .iter()
                    .find_map(|source| bearer_scheme(source))
                    .or_else(|| authorization_header(&e.headers).and_then(token_of))
            }
        }
    }

    /// The `methodArn` (REST) or `routeArn` (HTTP API) being authorized.
    pub fn route_arn(&self) -> Option<&str> {
        match self {
            AuthorizerEvent::Token(e) => e.method_arn.as_deref(),
            AuthorizerEvent::Request(e) => e.method_arn.as_deref(),
            AuthorizerEvent::HttpApiV2(e) => e.route_arn.as_deref(),
        }
    }
}

fn authorization_header(headers: &HeaderMap) -> Option<&str> {
    headers.get(http::header::AUTHORIZATION)?.to_str().ok()
}

/// The token of an `Authorization` value: `Bearer <token>` or a bare token.
/// Another scheme (Basic, …) or an empty value has none.
fn token_of(value: &str) -> Option<&str> {
    let value = value.trim();
    if value.contains(' ') {
        return bearer_scheme(value);
    }
    (!value.is_empty() && !value.eq_ignore_ascii_case("bearer")).then_some(value)
}

/// The token of a `Bearer <token>` value (scheme case-insensitive), only.
fn bearer_scheme(value: &str) -> Option<&str> {
    let (scheme, rest) = value.trim().split_once(' ')?;
    let token = rest.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn token_event() {
        let e = AuthorizerEvent::from_json(json!({
            "type": "TOKEN", "authorizationToken": "Bearer abc.def.ghi",
            "methodArn": "arn:aws:execute-api:us-east-1:1:api/prod/GET/books"
        }))
        .unwrap();
        assert!(matches!(e, AuthorizerEvent::Token(_)));
        assert_eq!(e.bearer_token(), Some("abc.def.ghi"));
        assert_eq!(
            e.route_arn(),
            Some("arn:aws:execute-api:us-east-1:1:api/prod/GET/books")
        );
    }

    #[test]
    fn request_event_reads_the_header_case_insensitively() {
        let e = AuthorizerEvent::from_json(json!({
            "type": "REQUEST", "methodArn": "arn:aws:execute-api:us-east-1:1:api/prod/GET/books",
            "headers": {"authorization": "bearer tok"}, "requestContext": {}
        }))
        .unwrap();
        assert!(matches!(e, AuthorizerEvent::Request(_)));
        assert_eq!(e.bearer_token(), Some("tok"));
    }

    #[test]
    fn http_api_v2_event_uses_identity_source() {
        let e = AuthorizerEvent::from_json(json!({
            "version": "2.0", "type": "REQUEST",
            "routeArn": "arn:aws:execute-api:us-east-1:1:api/$default/GET/books",
            "identitySource": ["Bearer tok2"], "routeKey": "GET /books",
            "headers": {"authorization": "Bearer other"},
            "requestContext": {"accountId": "1", "apiId": "api", "domainName": "x", "domainPrefix": "x",
                "http": {"method": "GET", "path": "/books", "protocol": "HTTP/1.1", "sourceIp": "1.1.1.1", "userAgent": "x"},
                "requestId": "r", "routeKey": "GET /books", "stage": "$default", "time": "t", "timeEpoch": 0}
        }))
        .unwrap();
        assert!(matches!(e, AuthorizerEvent::HttpApiV2(_)));
        assert_eq!(e.bearer_token(), Some("tok2"));
    }

    #[test]
    fn the_first_bearer_identity_source_wins_over_a_route_key() {
        let e = AuthorizerEvent::from_json(json!({
            "version": "2.0", "type": "REQUEST", "routeArn": "arn:aws:execute-api:us-east-1:1:api/$default/GET/books",
            "identitySource": ["GET /books", "Bearer tok3"], "routeKey": "GET /books", "headers": {},
            "requestContext": {"accountId": "1", "apiId": "api", "domainName": "x", "domainPrefix": "x",
                "http": {"method": "GET", "path": "/books", "protocol": "HTTP/1.1", "sourceIp": "1.1.1.1", "userAgent": "x"},
                "requestId": "r", "routeKey": "GET /books", "stage": "$default", "time": "t", "timeEpoch": 0}
        }))
        .unwrap();
        assert_eq!(e.bearer_token(), Some("tok3"));
    }

    #[test]
    fn other_schemes_and_empty_values_have_no_token() {
        for header in ["Basic dXNlcjpwYXNz", "Bearer ", "", "   "] {
            let e =
                AuthorizerEvent::from_json(json!({"type": "TOKEN", "authorizationToken": header}))
                    .unwrap();
            assert_eq!(e.bearer_token(), None, "{header:?}");
        }
    }

    #[test]
    fn unknown_events_are_refused() {
        for event in [
            json!({}),
            json!({"type": "COGNITO"}),
            json!([1]),
            json!({"type": 5}),
        ] {
            assert!(AuthorizerEvent::from_json(event).is_err());
        }
    }
}

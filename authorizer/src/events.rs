//! The authorizer event shapes API Gateway sends, and what each carries:
//! the credential (`Bearer` or `DPoP`), the route, and for sender
//! constraints the `DPoP` headers, the request's method and URI, and the
//! client certificate.

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
    /// HTTP API Lambda authorizer, payload format 1.0: REST's `REQUEST`
    /// shape, plus `identitySource`, its identity source values joined with
    /// commas (API Gateway's cache key).
    HttpApiV1 {
        /// The event in the REST `REQUEST` shape.
        request: Box<ApiGatewayCustomAuthorizerRequestTypeRequest>,
        /// `identitySource`.
        identity_source: String,
    },
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
            (Some("REQUEST"), Some("1.0")) => {
                let identity_source = match event.get("identitySource") {
                    Some(Value::String(joined)) => joined.clone(),
                    None | Some(Value::Null) => String::new(),
                    Some(_) => return Err(UnknownEvent),
                };
                serde_json::from_value(event)
                    .map(|request| AuthorizerEvent::HttpApiV1 {
                        request: Box::new(request),
                        identity_source,
                    })
                    .map_err(|_| UnknownEvent)
            }
            (Some("REQUEST"), _) => serde_json::from_value(event)
                .map(|e| AuthorizerEvent::Request(Box::new(e)))
                .map_err(|_| UnknownEvent),
            _ => Err(UnknownEvent),
        }
    }

    /// The credential, read only from what API Gateway keys its authorizer
    /// cache on: the `TOKEN` event's `authorizationToken`; for REST `REQUEST`
    /// events the `Authorization` header (which must therefore be an identity
    /// source); for HTTP API events, payload 1.0 and 2.0, the
    /// `identitySource` values alone, the first that is a credential. (A
    /// credential holds no comma, so payload 1.0's comma-joined values split
    /// without ambiguity.)
    pub fn credential(&self) -> Option<Credential<'_>> {
        match self {
            AuthorizerEvent::Token(e) => e.authorization_token.as_deref().and_then(credential),
            AuthorizerEvent::Request(e) => authorization_header(&e.headers)
                .or_else(|| authorization_header(&e.multi_value_headers))
                .and_then(credential),
            AuthorizerEvent::HttpApiV1 {
                identity_source, ..
            } => identity_source.split(',').find_map(credential),
            AuthorizerEvent::HttpApiV2(e) => e
                .identity_source
                .as_deref()
                .unwrap_or_default()
                .iter()
                .find_map(|source| credential(source)),
        }
    }

    /// The token of a `Bearer` credential (see [`Self::credential`]).
    pub fn bearer_token(&self) -> Option<&str> {
        self.credential()
            .filter(|c| c.scheme == Scheme::Bearer)
            .map(|c| c.token)
    }

    /// The HTTP API route key (`GET /books/{id}`, `$default`); `None` for
    /// other event types.
    pub fn route_key(&self) -> Option<&str> {
        match self {
            AuthorizerEvent::HttpApiV2(e) => e.route_key.as_deref(),
            _ => None,
        }
    }

    /// For HTTP API simple responses: whether the event's route key is among
    /// its identity sources, so that API Gateway's cached answer can only be
    /// reused for this route key. An event without a route key, or one
    /// whose client sent the route key's text in a header, query parameter,
    /// cookie or path parameter (which could be the identity source that
    /// holds it), is `false`. `None` for other event types.
    pub fn route_key_in_identity_source(&self) -> Option<bool> {
        let AuthorizerEvent::HttpApiV2(e) = self else {
            return None;
        };
        let Some(route_key) = e.route_key.as_deref() else {
            return Some(false);
        };
        let listed = e
            .identity_source
            .as_deref()
            .unwrap_or_default()
            .iter()
            .any(|source| source == route_key);
        Some(listed && !client_sent(e, route_key))
    }

    /// For HTTP API simple responses under route rules: the request path,
    /// when it is among the identity sources (`$context.path`) and the
    /// client did not also send its text in a header, query parameter,
    /// cookie or path parameter; the cached answer is then reused only for
    /// this path. `None` otherwise.
    pub fn path_in_identity_source(&self) -> Option<&str> {
        let AuthorizerEvent::HttpApiV2(e) = self else {
            return None;
        };
        let sources = e.identity_source.as_deref().unwrap_or_default();
        [
            e.request_context.http.path.as_deref(),
            e.raw_path.as_deref(),
        ]
        .into_iter()
        .flatten()
        .find(|path| sources.iter().any(|s| s == path) && !client_sent(e, path))
    }

    /// The `methodArn` (REST) or `routeArn` (HTTP API) being authorized.
    pub fn route_arn(&self) -> Option<&str> {
        match self {
            AuthorizerEvent::Token(e) => e.method_arn.as_deref(),
            AuthorizerEvent::Request(e) => e.method_arn.as_deref(),
            AuthorizerEvent::HttpApiV1 { request, .. } => request.method_arn.as_deref(),
            AuthorizerEvent::HttpApiV2(e) => e.route_arn.as_deref(),
        }
    }
}

/// Whether the client itself sent `value` as a header, query parameter,
/// cookie or path parameter value: what an identity source other than
/// `$context.routeKey` would carry.
fn client_sent(e: &ApiGatewayV2CustomAuthorizerV2Request, value: &str) -> bool {
    e.headers
        .values()
        .any(|v| v.to_str().is_ok_and(|v| v == value))
        || e.query_string_parameters.values().any(|v| v == value)
        || e.path_parameters.values().any(|v| v == value)
        || e.cookies
            .iter()
            .any(|c| c.split_once('=').is_some_and(|(_, v)| v == value))
}

fn authorization_header(headers: &HeaderMap) -> Option<&str> {
    headers.get(http::header::AUTHORIZATION)?.to_str().ok()
}

/// The authorization scheme a token came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// `Bearer` (RFC 6750): whoever holds the token may use it.
    Bearer,
    /// `DPoP` (RFC 9449 §7.1): a proof of the bound key comes with it.
    DPoP,
}

/// A token and the scheme it came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Credential<'a> {
    /// `Bearer` or `DPoP`.
    pub scheme: Scheme,
    /// The token.
    pub token: &'a str,
}

/// A credential in either scheme: `Bearer 1*SP b64token` (RFC 6750 §2.1)
/// or `DPoP 1*SP token68` (RFC 9449 §7.1, the same characters), the scheme
/// name case-insensitive, nothing before the scheme or after the token. A
/// bare token, another scheme, a tab, a second word or trailing space has
/// none.
pub fn credential(value: &str) -> Option<Credential<'_>> {
    [("bearer", Scheme::Bearer), ("dpop", Scheme::DPoP)]
        .into_iter()
        .find_map(|(name, scheme)| {
            let token = scheme_token(value, name)?;
            Some(Credential { scheme, token })
        })
}

/// The token of a `Bearer` credential (see [`credential`]).
pub fn bearer_credential(value: &str) -> Option<&str> {
    scheme_token(value, "bearer")
}

/// The token after the scheme `name` (lower case) and one or more spaces.
fn scheme_token<'v>(value: &'v str, name: &str) -> Option<&'v str> {
    let scheme = value.get(..name.len())?;
    if !scheme.eq_ignore_ascii_case(name) {
        return None;
    }
    let rest = &value[name.len()..];
    let token = rest.trim_start_matches(' ');
    if token.len() == rest.len() || !is_b64token(token) {
        return None;
    }
    Some(token)
}

/// `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty() && body.bytes().all(|b| B64TOKEN_BYTES[usize::from(b)])
}

/// The bytes of a b64token's body, by value: a token is scanned on every
/// request, and a table lookup per byte beat the comparisons by a few µs
/// for an 800-byte token (docs/load-tests.md).
const B64TOKEN_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < table.len() {
        let b = byte as u8;
        table[byte] =
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/');
        byte += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A TOKEN event carrying `header` as its `authorizationToken`.
    fn token_event_with(header: &str) -> AuthorizerEvent {
        AuthorizerEvent::from_json(json!({"type": "TOKEN", "authorizationToken": header})).unwrap()
    }

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

    /// The review's case: identity sources that do not hold the token (a
    /// tenant header, say). API Gateway caches per identity source, so a
    /// token read from the `Authorization` header would serve one user's
    /// Allow to everyone with the same tenant: the token comes from the
    /// identity sources alone, or there is none.
    #[test]
    fn http_api_v1_events_read_the_token_from_the_identity_sources_only() {
        let event = |identity_source: Value| {
            AuthorizerEvent::from_json(json!({
                "version": "1.0", "type": "REQUEST", "identitySource": identity_source,
                "authorizationToken": identity_source,
                "methodArn": "arn:aws:execute-api:us-east-1:1:api/$default/GET/books",
                "headers": {"Authorization": "Bearer from-header", "X-Tenant": "acme"},
                "requestContext": {}
            }))
            .unwrap()
        };
        let tenant_only = event(json!("acme"));
        assert!(matches!(tenant_only, AuthorizerEvent::HttpApiV1 { .. }));
        assert_eq!(tenant_only.bearer_token(), None, "not from the header");
        assert_eq!(
            event(json!("acme,Bearer tok1")).bearer_token(),
            Some("tok1")
        );
        assert_eq!(event(json!("Bearer tok2")).bearer_token(), Some("tok2"));
        assert_eq!(event(Value::Null).bearer_token(), None);
        assert_eq!(
            event(json!("acme")).route_arn(),
            Some("arn:aws:execute-api:us-east-1:1:api/$default/GET/books")
        );
        assert!(AuthorizerEvent::from_json(json!({
            "version": "1.0", "type": "REQUEST", "identitySource": ["Bearer x"]
        }))
        .is_err());
    }

    /// An HTTP API 2.0 event for `GET /books` with these identity sources
    /// and `Authorization` header.
    fn http_v2(identity_source: Value, authorization: &str) -> AuthorizerEvent {
        AuthorizerEvent::from_json(http_v2_json(identity_source, authorization)).unwrap()
    }

    fn http_v2_json(identity_source: Value, authorization: &str) -> Value {
        json!({
            "version": "2.0", "type": "REQUEST",
            "routeArn": "arn:aws:execute-api:us-east-1:1:api/$default/GET/books",
            "identitySource": identity_source, "routeKey": "GET /books",
            "headers": {"authorization": authorization},
            "requestContext": {"accountId": "1", "apiId": "api", "domainName": "x", "domainPrefix": "x",
                "http": {"method": "GET", "path": "/books", "protocol": "HTTP/1.1", "sourceIp": "1.1.1.1", "userAgent": "x"},
                "requestId": "r", "routeKey": "GET /books", "stage": "$default", "time": "t", "timeEpoch": 0}
        })
    }

    #[test]
    fn http_api_v2_event_uses_identity_source() {
        let e = http_v2(json!(["Bearer tok2"]), "Bearer other");
        assert!(matches!(e, AuthorizerEvent::HttpApiV2(_)));
        assert_eq!(e.bearer_token(), Some("tok2"));
        assert_eq!(e.route_key_in_identity_source(), Some(false));
    }

    #[test]
    fn the_first_bearer_identity_source_wins_over_a_route_key() {
        let e = http_v2(json!(["GET /books", "Bearer tok3"]), "");
        assert_eq!(e.bearer_token(), Some("tok3"));
    }

    #[test]
    fn http_api_events_read_only_the_identity_source() {
        let e = http_v2(json!(["GET /books"]), "Bearer from-header");
        assert_eq!(e.bearer_token(), None);
        assert_eq!(e.route_key_in_identity_source(), Some(true));
    }

    #[test]
    fn a_route_key_the_client_could_have_sent_does_not_count() {
        let with = |extra: Value| {
            let mut event = http_v2_json(json!(["Bearer tok", "GET /books"]), "Bearer tok");
            for (k, v) in extra.as_object().unwrap() {
                event[k] = v.clone();
            }
            AuthorizerEvent::from_json(event).unwrap()
        };
        assert_eq!(with(json!({})).route_key_in_identity_source(), Some(true));
        for spoof in [
            json!({"queryStringParameters": {"tenant": "GET /books"}}),
            json!({"headers": {"authorization": "Bearer tok", "x-tenant": "GET /books"}}),
            json!({"cookies": ["tenant=GET /books"]}),
            json!({"pathParameters": {"proxy": "GET /books"}}),
        ] {
            assert_eq!(
                with(spoof.clone()).route_key_in_identity_source(),
                Some(false),
                "{spoof}"
            );
        }
        // No route key at all: nothing ties the cached answer to a route.
        let mut no_key = http_v2_json(json!(["Bearer tok", "GET /books"]), "Bearer tok");
        no_key.as_object_mut().unwrap().remove("routeKey");
        let e = AuthorizerEvent::from_json(no_key).unwrap();
        assert_eq!(e.route_key(), None);
        assert_eq!(e.route_key_in_identity_source(), Some(false));
        assert_eq!(
            token_event_with("Bearer t").route_key_in_identity_source(),
            None
        );
    }

    #[test]
    fn the_bearer_scheme_is_required_and_nothing_may_follow_the_token() {
        for (header, token) in [
            ("Bearer a.b.c", Some("a.b.c")),
            ("bearer a.b.c", Some("a.b.c")),
            ("BEARER   a.b.c", Some("a.b.c")),
            ("Bearer a+b/c~d_e-f.g==", Some("a+b/c~d_e-f.g==")),
            ("a.b.c", None),
            ("Bearer a.b.c ", None),
            ("Bearer a.b.c extra", None),
            ("Bearer\ta.b.c", None),
            (" Bearer a.b.c", None),
            ("Bearera.b.c", None),
            ("Bearer =", None),
            ("Bearer a=b", None),
            ("Bearer a,b", None),
            ("Token a.b.c", None),
            ("Bearer", None),
        ] {
            assert_eq!(bearer_credential(header), token, "{header:?}");
            let e = token_event_with(header);
            assert_eq!(e.bearer_token(), token, "{header:?}");
        }
    }

    #[test]
    fn a_token_holds_exactly_the_b64token_characters() {
        let allowed: Vec<char> = ('A'..='Z')
            .chain('a'..='z')
            .chain('0'..='9')
            .chain("-._~+/".chars())
            .collect();
        for c in (0u8..=127).map(char::from).chain(['é', '\u{ff}']) {
            let header = format!("Bearer a{c}b");
            let expected = allowed.contains(&c).then(|| &header[7..]);
            assert_eq!(bearer_credential(&header), expected, "{c:?}");
        }
    }

    #[test]
    fn other_schemes_and_empty_values_have_no_token() {
        for header in ["Basic dXNlcjpwYXNz", "Bearer ", "", "   "] {
            let e = token_event_with(header);
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

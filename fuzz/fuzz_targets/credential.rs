//! The `Authorization` header intake: `Bearer` and `DPoP` credentials
//! (RFC 6750 §2.1, RFC 9449 §7.1), as read from a header value and from
//! each event shape that carries one.
//!
//! Asserts: the parse equals an independent reading of the grammar (scheme
//! case-insensitive, one or more spaces, a b64token and nothing after it);
//! the token is a suffix of the value; `bearer_credential` is the Bearer
//! case of `credential`; a TOKEN event and an HTTP API identity source
//! yield the same credential as the bare value.
#![no_main]

use authorizer::{bearer_credential, credential, AuthorizerEvent, Scheme};
use libfuzzer_sys::fuzz_target;
use serde_json::json;

/// RFC 6750 §2.1: `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" /
/// "+" / "/" ) *"="`.
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~+/".contains(c))
}

/// The grammar read independently: `scheme 1*SP token`.
fn expected(value: &str) -> Option<(Scheme, &str)> {
    let (scheme, rest) = value.split_once(' ')?;
    let scheme = if scheme.eq_ignore_ascii_case("bearer") {
        Scheme::Bearer
    } else if scheme.eq_ignore_ascii_case("dpop") {
        Scheme::DPoP
    } else {
        return None;
    };
    let token = rest.trim_start_matches(' ');
    is_b64token(token).then_some((scheme, token))
}

fuzz_target!(|value: &str| {
    let found = credential(value).map(|c| (c.scheme, c.token));
    assert_eq!(found, expected(value), "credential({value:?})");
    if let Some((_, token)) = found {
        assert!(value.ends_with(token));
    }
    assert_eq!(
        bearer_credential(value),
        found.filter(|(s, _)| *s == Scheme::Bearer).map(|(_, t)| t)
    );
    let token_event = json!({"type": "TOKEN", "authorizationToken": value,
        "methodArn": "arn:aws:execute-api:eu-west-1:1:api/prod/GET/books"});
    let event = AuthorizerEvent::from_json(token_event).expect("a TOKEN event");
    assert_eq!(event.credential().map(|c| (c.scheme, c.token)), found);
    let v2 = json!({"version": "2.0", "type": "REQUEST", "identitySource": [value],
        "routeArn": "arn:aws:execute-api:eu-west-1:1:api/$default/GET/books",
        "requestContext": {"accountId": "1", "apiId": "api", "domainName": "x", "domainPrefix": "x",
            "http": {"method": "GET", "path": "/books", "protocol": "HTTP/1.1", "sourceIp": "1.1.1.1",
                "userAgent": "x"},
            "requestId": "r", "routeKey": "GET /books", "stage": "$default", "time": "t", "timeEpoch": 0}});
    let event = AuthorizerEvent::from_json(v2).expect("an HTTP API 2.0 event");
    // Payload 2.0 lists identity sources one by one: the value is one.
    assert_eq!(event.credential().map(|c| (c.scheme, c.token)), found);
});

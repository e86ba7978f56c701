//! Answers in the shape each event asks for, policies safe under API
//! Gateway's authorizer cache, and the EMF metric lines.

mod common;

use common::*;
use serde_json::{json, Value};
use testkit::TestKey;

const API: &str = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod";

/// The answer's effect for each `(method, path)`: one policy must answer
/// every route correctly under API Gateway's authorizer cache.
fn assert_effects(answer: &Value, expected: &[(&str, &str, &str)]) {
    for (method, path, effect) in expected {
        assert_eq!(
            effect_for(answer, &arn(method, path)),
            Some(*effect),
            "{method} {path}"
        );
    }
}

fn arn(method: &str, path: &str) -> String {
    format!("{API}/{method}{path}")
}

#[tokio::test]
async fn rest_token_event_gets_a_whole_api_policy_with_string_context() {
    let key = rsa_key("k");
    let h = harness(testkit::jwks(&[&key]), &[]).await;
    let mut claims = claims("books:read");
    claims["client_id"] = json!("cli-1");
    let answer = answer(&h.authorizer, &key.sign(&claims)).await.unwrap();

    if std::env::var("SHOW_ANSWER").is_ok() {
        eprintln!("{}", serde_json::to_string_pretty(&answer).unwrap());
    }
    assert_eq!(answer["principalId"], "alice");
    assert_eq!(answer["policyDocument"]["Version"], "2012-10-17");
    let context = answer["context"].as_object().unwrap();
    assert_eq!(context["sub"], "alice");
    assert_eq!(context["scope"], "books:read");
    assert_eq!(context["iss"], ISSUER);
    assert_eq!(context["kid"], "k");
    assert_eq!(context["client_id"], "cli-1");
    assert!(
        context.values().all(Value::is_string),
        "context holds strings only"
    );

    // Correct for every route under the authorizer cache, not just the methodArn.
    assert_effects(
        &answer,
        &[
            ("GET", "/books/42", "Allow"),
            ("GET", "/books", "Allow"),
            ("GET", "/books/other-id", "Allow"),
            ("POST", "/books", "Deny"),
            ("PATCH", "/books/42", "Deny"),
            ("DELETE", "/books/42", "Deny"),
            ("POST", "/admin/keys/rotate", "Deny"),
        ],
    );
    assert_ne!(effect_for(&answer, &arn("GET", "/unlisted")), Some("Allow"));
    // Another stage or API is never granted.
    assert_eq!(
        effect_for(
            &answer,
            "arn:aws:execute-api:eu-west-1:123456789012:abc123/dev/GET/books"
        ),
        None
    );
    assert_eq!(
        effect_for(
            &answer,
            "arn:aws:execute-api:eu-west-1:123456789012:zzz999/prod/GET/books"
        ),
        None
    );
}

#[tokio::test]
async fn valid_token_without_the_scope_gets_an_explicit_deny() {
    let key = rsa_key("k");
    let h = harness(testkit::jwks(&[&key]), &[]).await;
    let token = key.sign(&claims("books:read"));
    let event = json!({"type": "TOKEN", "authorizationToken": format!("Bearer {token}"), "methodArn": arn("DELETE", "/books/42")});
    let answer = h
        .authorizer
        .handle(event)
        .await
        .expect("a valid token is not Unauthorized");
    assert_eq!(
        effect_for(&answer, &arn("DELETE", "/books/42")),
        Some("Deny")
    );

    let nothing = key.sign(&claims("profile"));
    let answer = h.authorizer.handle(token_event(&nothing)).await.unwrap();
    assert_eq!(effect_for(&answer, &arn("GET", "/books")), Some("Deny"));
    assert_eq!(
        answer["policyDocument"]["Statement"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let lines = emf_lines(&h.metrics);
    assert!(lines
        .iter()
        .any(|l| l["Decision"] == "deny" && l["Reason"] == "missing_scope"));
}

#[tokio::test]
async fn admin_scope_allows_the_admin_routes_only() {
    let key = rsa_key("k");
    let h = harness(testkit::jwks(&[&key]), &[]).await;
    let answer = answer(&h.authorizer, &key.sign(&claims("keys:admin")))
        .await
        .unwrap();
    assert_effects(
        &answer,
        &[
            ("GET", "/admin/keys", "Allow"),
            ("POST", "/admin/keys/rotate", "Allow"),
            ("POST", "/admin/keys/abc/revoke", "Allow"),
            ("GET", "/books", "Deny"),
        ],
    );
}

#[tokio::test]
async fn rest_request_event_reads_the_authorization_header() {
    let key = rsa_key("k");
    let h = harness(testkit::jwks(&[&key]), &[]).await;
    let token = key.sign(&claims("books:read books:write"));
    let event = json!({
        "type": "REQUEST", "methodArn": arn("POST", "/books"), "resource": "/books", "path": "/books",
        "httpMethod": "POST", "headers": {"Authorization": format!("Bearer {token}")},
        "multiValueHeaders": {"Authorization": [format!("Bearer {token}")]},
        "queryStringParameters": {}, "pathParameters": {}, "stageVariables": {},
        "requestContext": {"path": "/prod/books", "accountId": "123456789012", "resourceId": "r", "stage": "prod",
            "requestId": "req", "resourcePath": "/books", "httpMethod": "POST", "apiId": "abc123"}
    });
    let answer = h.authorizer.handle(event).await.unwrap();
    assert_eq!(effect_for(&answer, &arn("POST", "/books")), Some("Allow"));
    assert_eq!(answer["principalId"], "alice");

    let missing = json!({"type": "REQUEST", "methodArn": arn("GET", "/books"), "headers": {}, "requestContext": {}});
    assert_eq!(
        h.authorizer.handle(missing).await.unwrap_err().to_string(),
        "Unauthorized"
    );
}

/// HTTP API payload 1.0: the REST `REQUEST` shape, answered with a policy,
/// the token read from the identity sources only. With identity sources
/// that leave the token out (a tenant header), one user's Allow would be
/// served from API Gateway's cache to everyone with that tenant: refused.
#[tokio::test]
async fn http_api_v1_events_take_the_token_from_the_identity_sources() {
    let key = rsa_key("k");
    let h = harness(testkit::jwks(&[&key]), &[]).await;
    let token = key.sign(&claims("books:read"));
    let event = |identity_source: String| {
        json!({
            "version": "1.0", "type": "REQUEST", "methodArn": arn("GET", "/books"),
            "identitySource": identity_source, "authorizationToken": identity_source,
            "resource": "/books", "path": "/books", "httpMethod": "GET",
            "headers": {"Authorization": format!("Bearer {token}"), "X-Tenant": "acme"},
            "queryStringParameters": {}, "pathParameters": {}, "stageVariables": {},
            "requestContext": {"path": "/books", "accountId": "123456789012", "resourceId": "r",
                "stage": "prod", "requestId": "req", "resourcePath": "/books", "httpMethod": "GET",
                "apiId": "abc123"}
        })
    };
    let allowed = h
        .authorizer
        .handle(event(format!("acme,Bearer {token}")))
        .await
        .unwrap();
    assert_eq!(effect_for(&allowed, &arn("GET", "/books")), Some("Allow"));
    assert_eq!(allowed["principalId"], "alice");
    let refused = h.authorizer.handle(event("acme".to_owned())).await;
    assert_eq!(refused.unwrap_err().to_string(), "Unauthorized");
    assert_eq!(
        decision_lines(&h.metrics).last().unwrap()["Reason"],
        "missing_token"
    );
}

/// An HTTP API 2.0 event whose identity sources are the header and the route key.
fn http_v2_event(token: &str, route: &str, path: &str) -> Value {
    let mut event = http_v2_event_header_only(token, route, path);
    event["identitySource"] = json!([format!("Bearer {token}"), format!("{route} {path}")]);
    event
}

/// An HTTP API 2.0 event whose only identity source is the `Authorization` header.
fn http_v2_event_header_only(token: &str, route: &str, path: &str) -> Value {
    json!({
        "version": "2.0", "type": "REQUEST",
        "routeArn": format!("arn:aws:execute-api:eu-west-1:123456789012:abc123/$default/{}{}", route, path),
        "identitySource": [format!("Bearer {token}")], "routeKey": format!("{route} {path}"),
        "rawPath": path, "rawQueryString": "", "headers": {"authorization": format!("Bearer {token}")},
        "requestContext": {"accountId": "123456789012", "apiId": "abc123", "domainName": "abc123.execute-api.eu-west-1.amazonaws.com",
            "domainPrefix": "abc123", "http": {"method": route, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.1", "userAgent": "k6"},
            "requestId": "r", "routeKey": format!("{route} {path}"), "stage": "$default", "time": "23/Nov/2026:00:00:00 +0000", "timeEpoch": 0}
    })
}

/// An authorizer answering HTTP API simple responses, over one RSA key.
async fn simple_responses() -> (TestKey, Harness) {
    let key = rsa_key("k");
    let h = harness(
        testkit::jwks(&[&key]),
        &[("HTTP_API_SIMPLE_RESPONSES", "true")],
    )
    .await;
    (key, h)
}

#[tokio::test]
async fn http_api_simple_responses() {
    let (key, h) = simple_responses().await;
    let token = key.sign(&claims("books:read"));
    let allowed = h
        .authorizer
        .handle(http_v2_event(&token, "GET", "/books"))
        .await
        .unwrap();
    assert_eq!(allowed["isAuthorized"], true);
    assert_eq!(allowed["context"]["sub"], "alice");
    assert!(allowed.get("policyDocument").is_none());
    let denied = h
        .authorizer
        .handle(http_v2_event(&token, "DELETE", "/books/1"))
        .await
        .unwrap();
    assert_eq!(denied["isAuthorized"], false);
    let bad = h
        .authorizer
        .handle(http_v2_event("nope", "GET", "/books"))
        .await;
    assert_eq!(bad.unwrap_err().to_string(), "Unauthorized");
}

/// An HTTP API 2.0 event for `method path` routed by `route_key`, with the
/// route key among its identity sources.
fn http_v2_event_routed(token: &str, route_key: &str, method: &str, path: &str) -> Value {
    let mut event = http_v2_event(token, method, path);
    event["routeKey"] = json!(route_key);
    event["requestContext"]["routeKey"] = json!(route_key);
    event["identitySource"] = json!([format!("Bearer {token}"), route_key]);
    event
}

#[tokio::test]
async fn simple_responses_are_true_only_when_the_scopes_grant_the_whole_route_key() {
    let (key, h) = simple_responses().await;
    let reader = key.sign(&claims("books:read"));
    let decide =
        |token: String, route_key: &'static str, method: &'static str, path: &'static str| {
            let authorizer = &h.authorizer;
            async move {
                let answer = authorizer
                    .handle(http_v2_event_routed(&token, route_key, method, path))
                    .await
                    .unwrap();
                answer["isAuthorized"].as_bool().unwrap()
            }
        };
    // Every request of these keys is a read the token may make.
    assert!(decide(reader.clone(), "GET /books", "GET", "/books").await);
    assert!(decide(reader.clone(), "GET /books/{id}", "GET", "/books/1").await);
    // API Gateway would reuse these answers for DELETE /books/1 (ANY) and
    // for every route ($default): a reader's GET is refused through them.
    assert!(!decide(reader.clone(), "ANY /{proxy+}", "GET", "/books").await);
    assert!(!decide(reader.clone(), "ANY /books/{proxy+}", "GET", "/books/1").await);
    assert!(!decide(reader.clone(), "$default", "GET", "/books").await);
    let reasons: Vec<Value> = emf_lines(&h.metrics)
        .into_iter()
        .filter_map(|l| l.get("Reason").cloned())
        .collect();
    assert_eq!(
        reasons
            .iter()
            .filter(|r| **r == json!("route_key_wider_than_scopes"))
            .count(),
        3,
        "{reasons:?}"
    );
}

#[tokio::test]
async fn simple_responses_are_never_true_without_the_route_key_in_the_cache_key() {
    let (key, h) = simple_responses().await;
    let token = key.sign(&claims("books:read books:write"));
    // API Gateway would reuse this `true` for DELETE /books/1 and every route.
    let answer = h
        .authorizer
        .handle(http_v2_event_header_only(&token, "GET", "/books"))
        .await
        .unwrap();
    assert_eq!(answer["isAuthorized"], false);
    let reasons: Vec<Value> = emf_lines(&h.metrics)
        .into_iter()
        .filter_map(|l| l.get("Reason").cloned())
        .collect();
    assert!(
        reasons.contains(&json!("route_key_not_in_identity_source")),
        "{reasons:?}"
    );
    // The token in the header alone is not read either: only identity sources are.
    let mut header_only = http_v2_event(&token, "GET", "/books");
    header_only["identitySource"] = json!(["GET /books"]);
    let missing = h.authorizer.handle(header_only).await;
    assert_eq!(missing.unwrap_err().to_string(), "Unauthorized");
}

#[tokio::test]
async fn http_api_iam_policy_responses() {
    let key = rsa_key("k");
    let h = harness(testkit::jwks(&[&key]), &[]).await;
    let token = key.sign(&claims("books:read"));
    let answer = h
        .authorizer
        .handle(http_v2_event(&token, "GET", "/books"))
        .await
        .unwrap();
    assert_eq!(answer["principalId"], "alice");
    let base = "arn:aws:execute-api:eu-west-1:123456789012:abc123/$default";
    assert_eq!(
        effect_for(&answer, &format!("{base}/GET/books/9")),
        Some("Allow")
    );
    assert_eq!(
        effect_for(&answer, &format!("{base}/POST/books")),
        Some("Deny")
    );
    assert!(answer.get("isAuthorized").is_none());
}

#[tokio::test]
async fn custom_route_scopes_drive_the_policy() {
    let key = rsa_key("k");
    let routes = r#"{"GET /orders": "orders:read", "* /orders/*": "orders:admin"}"#;
    let h = harness(testkit::jwks(&[&key]), &[("ROUTE_SCOPES", routes)]).await;
    let event = json!({"type": "TOKEN", "authorizationToken": format!("Bearer {}", key.sign(&claims("orders:read"))), "methodArn": arn("GET", "/orders")});
    let answer = h.authorizer.handle(event).await.unwrap();
    assert_eq!(effect_for(&answer, &arn("GET", "/orders")), Some("Allow"));
    assert_eq!(effect_for(&answer, &arn("PUT", "/orders/7")), Some("Deny"));
    assert_eq!(effect_for(&answer, &arn("GET", "/books")), None);
}

#[tokio::test]
async fn malformed_events_and_arns_are_unauthorized() {
    let key = rsa_key("k");
    let h = harness(testkit::jwks(&[&key]), &[]).await;
    let token = key.sign(&claims("books:read"));
    for event in [
        json!({}),
        json!(null),
        json!({"type": "TOKEN"}),
        json!({"type": "TOKEN", "authorizationToken": format!("Bearer {token}"), "methodArn": "not-an-arn"}),
        json!({"type": "TOKEN", "authorizationToken": format!("Bearer {token}")}),
        json!({"type": "TOKEN", "authorizationToken": 42, "methodArn": METHOD_ARN}),
    ] {
        assert_eq!(
            h.authorizer
                .handle(event.clone())
                .await
                .unwrap_err()
                .to_string(),
            "Unauthorized",
            "{event}"
        );
    }
}

#[tokio::test]
async fn repeated_tokens_are_answered_from_the_decision_cache() {
    let key = rsa_key("k");
    let h = harness(testkit::jwks(&[&key]), &[]).await;
    let token = key.sign(&claims("books:read"));
    for _ in 0..3 {
        assert!(answer(&h.authorizer, &token).await.is_ok());
    }
    assert_eq!(metric_sum(&h.metrics, "DecisionCacheHits"), 2.0);

    // An entry never outlives exp: a token expiring now is not cached past it.
    let mut short = claims("books:read");
    short["exp"] = json!(testkit::now() + 1);
    let short = key.sign(&short);
    assert!(answer(&h.authorizer, &short).await.is_ok());
    assert!(h.authorizer.cached(&short, testkit::now() + 2).is_none());
}

#[tokio::test]
async fn tokens_too_large_to_cache_are_verified_each_time() {
    let key = rsa_key("k");
    let h = harness(testkit::jwks(&[&key]), &[("CONTEXT_CLAIMS", "note")]).await;
    // A 3 KiB claim (1 KiB of it in the context): the entry is over 4 KiB.
    let mut large = claims("books:read");
    large["note"] = json!("n".repeat(3000));
    let large = key.sign(&large);
    assert!(large.len() > 4096);
    for _ in 0..3 {
        assert!(answer(&h.authorizer, &large).await.is_ok());
    }
    assert_eq!(metric_sum(&h.metrics, "DecisionCacheHits"), 0.0);
    assert!(h.authorizer.cached(&large, testkit::now()).is_none());
}

#[tokio::test]
async fn metric_lines_follow_the_emf_schema() {
    let key = rsa_key("k");
    let h = harness(testkit::jwks(&[&key]), &[]).await;
    let token = key.sign(&claims("books:read"));
    let _ = answer(&h.authorizer, &token).await;
    let _ = answer(&h.authorizer, &token).await;
    let _ = answer(&h.authorizer, "garbage").await;
    let _ = h
        .authorizer
        .verify(&key.sign_raw(
            r#"{"alg":"RS256","kid":"unknown"}"#,
            &claims("x").to_string(),
        ))
        .await;
    h.authorizer.metrics().cold_start(12.5);

    let lines = emf_lines(&h.metrics);
    for name in [
        "Decisions",
        "VerificationTime",
        "DecisionCacheHits",
        "JwksFetches",
        "JwksFetchFailures",
        "UnknownKidMisses",
        "ColdStart",
    ] {
        assert!(
            lines.iter().any(|l| l.get(name).is_some()),
            "no line carries {name}"
        );
    }
    for line in &lines {
        let aws = &line["_aws"];
        assert!(aws["Timestamp"].as_u64().is_some(), "{line}");
        let directives = aws["CloudWatchMetrics"]
            .as_array()
            .expect("CloudWatchMetrics array");
        assert_eq!(directives.len(), 1);
        let directive = &directives[0];
        assert_eq!(directive["Namespace"], "Tollgate");
        for set in directive["Dimensions"].as_array().unwrap() {
            let set = set.as_array().unwrap();
            assert!(!set.is_empty() && set.len() <= 30);
            for dim in set {
                let dim = dim.as_str().unwrap();
                assert!(
                    line[dim].is_string(),
                    "dimension {dim} must be a string member: {line}"
                );
                assert!(
                    ["Service", "Decision", "Reason"].contains(&dim),
                    "high-cardinality dimension {dim}"
                );
            }
        }
        for metric in directive["Metrics"].as_array().unwrap() {
            let name = metric["Name"].as_str().unwrap();
            assert!(
                line[name].is_number(),
                "metric {name} must be a number member: {line}"
            );
            assert!(["Count", "Microseconds", "Milliseconds"]
                .contains(&metric["Unit"].as_str().unwrap()));
        }
    }
    let decisions = decision_lines(&h.metrics);
    assert_eq!(count_decisions(&decisions, "allow"), 2);
    assert!(decisions
        .iter()
        .any(|l| l["Decision"] == "unauthorized" && l["Reason"] == "malformed"));
}

//! `ROUTE_RULES` through the authorizer's answers: every answer shape names
//! only the paths the rules bind (so a cached answer is right for every
//! later request with the same token), hostile claim values grant nothing,
//! a refusal says `rule_denied`, and HTTP API simple responses are `true`
//! only when API Gateway cannot reuse them for another tenant's path.

mod common;

use common::*;
use serde_json::{json, Value};

const SCOPES: &str = r#"{"GET /tenants/{tenant}/orders": "orders:read",
    "GET /tenants/{tenant}/orders/{id}": "orders:read", "GET /books": "books:read"}"#;
const RULES: &str = r#"{
    "GET /tenants/{tenant}/orders": [{"when": "'orders:admin' in scopes"},
        {"bind": {"tenant": "claims.tenant_id"}}],
    "GET /tenants/{tenant}/orders/{id}": [{"when": "'orders:admin' in scopes"},
        {"bind": {"tenant": "claims.tenant_id"}}]}"#;

fn arn(method: &str, path: &str) -> String {
    format!("arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/{method}{path}")
}

fn tenant_token(key: &testkit::TestKey, tenant: Value, scope: &str) -> String {
    let mut claims = claims(scope);
    claims["tenant_id"] = tenant;
    key.sign(&claims)
}

fn event_for(token: &str, method: &str, path: &str) -> Value {
    json!({"type": "TOKEN", "authorizationToken": format!("Bearer {token}"), "methodArn": arn(method, path)})
}

async fn tenants() -> (testkit::TestKey, Harness) {
    let key = rsa_key("k");
    let h = harness(
        testkit::jwks(&[&key]),
        &[("ROUTE_SCOPES", SCOPES), ("ROUTE_RULES", RULES)],
    )
    .await;
    (key, h)
}

#[tokio::test]
async fn a_policy_names_the_bound_tenant_only_and_serves_every_later_request() {
    let (key, h) = tenants().await;
    let token = tenant_token(&key, json!("acme"), "orders:read books:read");
    let answer = h
        .authorizer
        .handle(event_for(&token, "GET", "/tenants/acme/orders"))
        .await
        .unwrap();
    let allow = &answer["policyDocument"]["Statement"][0];
    assert_eq!(allow["Effect"], "Allow");
    assert_eq!(
        allow["Resource"],
        json!([
            arn("GET", "/books"),
            arn("GET", "/tenants/acme/orders"),
            arn("GET", "/tenants/acme/orders/*")
        ])
    );
    // API Gateway reuses this answer for the token's next requests.
    assert_eq!(
        effect_for(&answer, &arn("GET", "/tenants/acme/orders/7")),
        Some("Allow")
    );
    assert_eq!(
        effect_for(&answer, &arn("GET", "/tenants/beta/orders")),
        None
    );
    assert_eq!(
        effect_for(&answer, &arn("GET", "/tenants/beta/orders/7")),
        None
    );
    // Asked for another tenant's path, the decision is a Deny by rule.
    let other = h
        .authorizer
        .handle(event_for(&token, "GET", "/tenants/beta/orders"))
        .await
        .unwrap();
    assert_eq!(
        other["policyDocument"], answer["policyDocument"],
        "the grants do not depend on the request"
    );
    let lines = decision_lines(&h.metrics);
    assert_eq!(lines.last().unwrap()["Decision"], "deny");
    assert_eq!(lines.last().unwrap()["Reason"], "rule_denied");
    assert_eq!(lines.last().unwrap()["DecisionCacheHits"], 1.0);
}

#[tokio::test]
async fn an_admin_alternative_leaves_the_parameter_open() {
    let (key, h) = tenants().await;
    let token = tenant_token(&key, json!(null), "orders:read orders:admin");
    let answer = h
        .authorizer
        .handle(event_for(&token, "GET", "/tenants/beta/orders"))
        .await
        .unwrap();
    assert_eq!(
        effect_for(&answer, &arn("GET", "/tenants/beta/orders")),
        Some("Allow")
    );
    assert_eq!(
        effect_for(&answer, &arn("GET", "/tenants/any/orders/1")),
        Some("Allow")
    );
    assert_eq!(effect_for(&answer, &arn("GET", "/books")), Some("Deny"));
}

#[tokio::test]
async fn hostile_claim_values_grant_nothing_and_are_counted() {
    let (key, h) = tenants().await;
    for hostile in [
        json!("*"),
        json!("a*"),
        json!("?"),
        json!("acme/../beta"),
        json!(""),
        json!("x\u{0}"),
        json!("a".repeat(300)),
        json!(["acme", "*"]),
        json!(7),
        json!({"a": 1}),
    ] {
        let token = tenant_token(&key, hostile.clone(), "orders:read");
        let answer = h
            .authorizer
            .handle(event_for(&token, "GET", "/tenants/acme/orders"))
            .await
            .unwrap();
        for path in [
            "/tenants/beta/orders",
            "/tenants/*/orders",
            "/tenants/x/orders/1",
        ] {
            assert_ne!(
                effect_for(&answer, &arn("GET", path)),
                Some("Allow"),
                "{hostile} {path}"
            );
        }
        let resources = answer["policyDocument"].to_string();
        assert!(!resources.contains("tenants/*"), "{hostile}: {resources}");
    }
    // The list's good value still works; the wildcard alone is refused.
    let token = tenant_token(&key, json!(["acme", "*"]), "orders:read");
    let answer = h
        .authorizer
        .handle(event_for(&token, "GET", "/tenants/acme/orders"))
        .await
        .unwrap();
    assert_eq!(
        effect_for(&answer, &arn("GET", "/tenants/acme/orders")),
        Some("Allow")
    );
    assert!(metric_sum(&h.metrics, "RuleValuesRefused") >= 8.0);
}

#[tokio::test]
async fn http_api_policy_answers_bind_too() {
    let (key, h) = tenants().await;
    let token = tenant_token(&key, json!("acme"), "orders:read");
    let mut event = http_v2(
        "GET /tenants/{tenant}/orders",
        "/tenants/acme/orders",
        &token,
    );
    event["identitySource"] = json!([format!("Bearer {token}")]);
    let answer = h.authorizer.handle(event).await.unwrap();
    let own = "arn:aws:execute-api:eu-west-1:123456789012:abc123/$default/GET/tenants/acme/orders";
    let other =
        "arn:aws:execute-api:eu-west-1:123456789012:abc123/$default/GET/tenants/beta/orders";
    assert_eq!(effect_for(&answer, own), Some("Allow"));
    assert_eq!(effect_for(&answer, other), None);
}

/// An HTTP API 2.0 event for `path` routed by `route_key`, identity sources
/// the token, the route key and the path (`$context.path`).
fn http_v2(route_key: &str, path: &str, token: &str) -> Value {
    json!({
        "version": "2.0", "type": "REQUEST",
        "routeArn": format!("arn:aws:execute-api:eu-west-1:123456789012:abc123/$default/GET{path}"),
        "identitySource": [format!("Bearer {token}"), route_key, path],
        "routeKey": route_key, "rawPath": path, "rawQueryString": "",
        "headers": {"authorization": format!("Bearer {token}")},
        "pathParameters": {"tenant": path.split('/').nth(2).unwrap_or_default()},
        "requestContext": {"accountId": "123456789012", "apiId": "abc123",
            "domainName": "abc123.execute-api.eu-west-1.amazonaws.com", "domainPrefix": "abc123",
            "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.1", "userAgent": "k6"},
            "requestId": "r", "routeKey": route_key, "stage": "$default",
            "time": "23/Nov/2026:00:00:00 +0000", "timeEpoch": 0}
    })
}

#[tokio::test]
async fn simple_responses_need_the_path_in_the_cache_key() {
    let key = rsa_key("k");
    let h = harness(
        testkit::jwks(&[&key]),
        &[
            ("ROUTE_SCOPES", SCOPES),
            ("ROUTE_RULES", RULES),
            ("HTTP_API_SIMPLE_RESPONSES", "true"),
        ],
    )
    .await;
    let token = tenant_token(&key, json!("acme"), "orders:read");
    let key_route = "GET /tenants/{tenant}/orders";
    let ask =
        |event: Value| async { h.authorizer.handle(event).await.unwrap()["isAuthorized"].clone() };
    let reason = || decision_lines(&h.metrics).last().unwrap()["Reason"].clone();
    // With the path among the identity sources, API Gateway caches the
    // answer per path: true for the token's own tenant, false for another.
    assert_eq!(
        ask(http_v2(key_route, "/tenants/acme/orders", &token)).await,
        true
    );
    assert_eq!(
        ask(http_v2(key_route, "/tenants/beta/orders", &token)).await,
        false
    );
    assert_eq!(reason(), "rule_denied");
    // Without it, a cached `true` would be reused for every tenant's path.
    let mut no_path = http_v2(key_route, "/tenants/acme/orders", &token);
    no_path["identitySource"] = json!([format!("Bearer {token}"), key_route]);
    assert_eq!(ask(no_path).await, false);
    assert_eq!(reason(), "path_not_in_identity_source");
    // A client that sends the path text itself (here in a header an
    // identity source could read) does not count.
    let mut spoofed = http_v2(key_route, "/tenants/acme/orders", &token);
    spoofed["headers"]["x-tenant-path"] = json!("/tenants/acme/orders");
    assert_eq!(ask(spoofed).await, false);
    // An admin, granted every tenant, needs no path in the cache key.
    let admin = tenant_token(&key, json!(null), "orders:read orders:admin");
    let mut admin_event = http_v2(key_route, "/tenants/beta/orders", &admin);
    admin_event["identitySource"] = json!([format!("Bearer {admin}"), key_route]);
    assert_eq!(ask(admin_event).await, true);
}

#[tokio::test]
async fn the_demo_shelf_is_its_owners() {
    let key = rsa_key("k");
    let h = harness(testkit::jwks(&[&key]), &[]).await;
    let alice = key.sign(&claims("books:read"));
    let answer = h
        .authorizer
        .handle(event_for(&alice, "GET", "/shelves/alice/books"))
        .await
        .unwrap();
    assert_eq!(
        effect_for(&answer, &arn("GET", "/shelves/alice/books")),
        Some("Allow")
    );
    assert_eq!(effect_for(&answer, &arn("GET", "/shelves/bob/books")), None);
    let admin = key.sign(&claims("books:read books:admin"));
    let answer = h
        .authorizer
        .handle(event_for(&admin, "GET", "/shelves/bob/books"))
        .await
        .unwrap();
    assert_eq!(
        effect_for(&answer, &arn("GET", "/shelves/bob/books")),
        Some("Allow")
    );
}

/// Broken rules stop the function at start, the message naming the route
/// and the position.
#[test]
fn broken_rules_stop_the_binary_with_the_route_and_position() {
    let run = |rules: &str| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_authorizer"))
            .env_clear()
            .env("JWT_ISSUER", ISSUER)
            .env("JWKS_URI", "http://127.0.0.1:9/jwks")
            .env("JWT_AUDIENCE", AUDIENCE)
            .env("ROUTE_SCOPES", SCOPES)
            .env("ROUTE_RULES", rules)
            .output()
            .expect("the binary runs");
        assert!(!output.status.success(), "{rules}");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let syntax = run(r#"{"GET /tenants/{tenant}/orders": [{"when": "scopes.exists(s, s =="}]}"#);
    assert!(
        syntax.contains("GET /tenants/{tenant}/orders") && syntax.contains("line 1, column"),
        "{syntax}"
    );
    let unknown = run(r#"{"GET /tenants/{tenant}/orders": [{"bind": {"tenant": "tenant"}}]}"#);
    assert!(
        unknown.contains("unknown variable \"tenant\"") && unknown.contains("line 1, column 1"),
        "{unknown}"
    );
    let typo = run(r#"{"GET /tenants/{tenant}/orders": [{"bnid": {"tenant": "sub"}}]}"#);
    assert!(typo.contains("bnid"), "{typo}");
    let param = run(r#"{"GET /tenants/{tenant}/orders": [{"bind": {"org": "sub"}}]}"#);
    assert!(param.contains("no path parameter \"org\""), "{param}");
    let route = run(r#"{"GET /orders": [{"when": "true"}]}"#);
    assert!(route.contains("not in ROUTE_SCOPES"), "{route}");
    let not_bool = run(r#"{"GET /tenants/{tenant}/orders": [{"when": "claims.n * 2"}]}"#);
    assert!(not_bool.contains("ROUTE_RULES"), "{not_bool}");
}

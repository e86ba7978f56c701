//! Helpers shared by the authorizer's integration tests.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;

use authorizer::{Authorizer, AuthorizerConfig, RouteTable};
use serde_json::{json, Value};
use telemetry::CaptureSink;
use testkit::{JwksServer, TestKey};

pub const ISSUER: &str = "https://issuer.tollgate.test";
pub const AUDIENCE: &str = "books-api";
pub const METHOD_ARN: &str = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/books/42";

/// An authorizer trusting `ISSUER`, whose JWKS is served by `server`.
pub struct Harness {
    pub server: JwksServer,
    pub authorizer: Authorizer,
    pub metrics: CaptureSink,
}

/// Environment overrides on top of the defaults. The tests send `TOKEN`
/// events, so the authorizer is configured as a `TOKEN` authorizer must be:
/// `DPOP_MODE=off` (a `TOKEN` event carries no `DPoP` header).
pub fn config(server: &JwksServer, overrides: &[(&str, &str)]) -> AuthorizerConfig {
    let mut env: HashMap<String, String> = HashMap::from([
        ("JWT_ISSUER".to_owned(), ISSUER.to_owned()),
        ("JWKS_URI".to_owned(), server.url()),
        ("JWT_AUDIENCE".to_owned(), AUDIENCE.to_owned()),
        ("DPOP_MODE".to_owned(), "off".to_owned()),
    ]);
    for (k, v) in overrides {
        env.insert((*k).to_owned(), (*v).to_owned());
    }
    AuthorizerConfig::from_lookup(|name| env.get(name).cloned(), demo_routes()).expect("config")
}

/// The demo API's route table (books, shelves and key administration,
/// with its rules), which the tests' events and scopes are written against.
pub fn demo_routes() -> Option<RouteTable> {
    let demo = api_routes::ApiRoutes::demo().expect("the demo route table");
    let table = RouteTable::from_json(
        &demo.route_scopes_json(),
        demo.route_rules_json().as_deref(),
    );
    Some(table.expect("the demo ROUTE_SCOPES and ROUTE_RULES"))
}

pub async fn harness(jwks: Value, overrides: &[(&str, &str)]) -> Harness {
    let server = JwksServer::start(jwks).await;
    let metrics = CaptureSink::new();
    let authorizer =
        Authorizer::new(config(&server, overrides), Arc::new(metrics.clone())).expect("authorizer");
    authorizer.prewarm().await;
    Harness {
        server,
        authorizer,
        metrics,
    }
}

/// Claims of a valid token for `ISSUER`/`AUDIENCE`.
pub fn claims(scope: &str) -> Value {
    testkit::access_claims(ISSUER, AUDIENCE, "alice", scope, 600)
}

pub fn token_event(token: &str) -> Value {
    json!({"type": "TOKEN", "authorizationToken": format!("Bearer {token}"), "methodArn": METHOD_ARN})
}

/// Runs a TOKEN event; `Ok(policy answer)` or `Err(())` for Unauthorized.
pub async fn answer(authorizer: &Authorizer, token: &str) -> Result<Value, ()> {
    authorizer.handle(token_event(token)).await.map_err(|e| {
        assert_eq!(e.to_string(), "Unauthorized");
    })
}

/// The effect the answer's policy gives `arn` (Deny wins; no match: None).
pub fn effect_for(answer: &Value, arn: &str) -> Option<&'static str> {
    let mut effect = None;
    for statement in answer["policyDocument"]["Statement"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let matched = statement["Resource"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .any(|pattern| arn_matches(pattern, arn));
        if matched {
            match statement["Effect"].as_str() {
                Some("Deny") => return Some("Deny"),
                Some("Allow") => effect = Some("Allow"),
                _ => {}
            }
        }
    }
    effect
}

fn arn_matches(pattern: &str, arn: &str) -> bool {
    fn rec(p: &[u8], t: &[u8]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some(b'*'), _) => rec(&p[1..], t) || (!t.is_empty() && rec(p, &t[1..])),
            (Some(b'?'), Some(_)) => rec(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a == b => rec(&p[1..], &t[1..]),
            _ => false,
        }
    }
    rec(pattern.as_bytes(), arn.as_bytes())
}

pub fn rsa_key(kid: &str) -> TestKey {
    TestKey::generate(jsonwebtoken::Algorithm::RS256, kid)
}

/// Parsed EMF lines of the capture sink.
pub fn emf_lines(metrics: &CaptureSink) -> Vec<Value> {
    metrics
        .lines()
        .iter()
        .map(|l| serde_json::from_str(l).expect("EMF line is JSON"))
        .collect()
}

/// The EMF lines that record a decision.
pub fn decision_lines(metrics: &CaptureSink) -> Vec<Value> {
    emf_lines(metrics)
        .into_iter()
        .filter(|l| l.get("Decision").is_some())
        .collect()
}

/// How many of `lines` record the decision `decision`.
pub fn count_decisions(lines: &[Value], decision: &str) -> usize {
    lines.iter().filter(|l| l["Decision"] == decision).count()
}

/// Sum of metric `name` over all EMF lines.
pub fn metric_sum(metrics: &CaptureSink, name: &str) -> f64 {
    emf_lines(metrics)
        .iter()
        .filter_map(|l| l[name].as_f64())
        .sum()
}

//! The release artefact end to end: the `authorizer` binary, started against
//! a minimal Lambda Runtime API served here, answers real API Gateway events.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use testkit::function::{peak_rss_kib, LambdaError, TestFunction};
use testkit::{jwks, JwksServer, ServerMode};

/// The binary under test: `AUTHORIZER_BIN` if set (a release or arm64
/// build), else this package's own build.
fn start_function(env: &[(&str, String)]) -> TestFunction {
    let binary = std::env::var("AUTHORIZER_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_authorizer").to_owned());
    TestFunction::new(&binary, "tollgate-authorizer", env)
}

/// A `TOKEN` authorizer's configuration (`DPOP_MODE=off`: the event
/// carries no `DPoP` header).
fn env_for(server: &JwksServer) -> Vec<(&'static str, String)> {
    vec![
        ("JWT_ISSUER", ISSUER.to_owned()),
        ("JWKS_URI", server.url()),
        ("JWT_AUDIENCE", AUDIENCE.to_owned()),
        ("JWKS_REFRESH_COOLDOWN_SECONDS", "1".to_owned()),
        ("DPOP_MODE", "off".to_owned()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_answers_api_gateway_events_through_the_runtime_api() {
    let key = rsa_key("lambda-key");
    let server = JwksServer::start(jwks(&[&key])).await;
    let function = start_function(&env_for(&server));

    let token = key.sign(&claims("books:read"));
    match function.invoke(token_event(&token)).await {
        Ok(answer) => {
            assert_eq!(answer["principalId"], "alice");
            assert_eq!(effect_for(&answer, METHOD_ARN), Some("Allow"));
            assert_eq!(answer["context"]["kid"], "lambda-key");
            assert!(answer.get("usageIdentifierKey").is_none());
        }
        other => panic!("expected a policy, got {other:?}"),
    }
    // Invalid token: the invocation fails with exactly "Unauthorized".
    match function
        .invoke(token_event("eyJhbGciOiJub25lIn0.e30."))
        .await
    {
        Err(LambdaError::Function { message, .. }) => assert_eq!(message, "Unauthorized"),
        other => panic!("expected Unauthorized, got {other:?}"),
    }
    // Lacking scope: an explicit Deny, not an error.
    let event = json!({"type": "TOKEN", "authorizationToken": format!("Bearer {token}"),
        "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/DELETE/books/42"});
    match function.invoke(event).await {
        Ok(answer) => assert_eq!(
            effect_for(
                &answer,
                "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/DELETE/books/42"
            ),
            Some("Deny")
        ),
        other => panic!("expected Deny, got {other:?}"),
    }
    // A REQUEST event in API Gateway's own shape.
    let request = json!({"type": "REQUEST", "methodArn": METHOD_ARN, "resource": "/books/{id}", "path": "/books/42",
        "httpMethod": "GET", "headers": {"Authorization": format!("Bearer {token}"), "Host": "abc123.execute-api.eu-west-1.amazonaws.com"},
        "multiValueHeaders": {"Authorization": [format!("Bearer {token}")]}, "queryStringParameters": null,
        "multiValueQueryStringParameters": null, "pathParameters": {"id": "42"}, "stageVariables": null,
        "requestContext": {"path": "/prod/books/42", "accountId": "123456789012", "resourceId": "abc", "stage": "prod",
            "requestId": "r-1", "identity": {"sourceIp": "203.0.113.9", "userAgent": "curl/8"}, "resourcePath": "/books/{id}",
            "httpMethod": "GET", "apiId": "abc123"}});
    match function.invoke(request).await {
        Ok(answer) => assert_eq!(effect_for(&answer, METHOD_ARN), Some("Allow")),
        other => panic!("expected a policy, got {other:?}"),
    }
    // Warm: the repeat is a decision-cache hit and the JWKS was fetched once, at init.
    let answer = function.invoke(token_event(&token)).await;
    assert!(answer.is_ok(), "{answer:?}");
    assert_eq!(server.requests(), 1);

    // stdout: JSON log lines and raw EMF lines, nothing else.
    let count = |lines: &[Value], name: &str, value: &Value| {
        lines.iter().filter(|l| &l[name] == value).count()
    };
    let lines = function
        .stdout_json_when(|lines| {
            count(lines, "Decision", &json!("allow")) >= 3
                && count(lines, "DecisionCacheHits", &json!(1.0)) >= 3
        })
        .await;
    let emf: Vec<&Value> = lines.iter().filter(|l| l.get("_aws").is_some()).collect();
    assert!(
        emf.iter().any(|l| l["ColdStart"] == 1.0),
        "cold start metric"
    );
    assert!(emf.iter().any(|l| l["JwksFetches"] == 1.0), "fetch metric");
    assert_eq!(emf.iter().filter(|l| l["Decision"] == "allow").count(), 3);
    assert_eq!(
        emf.iter().filter(|l| l["DecisionCacheHits"] == 1.0).count(),
        3,
        "every repeat of the token"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.get("level").is_some() && l.get("fields").is_some()),
        "JSON log lines"
    );
}

/// An issuer on the loopback server itself (status lists must be on its
/// origin), its list at `/statuslists/0` with entry 2 revoked, and a token
/// for entry `idx` (or with no status claim).
struct StatusIssuer {
    server: JwksServer,
    key: testkit::TestKey,
}

impl StatusIssuer {
    async fn start() -> Self {
        let key = rsa_key("status-key");
        let server = JwksServer::start(jwks(&[&key])).await;
        let mut list = status_list::StatusList::new(status_list::Bits::One, 1 << 16);
        list.set(2, status_list::INVALID).unwrap();
        let now = testkit::now();
        let mut header = key.header();
        header.typ = Some("statuslist+jwt".into());
        let uri = format!("{}/statuslists/0", server.base_url());
        let token = key.sign_with_header(
            &header,
            &json!({"sub": uri, "iat": now, "exp": now + 3600, "ttl": 300,
                "status_list": {"bits": 1, "lst": list.encode()}}),
        );
        server.set_document("/statuslists/0", "application/statuslist+jwt", Some(&token));
        Self { server, key }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("JWT_ISSUER", self.server.base_url()),
            ("JWKS_URI", self.server.url()),
            ("JWT_AUDIENCE", AUDIENCE.to_owned()),
            ("DPOP_MODE", "off".to_owned()),
        ]
    }

    fn token(&self, idx: Option<u64>) -> String {
        let mut claims = testkit::access_claims(
            &self.server.base_url(),
            AUDIENCE,
            "alice",
            "books:read",
            600,
        );
        if let Some(idx) = idx {
            let uri = format!("{}/statuslists/0", self.server.base_url());
            claims["status"] = json!({"status_list": {"idx": idx, "uri": uri}});
        }
        self.key.sign(&claims)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_refuses_a_revoked_token_by_its_status_list() {
    let issuer = StatusIssuer::start().await;
    let function = start_function(&issuer.env());
    let answer = function.invoke(token_event(&issuer.token(Some(1)))).await;
    assert!(answer.is_ok(), "{answer:?}");
    match function.invoke(token_event(&issuer.token(Some(2)))).await {
        Err(LambdaError::Function { message, .. }) => assert_eq!(message, "Unauthorized"),
        other => panic!("a revoked token got {other:?}"),
    }
    // Init fetched the JWKS only; the list once, when a token needed it.
    assert_eq!(issuer.server.requests(), 2);
    let lines = function
        .stdout_json_when(|lines| lines.iter().any(|l| l["Reason"] == "revoked"))
        .await;
    assert!(lines.iter().any(|l| l["StatusListFetches"] == 1.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_starts_and_fails_closed_when_the_jwks_is_unreachable_at_init() {
    let key = rsa_key("late-key");
    let server = JwksServer::start(jwks(&[&key])).await;
    server.set_mode(ServerMode::Status(503));
    let function = start_function(&env_for(&server));
    let token = key.sign(&claims("books:read"));
    match function.invoke(token_event(&token)).await {
        Err(LambdaError::Function { message, .. }) => assert_eq!(message, "Unauthorized"),
        other => panic!("expected Unauthorized, got {other:?}"),
    }
    // The JWKS comes back: after the retry back-off, the same token verifies.
    server.set_mode(ServerMode::Serve);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let answer = function.invoke(token_event(&token)).await;
    assert!(answer.is_ok(), "{answer:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_configuration_stops_the_function_at_init() {
    let function = start_function(&[("JWT_AUDIENCE", "x".to_owned())]);
    let outcome = function.invoke(token_event("a.b.c")).await;
    assert!(
        matches!(
            outcome,
            Err(LambdaError::Crashed(ref status)) if !status.contains("exit status: 0")
        ),
        "missing JWT_ISSUER must stop the function: {outcome:?}"
    );
}

/// Figures for the release artefact: spawn to first answered token (JWKS
/// fetch included) and peak RSS after warm traffic. Run with
/// `AUTHORIZER_BIN=target/release/authorizer cargo test -p authorizer --test lambda_binary -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; needs AUTHORIZER_BIN"]
async fn measure_cold_start_and_peak_rss() {
    let binary = std::env::var("AUTHORIZER_BIN").expect("AUTHORIZER_BIN");
    let key = rsa_key("measure");
    let server = JwksServer::start(jwks(&[&key])).await;
    let token = key.sign(&claims("books:read"));
    let mut cold = Vec::new();
    let mut rss = Vec::new();
    for _ in 0..10 {
        let started = std::time::Instant::now();
        let function = TestFunction::new(&binary, "tollgate-authorizer", &env_for(&server));
        let answer = function.invoke(token_event(&token)).await;
        assert!(answer.is_ok(), "{answer:?}");
        cold.push(started.elapsed().as_secs_f64() * 1000.0);
        // Warm traffic: distinct tokens (no decision-cache hit) and repeats.
        for i in 0..200 {
            let mut c = claims("books:read");
            c["jti"] = json!(format!("t{}", i % 100));
            let answer = function.invoke(token_event(&key.sign(&c))).await;
            assert!(answer.is_ok(), "{answer:?}");
        }
        rss.push(peak_rss_kib(function.pid().unwrap()).unwrap_or(0));
    }
    cold.sort_by(f64::total_cmp);
    rss.sort();
    eprintln!(
        "spawn -> first answered token: median {:.1} ms, min {:.1} ms, max {:.1} ms; peak RSS: median {} KiB, max {} KiB",
        cold[cold.len() / 2], cold[0], cold[cold.len() - 1], rss[rss.len() / 2], rss[rss.len() - 1]
    );
}

/// What a status claim adds to a cold start: spawn to first answer for a
/// token with `status.status_list` (its list fetched and verified on that
/// first request) against one without, alternating, 15 of each. Run with
/// `AUTHORIZER_BIN=target/release/authorizer cargo test -p authorizer --test lambda_binary measure_cold_start_with_a_status_claim -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; needs AUTHORIZER_BIN"]
async fn measure_cold_start_with_a_status_claim() {
    let binary = std::env::var("AUTHORIZER_BIN").expect("AUTHORIZER_BIN");
    let issuer = StatusIssuer::start().await;
    let (plain, with_status) = (issuer.token(None), issuer.token(Some(1)));
    let mut times = [Vec::new(), Vec::new()];
    for round in 0..30 {
        let (slot, token) = if round % 2 == 0 {
            (0, &plain)
        } else {
            (1, &with_status)
        };
        let started = std::time::Instant::now();
        let function = TestFunction::new(&binary, "tollgate-authorizer", &issuer.env());
        let answer = function.invoke(token_event(token)).await;
        assert!(answer.is_ok(), "{answer:?}");
        times[slot].push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let median = |t: &mut Vec<f64>| {
        t.sort_by(f64::total_cmp);
        t[t.len() / 2]
    };
    let (without, with) = (median(&mut times[0]), median(&mut times[1]));
    eprintln!(
        "spawn -> first answer: median {without:.2} ms without a status claim, {with:.2} ms with one \
         (+{:.2} ms: the list fetched and verified)",
        with - without
    );
}

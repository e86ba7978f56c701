//! Sender-constrained tokens through REST `REQUEST` and HTTP API events:
//! each DPoP proof check refused by a proof that breaks only it (RFC 9449
//! §4.3), the scheme rules of §7.1, replays, `DPOP_MODE`, the request URI
//! taken from API Gateway's context and never from client headers, a
//! `TOKEN` event with DPoP on, and certificate-bound tokens (RFC 8705).

mod common;

use std::sync::Arc;
use std::time::Duration;

use authorizer::{Authorizer, Refusal};
use common::{decision_lines, effect_for, rsa_key, AUDIENCE, ISSUER, METHOD_ARN};
use jsonwebtoken::Algorithm as JwtAlg;
use serde_json::{json, Value};
use telemetry::CaptureSink;
use testkit::dpop::ProofKey;
use testkit::{jwks, JwksServer, TestKey};

/// What the client sees: the API's own domain and stage.
const DOMAIN: &str = "abc123.execute-api.eu-west-1.amazonaws.com";
const URL: &str = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/books/42";

struct Harness {
    authorizer: Authorizer,
    metrics: CaptureSink,
    key: TestKey,
    client: ProofKey,
    _server: JwksServer,
}

impl Harness {
    async fn start(overrides: &[(&str, &str)]) -> Self {
        let key = rsa_key("k1");
        let server = JwksServer::start(jwks(&[&key])).await;
        let mut env = vec![("DPOP_MODE", "if_bound"), ("DPOP_MAX_AGE_SECONDS", "60")];
        env.extend_from_slice(overrides);
        let config = common::config(&server, &env);
        let metrics = CaptureSink::new();
        let authorizer = Authorizer::new(config, Arc::new(metrics.clone())).unwrap();
        authorizer.prewarm().await;
        Self {
            authorizer,
            metrics,
            key,
            client: ProofKey::generate(JwtAlg::ES256),
            _server: server,
        }
    }

    /// A token bound to the client's key (or unbound with `None`).
    fn token(&self, jkt: Option<&str>) -> String {
        let mut claims = common::claims("books:read");
        if let Some(jkt) = jkt {
            claims["cnf"] = json!({"jkt": jkt});
        }
        self.key.sign(&claims)
    }

    fn bound_token(&self) -> String {
        self.token(Some(&self.client.thumbprint()))
    }

    async fn decide(&self, event: Value) -> Result<Value, Refusal> {
        self.authorizer.handle(event).await
    }

    fn last_reason(&self) -> String {
        decision_lines(&self.metrics)
            .last()
            .and_then(|l| l["Reason"].as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// Refused, for `reason`.
    async fn refused(&self, event: Value, reason: &str, why: &str) {
        assert_eq!(
            self.decide(event).await,
            Err(Refusal::Unauthorized),
            "{why}"
        );
        assert_eq!(self.last_reason(), reason, "{why}");
    }

    async fn allowed(&self, event: Value, why: &str) {
        let answer = self
            .decide(event)
            .await
            .unwrap_or_else(|e| panic!("{why}: {e:?}"));
        assert_eq!(effect_for(&answer, METHOD_ARN), Some("Allow"), "{why}");
    }
}

/// A REST `REQUEST` event for `GET /books/42` at stage `prod`, with these
/// `Authorization` and `DPoP` values (and more headers, as clients send).
fn rest_event(authorization: &str, proofs: &[&str], extra_headers: Value) -> Value {
    let mut headers = json!({"Authorization": authorization, "Host": DOMAIN});
    let mut multi = json!({"Authorization": [authorization], "Host": [DOMAIN]});
    if !proofs.is_empty() {
        headers["DPoP"] = json!(proofs.last());
        multi["DPoP"] = json!(proofs);
    }
    for (name, value) in extra_headers.as_object().into_iter().flatten() {
        headers[name] = value.clone();
        multi[name] = json!([value]);
    }
    json!({
        "type": "REQUEST", "methodArn": METHOD_ARN, "resource": "/books/{id}", "path": "/books/42",
        "httpMethod": "GET", "headers": headers, "multiValueHeaders": multi,
        "queryStringParameters": {"q": "x"}, "pathParameters": {"id": "42"}, "stageVariables": null,
        "requestContext": {"path": "/prod/books/42", "accountId": "123456789012", "resourceId": "r",
            "stage": "prod", "requestId": "req", "domainName": DOMAIN,
            "identity": {"sourceIp": "203.0.113.9"}, "resourcePath": "/books/{id}",
            "httpMethod": "GET", "apiId": "abc123"}
    })
}

fn dpop_event(token: &str, proof: &str) -> Value {
    rest_event(&format!("DPoP {token}"), &[proof], json!({}))
}

#[tokio::test]
async fn a_bound_token_with_a_good_proof_is_allowed_and_each_proof_check_alone_refuses() {
    let h = Harness::start(&[]).await;
    let token = h.bound_token();
    let good = h.client.proof("GET", URL, Some(&token));
    h.allowed(dpop_event(&token, &good), "a good proof").await;

    let spoiled = |change: &dyn Fn(&mut testkit::dpop::ProofParts)| {
        let mut parts = h.client.parts("GET", URL, Some(&token));
        change(&mut parts);
        h.client.sign(&parts)
    };
    let now = testkit::now();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "dpop_invalid",
            spoiled(&|p| p.header["typ"] = json!("jwt")),
            "typ",
        ),
        (
            "dpop_invalid",
            spoiled(&|p| p.header["jwk"]["d"] = json!("c2VjcmV0")),
            "a private key in jwk",
        ),
        (
            "dpop_invalid",
            spoiled(&|p| {
                p.header.as_object_mut().unwrap().remove("jwk");
            }),
            "no jwk",
        ),
        (
            "dpop_invalid",
            spoiled(&|p| p.header["crit"] = json!(["x"])),
            "crit",
        ),
        (
            "dpop_invalid",
            spoiled(&|p| {
                p.claims.as_object_mut().unwrap().remove("jti");
            }),
            "no jti",
        ),
        (
            "dpop_invalid",
            spoiled(&|p| p.claims["iat"] = json!("now")),
            "iat a string",
        ),
        (
            "dpop_htm",
            spoiled(&|p| p.claims["htm"] = json!("POST")),
            "another method",
        ),
        (
            "dpop_htm",
            spoiled(&|p| p.claims["htm"] = json!("get")),
            "the method in lower case",
        ),
        (
            "dpop_htu",
            spoiled(&|p| p.claims["htu"] = json!(format!("{URL}?q=x"))),
            "htu with a query",
        ),
        (
            "dpop_htu",
            spoiled(&|p| p.claims["htu"] = json!("https://evil.example.com/prod/books/42")),
            "another host",
        ),
        (
            "dpop_htu",
            spoiled(&|p| p.claims["htu"] = json!(URL.replace("/prod/", "/test/"))),
            "another stage",
        ),
        (
            "dpop_htu",
            spoiled(&|p| p.claims["htu"] = json!(URL.replace("/books/", "/Books/"))),
            "path case",
        ),
        (
            "dpop_htu",
            spoiled(&|p| p.claims["htu"] = json!(URL.replace("https:", "http:"))),
            "http",
        ),
        (
            "dpop_stale",
            spoiled(&|p| p.claims["iat"] = json!(now - 120)),
            "too old",
        ),
        (
            "dpop_stale",
            spoiled(&|p| p.claims["iat"] = json!(now + 60)),
            "from the future",
        ),
        (
            "dpop_ath",
            spoiled(&|p| p.claims["ath"] = json!(testkit::dpop::access_token_hash("other"))),
            "another token's ath",
        ),
        (
            "dpop_ath",
            spoiled(&|p| {
                p.claims.as_object_mut().unwrap().remove("ath");
            }),
            "no ath",
        ),
    ];
    for (reason, proof, why) in cases {
        h.refused(dpop_event(&token, &proof), reason, why).await;
    }
    // A proof signed by another key than its jwk's.
    let other = ProofKey::generate(JwtAlg::ES256);
    let mut parts = h.client.parts("GET", URL, Some(&token));
    parts.header["jwk"] = other.public_jwk();
    h.refused(
        dpop_event(&token, &h.client.sign(&parts)),
        "dpop_invalid",
        "signature",
    )
    .await;
    // A proof of another key than the token's.
    let proof = other.proof("GET", URL, Some(&token));
    h.refused(dpop_event(&token, &proof), "dpop_binding", "another key")
        .await;
    // Equivalent URI spellings are the same URI (RFC 3986 normalization).
    for equivalent in [
        "HTTPS://ABC123.execute-api.eu-west-1.amazonaws.com/prod/books/42",
        "https://abc123.execute-api.eu-west-1.amazonaws.com:443/prod/books/42",
        "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/%62ooks/42",
        "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/x/../books/42",
    ] {
        let proof = spoiled(&|p| p.claims["htu"] = json!(equivalent));
        h.allowed(dpop_event(&token, &proof), equivalent).await;
    }
}

#[tokio::test]
async fn none_and_symmetric_algorithms_are_refused() {
    let h = Harness::start(&[]).await;
    let token = h.bound_token();
    for alg in ["none", "HS256"] {
        let mut parts = h.client.parts("GET", URL, Some(&token));
        parts.header["alg"] = json!(alg);
        let header = testkit::b64url(parts.header.to_string());
        let claims = testkit::b64url(parts.claims.to_string());
        let proof = format!("{header}.{claims}.{}", testkit::b64url("sig"));
        h.refused(dpop_event(&token, &proof), "dpop_invalid", alg)
            .await;
    }
    // DPOP_ALGORITHMS narrows what is accepted.
    let narrow = Harness::start(&[("DPOP_ALGORITHMS", "EdDSA")]).await;
    let token = narrow.bound_token();
    let proof = narrow.client.proof("GET", URL, Some(&token));
    narrow
        .refused(
            dpop_event(&token, &proof),
            "dpop_invalid",
            "ES256 not in DPOP_ALGORITHMS",
        )
        .await;
}

#[tokio::test]
async fn every_algorithm_of_the_default_list_is_accepted() {
    for alg in [JwtAlg::ES256, JwtAlg::EdDSA, JwtAlg::PS256, JwtAlg::RS256] {
        let mut h = Harness::start(&[]).await;
        h.client = ProofKey::generate(alg);
        let token = h.bound_token();
        let proof = h.client.proof("GET", URL, Some(&token));
        h.allowed(dpop_event(&token, &proof), &format!("{alg:?}"))
            .await;
    }
}

#[tokio::test]
async fn a_proof_is_accepted_once() {
    let h = Harness::start(&[("DPOP_MAX_AGE_SECONDS", "1")]).await;
    let token = h.bound_token();
    let proof = h.client.proof("GET", URL, Some(&token));
    h.allowed(dpop_event(&token, &proof), "first use").await;
    h.refused(
        dpop_event(&token, &proof),
        "dpop_replay",
        "the same proof again",
    )
    .await;
    // After the window the proof is refused as stale (its jti may be forgotten).
    tokio::time::sleep(Duration::from_millis(7100)).await;
    h.refused(
        dpop_event(&token, &proof),
        "dpop_stale",
        "the same proof, late",
    )
    .await;
    // A refused proof does not use up its jti.
    let fresh = h.client.parts("GET", URL, Some(&token));
    let mut wrong = fresh.clone();
    wrong.claims["htm"] = json!("DELETE");
    h.refused(
        dpop_event(&token, &h.client.sign(&wrong)),
        "dpop_htm",
        "wrong method",
    )
    .await;
    h.allowed(
        dpop_event(&token, &h.client.sign(&fresh)),
        "same jti, right method",
    )
    .await;
}

#[tokio::test]
async fn the_scheme_must_fit_the_token() {
    let h = Harness::start(&[]).await;
    let bound = h.bound_token();
    let proof = h.client.proof("GET", URL, Some(&bound));
    // RFC 9449 §7.1: a bound token downgraded to Bearer, even with its proof.
    let downgrade = rest_event(&format!("Bearer {bound}"), &[&proof], json!({}));
    h.refused(downgrade, "dpop_binding", "a bound token as Bearer")
        .await;
    // The DPoP scheme with a token that is bound to nothing.
    let bearer = h.token(None);
    let proof = h.client.proof("GET", URL, Some(&bearer));
    h.refused(
        dpop_event(&bearer, &proof),
        "dpop_binding",
        "an unbound token as DPoP",
    )
    .await;
    // A bearer token stays a bearer token under if_bound.
    h.allowed(
        rest_event(&format!("Bearer {bearer}"), &[], json!({})),
        "bearer",
    )
    .await;
    // No proof, or two.
    h.refused(
        rest_event(&format!("DPoP {bound}"), &[], json!({})),
        "dpop_missing",
        "no proof",
    )
    .await;
    let (one, two) = (
        h.client.proof("GET", URL, Some(&bound)),
        h.client.proof("GET", URL, Some(&bound)),
    );
    h.refused(
        rest_event(&format!("DPoP {bound}"), &[&one, &two], json!({})),
        "dpop_invalid",
        "two proofs",
    )
    .await;
    let joined = format!("{one}, {two}");
    h.refused(
        rest_event(&format!("DPoP {bound}"), &[], json!({"DPoP": joined})),
        "dpop_invalid",
        "two proofs in one field",
    )
    .await;
}

#[tokio::test]
async fn dpop_mode_decides_what_unbound_and_bound_tokens_need() {
    let required = Harness::start(&[("DPOP_MODE", "required")]).await;
    let bearer = required.token(None);
    required
        .refused(
            rest_event(&format!("Bearer {bearer}"), &[], json!({})),
            "dpop_binding",
            "required",
        )
        .await;
    let bound = required.bound_token();
    let proof = required.client.proof("GET", URL, Some(&bound));
    required
        .allowed(dpop_event(&bound, &proof), "required, with a proof")
        .await;

    let off = Harness::start(&[("DPOP_MODE", "off")]).await;
    let bound = off.bound_token();
    off.allowed(
        rest_event(&format!("Bearer {bound}"), &[], json!({})),
        "off: a bearer token",
    )
    .await;
}

#[tokio::test]
async fn client_set_host_and_forwarding_headers_never_make_the_uri() {
    let h = Harness::start(&[]).await;
    let token = h.bound_token();
    let forged_url = "https://evil.example.com/prod/books/42";
    let proof = h.client.proof("GET", forged_url, Some(&token));
    let forged = rest_event(
        &format!("DPoP {token}"),
        &[&proof],
        json!({"Host": "evil.example.com", "X-Forwarded-Host": "evil.example.com",
               "X-Forwarded-Proto": "https", "Forwarded": "host=evil.example.com"}),
    );
    h.refused(forged, "dpop_htu", "a proof for the forged host")
        .await;
}

#[tokio::test]
async fn a_custom_domain_is_accepted_through_dpop_public_base_urls() {
    let h = Harness::start(&[(
        "DPOP_PUBLIC_BASE_URLS",
        r#"["https://books.example.com/v1"]"#,
    )])
    .await;
    let token = h.bound_token();
    let proof = h
        .client
        .proof("GET", "https://books.example.com/v1/books/42", Some(&token));
    h.allowed(
        dpop_event(&token, &proof),
        "the custom domain and base path",
    )
    .await;
    let proof = h
        .client
        .proof("GET", "https://books.example.com/books/42", Some(&token));
    h.refused(
        dpop_event(&token, &proof),
        "dpop_htu",
        "without the base path",
    )
    .await;
}

#[tokio::test]
async fn a_token_event_with_dpop_on_fails_naming_dpop() {
    let h = Harness::start(&[]).await;
    let token = h.token(None);
    let refusal = h.decide(common::token_event(&token)).await;
    match refusal {
        Err(Refusal::Misconfigured(message)) => {
            assert!(
                message.contains("DPoP") && message.contains("REQUEST"),
                "{message}"
            )
        }
        other => panic!("a TOKEN event with DPoP on must fail naming DPoP, got {other:?}"),
    }
    assert_eq!(h.last_reason(), "dpop_token_event");
}

/// An HTTP API payload 2.0 event with these identity source values.
fn http_event(token: &str, proof: &str, identity_source: Value) -> Value {
    json!({
        "version": "2.0", "type": "REQUEST",
        "routeArn": "arn:aws:execute-api:eu-west-1:123456789012:abc123/$default/GET/books/42",
        "identitySource": identity_source, "routeKey": "GET /books/{id}", "rawPath": "/books/42",
        "headers": {"authorization": format!("DPoP {token}"), "dpop": proof},
        "requestContext": {"accountId": "123456789012", "apiId": "abc123", "domainName": "api.example.com",
            "domainPrefix": "api", "http": {"method": "GET", "path": "/books/42", "protocol": "HTTP/1.1",
            "sourceIp": "1.1.1.1", "userAgent": "x"}, "requestId": "r", "routeKey": "GET /books/{id}",
            "stage": "$default", "time": "t", "timeEpoch": 0}
    })
}

#[tokio::test]
async fn an_http_api_answer_needs_the_proof_in_its_cache_key() {
    let h = Harness::start(&[]).await;
    let token = h.bound_token();
    let url = "https://api.example.com/books/42";
    let proof = h.client.proof("GET", url, Some(&token));
    let authorization = format!("DPoP {token}");
    let answer = h
        .decide(http_event(&token, &proof, json!([authorization, proof])))
        .await
        .expect("allowed");
    assert!(answer["policyDocument"].is_object());
    let proof = h.client.proof("GET", url, Some(&token));
    h.refused(
        http_event(&token, &proof, json!([authorization])),
        "dpop_identity_source",
        "an answer API Gateway could reuse for another proof",
    )
    .await;
}

fn pem(der: &[u8]) -> String {
    use base64::Engine;
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        base64::engine::general_purpose::STANDARD.encode(der)
    )
}

#[tokio::test]
async fn a_certificate_bound_token_needs_that_certificate() {
    let h = Harness::start(&[]).await;
    let der = b"the client certificate's DER";
    let thumbprint = testkit::b64url(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der));
    let mut claims = common::claims("books:read");
    claims["cnf"] = json!({"x5t#S256": thumbprint});
    let token = h.key.sign(&claims);
    let with_cert = |cert: Option<&str>| {
        let mut event = rest_event(&format!("Bearer {token}"), &[], json!({}));
        if let Some(cert) = cert {
            event["requestContext"]["identity"]["clientCert"] = json!({
                "clientCertPem": cert, "subjectDN": "CN=client", "issuerDN": "CN=ca",
                "serialNumber": "1", "validity": {"notBefore": "a", "notAfter": "b"}});
        }
        event
    };
    h.allowed(with_cert(Some(&pem(der))), "its certificate")
        .await;
    h.refused(
        with_cert(Some(&pem(b"another certificate"))),
        "mtls_binding",
        "another certificate",
    )
    .await;
    h.refused(with_cert(None), "mtls_binding", "no certificate")
        .await;
    // A confirmation method Tollgate does not check fails the token.
    let mut claims = common::claims("books:read");
    claims["cnf"] = json!({"jwk": {"kty": "EC"}});
    let token = h.key.sign(&claims);
    h.refused(
        rest_event(&format!("Bearer {token}"), &[], json!({})),
        "invalid_claims",
        "cnf.jwk",
    )
    .await;
}

#[tokio::test]
async fn a_repeated_bound_token_is_a_decision_cache_hit_and_its_proof_still_checked() {
    let h = Harness::start(&[]).await;
    let token = h.bound_token();
    for _ in 0..3 {
        let proof = h.client.proof("GET", URL, Some(&token));
        h.allowed(dpop_event(&token, &proof), "a fresh proof each time")
            .await;
    }
    let hits = common::metric_sum(&h.metrics, "DecisionCacheHits");
    assert!(hits >= 2.0, "the token was verified once: {hits}");
    let stale = h
        .client
        .proof("GET", URL.replace("/42", "/43").as_str(), Some(&token));
    h.refused(
        dpop_event(&token, &stale),
        "dpop_htu",
        "cache hit, bad proof",
    )
    .await;
    let _ = (ISSUER, AUDIENCE);
}

/// The AWS settings a function process needs to reach the test DynamoDB
/// (it starts with a clean environment).
fn aws_env() -> Option<Vec<(&'static str, String)>> {
    let endpoint = testkit::aws_test_endpoint()?;
    let pass = |name: &'static str, default: &str| {
        (
            name,
            std::env::var(name).unwrap_or_else(|_| default.to_owned()),
        )
    };
    Some(vec![
        ("AWS_ENDPOINT_URL", endpoint),
        pass("AWS_ACCESS_KEY_ID", "testing"),
        pass("AWS_SECRET_ACCESS_KEY", "testing"),
        pass("AWS_REGION", "us-east-1"),
    ])
}

/// Two authorizer processes (two Lambda instances) sharing one replay
/// table: the same proof sent to both at once is accepted by exactly one.
/// A table that does not exist fails closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_sharing_a_replay_table_accept_a_proof_once() {
    let Some(aws) = aws_env() else {
        return;
    };
    let (client, table) = testkit::dynamodb("dpop-replay").await;
    aws_clients::create_table(&client, &table, "pk")
        .await
        .unwrap();
    let key = rsa_key("k1");
    let server = JwksServer::start(jwks(&[&key])).await;
    let binary = env!("CARGO_BIN_EXE_authorizer");
    let env_with = |table: &str| {
        let mut env = aws.clone();
        env.extend([
            ("JWT_ISSUER", ISSUER.to_owned()),
            ("JWKS_URI", server.url()),
            ("JWT_AUDIENCE", AUDIENCE.to_owned()),
            ("DPOP_REPLAY_TABLE", table.to_owned()),
        ]);
        env
    };
    let (a, b) = (
        testkit::function::TestFunction::new(binary, "authorizer-a", &env_with(&table)),
        testkit::function::TestFunction::new(binary, "authorizer-b", &env_with(&table)),
    );
    let client_key = ProofKey::generate(JwtAlg::ES256);
    let mut claims = common::claims("books:read");
    claims["cnf"] = json!({"jkt": client_key.thumbprint()});
    let token = key.sign(&claims);
    // Warm both (each fetches its JWKS at init) with proofs of their own.
    for function in [&a, &b] {
        let proof = client_key.proof("GET", URL, Some(&token));
        assert!(function.invoke(dpop_event(&token, &proof)).await.is_ok());
    }
    for _ in 0..5 {
        let proof = client_key.proof("GET", URL, Some(&token));
        let (first, second) = tokio::join!(
            a.invoke(dpop_event(&token, &proof)),
            b.invoke(dpop_event(&token, &proof))
        );
        assert_eq!(
            [first.is_ok(), second.is_ok()]
                .iter()
                .filter(|ok| **ok)
                .count(),
            1,
            "one process wins: {first:?} {second:?}"
        );
    }
    let missing =
        testkit::function::TestFunction::new(binary, "authorizer-c", &env_with("no-such-table"));
    let proof = client_key.proof("GET", URL, Some(&token));
    let refused = missing.invoke(dpop_event(&token, &proof)).await;
    assert!(
        matches!(refused, Err(testkit::function::LambdaError::Function { ref message, .. }) if message == "Unauthorized"),
        "a missing table fails closed: {refused:?}"
    );
    let lines = missing
        .stdout_json_when(|lines| {
            lines
                .iter()
                .any(|l| l["Reason"] == "dpop_replay_unavailable")
        })
        .await;
    assert!(lines
        .iter()
        .any(|l| l["Reason"] == "dpop_replay_unavailable"));
}

//! Tokens shaped as Cognito, Keycloak, Auth0 and Entra ID issue them, the
//! settings that adapt the authorizer to each (`SCOPE_CLAIMS`,
//! `PRINCIPAL_CLAIM`, `CONTEXT_CLAIMS`, `JWT_REQUIRED_TYP`,
//! `JWT_ALLOW_ID_TOKENS`), and OIDC discovery when `JWKS_URI` is unset.

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use authorizer::{Authorizer, AuthorizerConfig, VerifyError};
use common::*;
use serde_json::{json, Value};
use telemetry::CaptureSink;
use testkit::{now, JwksServer, TestKey};

/// An authorizer built from `env` and, answering `TOKEN` events,
/// `DPOP_MODE=off`.
async fn authorizer_with(env: &[(&str, String)]) -> Authorizer {
    let mut env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    env.insert("DPOP_MODE".to_owned(), "off".to_owned());
    let config =
        AuthorizerConfig::from_lookup(|name| env.get(name).cloned(), common::demo_routes())
            .expect("config");
    let authorizer = Authorizer::new(config, Arc::new(CaptureSink::new())).expect("authorizer");
    authorizer.prewarm().await;
    authorizer
}

fn signed(key: &TestKey, header: Value, claims: &Value) -> String {
    key.sign_raw(&header.to_string(), &claims.to_string())
}

fn route_arn(method: &str, path: &str) -> String {
    format!("arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/{method}{path}")
}

/// The policy's effect on `method path` (Deny wins) is `effect`.
fn assert_effect(answer: &Value, method: &str, path: &str, effect: &str) {
    assert_eq!(
        effect_for(answer, &route_arn(method, path)),
        Some(effect),
        "{method} {path}"
    );
}

async fn policy_for(authorizer: &Authorizer, token: &str, method: &str, path: &str) -> Value {
    let event = json!({"type": "TOKEN", "authorizationToken": format!("Bearer {token}"),
        "methodArn": route_arn(method, path)});
    authorizer.handle(event).await.expect("allowed or denied")
}

const COGNITO_CLIENT: &str = "3n4b5urk1ft4fl3mg5e62d9ado";

fn cognito_access(iss: &str, groups: &[&str], scope: &str) -> Value {
    let now = now();
    json!({
        "sub": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "cognito:groups": groups,
        "iss": iss, "version": 2, "client_id": COGNITO_CLIENT,
        "origin_jti": "bbbbbbbb-1111-2222-3333-444444444444", "event_id": "cccccccc-5555",
        "token_use": "access", "scope": scope, "auth_time": now, "exp": now + 3600, "iat": now,
        "jti": "dddddddd-6666-7777-8888-999999999999", "username": "carol"
    })
}

#[tokio::test]
async fn cognito_access_tokens_match_client_id_and_groups_grant_scopes() {
    let key = rsa_key("cognito-kid");
    let server = JwksServer::start(testkit::jwks(&[&key])).await;
    let authorizer = authorizer_with(&[
        ("JWT_ISSUER", ISSUER.to_owned()),
        ("JWKS_URI", server.url()),
        ("JWT_AUDIENCE", COGNITO_CLIENT.to_owned()),
        ("SCOPE_CLAIMS", "scope,cognito:groups".to_owned()),
        ("PRINCIPAL_CLAIM", "username".to_owned()),
        (
            "ROUTE_SCOPES",
            r#"{"GET /books": ["books/read", "readers"], "POST /books": "books/write"}"#.to_owned(),
        ),
    ])
    .await;
    // Cognito signs RS256 with no `typ` and no `aud` in access tokens.
    let header = json!({"kid": "cognito-kid", "alg": "RS256"});
    let token = signed(
        &key,
        header.clone(),
        &cognito_access(ISSUER, &["readers"], "openid"),
    );
    let answer = policy_for(&authorizer, &token, "GET", "/books").await;
    assert_eq!(answer["principalId"], "carol");
    assert_eq!(
        answer["context"]["sub"],
        "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    );
    assert_eq!(answer["context"]["scope"], "openid readers");
    assert_eq!(answer["context"]["client_id"], COGNITO_CLIENT);
    assert_effect(&answer, "GET", "/books", "Allow");
    assert_effect(&answer, "POST", "/books", "Deny");

    let writer = signed(
        &key,
        header.clone(),
        &cognito_access(ISSUER, &[], "books/write"),
    );
    let answer = policy_for(&authorizer, &writer, "POST", "/books").await;
    assert_effect(&answer, "POST", "/books", "Allow");

    // Another app client of the same pool is not our audience.
    let mut other_client = cognito_access(ISSUER, &["readers"], "openid");
    other_client["client_id"] = json!("someotherappclient");
    let other = signed(&key, header.clone(), &other_client);
    assert_eq!(
        authorizer.verify(&other).await.err(),
        Some(VerifyError::BadAudience)
    );

    // An ID token (aud = client id, token_use id) is refused by default...
    let mut id_claims = cognito_access(ISSUER, &["readers"], "openid");
    id_claims["token_use"] = json!("id");
    id_claims["aud"] = json!(COGNITO_CLIENT);
    id_claims.as_object_mut().unwrap().remove("client_id");
    let id_token = signed(&key, header.clone(), &id_claims);
    assert_eq!(
        authorizer.verify(&id_token).await.err(),
        Some(VerifyError::WrongTokenUse)
    );
}

#[tokio::test]
async fn id_tokens_pass_only_with_jwt_allow_id_tokens() {
    let key = rsa_key("k");
    let server = JwksServer::start(testkit::jwks(&[&key])).await;
    let env = |allow: &str| {
        vec![
            ("JWT_ISSUER", ISSUER.to_owned()),
            ("JWKS_URI", server.url()),
            ("JWT_AUDIENCE", COGNITO_CLIENT.to_owned()),
            ("JWT_ALLOW_ID_TOKENS", allow.to_owned()),
        ]
    };
    let mut id_claims = cognito_access(ISSUER, &[], "openid");
    id_claims["token_use"] = json!("id");
    id_claims["aud"] = json!(COGNITO_CLIENT);
    let id_token = signed(&key, json!({"kid": "k", "alg": "RS256"}), &id_claims);
    let strict = authorizer_with(&env("false")).await;
    assert_eq!(
        strict.verify(&id_token).await.err(),
        Some(VerifyError::WrongTokenUse)
    );
    let lenient = authorizer_with(&env("true")).await;
    assert!(lenient.verify(&id_token).await.is_ok());
    // Even then, a use that is neither access nor id is refused.
    id_claims["token_use"] = json!("refresh");
    let odd = signed(&key, json!({"kid": "k", "alg": "RS256"}), &id_claims);
    assert_eq!(
        lenient.verify(&odd).await.err(),
        Some(VerifyError::WrongTokenUse)
    );
}

#[tokio::test]
async fn keycloak_realm_roles_grant_scopes_and_reach_the_context() {
    let key = rsa_key("kc");
    let server = JwksServer::start(testkit::jwks(&[&key])).await;
    let issuer = format!("{}/realms/books", server.base_url());
    let authorizer = authorizer_with(&[
        ("JWT_ISSUER", issuer.clone()),
        ("JWKS_URI", server.url()),
        ("JWT_AUDIENCE", "account".to_owned()),
        ("SCOPE_CLAIMS", "realm_access.roles".to_owned()),
        ("PRINCIPAL_CLAIM", "preferred_username".to_owned()),
        (
            "CONTEXT_CLAIMS",
            "email,realm_access.roles,resource_access".to_owned(),
        ),
        (
            "ROUTE_SCOPES",
            r#"{"GET /books": ["book reader"], "DELETE /books/*": "librarian"}"#.to_owned(),
        ),
    ])
    .await;
    let now = now();
    let claims = json!({
        "exp": now + 300, "iat": now, "jti": "onrtac:1", "iss": issuer, "aud": "account",
        "sub": "f:1234", "typ": "Bearer", "azp": "books-web", "sid": "s",
        "realm_access": {"roles": ["book reader", "offline_access"]},
        "resource_access": {"account": {"roles": ["manage-account"]}},
        "scope": "openid email profile", "email_verified": true,
        "preferred_username": "dora", "email": "dora@example.com"
    });
    let token = signed(
        &key,
        json!({"alg": "RS256", "typ": "JWT", "kid": "kc"}),
        &claims,
    );
    let answer = policy_for(&authorizer, &token, "GET", "/books").await;
    assert_eq!(answer["principalId"], "dora");
    assert_effect(&answer, "GET", "/books", "Allow");
    assert_effect(&answer, "DELETE", "/books/1", "Deny");
    let context = answer["context"].as_object().unwrap();
    assert_eq!(context["email"], "dora@example.com");
    assert_eq!(context["realm_access.roles"], "book reader offline_access");
    assert_eq!(
        context["resource_access"],
        r#"{"account":{"roles":["manage-account"]}}"#
    );
    // "book reader" is one scope: it is granted, but cannot reach the
    // space-separated `scope` string the backend splits.
    assert_eq!(context["scope"], "offline_access");
    assert!(context.values().all(Value::is_string));
}

#[tokio::test]
async fn auth0_permissions_and_namespaced_claims() {
    let key = rsa_key("a0");
    let server = JwksServer::start(testkit::jwks(&[&key])).await;
    // Auth0 issuers end with a slash, and `aud` is an array with /userinfo.
    let issuer = format!("{}/", server.base_url());
    let authorizer = authorizer_with(&[
        ("JWT_ISSUER", issuer.clone()),
        ("JWKS_URI", server.url()),
        ("JWT_AUDIENCE", "https://books.example.com".to_owned()),
        (
            "SCOPE_CLAIMS",
            "permissions,https://books.example.com/roles".to_owned(),
        ),
        (
            "ROUTE_SCOPES",
            r#"{"GET /books": "read:books", "POST /books": "editor"}"#.to_owned(),
        ),
    ])
    .await;
    let now = now();
    let claims = json!({
        "iss": issuer, "sub": "auth0|6543", "azp": "abc",
        "aud": ["https://books.example.com", format!("{issuer}userinfo")],
        "iat": now, "exp": now + 86400, "scope": "openid profile",
        "permissions": ["read:books"], "https://books.example.com/roles": ["editor"]
    });
    let token = signed(
        &key,
        json!({"alg": "RS256", "typ": "JWT", "kid": "a0"}),
        &claims,
    );
    let answer = policy_for(&authorizer, &token, "GET", "/books").await;
    assert_effect(&answer, "GET", "/books", "Allow");
    assert_effect(&answer, "POST", "/books", "Allow");
    assert_eq!(answer["context"]["scope"], "read:books editor");
}

#[tokio::test]
async fn entra_scp_is_a_space_separated_string() {
    let key = rsa_key("entra");
    let server = JwksServer::start(testkit::jwks(&[&key])).await;
    let authorizer = authorizer_with(&[
        ("JWT_ISSUER", ISSUER.to_owned()),
        ("JWKS_URI", server.url()),
        ("JWT_AUDIENCE", "api://books".to_owned()),
        ("SCOPE_CLAIMS", "scp,roles".to_owned()),
        (
            "ROUTE_SCOPES",
            r#"{"GET /books": "Books.Read", "POST /books": "Books.Admin"}"#.to_owned(),
        ),
    ])
    .await;
    let now = now();
    let claims = json!({"aud": "api://books", "iss": ISSUER, "iat": now, "nbf": now,
        "exp": now + 3600, "sub": "x", "oid": "o", "tid": "t", "ver": "2.0",
        "scp": "User.Read Books.Read", "roles": ["Books.Admin"]});
    let token = signed(
        &key,
        json!({"typ": "JWT", "alg": "RS256", "kid": "entra"}),
        &claims,
    );
    let answer = policy_for(&authorizer, &token, "GET", "/books").await;
    assert_effect(&answer, "GET", "/books", "Allow");
    assert_effect(&answer, "POST", "/books", "Allow");
}

#[tokio::test]
async fn jwt_required_typ_compares_as_rfc_9068_says() {
    let key = rsa_key("k");
    let h = harness(testkit::jwks(&[&key]), &[("JWT_REQUIRED_TYP", "at+jwt")]).await;
    let claims = claims("books:read");
    for (typ, ok) in [
        (Some("at+jwt"), true),
        (Some("application/at+jwt"), true),
        (Some("AT+JWT"), true),
        (Some("JWT"), false),
        (Some("application/jwt"), false),
        (Some(""), false),
        (None, false),
    ] {
        let mut header = json!({"alg": "RS256", "kid": "k"});
        if let Some(typ) = typ {
            header["typ"] = json!(typ);
        }
        let token = signed(&key, header, &claims);
        let result = h.authorizer.verify(&token).await.map(|_| ());
        let expected = if ok {
            Ok(())
        } else {
            Err(VerifyError::BadType)
        };
        assert_eq!(result, expected, "typ {typ:?}");
    }
    // Unset, typ is not checked.
    let lax = harness(testkit::jwks(&[&key]), &[]).await;
    let untyped = signed(&key, json!({"alg": "RS256", "kid": "k"}), &claims);
    assert!(lax.authorizer.verify(&untyped).await.is_ok());
}

#[tokio::test]
async fn discovery_finds_the_jwks_when_jwks_uri_is_unset() {
    let key = rsa_key("okta-kid");
    let server = JwksServer::start(testkit::jwks(&[&key])).await;
    // Okta-style: the keys live at /oauth2/v1/keys, not /.well-known/jwks.json.
    let issuer = server.base_url();
    let keys_url = format!("{issuer}/oauth2/v1/keys");
    server.set_discovery(json!({"issuer": issuer, "jwks_uri": keys_url,
        "authorization_endpoint": format!("{issuer}/oauth2/v1/authorize")}));
    let env = [
        ("JWT_ISSUER", issuer.clone()),
        ("JWT_AUDIENCE", AUDIENCE.to_owned()),
    ];
    let authorizer = authorizer_with(&env).await;
    let claims = testkit::access_claims(&issuer, AUDIENCE, "alice", "books:read", 600);
    let token = key.sign(&claims);
    assert!(authorizer.verify(&token).await.is_ok());
    let fetched_before = server.requests();
    assert!(authorizer.verify(&key.sign(&claims)).await.is_ok());
    assert_eq!(
        server.requests(),
        fetched_before,
        "discovery and keys are cached"
    );
}

#[tokio::test]
async fn discovery_with_another_issuer_or_an_insecure_jwks_uri_fails_closed() {
    let key = rsa_key("k");
    let server = JwksServer::start(testkit::jwks(&[&key])).await;
    let issuer = server.base_url();
    let claims = testkit::access_claims(&issuer, AUDIENCE, "alice", "books:read", 600);
    let env = [
        ("JWT_ISSUER", issuer.clone()),
        ("JWT_AUDIENCE", AUDIENCE.to_owned()),
    ];
    for document in [
        // The document names another issuer (a trailing slash is another issuer too).
        json!({"issuer": "https://evil.example", "jwks_uri": server.url()}),
        json!({"issuer": format!("{issuer}/"), "jwks_uri": server.url()}),
        // Its jwks_uri is clear-text http off loopback.
        json!({"issuer": issuer, "jwks_uri": "http://keys.example/jwks"}),
        // Not a discovery document.
        json!({"keys": []}),
    ] {
        server.set_discovery(document.clone());
        let authorizer = authorizer_with(&env).await;
        assert_eq!(
            authorizer.verify(&key.sign(&claims)).await.err(),
            Some(VerifyError::KeysUnavailable),
            "{document}"
        );
    }
}

#[tokio::test]
async fn trusted_issuers_without_jwks_uri_use_discovery() {
    let key = rsa_key("k");
    let server = JwksServer::start(testkit::jwks(&[&key])).await;
    let issuer = server.base_url();
    server.set_discovery(json!({"issuer": issuer, "jwks_uri": server.url()}));
    let trusted = json!([{"issuer": issuer, "audiences": [AUDIENCE]}]).to_string();
    let authorizer = authorizer_with(&[("TRUSTED_ISSUERS", trusted)]).await;
    let claims = testkit::access_claims(&issuer, AUDIENCE, "alice", "books:read", 600);
    assert!(authorizer.verify(&key.sign(&claims)).await.is_ok());
}

#[tokio::test]
async fn scp_array_elements_never_split_into_several_scopes() {
    let key = rsa_key("k");
    let h = harness(
        testkit::jwks(&[&key]),
        &[("ROUTE_SCOPES", r#"{"GET /a": "a", "GET /b": "b"}"#)],
    )
    .await;
    let mut claims = claims("");
    claims["scp"] = json!(["a b"]);
    let token = key.sign(&claims);
    let answer = policy_for(&h.authorizer, &token, "GET", "/a").await;
    assert_effect(&answer, "GET", "/a", "Deny");
    assert_effect(&answer, "GET", "/b", "Deny");
    assert_eq!(
        answer["context"]["scope"], "",
        "and the context does not split it either"
    );
}

/// Every refusal names its reason in `tollgate explain`: a token that
/// passes every claim check but lacks the `PRINCIPAL_CLAIM` too.
#[tokio::test]
async fn explain_names_a_missing_principal_claim() {
    let key = common::rsa_key("principal");
    let h = common::harness(testkit::jwks(&[&key]), &[("PRINCIPAL_CLAIM", "username")]).await;
    let token = key.sign(&common::claims("books:read"));
    let explanation = h.authorizer.explain(&token).await;
    assert_eq!(
        explanation.outcome.as_ref().err().map(|e| e.reason()),
        Some("missing_principal")
    );
    assert_eq!(explanation.first_failure(), Some("missing_principal"));
    let principal = explanation
        .checks
        .iter()
        .find(|c| c.name == "principal")
        .expect("a principal line");
    assert!(
        principal.detail.contains("username"),
        "{}",
        principal.detail
    );
}

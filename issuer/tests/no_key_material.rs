//! No private key material in any response or log line, across login,
//! rotation, revocation and failures.

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use issuer::accounts::{Account, AccountKind};
use issuer::accounts::{AccountStore, FileAccountStore};
use issuer::hash_secret;
use issuer::keys::FileKeyStore;
use issuer::IssuerConfig;
use issuer::IssuerService;
use lambda_http::request::RequestContext;
use serde_json::{json, Value};
use tower::ServiceExt;

fn admin(method: &str, path: &str) -> Request<Body> {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .body(Body::empty())
        .unwrap();
    let context: lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequestContext =
        serde_json::from_value(
            json!({"httpMethod": method, "authorizer": {"sub": "root", "scope": "keys:admin"}}),
        )
        .unwrap();
    request
        .extensions_mut()
        .insert(RequestContext::ApiGatewayV1(context));
    request
}

/// Sends `request`: the status and the body as text.
async fn body_of(router: &axum::Router, request: Request<Body>) -> (u16, String) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

fn login(body: &str) -> Request<Body> {
    Request::post("/token")
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

#[tokio::test]
async fn responses_and_logs_never_carry_private_keys() {
    // Log lines, captured from a JSON tracing subscriber.
    let logs = testkit::CapturedLogs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let dir = tempfile::tempdir().unwrap();
    let mut config = IssuerConfig::from_lookup(|n| match n {
        "JWT_ISSUER" => Some("https://issuer.test".into()),
        "JWT_AUDIENCE" => Some("books-api".into()),
        _ => None,
    })
    .unwrap();
    config.rotation_spacing = std::time::Duration::ZERO; // rotation spacing is not under test here
    let accounts = Arc::new(FileAccountStore::new(dir.path().join("users.json")));
    accounts
        .put(&Account {
            kind: AccountKind::User,
            name: "alice".into(),
            secret_hash: hash_secret("pw").unwrap(),
            scopes: vec!["books:read".into()],
            disabled: false,
            dpop_only: false,
        })
        .await
        .unwrap();
    let keyset_path = dir.path().join("keyset.json");
    let service = Arc::new(IssuerService::new(
        config,
        Arc::new(FileKeyStore::new(&keyset_path)),
        accounts,
    ));
    let router = issuer::router(service);

    let mut responses = Vec::new();
    let mut private_keys = Vec::new();
    let remember_keys = |private_keys: &mut Vec<String>| {
        let stored: Value =
            serde_json::from_str(&std::fs::read_to_string(&keyset_path).unwrap()).unwrap();
        for key in stored["keys"].as_array().unwrap() {
            private_keys.push(key["private_key_pkcs8"].as_str().unwrap().to_owned());
        }
    };
    let mut requests = vec![
        login(r#"{"username":"alice","password":"pw"}"#),
        login(r#"{"username":"alice","password":"wrong"}"#),
        Request::get("/.well-known/jwks.json")
            .body(Body::empty())
            .unwrap(),
        admin("GET", "/admin/keys"),
        admin("POST", "/admin/keys/rotate"),
        admin("POST", "/admin/keys/unknown/revoke"),
    ];
    for request in requests.drain(..) {
        responses.push(body_of(&router, request).await.1);
        remember_keys(&mut private_keys);
    }
    // Revoke the active key, then corrupt the keyset: the failure must not echo it.
    let keys: Value =
        serde_json::from_str(&body_of(&router, admin("GET", "/admin/keys")).await.1).unwrap();
    let active = testkit::active_kid(&keys);
    responses.push(
        body_of(
            &router,
            admin("POST", &format!("/admin/keys/{active}/revoke")),
        )
        .await
        .1,
    );
    remember_keys(&mut private_keys);
    let mut corrupt = std::fs::read_to_string(&keyset_path).unwrap();
    corrupt.truncate(corrupt.len() / 2);
    std::fs::write(&keyset_path, corrupt).unwrap();
    let (status, body) = body_of(&router, admin("POST", "/admin/keys/rotate")).await;
    assert_eq!(status, 500);
    responses.push(body);

    private_keys.sort();
    private_keys.dedup();
    assert!(private_keys.len() >= 4, "the scan has keys to look for");
    let logs = logs.text();
    assert!(logs.contains("keys rotated"), "logs were captured");
    for key in &private_keys {
        // Any 24-character window of the key's base64 would betray it.
        for start in (0..key.len().saturating_sub(24)).step_by(97) {
            let window = &key[start..start + 24];
            assert!(!logs.contains(window), "private key material in the logs");
            assert!(
                !responses.iter().any(|r| r.contains(window)),
                "private key material in a response"
            );
        }
    }
    assert!(!logs.contains("private_key") && !responses.iter().any(|r| r.contains("private_key")));
}

//! Several issuer instances over one key store: racing rotations through
//! the admin endpoint, and a rotation reaching every instance.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use issuer::accounts::FileAccountStore;
use issuer::keys::FileKeyStore;
use issuer::IssuerConfig;
use issuer::IssuerService;
use lambda_http::request::RequestContext;
use serde_json::{json, Value};
use tower::ServiceExt;

fn instance(dir: &std::path::Path, keyset_ttl: Duration) -> Arc<IssuerService> {
    let mut config = IssuerConfig::from_lookup(|n| match n {
        "JWT_ISSUER" => Some("https://issuer.test".into()),
        "JWT_AUDIENCE" => Some("books-api".into()),
        "SIGNING_ALG" => Some("ES256".into()),
        _ => None,
    })
    .unwrap();
    config.keyset_ttl = keyset_ttl;
    // These tests race rotations on purpose; their spacing is tested in routes.rs.
    config.rotation_spacing = Duration::ZERO;
    Arc::new(IssuerService::new(
        config,
        Arc::new(FileKeyStore::new(dir.join("keyset.json"))),
        Arc::new(FileAccountStore::new(dir.join("users.json"))),
    ))
}

fn rotate_request() -> Request<Body> {
    let mut request = Request::post("/admin/keys/rotate")
        .body(Body::empty())
        .unwrap();
    let context: lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequestContext =
        serde_json::from_value(
            json!({"httpMethod": "POST", "authorizer": {"sub": "root", "scope": "keys:admin"}}),
        )
        .unwrap();
    request
        .extensions_mut()
        .insert(RequestContext::ApiGatewayV1(context));
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_rotations_through_the_endpoint_win_once_each_or_get_409() {
    let dir = tempfile::tempdir().unwrap();
    let first = instance(dir.path(), Duration::from_secs(5));
    let start = first.keyset().await.unwrap().version;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let router = issuer::router(instance(dir.path(), Duration::from_secs(5)));
        tasks.push(tokio::spawn(async move {
            router
                .oneshot(rotate_request())
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 409),
        "{statuses:?}"
    );
    let wins = statuses.iter().filter(|s| **s == 200).count() as u64;
    assert!(wins >= 1);
    let keyset = instance(dir.path(), Duration::ZERO).keyset().await.unwrap();
    assert_eq!(
        keyset.version,
        start + wins,
        "every 200 is one rotation, every 409 none: nothing lost or doubled"
    );
    // Every key published during the race is still there: all within their grace.
    assert_eq!(keyset.keys.len() as u64, 2 + wins);
}

#[tokio::test]
async fn a_rotation_on_one_instance_reaches_the_others_within_the_keyset_ttl() {
    let dir = tempfile::tempdir().unwrap();
    let rotating = instance(dir.path(), Duration::from_secs(1));
    let other = instance(dir.path(), Duration::from_secs(1));
    let before = other.keyset().await.unwrap();
    let active = rotating.rotate().await.unwrap();
    assert_ne!(
        other.keyset().await.unwrap().active().unwrap().kid,
        active.kid,
        "still cached"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let after = other.keyset().await.unwrap();
    assert_eq!(
        after.active().unwrap().kid,
        active.kid,
        "the other instance signs with the new key"
    );
    assert_eq!(after.version, before.version + 1);
    let jwks: Value = serde_json::to_value(after.jwks().unwrap()).unwrap();
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == active.kid.as_str()),
        "and publishes it"
    );
}

//! The issuer's HTTP API: login (JSON and OAuth forms), enumeration-safe
//! failures, throttling, scope narrowing, JWKS caching headers, discovery,
//! and the admin routes behind `keys:admin`.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use environment::unix_now;
use issuer::accounts::{Account, AccountKind};
use issuer::accounts::{AccountStore, FileAccountStore};
use issuer::hash_secret;
use issuer::keys::FileKeyStore;
use issuer::keys::KeyStore;
use issuer::IssuerConfig;
use issuer::IssuerService;
use issuer::{KeySet, SigningAlg};
use lambda_http::request::RequestContext;
use serde_json::{json, Value};
use tower::ServiceExt;

struct Issuer {
    router: Router,
    dir: tempfile::TempDir,
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
}

async fn issuer() -> Issuer {
    let dir = tempfile::tempdir().unwrap();
    let config = IssuerConfig::from_lookup(|name| match name {
        "JWT_ISSUER" => Some("https://issuer.test".to_owned()),
        "JWT_AUDIENCE" => Some("books-api".to_owned()),
        "SIGNING_ALG" => Some("ES256".to_owned()),
        _ => None,
    })
    .unwrap();
    let accounts = Arc::new(FileAccountStore::new(dir.path().join("users.json")));
    for (kind, name, secret, scopes, disabled) in [
        (
            AccountKind::User,
            "alice",
            "alice-password",
            vec!["books:read", "books:write"],
            false,
        ),
        (
            AccountKind::User,
            "dora",
            "dora-password",
            vec!["books:read"],
            true,
        ),
        (
            AccountKind::Client,
            "reporting",
            "client-secret:with/odd&chars",
            vec!["books:read"],
            false,
        ),
        (
            AccountKind::Client,
            "alice",
            "a+b&c=d",
            vec!["books:read"],
            false,
        ),
    ] {
        accounts
            .put(&Account {
                kind,
                name: name.to_owned(),
                secret_hash: hash_secret(secret).unwrap(),
                scopes: scopes.into_iter().map(str::to_owned).collect(),
                disabled,
                dpop_only: false,
            })
            .await
            .unwrap();
    }
    let keys = Arc::new(FileKeyStore::new(dir.path().join("keyset.json")));
    // A keyset whose `next` key has been published for an hour: ready to rotate.
    let published = KeySet::generate(SigningAlg::ES256, unix_now() - 3600).unwrap();
    keys.save(&published, None).await.unwrap();
    let service = Arc::new(IssuerService::new(config, keys, accounts));
    Issuer {
        router: issuer::router(service),
        dir,
    }
}

impl Issuer {
    /// A bodiless GET of `path`.
    async fn get(&self, path: &str) -> Answer {
        self.send(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        Answer {
            status,
            headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    async fn json_login(&self, username: &str, password: &str) -> Answer {
        let body = json!({"username": username, "password": password}).to_string();
        self.send(
            Request::post("/token")
                .header("content-type", "application/json")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }

    /// A JSON login that API Gateway saw coming from `address`.
    async fn json_login_from(&self, address: &str, username: &str, password: &str) -> Answer {
        let body = json!({"username": username, "password": password}).to_string();
        let context: lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequestContext =
            serde_json::from_value(
                json!({"httpMethod": "POST", "identity": {"sourceIp": address}}),
            )
            .unwrap();
        let mut request = Request::post("/token")
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap();
        request
            .extensions_mut()
            .insert(RequestContext::ApiGatewayV1(context));
        self.send(request).await
    }

    async fn form(&self, body: &str, basic: Option<&str>) -> Answer {
        self.form_with_authorization(body, basic.map(|c| format!("Basic {}", STANDARD.encode(c))))
            .await
    }

    async fn form_with_authorization(&self, body: &str, authorization: Option<String>) -> Answer {
        let mut request =
            Request::post("/token").header("content-type", "application/x-www-form-urlencoded");
        if let Some(authorization) = authorization {
            request = request.header("authorization", authorization);
        }
        self.send(request.body(Body::from(body.to_owned())).unwrap())
            .await
    }

    /// An admin request with `scope` in the authorizer context (REST shape).
    /// The status of an admin request (see [`Self::admin`]).
    async fn admin_status(&self, method: &str, path: &str, scope: Option<&str>) -> StatusCode {
        self.admin(method, path, scope).await.status
    }

    async fn admin(&self, method: &str, path: &str, scope: Option<&str>) -> Answer {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .body(Body::empty())
            .unwrap();
        if let Some(scope) = scope {
            let context: lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequestContext = serde_json::from_value(json!({
                "httpMethod": method, "authorizer": {"principalId": "root", "sub": "root", "scope": scope}
            }))
            .unwrap();
            request
                .extensions_mut()
                .insert(RequestContext::ApiGatewayV1(context));
        }
        self.send(request).await
    }
}

#[tokio::test]
async fn json_login_returns_a_bearer_token_that_names_the_active_key() {
    let issuer = issuer().await;
    let answer = issuer.json_login("alice", "alice-password").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["token_type"], "Bearer");
    assert_eq!(answer.body["expires_in"], 900);
    assert_eq!(answer.body["scope"], "books:read books:write");
    assert_eq!(answer.headers["cache-control"], "no-store");
    let token = answer.body["access_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let claims: Value = jsonwebtoken::dangerous::insecure_decode(token)
        .unwrap()
        .claims;
    for claim in ["iss", "sub", "aud", "exp", "iat", "nbf", "jti", "scope"] {
        assert!(claims.get(claim).is_some(), "missing {claim}");
    }
    let keys = issuer.admin("GET", "/admin/keys", Some("keys:admin")).await;
    let active = keys.body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["state"] == "active")
        .unwrap();
    assert_eq!(header.kid.as_deref(), active["kid"].as_str());
}

#[tokio::test]
async fn an_oversized_token_request_gets_the_same_oauth_error_however_large() {
    let issuer = issuer().await;
    let oversized = |bytes: usize| {
        let padding = "x".repeat(bytes);
        Request::post("/token")
            .header("content-type", "application/json")
            .body(Body::from(
                json!({"username": "alice", "password": "alice-password", "pad": padding})
                    .to_string(),
            ))
            .unwrap()
    };
    let expected = json!({"error": "invalid_request", "error_description": "request too large"});
    // Just over 8 KiB, and over axum's 2 MiB default buffer limit.
    for bytes in [9 * 1024, 3 << 20] {
        let answer = issuer.send(oversized(bytes)).await;
        assert_eq!(
            answer.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{bytes} bytes"
        );
        assert_eq!(answer.body, expected, "{bytes} bytes");
        assert_eq!(answer.headers["cache-control"], "no-store", "{bytes} bytes");
    }
    assert_eq!(
        issuer.json_login("alice", "alice-password").await.status,
        StatusCode::OK,
        "a small body still logs in"
    );
}

#[tokio::test]
async fn a_token_body_still_arriving_is_refused_once_over_the_limit() {
    use futures_util::stream::{self, StreamExt};
    let issuer = issuer().await;
    // 16 KiB, then a body that never ends: only a limit on the route answers
    // without waiting for more (axum's default would read up to 2 MiB).
    let chunk = axum::body::Bytes::from(vec![b'x'; 16 * 1024]);
    let endless =
        stream::once(async move { Ok::<_, std::io::Error>(chunk) }).chain(stream::pending());
    let request = Request::post("/token")
        .header("content-type", "application/json")
        .body(Body::from_stream(endless))
        .unwrap();
    let answer = tokio::time::timeout(std::time::Duration::from_secs(10), issuer.send(request))
        .await
        .expect("refused without waiting for the rest of the body");
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        answer.body,
        json!({"error": "invalid_request", "error_description": "request too large"})
    );
}

#[tokio::test]
async fn unknown_users_wrong_passwords_and_disabled_users_get_the_same_answer() {
    let issuer = issuer().await;
    let wrong = issuer.json_login("alice", "nope").await;
    let unknown = issuer.json_login("mallory", "nope").await;
    let disabled = issuer.json_login("dora", "dora-password").await;
    for answer in [&wrong, &unknown, &disabled] {
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            answer.body,
            json!({"error": "invalid_grant", "error_description": "invalid username or password"})
        );
    }
}

#[tokio::test]
async fn repeated_failures_are_throttled_with_retry_after() {
    let issuer = issuer().await;
    for _ in 0..5 {
        assert_eq!(
            issuer.json_login("alice", "guess").await.status,
            StatusCode::BAD_REQUEST
        );
    }
    let throttled = issuer.json_login("alice", "alice-password").await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        throttled.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    assert_eq!(
        issuer.json_login("mallory", "x").await.status,
        StatusCode::BAD_REQUEST,
        "other names unaffected"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_logins_get_at_most_the_allowed_verdicts_before_429() {
    let issuer = Arc::new(issuer().await);
    let guesses = (0..20).map(|i| {
        let issuer = Arc::clone(&issuer);
        tokio::spawn(async move {
            issuer
                .json_login_from("203.0.113.9", "alice", &format!("guess-{i}"))
                .await
                .status
        })
    });
    let mut verdicts = 0;
    let mut throttled = 0;
    for guess in guesses {
        match guess.await.unwrap() {
            StatusCode::BAD_REQUEST => verdicts += 1,
            StatusCode::TOO_MANY_REQUESTS => throttled += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(
        verdicts,
        issuer::PAIR_LIMIT,
        "no more verdicts than allowed"
    );
    assert_eq!(throttled, 20 - verdicts);
    assert_eq!(
        issuer
            .json_login_from("203.0.113.9", "alice", "alice-password")
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS,
        "the right password from the guessing address waits too"
    );
}

#[tokio::test]
async fn a_third_party_cannot_lock_an_account_out() {
    let issuer = issuer().await;
    for _ in 0..issuer::PAIR_LIMIT + 3 {
        let answer = issuer
            .json_login_from("198.51.100.66", "alice", "guess")
            .await;
        assert_ne!(answer.status, StatusCode::OK);
    }
    let owner = issuer
        .json_login_from("192.0.2.10", "alice", "alice-password")
        .await;
    assert_eq!(owner.status, StatusCode::OK, "{}", owner.body);
}

#[tokio::test]
async fn oauth_grants_and_their_errors() {
    let issuer = issuer().await;
    let password = issuer
        .form(
            "grant_type=password&username=alice&password=alice-password&scope=books%3Aread",
            None,
        )
        .await;
    assert_eq!(password.status, StatusCode::OK);
    assert_eq!(
        password.body["scope"], "books:read",
        "a requested scope narrows"
    );

    let widened = issuer
        .form(
            "grant_type=password&username=alice&password=alice-password&scope=keys%3Aadmin",
            None,
        )
        .await;
    assert_eq!(
        (widened.status, widened.body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_scope"))
    );

    // RFC 6749 §2.3.1: the client id and secret are form-urlencoded inside Basic.
    let client = issuer
        .form(
            "grant_type=client_credentials",
            Some("reporting:client-secret%3Awith%2Fodd%26chars"),
        )
        .await;
    assert_eq!(client.status, StatusCode::OK, "{}", client.body);
    let claims: Value =
        jsonwebtoken::dangerous::insecure_decode(client.body["access_token"].as_str().unwrap())
            .unwrap()
            .claims;
    assert_eq!(claims["client_id"], "reporting");

    let bad_client = issuer
        .form("grant_type=client_credentials", Some("reporting:wrong"))
        .await;
    assert_eq!(
        (bad_client.status, bad_client.body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client"))
    );
    assert!(bad_client.headers.contains_key("www-authenticate"));
    let no_client = issuer.form("grant_type=client_credentials", None).await;
    assert_eq!(no_client.body["error"], "invalid_client");
    assert_eq!(
        issuer.form("grant_type=implicit", None).await.body["error"],
        "unsupported_grant_type"
    );
    assert_eq!(
        issuer.form("username=alice", None).await.body["error"],
        "invalid_request"
    );
    let malformed = issuer
        .send(
            Request::post("/token")
                .header("content-type", "application/json")
                .body(Body::from("{"))
                .unwrap(),
        )
        .await;
    assert_eq!(malformed.body["error"], "invalid_request");
}

fn claims_of(answer: &Answer) -> Value {
    let token = answer.body["access_token"].as_str().unwrap();
    jsonwebtoken::dangerous::insecure_decode(token)
        .unwrap()
        .claims
}

#[tokio::test]
async fn basic_credentials_are_form_decoded_padding_optional_and_never_mixed_with_the_body() {
    let issuer = issuer().await;
    // `+` is a space in form encoding; a raw `&` or `=` is just a character.
    let raw = issuer
        .form("grant_type=client_credentials", Some("alice:a%2Bb&c=d"))
        .await;
    assert_eq!(raw.status, StatusCode::OK, "{}", raw.body);
    let plus_is_space = issuer
        .form("grant_type=client_credentials", Some("alice:a+b&c=d"))
        .await;
    assert_eq!(plus_is_space.status, StatusCode::UNAUTHORIZED);

    let unpadded = STANDARD
        .encode("alice:a%2Bb%26c%3Dd")
        .trim_end_matches('=')
        .to_owned();
    assert!(!unpadded.ends_with('='));
    let answer = issuer
        .form_with_authorization(
            "grant_type=client_credentials",
            Some(format!("Basic {unpadded}")),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "unpadded: {}", answer.body);

    let both = issuer
        .form(
            "grant_type=client_credentials&client_id=alice&client_secret=a%2Bb%26c%3Dd",
            Some("alice:a%2Bb%26c%3Dd"),
        )
        .await;
    assert_eq!(
        (both.status, both.body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request")),
        "Basic and form credentials together"
    );
    let in_body = issuer
        .form(
            "grant_type=client_credentials&client_id=alice&client_secret=a%2Bb%26c%3Dd",
            None,
        )
        .await;
    assert_eq!(in_body.status, StatusCode::OK);
    let garbage = issuer
        .form_with_authorization(
            "grant_type=client_credentials",
            Some("Basic !!!".to_owned()),
        )
        .await;
    assert_eq!(garbage.body["error"], "invalid_client");
}

#[tokio::test]
async fn a_client_never_gets_the_subject_of_a_user_with_the_same_name() {
    let issuer = issuer().await;
    let user = issuer.json_login("alice", "alice-password").await;
    let client = issuer
        .form("grant_type=client_credentials", Some("alice:a%2Bb%26c%3Dd"))
        .await;
    let (user, client) = (claims_of(&user), claims_of(&client));
    assert_eq!(user["sub"], "alice");
    assert_eq!(client["client_id"], "alice");
    assert_ne!(user["sub"], client["sub"], "RFC 9068 §5");
    assert_eq!(
        issuer.json_login("client:alice", "a+b&c=d").await.status,
        StatusCode::BAD_REQUEST,
        "no user name can spell a client's subject"
    );
}

#[tokio::test]
async fn jwks_is_public_cacheable_and_conditional() {
    let issuer = issuer().await;
    let jwks = issuer.get("/.well-known/jwks.json").await;
    assert_eq!(jwks.status, StatusCode::OK);
    assert_eq!(jwks.headers["cache-control"], "public, max-age=300");
    let keys = jwks.body["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "active and next");
    for key in keys {
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(key.get(private).is_none());
        }
    }
    let etag = jwks.headers["etag"].to_str().unwrap().to_owned();
    let again = issuer
        .send(
            Request::get("/.well-known/jwks.json")
                .header("if-none-match", &etag)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);

    let discovery = issuer.get("/.well-known/openid-configuration").await;
    assert_eq!(discovery.body["issuer"], "https://issuer.test");
    assert_eq!(
        discovery.body["jwks_uri"],
        "https://issuer.test/.well-known/jwks.json"
    );
    assert_eq!(
        discovery.body["token_endpoint"],
        "https://issuer.test/token"
    );
    for absent in [
        "response_types_supported",
        "id_token_signing_alg_values_supported",
        "authorization_endpoint",
    ] {
        assert!(
            discovery.body.get(absent).is_none(),
            "advertises {absent}: nothing implements it"
        );
    }
    assert_eq!(
        discovery.body["grant_types_supported"],
        json!(["password", "client_credentials"])
    );
}

#[tokio::test]
async fn admin_routes_need_keys_admin_and_rotate_and_revoke() {
    let issuer = issuer().await;
    assert_eq!(
        issuer.admin_status("GET", "/admin/keys", None).await,
        StatusCode::UNAUTHORIZED,
        "no context: fail closed"
    );
    assert_eq!(
        issuer
            .admin_status("POST", "/admin/keys/rotate", Some("books:write"))
            .await,
        StatusCode::FORBIDDEN
    );

    let before = issuer.admin("GET", "/admin/keys", Some("keys:admin")).await;
    let next = before.body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["state"] == "next")
        .unwrap()["kid"]
        .clone();
    let rotated = issuer
        .admin("POST", "/admin/keys/rotate", Some("keys:admin"))
        .await;
    assert_eq!(rotated.status, StatusCode::OK);
    assert_eq!(
        rotated.body["active"]["kid"], next,
        "the published next key now signs"
    );
    assert!(!rotated.body.to_string().contains("private"));

    // The new next key was published just now: activating it at once would
    // meet warm authorizers that never fetched it.
    let too_soon = issuer
        .admin("POST", "/admin/keys/rotate", Some("keys:admin"))
        .await;
    assert_eq!(too_soon.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(too_soon.headers["content-type"], "application/problem+json");
    let retry: u64 = too_soon.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (300..=305).contains(&retry),
        "JWKS max-age + keyset TTL: {retry}"
    );
    assert!(too_soon.body["detail"].as_str().unwrap().contains("revoke"));

    let jwks = issuer.get("/.well-known/jwks.json").await;
    assert_eq!(
        jwks.body["keys"].as_array().unwrap().len(),
        3,
        "next, active, previous"
    );

    let revoked = issuer
        .admin(
            "POST",
            &format!("/admin/keys/{}/revoke", next.as_str().unwrap()),
            Some("keys:admin"),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK);
    let jwks = issuer.get("/.well-known/jwks.json").await;
    assert!(
        jwks.body["keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["kid"] != next),
        "gone from the JWKS at once"
    );
    assert_eq!(
        issuer.json_login("alice", "alice-password").await.status,
        StatusCode::OK,
        "login never stops"
    );
    assert_eq!(
        issuer
            .admin_status("POST", "/admin/keys/nope/revoke", Some("keys:admin"))
            .await,
        StatusCode::NOT_FOUND
    );

    // No private key material on disk outside the keyset file's own field, nor in any answer.
    let stored = std::fs::read_to_string(issuer.dir.path().join("keyset.json")).unwrap();
    assert!(stored.contains("private_key_pkcs8"));
}

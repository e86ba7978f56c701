//! Token status end to end at the issuer: every token carries a status list
//! entry, the lists are served as signed `statuslist+jwt` (ETag, 304,
//! aggregation, discovery), and tokens are revoked by RFC 7009 (by their
//! holder or their client), by `jti` or by subject (admin), each changing
//! exactly the entries it should.

use std::collections::HashSet;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use issuer::accounts::{Account, AccountKind, AccountStore, FileAccountStore};
use issuer::keys::FileKeyStore;
use issuer::status::{FileStatusStore, StatusStore};
use issuer::{IssuerConfig, IssuerMetrics, IssuerService};
use jsonwebtoken::{DecodingKey, Validation};
use lambda_http::request::RequestContext;
use serde_json::{json, Value};
use status_list::{Bits, StatusList};
use tower::ServiceExt;

const ISSUER: &str = "https://issuer.test/prod";

struct Issuer {
    router: Router,
    metrics: telemetry::CaptureSink,
    _dir: tempfile::TempDir,
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
}

fn config() -> IssuerConfig {
    IssuerConfig::from_lookup(|name| match name {
        "JWT_ISSUER" => Some(ISSUER.to_owned()),
        "JWT_AUDIENCE" => Some("books-api".to_owned()),
        "SIGNING_ALG" => Some("ES256".to_owned()),
        "STATUS_LIST_MAX_AGE_SECONDS" => Some("30".to_owned()),
        _ => None,
    })
    .unwrap()
}

async fn accounts(dir: &std::path::Path) -> Arc<FileAccountStore> {
    let accounts = Arc::new(FileAccountStore::new(dir.join("users.json")));
    for (kind, name, secret) in [
        (AccountKind::User, "alice", "alice-password"),
        (AccountKind::User, "bob", "bob-password"),
        (AccountKind::Client, "reports", "reports-secret"),
        (AccountKind::Client, "other", "other-secret"),
    ] {
        let account = Account::new(kind, name, secret, "books:read").unwrap();
        accounts.put(&account).await.unwrap();
    }
    accounts
}

async fn issuer() -> Issuer {
    let dir = tempfile::tempdir().unwrap();
    let metrics = telemetry::CaptureSink::new();
    let service = Arc::new(
        IssuerService::new(
            config(),
            Arc::new(FileKeyStore::new(dir.path().join("keyset.json"))),
            accounts(dir.path()).await,
        )
        .with_metrics(IssuerMetrics::new(Arc::new(metrics.clone())))
        .with_status(Arc::new(FileStatusStore::new(
            dir.path().join("status.json"),
        ))),
    );
    Issuer {
        router: issuer::router(service),
        metrics,
        _dir: dir,
    }
}

impl Issuer {
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
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    async fn login(&self, user: &str) -> String {
        let body = json!({"username": user, "password": format!("{user}-password")});
        let answer = self
            .send(
                Request::post("/token")
                    .header("content-type", "application/json")
                    .body(Body::from(body.to_string()))
                    .unwrap(),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        answer.json()["access_token"].as_str().unwrap().to_owned()
    }

    async fn client_token(&self, client: &str) -> String {
        let answer = self
            .revoke_form(
                "/token",
                "grant_type=client_credentials",
                Some(&format!("{client}:{client}-secret")),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        answer.json()["access_token"].as_str().unwrap().to_owned()
    }

    /// A form post to `path`, with HTTP Basic credentials `basic` if given.
    async fn revoke_form(&self, path: &str, body: &str, basic: Option<&str>) -> Answer {
        let mut request =
            Request::post(path).header("content-type", "application/x-www-form-urlencoded");
        if let Some(basic) = basic {
            request = request.header("authorization", format!("Basic {}", STANDARD.encode(basic)));
        }
        self.send(request.body(Body::from(body.to_owned())).unwrap())
            .await
    }

    async fn revoke(&self, token: &str, basic: Option<&str>) -> Answer {
        self.revoke_form("/revoke", &format!("token={token}"), basic)
            .await
    }

    async fn admin_revoke(&self, body: Value, scope: &str) -> Answer {
        let context: lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequestContext =
            serde_json::from_value(json!({
                "httpMethod": "POST",
                "authorizer": {"principalId": "root", "sub": "root", "scope": scope}
            }))
            .unwrap();
        let mut request = Request::post("/admin/tokens/revoke")
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        request
            .extensions_mut()
            .insert(RequestContext::ApiGatewayV1(context));
        self.send(request).await
    }

    /// The list token at `uri`, verified with the issuer's JWKS, its claims.
    async fn list_claims(&self, uri: &str) -> Value {
        let path = uri.strip_prefix(ISSUER).unwrap();
        let answer = self.get(path).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        assert_eq!(answer.headers["content-type"], "application/statuslist+jwt");
        let header = jsonwebtoken::decode_header(&answer.text).unwrap();
        assert_eq!(header.typ.as_deref(), Some("statuslist+jwt"));
        let jwks: jsonwebtoken::jwk::JwkSet =
            serde_json::from_str(&self.get("/.well-known/jwks.json").await.text).unwrap();
        let jwk = jwks.find(header.kid.as_deref().unwrap()).unwrap();
        let mut validation = Validation::new(header.alg);
        validation.set_required_spec_claims(&["exp", "sub", "iat"]);
        validation.validate_aud = false;
        jsonwebtoken::decode::<Value>(
            &answer.text,
            &DecodingKey::from_jwk(jwk).unwrap(),
            &validation,
        )
        .unwrap()
        .claims
    }

    /// The status of `token`'s entry in its list, as served.
    async fn served_status(&self, token: &str) -> u8 {
        let (uri, idx) = reference(token);
        let claims = self.list_claims(&uri).await;
        let list = StatusList::decode(
            Bits::from_claim(claims["status_list"]["bits"].as_u64().unwrap() as u8).unwrap(),
            claims["status_list"]["lst"].as_str().unwrap(),
            1 << 20,
        )
        .unwrap();
        list.get(idx).unwrap()
    }
}

/// A token's `status.status_list` (unverified: the issuer's own token).
fn reference(token: &str) -> (String, u64) {
    let claims = claims(token);
    let status = &claims["status"]["status_list"];
    (
        status["uri"].as_str().unwrap().to_owned(),
        status["idx"].as_u64().unwrap(),
    )
}

fn claims(token: &str) -> Value {
    jsonwebtoken::dangerous::insecure_decode::<Value>(token)
        .unwrap()
        .claims
}

#[tokio::test]
async fn every_token_carries_a_unique_entry_in_a_list_under_the_issuer() {
    let issuer = issuer().await;
    let mut seen = HashSet::new();
    for _ in 0..70 {
        for user in ["alice", "bob"] {
            let (uri, idx) = reference(&issuer.login(user).await);
            assert!(uri.starts_with(&format!("{ISSUER}/statuslists/")), "{uri}");
            assert!(seen.insert((uri, idx)), "an entry handed out twice");
        }
    }
    let client = issuer.client_token("reports").await;
    assert!(seen.insert(reference(&client)));
}

#[tokio::test]
async fn the_list_is_a_signed_status_list_token_with_caching_headers() {
    let issuer = issuer().await;
    let token = issuer.login("alice").await;
    let (uri, _) = reference(&token);
    let claims = issuer.list_claims(&uri).await;
    assert_eq!(claims["sub"], uri);
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["ttl"], 30);
    let (iat, exp) = (
        claims["iat"].as_u64().unwrap(),
        claims["exp"].as_u64().unwrap(),
    );
    assert!(exp > iat + 30, "exp {exp} leaves room past ttl");
    assert_eq!(claims["status_list"]["bits"], 1);
    assert_eq!(
        claims["status_list"]["aggregation_uri"],
        format!("{ISSUER}/statuslists")
    );
    assert_eq!(issuer.served_status(&token).await, 0, "VALID");

    let path = uri.strip_prefix(ISSUER).unwrap();
    let first = issuer.get(path).await;
    assert_eq!(first.headers["cache-control"], "public, max-age=30");
    assert_eq!(first.headers["access-control-allow-origin"], "*");
    let etag = first.headers["etag"].to_str().unwrap().to_owned();
    let again = issuer
        .send(
            Request::get(path)
                .header("if-none-match", &etag)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.text.is_empty());

    // A revocation changes the list, so its validator.
    assert_eq!(issuer.revoke(&token, None).await.status, StatusCode::OK);
    let changed = issuer
        .send(
            Request::get(path)
                .header("if-none-match", &etag)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_ne!(changed.headers["etag"].to_str().unwrap(), etag);

    for missing in [
        "/statuslists/999",
        "/statuslists/01",
        "/statuslists/x",
        "/statuslists/-1",
    ] {
        assert_eq!(
            issuer.get(missing).await.status,
            StatusCode::NOT_FOUND,
            "{missing}"
        );
    }
    let historical = issuer.get(&format!("{path}?time=1700000000")).await;
    assert_eq!(historical.status, StatusCode::NOT_IMPLEMENTED);
}

#[tokio::test]
async fn the_aggregation_and_discovery_name_the_lists_and_the_revocation_endpoint() {
    let issuer = issuer().await;
    let (uri, _) = reference(&issuer.login("alice").await);
    let aggregation = issuer.get("/statuslists").await;
    assert_eq!(aggregation.status, StatusCode::OK);
    assert_eq!(aggregation.json(), json!({"status_lists": [uri]}));
    let discovery = issuer.get("/.well-known/openid-configuration").await.json();
    assert_eq!(
        discovery["status_list_aggregation_endpoint"],
        format!("{ISSUER}/statuslists")
    );
    assert_eq!(discovery["revocation_endpoint"], format!("{ISSUER}/revoke"));
}

#[tokio::test]
async fn a_holder_revokes_its_own_token_and_only_that_one() {
    let issuer = issuer().await;
    let (mine, other) = (issuer.login("alice").await, issuer.login("alice").await);
    let answer = issuer.revoke(&mine, None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert!(answer.text.is_empty(), "RFC 7009: an empty 200");
    assert_eq!(answer.headers["cache-control"], "no-store");
    assert_eq!(issuer.served_status(&mine).await, 1, "INVALID");
    assert_eq!(
        issuer.served_status(&other).await,
        0,
        "the user's other token stands"
    );
    // Revoking twice is fine.
    assert_eq!(issuer.revoke(&mine, None).await.status, StatusCode::OK);
    let counted = issuer.metrics.lines().join("\n");
    assert!(counted.contains("TokenRevocations"), "{counted}");
}

#[tokio::test]
async fn unknown_foreign_and_forged_tokens_answer_200_and_change_nothing() {
    let issuer = issuer().await;
    let token = issuer.login("alice").await;
    let before = issuer.get("/statuslists/0").await.headers["etag"].clone();
    // A token signed by a key the issuer never had, with this issuer's claims.
    let stranger = testkit::TestKey::generate(jsonwebtoken::Algorithm::ES256, "stranger");
    let mut forged_claims = claims(&token);
    forged_claims["jti"] = json!("forged");
    let forged = stranger.sign(&forged_claims);
    let mut tampered = token.clone();
    tampered.replace_range(tampered.len() - 4.., "AAAA");
    for presented in ["garbage", "a.b.c", forged.as_str(), tampered.as_str()] {
        let answer = issuer.revoke(presented, None).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "{presented}: {}",
            answer.text
        );
    }
    assert_eq!(issuer.get("/statuslists/0").await.headers["etag"], before);
    assert_eq!(issuer.served_status(&token).await, 0);
}

#[tokio::test]
async fn a_client_revokes_its_own_tokens_not_a_users_or_another_clients() {
    let issuer = issuer().await;
    let (reports, other, user) = (
        issuer.client_token("reports").await,
        issuer.client_token("other").await,
        issuer.login("bob").await,
    );
    let credentials = Some("reports:reports-secret");
    for foreign in [&other, &user] {
        assert_eq!(
            issuer.revoke(foreign, credentials).await.status,
            StatusCode::OK
        );
    }
    assert_eq!(issuer.served_status(&other).await, 0);
    assert_eq!(issuer.served_status(&user).await, 0);
    // Without its client's authentication, a client's token stands.
    assert_eq!(issuer.revoke(&reports, None).await.status, StatusCode::OK);
    assert_eq!(issuer.served_status(&reports).await, 0);
    assert_eq!(
        issuer.revoke(&reports, credentials).await.status,
        StatusCode::OK
    );
    assert_eq!(issuer.served_status(&reports).await, 1);
    // client_secret_post works too.
    let body = format!("token={other}&client_id=other&client_secret=other-secret");
    assert_eq!(
        issuer.revoke_form("/revoke", &body, None).await.status,
        StatusCode::OK
    );
    assert_eq!(issuer.served_status(&other).await, 1);
}

#[tokio::test]
async fn bad_revocation_requests_get_rfc_6749_errors() {
    let issuer = issuer().await;
    let token = issuer.login("alice").await;
    let wrong = issuer.revoke(&token, Some("reports:wrong")).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.json()["error"], "invalid_client");
    assert_eq!(
        issuer.served_status(&token).await,
        0,
        "a failed client changes nothing"
    );
    let half = issuer
        .revoke_form("/revoke", &format!("token={token}&client_id=reports"), None)
        .await;
    assert_eq!(half.status, StatusCode::UNAUTHORIZED);
    for (body, error) in [
        ("", "invalid_request"),
        ("token=", "invalid_request"),
        ("token_type_hint=access_token", "invalid_request"),
    ] {
        let answer = issuer.revoke_form("/revoke", body, None).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body:?}");
        assert_eq!(answer.json()["error"], error, "{body:?}");
    }
    let json = issuer
        .send(
            Request::post("/revoke")
                .header("content-type", "application/json")
                .body(Body::from(json!({"token": token}).to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(json.status, StatusCode::BAD_REQUEST);
    // A hint is read and ignored (§2.1).
    let hinted = format!("token={token}&token_type_hint=refresh_token");
    assert_eq!(
        issuer.revoke_form("/revoke", &hinted, None).await.status,
        StatusCode::OK
    );
    assert_eq!(issuer.served_status(&token).await, 1);
}

#[tokio::test]
async fn the_admin_revokes_by_jti_or_by_subject() {
    let issuer = issuer().await;
    let alice = [issuer.login("alice").await, issuer.login("alice").await];
    let bob = [issuer.login("bob").await, issuer.login("bob").await];
    let jti = claims(&bob[0])["jti"].as_str().unwrap().to_owned();

    assert_eq!(
        issuer
            .admin_revoke(json!({"jti": jti}), "books:read")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let by_jti = issuer.admin_revoke(json!({"jti": jti}), "keys:admin").await;
    assert_eq!(by_jti.status, StatusCode::OK, "{}", by_jti.text);
    assert_eq!(by_jti.json()["revoked"], 1);
    assert_eq!(issuer.served_status(&bob[0]).await, 1);
    assert_eq!(issuer.served_status(&bob[1]).await, 0);

    let by_sub = issuer
        .admin_revoke(json!({"sub": "alice"}), "keys:admin")
        .await;
    assert_eq!(by_sub.json()["revoked"], 2, "{}", by_sub.text);
    for token in &alice {
        assert_eq!(issuer.served_status(token).await, 1);
    }
    assert_eq!(
        issuer.served_status(&bob[1]).await,
        0,
        "bob's other token stands"
    );

    let unknown = issuer
        .admin_revoke(json!({"jti": "nope"}), "keys:admin")
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let nobody = issuer
        .admin_revoke(json!({"sub": "nobody"}), "keys:admin")
        .await;
    assert_eq!(nobody.json()["revoked"], 0);
    for bad in [
        json!({}),
        json!({"jti": "a", "sub": "b"}),
        json!({"jti": ""}),
        json!({"kid": "x"}),
        json!(["jti"]),
    ] {
        let answer = issuer.admin_revoke(bad.clone(), "keys:admin").await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(answer.headers["content-type"], "application/problem+json");
    }
}

#[tokio::test]
async fn an_issuer_without_token_status_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let service = Arc::new(IssuerService::new(
        config(),
        Arc::new(FileKeyStore::new(dir.path().join("keyset.json"))),
        accounts(dir.path()).await,
    ));
    let router = issuer::router(Arc::clone(&service));
    let token = service
        .login(AccountKind::User, "alice", "alice-password", None, None)
        .await
        .unwrap();
    assert!(claims(&token.access_token).get("status").is_none());
    let response = router
        .oneshot(
            Request::post("/revoke")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(format!("token={}", token.access_token)))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

/// Two issuer instances on one DynamoDB table (moto) log in concurrently:
/// no entry is handed out twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn indices_are_unique_across_instances_on_one_table() {
    let Some(_) = testkit::aws_test_endpoint() else {
        return;
    };
    let (client, table) = testkit::dynamodb("status").await;
    issuer::status::DynamoStatusStore::create_table(&client, &table)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let keys = Arc::new(FileKeyStore::new(dir.path().join("keyset.json")));
    let accounts = accounts(dir.path()).await;
    let instance = || {
        Arc::new(
            IssuerService::new(config(), keys.clone(), accounts.clone()).with_status(Arc::new(
                issuer::status::DynamoStatusStore::new(client.clone(), table.clone()),
            )),
        )
    };
    let (one, two) = (instance(), instance());
    let mut logins = tokio::task::JoinSet::new();
    for n in 0..80 {
        let service = if n % 2 == 0 { one.clone() } else { two.clone() };
        // One address each: the throttle reserves a slot per attempt in
        // flight, and five per name and address would refuse the rest.
        let address = format!("203.0.113.{n}");
        logins.spawn(async move {
            service
                .login(
                    AccountKind::Client,
                    "reports",
                    "reports-secret",
                    None,
                    Some(&address),
                )
                .await
                .unwrap()
                .access_token
        });
    }
    let mut seen = HashSet::new();
    while let Some(token) = logins.join_next().await {
        let entry = reference(&token.unwrap());
        assert!(
            seen.insert(entry.clone()),
            "{entry:?} handed out twice; {seen:?}"
        );
    }
    // Revocation by subject reaches every one of them through the table.
    let store = issuer::status::DynamoStatusStore::new(client.clone(), table.clone());
    let before = store.revision().await.unwrap();
    let revoked = one.revoke_subject("client:reports", "test").await.unwrap();
    let issuer::Revocation::Revoked(records) = revoked else {
        panic!("nothing revoked");
    };
    assert_eq!(records.len(), 80);
    assert!(store.revision().await.unwrap() > before);
    let list = store.list(records[0].slot.list).await.unwrap().unwrap();
    for record in records
        .iter()
        .filter(|r| r.slot.list == records[0].slot.list)
    {
        assert!(list.revoked.contains(&record.slot.idx));
    }
}

/// When every block of the open list is claimed, a reservation on DynamoDB
/// opens the next list (once, whoever gets there first).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_list_on_dynamodb_gives_way_to_the_next() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use issuer::status::{DynamoStatusStore, Slot, BLOCKS_PER_LIST};
    let Some(_) = testkit::aws_test_endpoint() else {
        return;
    };
    let (client, table) = testkit::dynamodb("status-full").await;
    DynamoStatusStore::create_table(&client, &table)
        .await
        .unwrap();
    let mut claims = tokio::task::JoinSet::new();
    for block in 0..BLOCKS_PER_LIST {
        let (client, table) = (client.clone(), table.clone());
        claims.spawn(async move {
            client
                .put_item()
                .table_name(table)
                .item("pk", AttributeValue::S("block".into()))
                .item("sk", AttributeValue::S(format!("{:020}/{block:05}", 0)))
                .send()
                .await
                .unwrap();
        });
        if claims.len() >= 16 {
            claims.join_next().await;
        }
    }
    while claims.join_next().await.is_some() {}
    let (one, two) = (
        DynamoStatusStore::new(client.clone(), table.clone()),
        DynamoStatusStore::new(client, table),
    );
    let now = testkit::now();
    let expires = now + 900;
    let first = one.reserve_block(expires, now).await.unwrap();
    assert_eq!(Slot::at(first).list, 1, "list 0 is full");
    let second = two.reserve_block(expires, now).await.unwrap();
    assert_eq!(Slot::at(second).list, 1, "the other instance follows");
    assert_ne!(first, second);
    assert_eq!(one.live_lists(0).await.unwrap(), vec![1]);
}

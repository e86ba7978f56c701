//! DPoP at the token endpoint (RFC 9449 §5): a valid proof binds the token
//! to its key (`cnf.jkt`, `token_type: DPoP`) for every grant; a bad, stale
//! or replayed proof and a DPoP-only account without one get
//! `invalid_dpop_proof`; discovery says which algorithms proofs may use.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use issuer::accounts::{Account, AccountKind, AccountStore, FileAccountStore};
use issuer::keys::FileKeyStore;
use issuer::{IssuerConfig, IssuerService};
use jsonwebtoken::Algorithm;
use serde_json::{json, Value};
use testkit::dpop::ProofKey;
use tower::ServiceExt;

const TOKEN_URL: &str = "https://issuer.test/token";

struct Issuer {
    router: Router,
    _dir: tempfile::TempDir,
}

async fn issuer() -> Issuer {
    let dir = tempfile::tempdir().unwrap();
    let config = IssuerConfig::from_lookup(|name| match name {
        "JWT_ISSUER" => Some("https://issuer.test".to_owned()),
        "JWT_AUDIENCE" => Some("books-api".to_owned()),
        "SIGNING_ALG" => Some("ES256".to_owned()),
        "DPOP_ALGORITHMS" => Some("ES256,EdDSA".to_owned()),
        _ => None,
    })
    .unwrap();
    let accounts = Arc::new(FileAccountStore::new(dir.path().join("users.json")));
    for account in [
        Account::new(AccountKind::User, "alice", "alice-password", "books:read").unwrap(),
        Account::new(AccountKind::User, "dpop-only", "secret-1", "books:read")
            .unwrap()
            .dpop_only(true),
        Account::new(
            AccountKind::Client,
            "reports",
            "client-secret",
            "books:read",
        )
        .unwrap(),
        Account::new(AccountKind::Client, "strict", "client-secret", "books:read")
            .unwrap()
            .dpop_only(true),
    ] {
        accounts.put(&account).await.unwrap();
    }
    let keys = Arc::new(FileKeyStore::new(dir.path().join("keyset.json")));
    let service = Arc::new(IssuerService::new(config, keys, accounts));
    Issuer {
        router: issuer::router(service),
        _dir: dir,
    }
}

impl Issuer {
    async fn send(&self, request: Request<Body>) -> (StatusCode, Value) {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// A JSON login with these `DPoP` header fields.
    async fn login(&self, user: &str, password: &str, proofs: &[&str]) -> (StatusCode, Value) {
        let mut request = Request::post("/token").header("content-type", "application/json");
        for proof in proofs {
            request = request.header("DPoP", *proof);
        }
        let body = json!({"username": user, "password": password}).to_string();
        self.send(request.body(Body::from(body)).unwrap()).await
    }

    /// A client-credentials grant with these `DPoP` header fields.
    async fn client_grant(&self, client: &str, proofs: &[&str]) -> (StatusCode, Value) {
        let mut request = Request::post("/token")
            .header("content-type", "application/x-www-form-urlencoded")
            .header(
                "authorization",
                format!(
                    "Basic {}",
                    STANDARD.encode(format!("{client}:client-secret"))
                ),
            );
        for proof in proofs {
            request = request.header("DPoP", *proof);
        }
        let body = Body::from("grant_type=client_credentials");
        self.send(request.body(body).unwrap()).await
    }
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn assert_refused(answer: &(StatusCode, Value), why: &str) {
    assert_eq!(answer.0, StatusCode::BAD_REQUEST, "{why}: {}", answer.1);
    assert_eq!(
        answer.1["error"], "invalid_dpop_proof",
        "{why}: {}",
        answer.1
    );
}

#[tokio::test]
async fn a_valid_proof_binds_the_token_to_its_key_for_every_grant() {
    let issuer = issuer().await;
    let client = ProofKey::generate(Algorithm::ES256);
    let (status, body) = issuer
        .login(
            "alice",
            "alice-password",
            &[&client.proof("POST", TOKEN_URL, None)],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "DPoP");
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(claims_of(token)["cnf"], json!({"jkt": client.thumbprint()}));

    let (status, body) = issuer
        .client_grant("reports", &[&client.proof("POST", TOKEN_URL, None)])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "DPoP");
    let eddsa = ProofKey::generate(Algorithm::EdDSA);
    let (status, body) = issuer
        .login(
            "alice",
            "alice-password",
            &[&eddsa.proof("POST", TOKEN_URL, None)],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        claims_of(body["access_token"].as_str().unwrap())["cnf"]["jkt"],
        eddsa.thumbprint()
    );
    // Without a proof: a bearer token, with no cnf.
    let (status, body) = issuer.login("alice", "alice-password", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["token_type"], "Bearer");
    assert!(claims_of(body["access_token"].as_str().unwrap())
        .get("cnf")
        .is_none());
}

#[tokio::test]
async fn bad_proofs_are_invalid_dpop_proof() {
    let issuer = issuer().await;
    let client = ProofKey::generate(Algorithm::ES256);
    let spoiled = |change: &dyn Fn(&mut testkit::dpop::ProofParts)| {
        let mut parts = client.parts("POST", TOKEN_URL, None);
        change(&mut parts);
        client.sign(&parts)
    };
    let cases = [
        (spoiled(&|p| p.claims["htm"] = json!("GET")), "htm GET"),
        (
            spoiled(&|p| p.claims["htu"] = json!("https://other.test/token")),
            "another htu",
        ),
        (
            spoiled(&|p| p.claims["iat"] = json!(testkit::now() - 3600)),
            "stale",
        ),
        (spoiled(&|p| p.header["typ"] = json!("JWT")), "typ"),
        (
            spoiled(&|p| p.header["jwk"]["d"] = json!("AAAA")),
            "a private key",
        ),
        ("not.a.proof".to_owned(), "garbage"),
    ];
    for (proof, why) in cases {
        assert_refused(
            &issuer.login("alice", "alice-password", &[&proof]).await,
            why,
        );
    }
    // RS256 is not in this issuer's DPOP_ALGORITHMS.
    let rsa = ProofKey::generate(Algorithm::RS256);
    let proof = rsa.proof("POST", TOKEN_URL, None);
    assert_refused(
        &issuer.login("alice", "alice-password", &[&proof]).await,
        "RS256",
    );
    // Two DPoP header fields.
    let (a, b) = (
        client.proof("POST", TOKEN_URL, None),
        client.proof("POST", TOKEN_URL, None),
    );
    assert_refused(
        &issuer.login("alice", "alice-password", &[&a, &b]).await,
        "two proofs",
    );
}

#[tokio::test]
async fn a_proof_is_used_once_and_only_once_its_client_authenticated() {
    let issuer = issuer().await;
    let client = ProofKey::generate(Algorithm::ES256);
    let proof = client.proof("POST", TOKEN_URL, None);
    // A failed login does not use the proof up.
    let (status, body) = issuer.login("alice", "wrong", &[&proof]).await;
    assert_eq!(body["error"], "invalid_grant", "{status}");
    let (status, _) = issuer.login("alice", "alice-password", &[&proof]).await;
    assert_eq!(status, StatusCode::OK);
    assert_refused(
        &issuer.login("alice", "alice-password", &[&proof]).await,
        "a replay",
    );
}

#[tokio::test]
async fn dpop_only_accounts_get_no_token_without_a_proof() {
    let issuer = issuer().await;
    let client = ProofKey::generate(Algorithm::ES256);
    assert_refused(
        &issuer.login("dpop-only", "secret-1", &[]).await,
        "a DPoP-only user",
    );
    assert_refused(
        &issuer.client_grant("strict", &[]).await,
        "a DPoP-only client",
    );
    let (status, body) = issuer
        .login(
            "dpop-only",
            "secret-1",
            &[&client.proof("POST", TOKEN_URL, None)],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "DPoP");
    // A wrong password is still invalid_grant, not a hint that the account is DPoP-only.
    let (_, body) = issuer.login("dpop-only", "wrong", &[]).await;
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn discovery_lists_the_proof_algorithms() {
    let issuer = issuer().await;
    let (status, body) = issuer
        .send(
            Request::get("/.well-known/openid-configuration")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["dpop_signing_alg_values_supported"],
        json!(["ES256", "EdDSA"])
    );
}

//! DPoP through the local stack, as a client uses it: a DPoP-bound token
//! from the token endpoint, then the books API with `Authorization: DPoP`
//! and a fresh proof per request. Replays, downgrades, a forged `Host`, a
//! DPoP-only user and `tollgate explain --dpop` included; the gateway never
//! caches a DPoP answer.

use std::time::Duration;

use serde_json::{json, Value};
use tollgate::dpop_key::DpopKey;
use tollgate::local_stack::StackOptions;

mod common;

use common::Stack;

async fn stack() -> Stack {
    Stack::fresh(StackOptions::new(
        "127.0.0.1:0".parse().unwrap(),
        Duration::from_secs(300),
    ))
    .await
}

/// A client: its DPoP key and the stack's URL.
struct Client {
    key: DpopKey,
    _dir: tempfile::TempDir,
}

impl Client {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let key = DpopKey::load_or_create(&dir.path().join("dpop.pem")).unwrap();
        Self { key, _dir: dir }
    }

    /// A DPoP login: the token endpoint's answer.
    async fn login(&self, stack: &Stack, user: &str, password: &str) -> Value {
        let url = format!("{}/token", stack.url);
        common::json_answer(
            stack
                .http
                .post(&url)
                .header("DPoP", self.key.proof("POST", &url, None).unwrap())
                .json(&json!({"username": user, "password": password})),
        )
        .await
    }

    fn proof_for_books(&self, stack: &Stack, token: &str) -> String {
        let url = format!("{}/books", stack.url);
        self.key.proof("GET", &url, Some(token)).unwrap()
    }
}

async fn books(stack: &Stack, authorization: &str, proof: Option<&str>) -> u16 {
    let mut request = stack
        .http
        .get(format!("{}/books", stack.url))
        .header("authorization", authorization);
    if let Some(proof) = proof {
        request = request.header("DPoP", proof);
    }
    common::status_of(request).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dpop_bound_token_works_only_with_a_fresh_proof_of_its_key() {
    let stack = stack().await;
    let client = Client::new();
    let answer = client.login(&stack, "demo", &stack.demo_password).await;
    assert_eq!(answer["token_type"], "DPoP", "{answer}");
    let token = answer["access_token"].as_str().unwrap().to_owned();
    let dpop = format!("DPoP {token}");

    let proof = client.proof_for_books(&stack, &token);
    assert_eq!(books(&stack, &dpop, Some(&proof)).await, 200);
    assert_eq!(
        books(&stack, &dpop, Some(&proof)).await,
        401,
        "the same proof again"
    );
    assert_eq!(
        books(&stack, &dpop, Some(&client.proof_for_books(&stack, &token))).await,
        200,
        "a fresh proof"
    );
    assert_eq!(books(&stack, &dpop, None).await, 401, "no proof");
    let downgrade = format!("Bearer {token}");
    assert_eq!(
        books(
            &stack,
            &downgrade,
            Some(&client.proof_for_books(&stack, &token))
        )
        .await,
        401,
        "the token downgraded to Bearer"
    );
    // Another client's key, with the stolen token.
    let thief = Client::new();
    assert_eq!(
        books(&stack, &dpop, Some(&thief.proof_for_books(&stack, &token))).await,
        401
    );
    assert_eq!(
        stack.running.gateway.cached_answers(),
        0,
        "no DPoP answer is cached"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_host_does_not_move_the_request_uri() {
    let stack = stack().await;
    let client = Client::new();
    let token = client.login(&stack, "demo", &stack.demo_password).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let forged = client
        .key
        .proof("GET", "http://evil.example/books", Some(&token))
        .unwrap();
    let status = common::status_of(
        stack
            .http
            .get(format!("{}/books", stack.url))
            .header("authorization", format!("DPoP {token}"))
            .header("host", "evil.example")
            .header("x-forwarded-host", "evil.example")
            .header("DPoP", forged),
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_request_proof_is_used_once_across_the_issuer_and_the_authorizer() {
    let stack = stack().await;
    let client = Client::new();
    let url = format!("{}/token", stack.url);
    let proof = client.key.proof("POST", &url, None).unwrap();
    let login = |proof: String| {
        stack
            .http
            .post(&url)
            .header("DPoP", proof)
            .json(&json!({"username": "demo", "password": stack.demo_password}))
    };
    assert_eq!(common::status_of(login(proof.clone())).await, 200);
    let replay = common::json_answer(login(proof)).await;
    assert_eq!(replay["error"], "invalid_dpop_proof", "{replay}");
}

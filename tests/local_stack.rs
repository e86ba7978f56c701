//! The local stack end to end over real HTTP on a free loopback port.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use tollgate::local_stack::{self, DataDir, RunningStack};

struct Stack {
    running: RunningStack,
    url: String,
    http: reqwest::Client,
    admin_password: String,
    demo_password: String,
}

async fn start_in(dir: &std::path::Path, ttl: u64) -> Stack {
    start_at(dir, "127.0.0.1:0", ttl).await
}

/// A restart keeps the address: the issuer's URL (the tokens' `iss`) is it.
async fn start_at(dir: &std::path::Path, addr: &str, ttl: u64) -> Stack {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("info")
        .try_init();
    let data = DataDir(dir.to_owned());
    let stores = local_stack::Stores::select(&data).await.unwrap();
    let first = local_stack::first_start(&data, stores.accounts.as_ref())
        .await
        .unwrap();
    let credentials = std::fs::read_to_string(data.credentials()).unwrap();
    let password = |name: &str| {
        credentials
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .unwrap()
            .to_owned()
    };
    if let Some(first) = first {
        assert_eq!(first.admin_password, password("admin"));
    }
    let running = local_stack::start(stores, addr.parse().unwrap(), Duration::from_secs(ttl))
        .await
        .unwrap();
    Stack {
        url: format!("http://{}", running.addr),
        running,
        http: reqwest::Client::new(),
        admin_password: password("admin"),
        demo_password: password("demo"),
    }
}

impl Stack {
    async fn login(&self, user: &str, password: &str) -> String {
        let answer: Value = self
            .http
            .post(format!("{}/token", self.url))
            .json(&json!({"username": user, "password": password}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        answer["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("login failed: {answer}"))
            .to_owned()
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_books_and_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let stack = start_in(dir.path(), 300).await;
    let token = stack.login("demo", &stack.demo_password).await;
    assert_eq!(stack.call(Method::GET, "/healthz", None, None).await.0, 200);
    assert_eq!(
        stack.call(Method::GET, "/books", None, None).await.0,
        401,
        "no token"
    );
    assert_eq!(
        stack
            .call(Method::GET, "/books", Some("not.a.token"), None)
            .await
            .0,
        401,
        "bad token"
    );
    assert_eq!(
        stack
            .call(Method::GET, "/admin/keys", Some(&token), None)
            .await
            .0,
        403,
        "wrong scope"
    );

    let (status, book) = stack
        .call(
            Method::POST,
            "/books",
            Some(&token),
            Some(json!({"title": "Kindred", "author": "Octavia E. Butler"})),
        )
        .await;
    assert_eq!(status, 201);
    let id = book["id"].as_str().unwrap().to_owned();
    assert_eq!(book["owner"], "demo");
    let (status, listed) = stack.call(Method::GET, "/books", Some(&token), None).await;
    assert_eq!(
        (status, listed["items"].as_array().unwrap().len()),
        (200, 1)
    );
    let (status, patched) = stack
        .call(
            Method::PATCH,
            &format!("/books/{id}"),
            Some(&token),
            Some(json!({"title": "Dawn"})),
        )
        .await;
    assert_eq!((status, patched["title"].as_str()), (200, Some("Dawn")));
    assert_eq!(
        stack
            .call(Method::DELETE, &format!("/books/{id}"), Some(&token), None)
            .await
            .0,
        204
    );
    assert_eq!(
        stack
            .call(Method::GET, &format!("/books/{id}"), Some(&token), None)
            .await
            .0,
        404
    );
    stack.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_authorizer_cache_is_reused_within_its_ttl_and_off_at_zero() {
    let dir = tempfile::tempdir().unwrap();
    let cached = start_in(dir.path(), 300).await;
    let token = cached.login("demo", &cached.demo_password).await;
    for _ in 0..3 {
        assert_eq!(
            cached
                .call(Method::GET, "/books", Some(&token), None)
                .await
                .0,
            200
        );
    }
    assert_eq!(
        cached.running.gateway.cached_answers(),
        1,
        "one answer reused for the token"
    );
    let addr = cached.running.addr.to_string();
    cached.running.shutdown().await;

    let uncached = start_at(dir.path(), &addr, 0).await;
    assert_eq!(
        uncached
            .call(Method::GET, "/books", Some(&token), None)
            .await
            .0,
        200
    );
    assert_eq!(
        uncached.running.gateway.cached_answers(),
        0,
        "TTL 0: nothing cached"
    );
    uncached.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rotation_under_a_stream_of_requests_fails_no_request_and_revocation_refuses_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let stack = Arc::new(start_in(dir.path(), 0).await);
    let admin = stack.login("admin", &stack.admin_password).await;
    let old = stack.login("demo", &stack.demo_password).await;

    let failures = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let streamer = {
        let (stack, failures, done, token) = (
            Arc::clone(&stack),
            Arc::clone(&failures),
            Arc::clone(&done),
            old.clone(),
        );
        tokio::spawn(async move {
            let mut sent = 0;
            while !done.load(Ordering::SeqCst) && sent < 2000 {
                if stack
                    .call(Method::GET, "/books", Some(&token), None)
                    .await
                    .0
                    != 200
                {
                    failures.fetch_add(1, Ordering::SeqCst);
                }
                sent += 1;
            }
            sent
        })
    };
    let mut fresh_tokens = Vec::new();
    for _ in 0..2 {
        let (status, rotated) = stack
            .call(Method::POST, "/admin/keys/rotate", Some(&admin), None)
            .await;
        assert_eq!(status, 200, "{rotated}");
        let fresh = stack.login("demo", &stack.demo_password).await;
        assert_eq!(
            stack
                .call(Method::GET, "/books", Some(&fresh), None)
                .await
                .0,
            200,
            "a new kid verifies at once"
        );
        fresh_tokens.push(fresh);
    }
    done.store(true, Ordering::SeqCst);
    let sent = streamer.await.unwrap();
    assert!(sent > 10);
    assert_eq!(
        failures.load(Ordering::SeqCst),
        0,
        "no request failed during rotation ({sent} sent)"
    );

    // Revoke the key that signs now: its tokens are refused, new logins still work.
    let keys = stack
        .call(Method::GET, "/admin/keys", Some(&admin), None)
        .await
        .1;
    let active = testkit::active_kid(&keys);
    let victim = fresh_tokens.pop().unwrap();
    assert_eq!(
        stack
            .call(
                Method::POST,
                &format!("/admin/keys/{active}/revoke"),
                Some(&admin),
                None
            )
            .await
            .0,
        200
    );
    let newest = stack.login("demo", &stack.demo_password).await;
    assert_eq!(
        stack
            .call(Method::GET, "/books", Some(&newest), None)
            .await
            .0,
        200,
        "login never stops"
    );
    assert_eq!(
        stack
            .call(Method::GET, "/books", Some(&victim), None)
            .await
            .0,
        401,
        "the revoked key's token is refused"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_users_keys_and_books() {
    let dir = tempfile::tempdir().unwrap();
    let stack = start_in(dir.path(), 300).await;
    let token = stack.login("demo", &stack.demo_password).await;
    let (_, book) = stack
        .call(
            Method::POST,
            "/books",
            Some(&token),
            Some(json!({"title": "Wild Seed", "author": "Octavia E. Butler"})),
        )
        .await;
    let id = book["id"].as_str().unwrap().to_owned();
    let addr = stack.running.addr.to_string();
    stack.running.shutdown().await;

    let restarted = start_at(dir.path(), &addr, 300).await;
    let (status, again) = restarted
        .call(Method::GET, &format!("/books/{id}"), Some(&token), None)
        .await;
    assert_eq!(
        (status, again["title"].as_str()),
        (200, Some("Wild Seed")),
        "old token (key kept) and book kept"
    );
    restarted.login("demo", &restarted.demo_password).await;
    restarted.running.shutdown().await;
}

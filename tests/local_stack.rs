//! The local stack end to end over real HTTP on a free loopback port.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use tollgate::local_stack::{self, DataDir, StackOptions};

mod common;

use common::Stack;

/// A keyset whose `next` key was published an hour ago, so an admin
/// rotation is allowed at once (the spacing rule is the issuer's).
async fn seed_rotatable_keyset(dir: &std::path::Path) {
    use issuer::keys::KeyStore;
    let keyset =
        issuer::KeySet::generate(issuer::SigningAlg::RS256, environment::unix_now() - 3600)
            .unwrap();
    issuer::keys::FileKeyStore::new(DataDir(dir.to_owned()).keyset())
        .save(&keyset, None)
        .await
        .unwrap();
}

/// A fresh stack in a temporary data dir, and a token of `demo`.
async fn demo_stack(ttl: u64) -> (tempfile::TempDir, Stack, String) {
    let dir = tempfile::tempdir().unwrap();
    let stack = start_in(dir.path(), ttl).await;
    let token = stack.login("demo", &stack.demo_password).await;
    (dir, stack, token)
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
    let password = |name: &str| common::stored_password(dir, name);
    if let Some(first) = first {
        assert_eq!(first.admin_password.unwrap(), password("admin"));
    }
    let options = StackOptions::new(addr.parse().unwrap(), Duration::from_secs(ttl));
    let running = local_stack::start_in(&data, stores, options, None)
        .await
        .unwrap();
    Stack::new(running, (password("admin"), password("demo")), None)
}

impl Stack {
    /// The status of a bodiless request.
    async fn status(&self, method: Method, path: &str, token: Option<&str>) -> u16 {
        self.call(method, path, token, None).await.0
    }

    async fn login(&self, user: &str, password: &str) -> String {
        common::login(&self.http, &self.url, user, password).await
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
    assert_eq!(stack.status(Method::GET, "/healthz", None).await, 200);
    assert_eq!(
        stack.status(Method::GET, "/books", None).await,
        401,
        "no token"
    );
    assert_eq!(
        stack
            .status(Method::GET, "/books", Some("not.a.token"))
            .await,
        401,
        "bad token"
    );
    assert_eq!(
        stack.status(Method::GET, "/admin/keys", Some(&token)).await,
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
            .status(Method::DELETE, &format!("/books/{id}"), Some(&token))
            .await,
        204
    );
    assert_eq!(
        stack
            .status(Method::GET, &format!("/books/{id}"), Some(&token))
            .await,
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
            cached.status(Method::GET, "/books", Some(&token)).await,
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
        uncached.status(Method::GET, "/books", Some(&token)).await,
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
    seed_rotatable_keyset(dir.path()).await;
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
                if stack.status(Method::GET, "/books", Some(&token)).await != 200 {
                    failures.fetch_add(1, Ordering::SeqCst);
                }
                sent += 1;
            }
            sent
        })
    };
    let mut fresh_tokens = Vec::new();
    for _ in 0..1 {
        let (status, rotated) = stack
            .call(Method::POST, "/admin/keys/rotate", Some(&admin), None)
            .await;
        assert_eq!(status, 200, "{rotated}");
        let fresh = stack.login("demo", &stack.demo_password).await;
        assert_eq!(
            stack.status(Method::GET, "/books", Some(&fresh)).await,
            200,
            "a new kid verifies at once"
        );
        fresh_tokens.push(fresh);
    }
    let (status, refused) = stack
        .call(Method::POST, "/admin/keys/rotate", Some(&admin), None)
        .await;
    assert_eq!(
        status, 429,
        "a second rotation before the new next key is fetched everywhere: {refused}"
    );
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
            .status(
                Method::POST,
                &format!("/admin/keys/{active}/revoke"),
                Some(&admin)
            )
            .await,
        200
    );
    let newest = stack.login("demo", &stack.demo_password).await;
    assert_eq!(
        stack.status(Method::GET, "/books", Some(&newest)).await,
        200,
        "login never stops"
    );
    assert_eq!(
        stack.status(Method::GET, "/books", Some(&victim)).await,
        401,
        "the revoked key's token is refused"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_on_another_address_keeps_users_keys_books_and_tokens() {
    let (dir, stack, token) = demo_stack(300).await;
    let (_, book) = stack
        .call(
            Method::POST,
            "/books",
            Some(&token),
            Some(json!({"title": "Wild Seed", "author": "Octavia E. Butler"})),
        )
        .await;
    let id = book["id"].as_str().unwrap().to_owned();
    let first_url = stack.url.clone();
    stack.running.shutdown().await;

    // Port 0: another free port, so another address than the first start's.
    let restarted = start_in(dir.path(), 300).await;
    assert_ne!(restarted.url, first_url);
    assert_eq!(
        restarted.running.issuer_url, first_url,
        "iss fixed at first start"
    );
    let (status, again) = restarted
        .call(Method::GET, &format!("/books/{id}"), Some(&token), None)
        .await;
    assert_eq!(
        (status, again["title"].as_str()),
        (200, Some("Wild Seed")),
        "old token (same iss, key kept) and book kept"
    );
    let (_, discovery) = restarted
        .call(Method::GET, "/.well-known/openid-configuration", None, None)
        .await;
    assert_eq!(discovery["issuer"], first_url.as_str());
    restarted.login("demo", &restarted.demo_password).await;
    restarted.running.shutdown().await;
}

#[test]
fn the_issuer_url_is_fixed_by_the_first_start_or_issuer_url() {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir(dir.path().join("data"));
    assert_eq!(
        data.resolve_issuer_url(None).unwrap(),
        None,
        "first start, none asked"
    );
    assert_eq!(
        data.resolve_issuer_url(Some("https://auth.example.test/"))
            .unwrap()
            .as_deref(),
        Some("https://auth.example.test")
    );
    assert_eq!(
        data.resolve_issuer_url(None).unwrap().as_deref(),
        Some("https://auth.example.test"),
        "stored"
    );
    let error = data
        .resolve_issuer_url(Some("http://127.0.0.1:9999"))
        .unwrap_err()
        .to_string();
    assert!(error.contains("https://auth.example.test"), "{error}");
    let other = DataDir(dir.path().join("other"));
    for bad in ["ftp://x", "http://", "not a url", "https://x/?q"] {
        assert!(other.resolve_issuer_url(Some(bad)).is_err(), "{bad}");
    }
}

/// Sends raw bytes (no client-side path normalization) and returns the status.
async fn raw_status(addr: std::net::SocketAddr, request: String) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = vec![0u8; 12];
    stream.read_exact(&mut head).await.unwrap();
    String::from_utf8_lossy(&head[9..12]).parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_paths_and_oversized_headers_are_refused_before_routing() {
    let (_dir, stack, token) = demo_stack(300).await;
    let addr = stack.running.addr;
    for path in [
        "/books/../admin/keys",
        "/books/%2e%2e/admin/keys",
        "/books/%2E%2E/admin/keys/x/revoke",
        "/books%2f..%2fadmin%2fkeys",
        "/books/a%2Fb",
        "/books/./x",
    ] {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
        );
        assert_eq!(raw_status(addr, request).await, 400, "{path}");
    }
    let big = "a".repeat(11 * 1024);
    let (status, _) = {
        let response = stack
            .http
            .get(format!("{}/books", stack.url))
            .bearer_auth(&token)
            .header("x-padding", big)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), ())
    };
    assert_eq!(status, 431, "over API Gateway's 10 KiB request head");
    let (ok, _) = stack.call(Method::GET, "/books", Some(&token), None).await;
    assert_eq!(ok, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn variants_of_one_bearer_header_share_one_cache_entry() {
    let (_dir, stack, token) = demo_stack(300).await;
    for header in [
        format!("Bearer {token}"),
        format!("bearer {token}"),
        format!("BEARER {token}"),
        format!("Bearer    {token}"),
    ] {
        let status = stack
            .http
            .get(format!("{}/books", stack.url))
            .header("authorization", header.as_str())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        assert_eq!(status, 200, "{header:?}");
    }
    assert_eq!(
        stack.running.gateway.cached_answers(),
        1,
        "one token, one entry"
    );
}

/// `tollgate keys revoke` works on the store, not on the running process:
/// the stack notices within its poll interval, refetches, then flushes its
/// cached answers, so a token of the revoked key is refused although its
/// answer was cached for 300 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_made_beside_the_stack_reaches_it_with_the_cache_on() {
    let (dir, stack, token) = demo_stack(300).await;
    assert_eq!(stack.status(Method::GET, "/books", Some(&token)).await, 200);
    assert_eq!(stack.running.gateway.cached_answers(), 1);

    // What the CLI does: its own issuer service on the same data dir.
    let data = DataDir(dir.path().to_owned());
    let stores = local_stack::identity_stores(&data).await.unwrap();
    let cli = local_stack::issuer_service(&stores, "http://cli").unwrap();
    let active = cli.keyset().await.unwrap().active().unwrap().kid.clone();
    cli.revoke(&active).await.unwrap();

    let bound = local_stack::KEYSET_POLL + Duration::from_secs(1);
    let deadline = tokio::time::Instant::now() + bound * 5; // loose: a busy machine
    let mut status = 200;
    while tokio::time::Instant::now() < deadline {
        status = stack.status(Method::GET, "/books", Some(&token)).await;
        if status == 401 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 401, "the revoked key's token is refused");
    let fresh = stack.login("demo", &stack.demo_password).await;
    assert_eq!(stack.status(Method::GET, "/books", Some(&fresh)).await, 200);
}

#[tokio::test]
async fn first_start_keeps_existing_accounts_and_writes_private_files_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir(dir.path().join("data"));
    let stores = local_stack::Stores::select(&data).await.unwrap();
    // Someone added `demo` before the first start: it is kept as it is.
    let demo = issuer::accounts::Account {
        kind: issuer::accounts::AccountKind::User,
        name: "demo".into(),
        secret_hash: issuer::hash_secret("mine").unwrap(),
        scopes: vec!["books:read".into()],
        disabled: false,
        dpop_only: false,
    };
    stores.accounts.put(&demo).await.unwrap();
    let first = local_stack::first_start(&data, stores.accounts.as_ref())
        .await
        .unwrap()
        .unwrap();
    assert!(first.admin_password.is_some());
    assert_eq!(first.demo_password, None, "demo existed");
    let stored = stores
        .accounts
        .get(issuer::accounts::AccountKind::User, "demo")
        .await
        .unwrap();
    assert_eq!(stored, Some(demo), "never overwritten");
    let credentials = std::fs::read_to_string(data.credentials()).unwrap();
    assert!(credentials.starts_with("admin:") && !credentials.contains("demo:"));
    assert!(
        local_stack::first_start(&data, stores.accounts.as_ref())
            .await
            .unwrap()
            .is_none(),
        "a second start creates nothing"
    );
    data.store_issuer_url("http://127.0.0.1:1").unwrap();

    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data.0), 0o700, "data dir");
    for file in [
        data.users(),
        data.credentials(),
        data.books(),
        data.issuer_url(),
    ] {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }

    // A symbolic link planted where a file belongs is refused, not followed.
    let elsewhere = dir.path().join("elsewhere");
    std::fs::write(&elsewhere, "untouched").unwrap();
    let trapped = DataDir(dir.path().join("trapped"));
    trapped.create().unwrap();
    std::os::unix::fs::symlink(&elsewhere, trapped.credentials()).unwrap();
    std::os::unix::fs::symlink(&elsewhere, trapped.users()).unwrap();
    let accounts = issuer::accounts::FileAccountStore::new(trapped.users());
    assert!(local_stack::first_start(&trapped, &accounts).await.is_err());
    std::fs::remove_file(trapped.users()).unwrap();
    assert!(local_stack::first_start(&trapped, &accounts).await.is_err());
    std::os::unix::fs::symlink(&elsewhere, trapped.issuer_url()).unwrap();
    assert!(trapped.store_issuer_url("http://x").is_err());
    assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "untouched");
}

/// Password hashing runs on the blocking pool behind a semaphore: a flood
/// of logins must not hold the async workers that serve every other route.
/// Asserted by ordering, not time: `/healthz` and a books read answer while
/// most of the flood is still waiting for its turn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_and_books_stay_fast_under_a_login_flood() {
    const FLOOD: usize = 48;
    let dir = tempfile::tempdir().unwrap();
    let stack = Arc::new(start_in(dir.path(), 300).await);
    let token = stack.login("demo", &stack.demo_password).await;
    let finished = Arc::new(AtomicUsize::new(0));
    let started = Arc::new(tokio::sync::Barrier::new(FLOOD + 1));
    let flood: Vec<_> = (0..FLOOD)
        .map(|i| {
            let (stack, finished, started) = (
                Arc::clone(&stack),
                Arc::clone(&finished),
                Arc::clone(&started),
            );
            tokio::spawn(async move {
                let request = stack
                    .http
                    .post(format!("{}/token", stack.url))
                    .json(&json!({"username": format!("nobody-{i}"), "password": "guess"}));
                started.wait().await;
                let status = request.send().await.unwrap().status().as_u16();
                finished.fetch_add(1, Ordering::SeqCst);
                status
            })
        })
        .collect();
    started.wait().await;
    // Let the flood's requests reach the issuer first.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (health, _) = stack.call(Method::GET, "/healthz", None, None).await;
    let after_health = finished.load(Ordering::SeqCst);
    let (books, _) = stack.call(Method::GET, "/books", Some(&token), None).await;
    let after_books = finished.load(Ordering::SeqCst);
    assert_eq!((health, books), (200, 200));
    for login in flood {
        assert_eq!(login.await.unwrap(), 400, "every flooded login is answered");
    }
    assert!(
        after_health < FLOOD / 2 && after_books < FLOOD / 2,
        "healthz answered after {after_health} and books after {after_books} of {FLOOD} logins"
    );
}

//! Revoking single tokens through the local stack, with the gateway's
//! authorizer cache on (300 s): by the holder (RFC 7009 `POST /revoke`), by
//! the admin (`POST /admin/tokens/revoke`, by `jti` or subject), and from
//! the CLI beside a running `serve` (`tollgate token revoke`, `tollgate user
//! revoke-tokens`). Each revoked token is refused (401) at once, or within
//! the stack's poll for the CLI, and no other token is.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tollgate::local_stack::{self, StackOptions};

mod common;

use common::Stack;

async fn cached_stack() -> Stack {
    Stack::fresh(StackOptions::new(
        "127.0.0.1:0".parse().unwrap(),
        Duration::from_secs(300),
    ))
    .await
}

impl Stack {
    async fn token(&self, user: &str) -> String {
        let password = match user {
            "admin" => &self.admin_password,
            _ => &self.demo_password,
        };
        common::login(&self.http, &self.url, user, password).await
    }

    async fn books(&self, token: &str) -> u16 {
        common::status_of(
            self.http
                .get(format!("{}/books", self.url))
                .bearer_auth(token),
        )
        .await
    }

    async fn revoke(&self, token: &str) -> u16 {
        common::status_of(
            self.http
                .post(format!("{}/revoke", self.url))
                .header("content-type", "application/x-www-form-urlencoded")
                // Tokens are base64url and dots: nothing to escape.
                .body(format!("token={token}")),
        )
        .await
    }

    async fn admin_revoke(&self, admin: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/admin/tokens/revoke", self.url))
            .bearer_auth(admin)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Polls `GET /books` with `token` until it answers `expected` (or the
    /// bound passes); the status last seen.
    async fn books_within(&self, token: &str, expected: u16, bound: Duration) -> u16 {
        let deadline = Instant::now() + bound;
        loop {
            let status = self.books(token).await;
            if status == expected || Instant::now() > deadline {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The token's `jti` (its payload read without verification: our own token).
fn jti(token: &str) -> String {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    let claims: Value = serde_json::from_slice(&json).unwrap();
    claims["jti"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_revokes_its_token_and_the_cached_allow_goes_at_once() {
    let stack = cached_stack().await;
    let (revoked, kept) = (stack.token("demo").await, stack.token("demo").await);
    assert_eq!(stack.books(&revoked).await, 200);
    assert_eq!(stack.books(&kept).await, 200);
    assert_eq!(stack.running.gateway.cached_answers(), 2);

    // Revoking garbage (anonymously) changes nothing and answers 200, as
    // RFC 7009 says: no cached answer goes.
    assert_eq!(stack.revoke("not-a-token").await, 200);
    assert_eq!(stack.running.gateway.cached_answers(), 2);

    assert_eq!(stack.revoke(&revoked).await, 200);
    assert_eq!(
        stack.running.gateway.cached_answers(),
        1,
        "only the revoked token's answer went"
    );
    assert_eq!(
        stack.books(&revoked).await,
        401,
        "refused at once, cache and all"
    );
    assert_eq!(
        stack.books(&kept).await,
        200,
        "the user's other token stands"
    );
    assert_eq!(
        stack.running.gateway.cached_answers(),
        1,
        "still from the cache"
    );
    // The list it is refused by is public.
    let lists = common::json_answer(stack.http.get(format!("{}/statuslists", stack.url))).await;
    assert_eq!(lists["status_lists"].as_array().map(Vec::len), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_revokes_one_token_by_jti_or_every_token_of_a_user() {
    let stack = cached_stack().await;
    let admin = stack.token("admin").await;
    let demo = [
        stack.token("demo").await,
        stack.token("demo").await,
        stack.token("demo").await,
    ];
    for token in &demo {
        assert_eq!(stack.books(token).await, 200);
    }
    let (status, body) = stack
        .admin_revoke(&demo[0], json!({"jti": jti(&demo[1])}))
        .await;
    assert_eq!(status, 403, "keys:admin only: {body}");

    let (status, body) = stack
        .admin_revoke(&admin, json!({"jti": jti(&demo[0])}))
        .await;
    assert_eq!((status, &body["revoked"]), (200, &json!(1)), "{body}");
    assert_eq!(stack.books(&demo[0]).await, 401);
    assert_eq!(stack.books(&demo[1]).await, 200);

    let (status, body) = stack.admin_revoke(&admin, json!({"sub": "demo"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["revoked"], 3,
        "every unexpired token of demo, the revoked one too"
    );
    for token in &demo {
        assert_eq!(stack.books(token).await, 401);
    }
    assert_eq!(
        stack.books(&admin).await,
        200,
        "another user's token stands"
    );
    let fresh = stack.token("demo").await;
    assert_eq!(stack.books(&fresh).await, 200, "a new login works");
}

fn tollgate(data: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The CLI writes the data directory's status store; the running stack
/// polls it and flushes its cached answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_revokes_beside_a_running_serve() {
    let dir = tempfile::tempdir().unwrap();
    let data = local_stack::DataDir(dir.path().to_owned());
    let stores = local_stack::Stores::select(&data).await.unwrap();
    let first = local_stack::first_start(&data, stores.accounts.as_ref())
        .await
        .unwrap()
        .unwrap();
    let options = StackOptions::new("127.0.0.1:0".parse().unwrap(), Duration::from_secs(300));
    let running = local_stack::start_in(&data, stores, options, None)
        .await
        .unwrap();
    let stack = Stack::new(
        running,
        (first.admin_password.unwrap(), first.demo_password.unwrap()),
        None,
    );
    let bound = local_stack::KEYSET_POLL * 2 + Duration::from_secs(3); // loose: a busy machine
    let (one, two, admin) = (
        stack.token("demo").await,
        stack.token("demo").await,
        stack.token("admin").await,
    );
    for token in [&one, &two, &admin] {
        assert_eq!(stack.books(token).await, 200);
    }

    let (ok, out, err) = tollgate(dir.path(), &["token", "revoke", &one]);
    assert!(ok, "token revoke: {err}");
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["revoked"], 1);
    assert_eq!(stack.books_within(&one, 401, bound).await, 401);
    assert_eq!(stack.books(&two).await, 200);

    let (ok, out, err) = tollgate(dir.path(), &["user", "revoke-tokens", "demo"]);
    assert!(ok, "user revoke-tokens: {err}");
    assert!(out.contains("\"revoked\""), "{out}");
    assert_eq!(stack.books_within(&two, 401, bound).await, 401);
    assert_eq!(stack.books(&admin).await, 200);

    // What cannot be revoked says so, and fails.
    let (ok, _, err) = tollgate(dir.path(), &["token", "revoke", "garbage"]);
    assert!(!ok && err.contains("nothing revoked"), "{err}");
    let (ok, _, err) = tollgate(dir.path(), &["user", "revoke-tokens", "nobody"]);
    assert!(!ok && err.contains("nothing revoked"), "{err}");
    stack.running.shutdown().await;
}

//! The local stack with its authorizer in Lambda-runtime mode: the real
//! `authorizer` binary (built by `cargo test --workspace`) behind the
//! gateway's Runtime API, and misbehaving functions answered as API Gateway
//! answers them (500, never a hang).

use std::path::PathBuf;
use std::time::Duration;

mod common;

use common::Stack;

use lambda_host::HostSettings;
use serde_json::{json, Value};
use tollgate::authorizer_backend::AuthorizerMode;
use tollgate::local_stack::StackOptions;

/// `target/debug/authorizer`, next to this test's `deps/` directory.
fn authorizer_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let binary = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(|dir| dir.join("authorizer"))
        .unwrap();
    assert!(
        binary.exists(),
        "{} is missing: run `cargo test --workspace` or `cargo build -p authorizer`",
        binary.display()
    );
    binary
}

fn scripted(behaviour: &str) -> String {
    let venv = concat!(env!("CARGO_MANIFEST_DIR"), "/.venv/bin/python3");
    let python = if std::path::Path::new(venv).exists() {
        venv
    } else {
        "python3"
    };
    format!(
        "{python} {}/lambda-host/tests/functions/runtime_client.py {behaviour}",
        env!("CARGO_MANIFEST_DIR")
    )
}

async fn json_of(request: reqwest::RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}

async fn start(command: String, fresh_instances: bool, timeout_ms: u64) -> Stack {
    let mode = AuthorizerMode::Lambda {
        command,
        settings: HostSettings {
            max_instances: 2,
            fresh_instances,
            timeout: Duration::from_millis(timeout_ms),
        },
        jwks_uri: None,
    };
    Stack::fresh(StackOptions::new("127.0.0.1:0".parse().unwrap(), Duration::ZERO).with_mode(mode))
        .await
}

impl Stack {
    async fn login(&self) -> String {
        self.login_as("demo", &self.demo_password).await
    }

    async fn login_as(&self, username: &str, password: &str) -> String {
        let request = self
            .http
            .post(format!("{}/token", self.url))
            .json(&json!({"username": username, "password": password}));
        let answer = json_of(request).await;
        answer["access_token"].as_str().unwrap().to_owned()
    }

    async fn get_json(&self, path: &str, token: &str) -> Value {
        json_of(
            self.http
                .get(format!("{}{path}", self.url))
                .bearer_auth(token),
        )
        .await
    }

    async fn get(&self, path: &str, token: Option<&str>) -> u16 {
        let mut request = self.http.get(format!("{}{path}", self.url));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = tokio::time::timeout(Duration::from_secs(30), request.send())
            .await
            .expect("the gateway answers, never hangs")
            .unwrap();
        response.status().as_u16()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_authorizer_binary_decides_behind_the_gateway() {
    let stack = start(authorizer_binary().display().to_string(), false, 10_000).await;
    let token = stack.login().await;
    assert_eq!(stack.get("/books", Some(&token)).await, 200, "allowed");
    assert_eq!(stack.get("/books", Some(&token)).await, 200, "warm repeat");
    assert_eq!(stack.get("/books", None).await, 401, "no token");
    assert_eq!(
        stack.get("/books", Some("not.a.token")).await,
        401,
        "bad token"
    );
    assert_eq!(
        stack.get("/admin/keys", Some(&token)).await,
        403,
        "wrong scope"
    );
    stack.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_instances_of_the_real_binary_answer_each_request() {
    let stack = start(authorizer_binary().display().to_string(), true, 10_000).await;
    let token = stack.login().await;
    for _ in 0..3 {
        assert_eq!(stack.get("/books", Some(&token)).await, 200);
    }
    stack.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crashes_init_errors_and_hangs_are_500s() {
    for (behaviour, timeout_ms) in [("crash", 10_000), ("init-error", 10_000), ("hang", 1_000)] {
        let stack = start(scripted(behaviour), false, timeout_ms).await;
        let token = stack.login().await;
        assert_eq!(stack.get("/books", Some(&token)).await, 500, "{behaviour}");
        // And again: a replaced instance fails the same way, nothing is stuck.
        assert_eq!(stack.get("/books", Some(&token)).await, 500, "{behaviour}");
        stack.running.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_error_unauthorized_is_a_401() {
    let stack = start(scripted("unauthorized"), false, 10_000).await;
    let token = stack.login().await;
    assert_eq!(stack.get("/books", Some(&token)).await, 401);
    stack.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_key_is_refused_at_once_by_warm_instances() {
    let stack = start(authorizer_binary().display().to_string(), false, 10_000).await;
    let admin = stack.login_as("admin", &stack.admin_password).await;
    let victim = stack.login().await;
    // A warm instance has verified (and cached its decision for) the token.
    assert_eq!(stack.get("/books", Some(&victim)).await, 200);
    assert_eq!(stack.get("/books", Some(&victim)).await, 200);
    let keys = stack.get_json("/admin/keys", &admin).await;
    let active = testkit::active_kid(&keys);
    let revoked = stack
        .http
        .post(format!("{}/admin/keys/{active}/revoke", stack.url))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status().as_u16(), 200);
    assert_eq!(
        stack.get("/books", Some(&victim)).await,
        401,
        "the revoked key's token is refused"
    );
    let fresh = stack.login().await;
    assert_eq!(
        stack.get("/books", Some(&fresh)).await,
        200,
        "new logins work"
    );
    stack.running.shutdown().await;
}

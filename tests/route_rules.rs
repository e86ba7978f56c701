//! Route rules through the local stack: `GET /shelves/{owner}/books` is the
//! caller's own shelf (`{owner}` bound to `sub`) or any for `books:admin`.
//! The gateway caches the authorizer's answer per token, as API Gateway
//! does; the cached answer must still refuse another user's shelf.

use std::time::Duration;

use serde_json::json;
use tollgate::local_stack::StackOptions;

mod common;

use common::Stack;

async fn shelf(stack: &Stack, token: &str, owner: &str) -> (u16, serde_json::Value) {
    let response = stack
        .http
        .get(format!("{}/shelves/{owner}/books", stack.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shelf_is_its_owners_even_from_a_cached_answer() {
    let stack = Stack::fresh(StackOptions::new(
        "127.0.0.1:0".parse().unwrap(),
        Duration::from_secs(300),
    ))
    .await;
    let demo = common::login(&stack.http, &stack.url, "demo", &stack.demo_password).await;
    let admin = common::login(&stack.http, &stack.url, "admin", &stack.admin_password).await;
    for (token, title) in [(&demo, "Kindred"), (&admin, "Dawn")] {
        let status = common::status_of(
            stack
                .http
                .post(format!("{}/books", stack.url))
                .bearer_auth(token)
                .json(&json!({"title": title, "author": "Octavia E. Butler"})),
        )
        .await;
        assert_eq!(status, 201);
    }
    // Demo's own shelf: its book only. The answer is now cached for the token.
    let (status, body) = shelf(&stack, &demo, "demo").await;
    assert_eq!(status, 200, "{body}");
    let titles: Vec<_> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["title"].clone())
        .collect();
    assert_eq!(titles, [json!("Kindred")]);
    // Another user's shelf with the same token, from the cached answer: 403
    // by the gateway's evaluation of the policy, before any backend.
    let (status, body) = shelf(&stack, &demo, "admin").await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        body["message"], "User is not authorized to access this resource",
        "{body}"
    );
    for hostile in ["*", "%2A", "demo%2F..%2Fadmin"] {
        assert_ne!(shelf(&stack, &demo, hostile).await.0, 200, "{hostile}");
    }
    // books:admin reads any shelf.
    let (status, body) = shelf(&stack, &admin, "demo").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
}

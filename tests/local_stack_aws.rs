//! `serve` in AWS-backed mode against `moto_server`: keys in Secrets
//! Manager, users and books in DynamoDB, through the real SDK. Its own test
//! binary: it sets process-wide environment variables.

use std::time::Duration;

use backend::DynamoStore;
use issuer::accounts::DynamoAccountStore;
use serde_json::{json, Value};
use tollgate::local_stack::{self, DataDir, StackOptions, Stores};

mod common;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_uses_secrets_manager_and_dynamodb() {
    if testkit::aws_test_endpoint().is_none() {
        return;
    }
    let config = testkit::aws_config(None).await;
    let dynamo = aws_sdk_dynamodb::Client::new(&config);
    let suffix = ulid::Ulid::new().to_string().to_lowercase();
    let (books, users, secret) = (
        format!("books-{suffix}"),
        format!("users-{suffix}"),
        format!("tollgate/keyset-{suffix}"),
    );
    DynamoStore::create_table(&dynamo, &books).await.unwrap();
    DynamoAccountStore::create_table(&dynamo, &users)
        .await
        .unwrap();
    // Edition 2021: setting the environment is safe; this binary has one test.
    std::env::set_var("KEYSET_SECRET_ID", &secret);
    std::env::set_var("USERS_TABLE", &users);
    std::env::set_var("BOOKS_TABLE", &books);

    let dir = tempfile::tempdir().unwrap();
    let data = DataDir(dir.path().to_owned());
    let stores = Stores::select(&data).await.unwrap();
    // A keyset whose next key was published an hour ago: the admin rotation below may activate it.
    let keyset =
        issuer::KeySet::generate(issuer::SigningAlg::RS256, environment::unix_now() - 3600)
            .unwrap();
    stores.keys.save(&keyset, None).await.unwrap();
    let first = local_stack::first_start(&data, stores.accounts.as_ref())
        .await
        .unwrap()
        .expect("first start");
    let options = StackOptions::new("127.0.0.1:0".parse().unwrap(), Duration::from_secs(300));
    let stack = local_stack::start(stores, options).await.unwrap();
    let url = format!("http://{}", stack.addr);
    let http = reqwest::Client::new();

    let login = |user: &'static str, password: String| {
        let (http, url) = (http.clone(), url.clone());
        async move { common::login(&http, &url, user, &password).await }
    };
    let token = login("demo", first.demo_password.clone().unwrap()).await;
    let book = json!({"title": "Parable of the Sower", "author": "Octavia E. Butler"});
    let created = common::json_answer(
        http.post(format!("{url}/books"))
            .bearer_auth(&token)
            .json(&book),
    )
    .await;
    let id = created["id"].as_str().expect("created");
    let item = testkit::dynamodb_item(&dynamo, &books, ("id", id)).await;
    assert!(item.is_some(), "the book is in DynamoDB");

    let admin = login("admin", first.admin_password.clone().unwrap()).await;
    let rotate = http.post(format!("{url}/admin/keys/rotate"));
    assert_eq!(common::status_of(rotate.bearer_auth(&admin)).await, 200);
    let sm = aws_sdk_secretsmanager::Client::new(&config);
    let stored = sm
        .get_secret_value()
        .secret_id(&secret)
        .version_stage("AWSCURRENT")
        .send()
        .await
        .unwrap();
    let keyset: Value = serde_json::from_str(stored.secret_string().unwrap()).unwrap();
    assert_eq!(keyset["version"], 2, "the rotation went to Secrets Manager");
    let still = http.get(format!("{url}/books")).bearer_auth(&token);
    assert_eq!(
        common::status_of(still).await,
        200,
        "the pre-rotation token still verifies"
    );
    stack.shutdown().await;
}

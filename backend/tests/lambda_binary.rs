//! The `backend` binary end to end: real REST API events through the Lambda
//! Runtime API, answered by lambda_http, on both stores.

use backend::DynamoStore;
use serde_json::{json, Value};
use testkit::function::TestFunction;

/// A REST API proxy event for stage `prod`, as API Gateway sends it behind
/// a Lambda authorizer (`who` = sub and scopes, or no authorizer context).
fn rest_event(method: &str, path: &str, who: Option<(&str, &str)>, body: Option<&str>) -> Value {
    let mut context = json!({"accountId": "123456789012", "resourceId": "r1", "stage": "prod", "requestId": "req",
        "identity": {"sourceIp": "203.0.113.7"}, "resourcePath": "/{proxy+}", "httpMethod": method, "apiId": "abc123",
        "path": format!("/prod{path}")});
    if let Some((sub, scope)) = who {
        context["authorizer"] = json!({"principalId": sub, "sub": sub, "scope": scope});
    }
    json!({"resource": "/{proxy+}", "path": path, "httpMethod": method,
        "headers": {"Content-Type": "application/json", "Host": "abc123.execute-api.eu-west-1.amazonaws.com"},
        "multiValueHeaders": {"Content-Type": ["application/json"], "Host": ["abc123.execute-api.eu-west-1.amazonaws.com"]},
        "queryStringParameters": null, "multiValueQueryStringParameters": null, "pathParameters": null, "stageVariables": null,
        "requestContext": context, "body": body, "isBase64Encoded": false})
}

const ALICE: Option<(&str, &str)> = Some(("alice", "books:read books:write"));

/// The binary under test: `BACKEND_BIN` if set (a release or arm64 build),
/// else this package's own build.
fn start(env: &[(&str, String)]) -> TestFunction {
    let binary =
        std::env::var("BACKEND_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_backend").to_owned());
    TestFunction::new(&binary, "tollgate-backend", env)
}

/// `(statusCode, parsed body)` of a lambda_http proxy response.
async fn invoke(function: &TestFunction, event: Value) -> (u64, Value) {
    match function.invoke(event).await {
        Ok(response) => {
            let body = response["body"]
                .as_str()
                .and_then(|b| serde_json::from_str(b).ok())
                .unwrap_or(Value::Null);
            (response["statusCode"].as_u64().expect("statusCode"), body)
        }
        Err(error) => panic!("the function failed: {error}"),
    }
}

async fn crud_through_the_binary(function: &TestFunction) -> String {
    let (status, created) = invoke(
        function,
        rest_event(
            "POST",
            "/books",
            ALICE,
            Some(r#"{"title":"Kindred","author":"Octavia E. Butler"}"#),
        ),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let (status, read) = invoke(
        function,
        rest_event("GET", &format!("/books/{id}"), ALICE, None),
    )
    .await;
    assert_eq!((status, read["title"].as_str()), (200, Some("Kindred")));
    let (status, problem) = invoke(function, rest_event("GET", "/books", None, None)).await;
    assert_eq!(
        (status, problem["status"].as_u64()),
        (401, Some(401)),
        "no authorizer context: fail closed"
    );
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_store_binary_keeps_books_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let env = [(
        "BOOKS_DB_PATH",
        dir.path().join("books.redb").display().to_string(),
    )];
    let function = start(&env);
    let id = crud_through_the_binary(&function).await;
    function.stop().await;

    let restarted = start(&env);
    let (status, book) = invoke(
        &restarted,
        rest_event("GET", &format!("/books/{id}"), ALICE, None),
    )
    .await;
    assert_eq!(
        (status, book["title"].as_str()),
        (200, Some("Kindred")),
        "the book survived the restart"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_binary_serves_books_from_the_table() {
    let Some(endpoint) = testkit::aws_test_endpoint() else {
        return;
    };
    let (client, table) = testkit::dynamodb("books-bin").await;
    DynamoStore::create_table(&client, &table)
        .await
        .expect("create table on moto_server");
    let passthrough = |name: &'static str| (name, std::env::var(name).unwrap_or_default());
    let env = [
        ("BOOKS_TABLE", table.clone()),
        ("AWS_ENDPOINT_URL", endpoint),
        passthrough("AWS_ACCESS_KEY_ID"),
        passthrough("AWS_SECRET_ACCESS_KEY"),
        passthrough("AWS_SESSION_TOKEN"),
        (
            "AWS_REGION",
            std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".to_owned()),
        ),
    ];
    let function = start(&env);
    let id = crud_through_the_binary(&function).await;
    let item = testkit::dynamodb_item(&client, &table, ("id", &id)).await;
    assert_eq!(
        item.as_ref()
            .and_then(|i| i.get("title"))
            .and_then(|t| t.as_s().ok())
            .map(String::as_str),
        Some("Kindred")
    );
}

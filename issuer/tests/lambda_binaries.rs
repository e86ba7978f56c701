//! The `issuer` and `issuer-rotation` binaries through the Lambda Runtime
//! API, with the events API Gateway and Secrets Manager send.

use issuer::keys::KeyStore;
use issuer::keys::SecretsManagerKeyStore;
use serde_json::{json, Value};
use testkit::function::{LambdaError, TestFunction};

mod common;

/// AWS settings passed through to the function (it starts with a clean environment).
fn aws_env() -> Option<Vec<(&'static str, String)>> {
    let endpoint = testkit::aws_test_endpoint()?;
    let pass = |name: &'static str| (name, std::env::var(name).unwrap_or_default());
    Some(vec![
        ("AWS_ENDPOINT_URL", endpoint),
        pass("AWS_ACCESS_KEY_ID"),
        pass("AWS_SECRET_ACCESS_KEY"),
        pass("AWS_SESSION_TOKEN"),
        (
            "AWS_REGION",
            std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".to_owned()),
        ),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rotation_binary_answers_the_four_secrets_manager_steps() {
    let Some(mut env) = aws_env() else {
        return;
    };
    let secret = format!("tollgate/rotation-bin-{}", ulid::Ulid::new());
    let store = SecretsManagerKeyStore::from_env(secret.clone()).await;
    let before = issuer::KeySet::generate(issuer::SigningAlg::ES256, 1000).unwrap();
    store.save(&before, None).await.unwrap();
    let token = "c5c2d4f0-9f4e-4a52-8d1e-0123456789ab";
    // What Secrets Manager does first: rotation on (moto: RotateSecret with a
    // schedule and no Lambda) and the token's version staged AWSPENDING.
    let config = testkit::aws_config(None).await;
    let client = aws_sdk_secretsmanager::Client::new(&config);
    common::enable_rotation(&client, &secret).await;
    store.stage_pending(&before, token).await.unwrap();

    env.push(("SIGNING_ALG", "ES256".to_owned()));
    let binary = std::env::var("ISSUER_ROTATION_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_issuer-rotation").to_owned());
    let function = TestFunction::new(&binary, "tollgate-issuer-rotation", &env);
    for step in ["createSecret", "setSecret", "testSecret", "finishSecret"] {
        let event = json!({"Step": step, "SecretId": secret, "ClientRequestToken": token});
        match function.invoke(event).await {
            Ok(_) => {}
            Err(error) => panic!("{step}: {error}"),
        }
    }
    let after = store.load().await.unwrap().unwrap();
    assert_eq!(after.version, before.version + 1);
    assert_eq!(after.active().unwrap().kid, before.next().unwrap().kid);

    let bad = function
        .invoke(json!({"Step": "dropTable", "SecretId": secret, "ClientRequestToken": token}))
        .await;
    assert!(
        matches!(bad, Err(LambdaError::Function { ref message, .. }) if message.contains("unknown rotation step"))
    );
    // One EMF record per step on stdout.
    let steps = |lines: &[Value]| -> Vec<(String, String)> {
        lines
            .iter()
            .filter(|l| l["RotationSteps"] == 1.0 && l["Service"] == "issuer-rotation")
            .map(|l| {
                let text = |name: &str| l[name].as_str().unwrap_or_default().to_owned();
                (text("Decision"), text("Reason"))
            })
            .collect()
    };
    let lines = function
        .stdout_json_when(|lines| steps(lines).len() == 5)
        .await;
    assert_eq!(
        steps(&lines),
        ["createSecret", "setSecret", "testSecret", "finishSecret"]
            .map(|step| ("ok".to_owned(), step.to_owned()))
            .into_iter()
            .chain([("failed".to_owned(), "unknown_step".to_owned())])
            .collect::<Vec<_>>()
    );
}

fn rest_event(method: &str, path: &str, headers: Value, body: Option<&str>) -> Value {
    json!({"resource": "/{proxy+}", "path": path, "httpMethod": method, "headers": headers,
        "multiValueHeaders": {}, "queryStringParameters": null, "multiValueQueryStringParameters": null,
        "pathParameters": null, "stageVariables": null,
        "requestContext": {"accountId": "123456789012", "resourceId": "r", "stage": "prod", "requestId": "q",
            "identity": {"sourceIp": "203.0.113.9"}, "resourcePath": "/{proxy+}", "httpMethod": method, "apiId": "abc123", "path": format!("/prod{path}")},
        "body": body, "isBase64Encoded": false})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_issuer_binary_logs_in_and_publishes_its_jwks() {
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users.json");
    let accounts = issuer::accounts::FileAccountStore::new(&users);
    issuer::accounts::AccountStore::put(
        &accounts,
        &issuer::accounts::Account {
            kind: issuer::accounts::AccountKind::User,
            name: "alice".into(),
            secret_hash: issuer::hash_secret("pw").unwrap(),
            scopes: vec!["books:read".into()],
            disabled: false,
            dpop_only: false,
        },
    )
    .await
    .unwrap();
    let env = [
        ("JWT_ISSUER", "https://issuer.test".to_owned()),
        ("JWT_AUDIENCE", "books-api".to_owned()),
        (
            "KEYSET_FILE",
            dir.path().join("keyset.json").display().to_string(),
        ),
        ("USERS_FILE", users.display().to_string()),
        (
            "STATUS_FILE",
            dir.path().join("status.json").display().to_string(),
        ),
    ];
    let binary =
        std::env::var("ISSUER_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_issuer").to_owned());
    let function = TestFunction::new(&binary, "tollgate-issuer", &env);

    let body = login_alice(&function).await;
    assert_eq!(body["token_type"], "Bearer");

    let Ok(jwks) = function
        .invoke(rest_event("GET", "/.well-known/jwks.json", json!({}), None))
        .await
    else {
        panic!("jwks failed")
    };
    assert_eq!(jwks["statusCode"], 200);
    let keys: Value = serde_json::from_str(jwks["body"].as_str().unwrap()).unwrap();
    assert_eq!(keys["keys"].as_array().unwrap().len(), 2);
    // The login's EMF record on stdout, without the username.
    let login_record = |lines: &[Value]| {
        lines
            .iter()
            .find(|l| l["Service"] == "issuer" && l["Logins"] == 1.0)
            .cloned()
    };
    let lines = function
        .stdout_json_when(|lines| login_record(lines).is_some())
        .await;
    let record = login_record(&lines).expect("a Logins record");
    assert_eq!(record["Decision"], "ok");
    assert_eq!(record["Reason"], "password");
    assert_eq!(record["TokensIssued"], 1.0);
    assert!(!record.to_string().contains("alice"));
}

/// Without `KEYSET_SECRET_ID` (or an explicit `KEYSET_FILE`) each instance
/// would invent its own keys in `/tmp`: the binary refuses to start instead,
/// naming the variable; the same for `USERS_TABLE` / `USERS_FILE` and
/// `STATUS_TABLE` / `STATUS_FILE`.
#[test]
fn the_issuer_binary_refuses_to_start_without_its_stores() {
    let binary =
        std::env::var("ISSUER_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_issuer").to_owned());
    let dir = tempfile::tempdir().unwrap();
    let keyset_file = dir.path().join("keyset.json").display().to_string();
    for (set, missing) in [
        (
            vec![("USERS_TABLE", "users"), ("STATUS_TABLE", "status")],
            "KEYSET_SECRET_ID",
        ),
        (
            vec![
                ("KEYSET_FILE", keyset_file.as_str()),
                ("STATUS_TABLE", "status"),
            ],
            "USERS_TABLE",
        ),
        (
            vec![
                ("KEYSET_FILE", keyset_file.as_str()),
                ("USERS_TABLE", "users"),
            ],
            "STATUS_TABLE",
        ),
    ] {
        let output = std::process::Command::new(&binary)
            .env_clear()
            .env("JWT_ISSUER", "https://issuer.test")
            .env("JWT_AUDIENCE", "books-api")
            .envs(set)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "started without {missing}");
        assert!(stderr.contains(missing), "{missing} not named: {stderr}");
    }
    assert!(
        !dir.path().join("keyset.json").exists(),
        "nothing written on a refused start"
    );
}

/// The secret value `infra/secrets.tf` writes first, as Terraform's
/// `jsonencode` renders it (compact JSON).
fn terraform_placeholder() -> String {
    let tf = include_str!("../../infra/secrets.tf");
    let line = tf
        .lines()
        .find(|l| l.trim_start().starts_with("secret_string"))
        .expect("infra/secrets.tf writes a secret_string");
    let note = line
        .split("placeholder = \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("jsonencode({ placeholder = \"...\" })");
    json!({ "placeholder": note }).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_issuer_binary_serves_its_jwks_on_the_secret_terraform_creates() {
    let Some(mut env) = aws_env() else {
        return;
    };
    let config = testkit::aws_config(None).await;
    let client = aws_sdk_secretsmanager::Client::new(&config);
    let secret = format!("tollgate/first-deploy-{}", ulid::Ulid::new());
    client
        .create_secret()
        .name(&secret)
        .secret_string(terraform_placeholder())
        .send()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (dynamodb, status_table) = testkit::dynamodb("issuer-status").await;
    issuer::status::DynamoStatusStore::create_table(&dynamodb, &status_table)
        .await
        .unwrap();
    let users = dir.path().join("users.json");
    issuer::accounts::AccountStore::put(
        &issuer::accounts::FileAccountStore::new(&users),
        &issuer::accounts::Account::new(
            issuer::accounts::AccountKind::User,
            "alice",
            "pw",
            "books:read",
        )
        .unwrap(),
    )
    .await
    .unwrap();
    env.extend([
        ("JWT_ISSUER", "https://issuer.test".to_owned()),
        ("JWT_AUDIENCE", "books-api".to_owned()),
        ("SIGNING_ALG", "ES256".to_owned()),
        ("KEYSET_SECRET_ID", secret.clone()),
        ("USERS_FILE", users.display().to_string()),
        ("STATUS_TABLE", status_table.clone()),
    ]);
    let binary =
        std::env::var("ISSUER_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_issuer").to_owned());
    let function = TestFunction::new(&binary, "tollgate-issuer", &env);

    let Ok(jwks) = function
        .invoke(rest_event("GET", "/.well-known/jwks.json", json!({}), None))
        .await
    else {
        panic!("jwks failed on the placeholder secret")
    };
    assert_eq!(jwks["statusCode"], 200, "{jwks}");
    let keys: Value = serde_json::from_str(jwks["body"].as_str().unwrap()).unwrap();
    let published: Vec<&str> = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(published.len(), 2, "active and next");

    let stored = SecretsManagerKeyStore::new(client, secret)
        .load()
        .await
        .unwrap()
        .expect("the first keyset replaced the placeholder");
    for kid in published {
        assert!(stored.keys.iter().any(|k| k.kid == kid), "{kid} is stored");
    }

    // Token status on the DynamoDB table: a token's entry, its list, and
    // its revocation by the holder (RFC 7009) through the Lambda.
    let body = login_alice(&function).await;
    let token = body["access_token"].as_str().unwrap().to_owned();
    let claims = jsonwebtoken::dangerous::insecure_decode::<Value>(&token)
        .unwrap()
        .claims;
    let uri = claims["status"]["status_list"]["uri"].as_str().unwrap();
    let path = uri.strip_prefix("https://issuer.test").unwrap();
    let before = list_etag(&function, path).await;
    let revoke = rest_event(
        "POST",
        "/revoke",
        json!({"Content-Type": "application/x-www-form-urlencoded"}),
        Some(&format!("token={token}")),
    );
    let Ok(revoked) = function.invoke(revoke).await else {
        panic!("revocation failed")
    };
    assert_eq!(revoked["statusCode"], 200, "{revoked}");
    assert_ne!(list_etag(&function, path).await, before, "the list changed");
}

/// `alice` (password `pw`) logs in through the function: the token answer.
async fn login_alice(function: &TestFunction) -> Value {
    let login = rest_event(
        "POST",
        "/token",
        json!({"Content-Type": "application/json"}),
        Some(r#"{"username":"alice","password":"pw"}"#),
    );
    let Ok(answer) = function.invoke(login).await else {
        panic!("login failed")
    };
    assert_eq!(answer["statusCode"], 200, "{answer}");
    serde_json::from_str(answer["body"].as_str().unwrap()).unwrap()
}

/// The `ETag` of the status list at `path`, served by the function.
async fn list_etag(function: &TestFunction, path: &str) -> String {
    let event = rest_event("GET", path, json!({}), None);
    let Ok(list) = function.invoke(event).await else {
        panic!("status list failed")
    };
    assert_eq!(list["statusCode"], 200, "{list}");
    // lambda_http answers a REST event with multi-value headers.
    let etag = &list["multiValueHeaders"]["etag"][0];
    etag.as_str().expect("an ETag").to_owned()
}

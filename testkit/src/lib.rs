//! Test and bench support for Tollgate: signing keys of every supported
//! algorithm, token minting, a loopback JWKS server that can misbehave, an
//! `https` IdP at a distance (a test CA, a TLS front and a delay proxy:
//! [`HttpsIdp`]), and Lambda binaries run under test ([`function`]).
//!
//! Everything here is for tests and benches; no production crate depends on it.

#![deny(missing_docs)]

pub mod delay_proxy;
pub mod dpop;
pub mod function;
pub mod jwks_server;
pub mod keys;
mod logs;
pub mod test_ca;
pub mod tls_front;

pub use delay_proxy::{ConnectionLog, DelayProxy};
pub use jwks_server::{JwksServer, ServerMode};
pub use keys::{b64url, jwks, TestKey};
pub use logs::CapturedLogs;
pub use test_ca::TestCa;
pub use tls_front::{HttpsIdp, TlsFront};

/// The `moto_server` endpoint that `make test` exports, for tests of the
/// AWS-backed stores. `None` (the caller skips, saying why) only outside CI:
/// in CI a missing endpoint fails the test.
pub fn aws_test_endpoint() -> Option<String> {
    match std::env::var("AWS_ENDPOINT_URL") {
        Ok(endpoint) => Some(endpoint),
        Err(_) => {
            assert!(
                std::env::var("CI").is_err(),
                "CI must run the AWS suites: use `make test`"
            );
            eprintln!("AWS_ENDPOINT_URL unset: skipping (run `make test`)");
            None
        }
    }
}

#[cfg(feature = "aws")]
/// The AWS SDK configuration of the tests, from the standard environment
/// (`make test` exports moto's `AWS_ENDPOINT_URL` and dummy credentials),
/// in `region` when given: moto keeps CloudWatch data per region, so a test
/// can keep others' data out of its sums.
pub async fn aws_config(region: Option<&'static str>) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region));
    }
    loader.load().await
}

#[cfg(feature = "aws")]
/// A DynamoDB client on the tests' endpoint and a table name no other test
/// uses (`{prefix}-{ulid}`); the caller creates the table with its store's
/// own schema (`DynamoStore::create_table`, `DynamoAccountStore::create_table`).
pub async fn dynamodb(prefix: &str) -> (aws_sdk_dynamodb::Client, String) {
    let client = aws_sdk_dynamodb::Client::new(&aws_config(None).await);
    (client, format!("{prefix}-{}", ulid::Ulid::new()))
}

#[cfg(feature = "aws")]
/// The item whose string hash key `key` is `value` in `table`, read
/// straight from DynamoDB (what a store wrote, not what it answers).
pub async fn dynamodb_item(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    (key, value): (&str, &str),
) -> Option<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    let output = client
        .get_item()
        .table_name(table)
        .key(
            key,
            aws_sdk_dynamodb::types::AttributeValue::S(value.to_owned()),
        )
        .send()
        .await
        .expect("GetItem on the test endpoint");
    output.item
}

/// Seconds since the Unix epoch: the clock the services use.
pub use environment::unix_now as now;

/// Typical RFC 9068 access-token claims: about 300 bytes of JSON, as an
/// issuer like ours (or Cognito, Auth0, Okta) sends.
pub fn access_claims(
    iss: &str,
    aud: &str,
    sub: &str,
    scope: &str,
    ttl_seconds: u64,
) -> serde_json::Value {
    let now = now();
    serde_json::json!({
        "iss": iss,
        "sub": sub,
        "aud": aud,
        "exp": now + ttl_seconds,
        "iat": now,
        "nbf": now,
        "auth_time": now,
        "jti": "01JD7Q2Z6W4N8M5K3H1G0F9E8D",
        "client_id": "books-web-7f3a9c2e",
        "sid": "5c1f0e2a-8d4b-4a67-9b1e-3f2d6c8a0b9e",
        "scope": scope,
    })
}

/// The `kid` of the active key in an issuer's `GET /admin/keys` answer.
pub fn active_kid(keys: &serde_json::Value) -> String {
    keys["keys"]
        .as_array()
        .and_then(|keys| keys.iter().find(|k| k["state"] == "active"))
        .and_then(|key| key["kid"].as_str())
        .unwrap_or_else(|| panic!("no active key in {keys}"))
        .to_owned()
}

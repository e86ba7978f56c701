//! Test support shared by the Secrets Manager tests. Each test binary uses
//! some of it, so the rest is dead code there.
#![allow(dead_code)]

use aws_sdk_secretsmanager::types::RotationRulesType;
use aws_sdk_secretsmanager::Client;

/// Turns rotation on, as a schedule does (moto: RotateSecret with rules and
/// no Lambda, which also makes a copy of the value current).
pub async fn enable_rotation(client: &Client, name: &str) {
    client
        .rotate_secret()
        .secret_id(name)
        .rotation_rules(
            RotationRulesType::builder()
                .automatically_after_days(30)
                .build(),
        )
        .rotate_immediately(false)
        .send()
        .await
        .unwrap();
}

/// A Secrets Manager client from the environment (the moto endpoint in tests).
pub async fn secrets_client() -> Client {
    let config = testkit::aws_config(None).await;
    Client::new(&config)
}

/// Creates a fresh `tollgate/placeholder-…` secret holding `value` and
/// returns its name.
pub async fn create_placeholder_secret(client: &Client, value: &str) -> String {
    let name = format!("tollgate/placeholder-{}", ulid::Ulid::new());
    client
        .create_secret()
        .name(&name)
        .secret_string(value)
        .send()
        .await
        .unwrap();
    name
}

//! Test support shared by the Secrets Manager rotation tests.

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

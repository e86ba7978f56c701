//! How Tollgate's services reach AWS: every store (books and accounts in
//! DynamoDB, the keyset in Secrets Manager) builds its client from
//! [`sdk_config`], so they cannot drift apart in retry behaviour, and the
//! DynamoDB stores create their tables (tests, local set-up on moto) through
//! [`create_table`], the one shape the Terraform module also declares.
//!
//! A crate of its own so that the authorizer, which talks to no AWS service,
//! never links an AWS SDK.

#![deny(missing_docs)]

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::create_table::CreateTableError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use aws_sdk_dynamodb::Client;

/// Attempts per call, the first included: a throttled call backs off and
/// retries twice (standard mode) before its error reaches the store.
pub const MAX_ATTEMPTS: u32 = 3;

/// The SDK configuration from the standard environment (region,
/// credentials, `AWS_ENDPOINT_URL`), with the services' one retry policy.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .load()
        .await
}

/// Why a table could not be created: the SDK's own error, or a schema the
/// SDK's builders refused (a bug, never input).
pub type CreateTableFailure = SdkError<CreateTableError>;

/// Creates `table` with a string hash key `hash_key` and on-demand capacity:
/// the schema of the books (`id`) and users (`key`) tables.
pub async fn create_table(
    client: &Client,
    table: &str,
    hash_key: &str,
) -> Result<(), CreateTableFailure> {
    create_keyed_table(client, table, &[(hash_key, KeyType::Hash)]).await
}

/// Creates `table` with a string hash key and a string sort key, on-demand:
/// the token status table's schema (`pk`, `sk`).
pub async fn create_table_with_sort_key(
    client: &Client,
    table: &str,
    hash_key: &str,
    sort_key: &str,
) -> Result<(), CreateTableFailure> {
    create_keyed_table(
        client,
        table,
        &[(hash_key, KeyType::Hash), (sort_key, KeyType::Range)],
    )
    .await
}

/// Creates `table` keyed by these string attributes, on-demand.
async fn create_keyed_table(
    client: &Client,
    table: &str,
    keys: &[(&str, KeyType)],
) -> Result<(), CreateTableFailure> {
    let mut request = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest);
    for (name, key_type) in keys {
        // The builders fail only when a required field is missing; both are set.
        let key = KeySchemaElement::builder()
            .attribute_name(*name)
            .key_type(key_type.clone())
            .build()
            .map_err(SdkError::construction_failure)?;
        let attribute = AttributeDefinition::builder()
            .attribute_name(*name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(SdkError::construction_failure)?;
        request = request.key_schema(key).attribute_definitions(attribute);
    }
    request.send().await.map(|_| ())
}

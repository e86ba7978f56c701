//! Accounts in DynamoDB (`USERS_TABLE`).

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;

use super::{io, Account, AccountKind, AccountStore, AccountStoreError};

/// Accounts in DynamoDB.
#[derive(Clone, Debug)]
pub struct DynamoAccountStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoAccountStore {
    /// Accounts in `table`, through `client`.
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// A client from the environment (region, credentials, `AWS_ENDPOINT_URL`),
    /// with the services' one SDK retry policy.
    pub async fn from_env(table: impl Into<String>) -> Self {
        Self::new(
            aws_sdk_dynamodb::Client::new(&aws_clients::sdk_config().await),
            table,
        )
    }

    /// Creates the users table (hash key `key`, on-demand capacity): the
    /// schema this store expects. For tests and local set-up.
    pub async fn create_table(
        client: &aws_sdk_dynamodb::Client,
        table: &str,
    ) -> Result<(), AccountStoreError> {
        aws_clients::create_table(client, table, "key")
            .await
            .map_err(|e| io(aws_sdk_dynamodb::error::DisplayErrorContext(e)))
    }
}

fn text(
    item: &std::collections::HashMap<String, AttributeValue>,
    name: &str,
) -> Result<String, AccountStoreError> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .cloned()
        .ok_or_else(|| AccountStoreError::Corrupt(format!("account attribute {name} missing")))
}

#[async_trait]
impl AccountStore for DynamoAccountStore {
    async fn get(
        &self,
        kind: AccountKind,
        name: &str,
    ) -> Result<Option<Account>, AccountStoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("key", AttributeValue::S(Account::key(kind, name)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| io(aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
        let Some(item) = output.item() else {
            return Ok(None);
        };
        let scopes = match item.get("scopes") {
            Some(AttributeValue::L(list)) => {
                list.iter().filter_map(|v| v.as_s().ok().cloned()).collect()
            }
            _ => Vec::new(),
        };
        Ok(Some(Account {
            kind,
            name: text(item, "name")?,
            secret_hash: text(item, "secret_hash")?,
            scopes,
            disabled: matches!(item.get("disabled"), Some(AttributeValue::Bool(true))),
            dpop_only: matches!(item.get("dpop_only"), Some(AttributeValue::Bool(true))),
        }))
    }

    async fn put(&self, account: &Account) -> Result<(), AccountStoreError> {
        self.put_item(account)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| io(aws_sdk_dynamodb::error::DisplayErrorContext(e)))
    }

    async fn insert_new(&self, account: &Account) -> Result<bool, AccountStoreError> {
        let result = self
            .put_item(account)
            .condition_expression("attribute_not_exists(#k)")
            .expression_attribute_names("#k", "key")
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(io(aws_sdk_dynamodb::error::DisplayErrorContext(e))),
        }
    }
}

impl DynamoAccountStore {
    /// The `PutItem` request that stores `account` (no condition yet).
    fn put_item(
        &self,
        account: &Account,
    ) -> aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder {
        let kind = match account.kind {
            AccountKind::User => "user",
            AccountKind::Client => "client",
        };
        self.client
            .put_item()
            .table_name(&self.table)
            .item(
                "key",
                AttributeValue::S(Account::key(account.kind, &account.name)),
            )
            .item("kind", AttributeValue::S(kind.to_owned()))
            .item("name", AttributeValue::S(account.name.clone()))
            .item(
                "secret_hash",
                AttributeValue::S(account.secret_hash.clone()),
            )
            .item(
                "scopes",
                AttributeValue::L(
                    account
                        .scopes
                        .iter()
                        .cloned()
                        .map(AttributeValue::S)
                        .collect(),
                ),
            )
            .item("disabled", AttributeValue::Bool(account.disabled))
            .item("dpop_only", AttributeValue::Bool(account.dpop_only))
    }
}

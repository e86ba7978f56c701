//! Where accounts live: a local file (`USERS_FILE`) or DynamoDB
//! (`USERS_TABLE`, hash key `key` of type S: `user#NAME` / `client#NAME`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;

use crate::accounts::{Account, AccountKind};
use crate::atomic_file::{self, LockedFile};

#[derive(Debug, thiserror::Error)]
pub enum AccountStoreError {
    #[error("account store unreadable: {0}")]
    Corrupt(String),
    #[error("account store failed: {0}")]
    Io(String),
}

#[async_trait]
pub trait AccountStore: Send + Sync {
    async fn get(
        &self,
        kind: AccountKind,
        name: &str,
    ) -> Result<Option<Account>, AccountStoreError>;
    /// Creates or replaces the account.
    async fn put(&self, account: &Account) -> Result<(), AccountStoreError>;
    /// Creates the account only if none of its kind and name exists
    /// (atomically); `false` when one does, which is left as it is.
    async fn insert_new(&self, account: &Account) -> Result<bool, AccountStoreError>;
}

/// Accounts in one JSON file, keyed like the DynamoDB table.
#[derive(Clone, Debug)]
pub struct FileAccountStore {
    path: PathBuf,
}

type AccountMap = BTreeMap<String, Account>;

fn io(error: impl std::fmt::Display) -> AccountStoreError {
    AccountStoreError::Io(error.to_string())
}

fn parse(bytes: Option<Vec<u8>>) -> Result<AccountMap, AccountStoreError> {
    match bytes {
        None => Ok(AccountMap::new()),
        Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            AccountStoreError::Corrupt(format!(
                "users file at line {} column {}",
                e.line(),
                e.column()
            ))
        }),
    }
}

impl FileAccountStore {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }
}

#[async_trait]
impl AccountStore for FileAccountStore {
    async fn get(
        &self,
        kind: AccountKind,
        name: &str,
    ) -> Result<Option<Account>, AccountStoreError> {
        let (path, key) = (self.path.clone(), Account::key(kind, name));
        tokio::task::spawn_blocking(move || {
            Ok(parse(atomic_file::read(&path).map_err(io)?)?.remove(&key))
        })
        .await
        .map_err(io)?
    }

    async fn put(&self, account: &Account) -> Result<(), AccountStoreError> {
        let (path, account) = (self.path.clone(), account.clone());
        tokio::task::spawn_blocking(move || {
            let file = LockedFile::lock(&path).map_err(io)?;
            let mut accounts = parse(file.read().map_err(io)?)?;
            accounts.insert(Account::key(account.kind, &account.name), account);
            let json = serde_json::to_vec_pretty(&accounts).map_err(io)?;
            file.replace(&json).map_err(io)
        })
        .await
        .map_err(io)?
    }

    async fn insert_new(&self, account: &Account) -> Result<bool, AccountStoreError> {
        let (path, account) = (self.path.clone(), account.clone());
        tokio::task::spawn_blocking(move || {
            let file = LockedFile::lock(&path).map_err(io)?;
            let mut accounts = parse(file.read().map_err(io)?)?;
            let key = Account::key(account.kind, &account.name);
            if accounts.contains_key(&key) {
                return Ok(false);
            }
            accounts.insert(key, account);
            let json = serde_json::to_vec_pretty(&accounts).map_err(io)?;
            file.replace(&json).map_err(io).map(|()| true)
        })
        .await
        .map_err(io)?
    }
}

/// Accounts in DynamoDB.
#[derive(Clone, Debug)]
pub struct DynamoAccountStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoAccountStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub async fn from_env(table: impl Into<String>) -> Self {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .load()
            .await;
        Self::new(aws_sdk_dynamodb::Client::new(&config), table)
    }

    /// Creates the users table (hash key `key`, on-demand capacity): the
    /// schema this store expects. For tests and local set-up.
    pub async fn create_table(
        client: &aws_sdk_dynamodb::Client,
        table: &str,
    ) -> Result<(), AccountStoreError> {
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
        };
        let key = KeySchemaElement::builder()
            .attribute_name("key")
            .key_type(KeyType::Hash)
            .build()
            .map_err(io)?;
        let attribute = AttributeDefinition::builder()
            .attribute_name("key")
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(io)?;
        client
            .create_table()
            .table_name(table)
            .key_schema(key)
            .attribute_definitions(attribute)
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .map(|_| ())
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
    }
}

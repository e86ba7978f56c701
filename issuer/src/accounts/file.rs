//! Accounts in one JSON file (`USERS_FILE`), shared with the CLI through
//! [`crate::atomic_file`].

use std::collections::BTreeMap;
use std::path::PathBuf;

use async_trait::async_trait;

use super::{io, Account, AccountKind, AccountStore, AccountStoreError};
use crate::atomic_file::{self, LockedFile};

/// Accounts in one JSON file, keyed like the DynamoDB table.
#[derive(Clone, Debug)]
pub struct FileAccountStore {
    path: PathBuf,
}

type AccountMap = BTreeMap<String, Account>;

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
    /// Accounts in the JSON file at `path` (created on the first write).
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

//! The one place the issuer's stores are chosen from the environment, so the
//! `issuer` and `issuer-rotation` bins (and the root package's local stack)
//! cannot drift apart in which variable wins or how a client is built.

use std::sync::Arc;

use crate::accounts::{AccountStore, DynamoAccountStore, FileAccountStore};
use crate::config::{ConfigError, StoreLocation};
use crate::keys::secrets_manager::SecretsManagerKeyStore;
use crate::keys::FileKeyStore;
use crate::keys::KeyStore;
use crate::status::{DynamoStatusStore, FileStatusStore, StatusStore};

/// The keyset store and the account store of one issuer instance.
pub struct Stores {
    /// Where the signing keys live.
    pub keys: Arc<dyn KeyStore>,
    /// Where the login accounts live.
    pub accounts: Arc<dyn AccountStore>,
    /// Where token status (status list entries, revocations) lives.
    pub status: Arc<dyn StatusStore>,
}

impl Stores {
    /// Keys from `KEYSET_SECRET_ID` or `KEYSET_FILE`, accounts from
    /// `USERS_TABLE` or `USERS_FILE`, token status from `STATUS_TABLE` or
    /// `STATUS_FILE`; one of each is required.
    pub async fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok()).await
    }

    /// As [`Stores::from_env`], reading variables through `lookup`. Both
    /// locations are checked before any client is built, so a misconfigured
    /// instance refuses to start.
    pub async fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let keys_at = StoreLocation::from_lookup(&lookup, "KEYSET_SECRET_ID", "KEYSET_FILE")?;
        let accounts_at = StoreLocation::from_lookup(&lookup, "USERS_TABLE", "USERS_FILE")?;
        let status_at = StoreLocation::from_lookup(&lookup, "STATUS_TABLE", "STATUS_FILE")?;
        Ok(Self {
            keys: key_store(keys_at).await,
            accounts: account_store(accounts_at).await,
            status: status_store(status_at).await,
        })
    }
}

/// The keyset store at `location`.
pub async fn key_store(location: StoreLocation) -> Arc<dyn KeyStore> {
    match location {
        StoreLocation::Aws(secret_id) => Arc::new(secrets_manager_key_store(secret_id).await),
        StoreLocation::File(path) => Arc::new(FileKeyStore::new(path)),
    }
}

/// The account store at `location`.
pub async fn account_store(location: StoreLocation) -> Arc<dyn AccountStore> {
    match location {
        StoreLocation::Aws(table) => Arc::new(DynamoAccountStore::from_env(table).await),
        StoreLocation::File(path) => Arc::new(FileAccountStore::new(path)),
    }
}

/// The token status store at `location`.
pub async fn status_store(location: StoreLocation) -> Arc<dyn StatusStore> {
    match location {
        StoreLocation::Aws(table) => Arc::new(DynamoStatusStore::from_env(table).await),
        StoreLocation::File(path) => Arc::new(FileStatusStore::new(path)),
    }
}

/// The Secrets Manager keyset store for `secret_id`, with the SDK settings
/// from the environment. The rotation Lambda gets its secret id from each
/// event rather than from a variable, so it calls this directly.
pub async fn secrets_manager_key_store(secret_id: impl Into<String>) -> SecretsManagerKeyStore {
    SecretsManagerKeyStore::from_env(secret_id).await
}

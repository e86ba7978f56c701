//! The one place the issuer's stores are chosen from the environment, so the
//! `issuer` and `issuer-rotation` bins, the local stack and the CLI cannot
//! drift apart in which variable wins or how a client is built. The Lambda
//! bins need a variable for each store; the local stack and the CLI fall
//! back to files in their data directory.

use std::path::Path;
use std::sync::Arc;

use crate::accounts::{AccountStore, DynamoAccountStore, FileAccountStore};
use crate::config::{ConfigError, StoreLocation};
use crate::keys::FileKeyStore;
use crate::keys::KeyStore;
use crate::keys::SecretsManagerKeyStore;
use crate::status::{DynamoStatusStore, FileStatusStore, StatusStore};

/// The keyset file in a data directory.
pub const KEYSET_FILE_NAME: &str = "keyset.json";
/// The accounts file in a data directory.
pub const USERS_FILE_NAME: &str = "users.json";
/// The token status file in a data directory.
pub const STATUS_FILE_NAME: &str = "status.json";

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
        Self::locate(lookup, None).await
    }

    /// The stores the environment names, and for each it does not name, its
    /// file in `dir` ([`KEYSET_FILE_NAME`], [`USERS_FILE_NAME`],
    /// [`STATUS_FILE_NAME`]): the local stack and the CLI.
    pub async fn from_env_or_dir(dir: &Path) -> Result<Self, ConfigError> {
        Self::from_lookup_or_dir(environment::process_lookup, dir).await
    }

    /// As [`Stores::from_env_or_dir`], reading variables through `lookup`.
    pub async fn from_lookup_or_dir(
        lookup: impl Fn(&str) -> Option<String>,
        dir: &Path,
    ) -> Result<Self, ConfigError> {
        Self::locate(lookup, Some(dir)).await
    }

    async fn locate(
        lookup: impl Fn(&str) -> Option<String>,
        dir: Option<&Path>,
    ) -> Result<Self, ConfigError> {
        let file = |name: &str| dir.map(|dir| dir.join(name));
        let (keys_file, users_file, status_file) = (
            file(KEYSET_FILE_NAME),
            file(USERS_FILE_NAME),
            file(STATUS_FILE_NAME),
        );
        let keys_at = StoreLocation::from_lookup_or(
            &lookup,
            "KEYSET_SECRET_ID",
            "KEYSET_FILE",
            keys_file.as_deref(),
        )?;
        let accounts_at = StoreLocation::from_lookup_or(
            &lookup,
            "USERS_TABLE",
            "USERS_FILE",
            users_file.as_deref(),
        )?;
        let status_at = StoreLocation::from_lookup_or(
            &lookup,
            "STATUS_TABLE",
            "STATUS_FILE",
            status_file.as_deref(),
        )?;
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

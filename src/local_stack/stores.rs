//! The stack's stores: the issuer's (chosen where the issuer chooses them:
//! AWS when the environment names it, else the data directory's files) and
//! the books database.

use std::sync::Arc;

use backend::{BookStore, BookStoreLocation};
use issuer::accounts::AccountStore;
use issuer::atomic_file;
use issuer::keys::KeyStore;
use issuer::status::StatusStore;

use dpop::{DynamoReplayStore, ReplayStore};

use super::data_dir::DataDir;
use super::replay_dir::DirectoryReplayStore;

/// The key, account and token status stores alone: what the administration
/// commands need. They never open the books store, whose embedded file a
/// running `serve` holds locked.
pub async fn identity_stores(data: &DataDir) -> anyhow::Result<issuer::Stores> {
    data.create()?;
    Ok(issuer::Stores::from_env_or_dir(&data.0).await?)
}

/// The stores behind the stack: the data directory's files by default;
/// Secrets Manager and DynamoDB when `KEYSET_SECRET_ID`, `USERS_TABLE`,
/// `STATUS_TABLE`, `BOOKS_TABLE` and `DPOP_REPLAY_TABLE` are set (with
/// credentials, or `AWS_ENDPOINT_URL` for moto).
pub struct Stores {
    /// The issuer's signing keys.
    pub keys: Arc<dyn KeyStore>,
    /// Users and clients.
    pub accounts: Arc<dyn AccountStore>,
    /// Token status: status list entries and revocations.
    pub status: Arc<dyn StatusStore>,
    /// The books backend's data.
    pub books: Arc<dyn BookStore>,
    /// Used DPoP proofs, shared by the issuer's token endpoint and the
    /// authorizer: `DPOP_REPLAY_TABLE`, else the data directory.
    pub replay: Arc<dyn ReplayStore>,
}

impl Stores {
    /// The identity stores, plus DynamoDB for books when `BOOKS_TABLE` is
    /// set, else the data directory's embedded database.
    pub async fn select(data: &DataDir) -> anyhow::Result<Self> {
        let issuer::Stores {
            keys,
            accounts,
            status,
        } = identity_stores(data).await?;
        let location = BookStoreLocation::from_env(data.books());
        if let BookStoreLocation::Embedded(path) = &location {
            // Created private and never through a link before redb opens it.
            atomic_file::ensure_private(path)?;
        }
        let books = location.open().await?;
        let replay: Arc<dyn ReplayStore> =
            match environment::Settings::from_env().text("DPOP_REPLAY_TABLE") {
                Some(table) => Arc::new(DynamoReplayStore::from_env(table)),
                None => Arc::new(DirectoryReplayStore::new(data.dpop_proofs())),
            };
        Ok(Self {
            keys,
            accounts,
            status,
            books,
            replay,
        })
    }

    /// The issuer's part.
    pub fn identity(&self) -> issuer::Stores {
        issuer::Stores {
            keys: Arc::clone(&self.keys),
            accounts: Arc::clone(&self.accounts),
            status: Arc::clone(&self.status),
        }
    }
}

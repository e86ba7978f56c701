//! The [`KeySet`], its signing keys ([`PrivateKey`], [`SigningAlg`]) and
//! where it lives: [`FileKeyStore`], [`SecretsManagerKeyStore`] (with the
//! secret's staging labels), either wrapped by the service in
//! `MeteredKeyStore`. Every store implementation has the same semantics:
//! `save` succeeds only if the stored keyset is still at the version the
//! caller read, so of two racing rotations exactly one wins and the other
//! gets [`KeyStoreError::Conflict`] (a 409 at the endpoint).

mod file;
mod keyset;
mod metered;
mod secrets_manager;
mod signing_key;

pub use file::FileKeyStore;
pub use keyset::{KeyMetadata, KeyRecord, KeySet, KeySetError, KeyState};
pub(crate) use metered::MeteredKeyStore;
pub use secrets_manager::{
    is_placeholder, SecretsManagerKeyStore, Stages, CURRENT, PENDING, PLACEHOLDER_MEMBER, PREVIOUS,
    SAVING,
};
pub use signing_key::{KeyError, PrivateKey, SigningAlg};

use async_trait::async_trait;

/// Why a key store could not load or save.
#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    /// Someone else changed the keyset since it was read.
    #[error("the keyset changed concurrently; read it again")]
    Conflict,
    /// The stored keyset cannot be read (details logged, never private material).
    #[error("the stored keyset is unreadable: {0}")]
    Corrupt(String),
    /// The file or Secrets Manager call failed.
    #[error("key store I/O failed: {0}")]
    Io(String),
}

/// A keyset store with optimistic concurrency on `KeySet::version`.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// The stored keyset, or `None` before the first save.
    async fn load(&self) -> Result<Option<KeySet>, KeyStoreError>;

    /// Stores `keyset` if the stored one is still at `expected_version`
    /// (`None`: nothing stored yet).
    async fn save(
        &self,
        keyset: &KeySet,
        expected_version: Option<u64>,
    ) -> Result<(), KeyStoreError>;
}

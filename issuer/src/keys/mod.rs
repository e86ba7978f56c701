//! The keyset ([`keyset`]), its signing keys ([`signing_key`]) and where it
//! lives. Every store implementation has the same semantics:
//! `save` succeeds only if the stored keyset is still at the version the
//! caller read, so of two racing rotations exactly one wins and the other
//! gets [`KeyStoreError::Conflict`] (a 409 at the endpoint).

pub mod file;
pub mod keyset;
pub mod metered;
pub mod secrets_manager;
pub mod signing_key;

use async_trait::async_trait;

use crate::keys::keyset::KeySet;

#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    /// Someone else changed the keyset since it was read.
    #[error("the keyset changed concurrently; read it again")]
    Conflict,
    /// The stored keyset cannot be read (details logged, never private material).
    #[error("the stored keyset is unreadable: {0}")]
    Corrupt(String),
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

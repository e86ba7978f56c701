//! The local key store: one JSON file (`KEYSET_FILE`), changed only under
//! its lock and replaced atomically ([`crate::atomic_file`]), so a CLI
//! rotation and a server rotation cannot interleave.

use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::{KeyStore, KeyStoreError};
use crate::atomic_file::{self, LockedFile};
use crate::keys::KeySet;

/// A keyset in a file (`KEYSET_FILE`).
#[derive(Clone, Debug)]
pub struct FileKeyStore {
    path: PathBuf,
}

fn io(error: std::io::Error) -> KeyStoreError {
    KeyStoreError::Io(error.to_string())
}

impl FileKeyStore {
    /// The keyset in the JSON file at `path` (created on the first save).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    fn parse(bytes: Option<Vec<u8>>) -> Result<Option<KeySet>, KeyStoreError> {
        bytes
            .map(|bytes| {
                // serde's message names the position, never the content.
                serde_json::from_slice(&bytes).map_err(|e| {
                    KeyStoreError::Corrupt(format!(
                        "keyset file at line {} column {}",
                        e.line(),
                        e.column()
                    ))
                })
            })
            .transpose()
    }

    fn read(path: &Path) -> Result<Option<KeySet>, KeyStoreError> {
        Self::parse(atomic_file::read(path).map_err(io)?)
    }

    /// Compare-and-write under the lock file (blocking I/O).
    fn save_blocking(
        &self,
        keyset: &KeySet,
        expected_version: Option<u64>,
    ) -> Result<(), KeyStoreError> {
        let file = LockedFile::lock(&self.path).map_err(io)?;
        let stored_version = Self::parse(file.read().map_err(io)?)?.map(|k| k.version);
        if stored_version != expected_version {
            return Err(KeyStoreError::Conflict);
        }
        let json =
            serde_json::to_vec_pretty(keyset).map_err(|e| KeyStoreError::Io(e.to_string()))?;
        file.replace(&json).map_err(io)
    }
}

#[async_trait]
impl KeyStore for FileKeyStore {
    async fn load(&self) -> Result<Option<KeySet>, KeyStoreError> {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || Self::read(&path))
            .await
            .map_err(|e| KeyStoreError::Io(e.to_string()))?
    }

    async fn save(
        &self,
        keyset: &KeySet,
        expected_version: Option<u64>,
    ) -> Result<(), KeyStoreError> {
        let (store, keyset) = (self.clone(), keyset.clone());
        tokio::task::spawn_blocking(move || store.save_blocking(&keyset, expected_version))
            .await
            .map_err(|e| KeyStoreError::Io(e.to_string()))?
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::PermissionsExt;
    use std::sync::{Arc, Barrier};

    use super::*;
    use crate::keys::SigningAlg;

    #[tokio::test]
    async fn saves_are_atomic_private_and_versioned() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileKeyStore::new(dir.path().join("keys/keyset.json"));
        assert_eq!(store.load().await.unwrap(), None);
        let first = KeySet::generate(SigningAlg::ES256, 1000).unwrap();
        store.save(&first, None).await.unwrap();
        assert_eq!(store.load().await.unwrap(), Some(first.clone()));
        let mode = fs::metadata(dir.path().join("keys/keyset.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);

        assert!(
            matches!(store.save(&first, None).await, Err(KeyStoreError::Conflict)),
            "already created"
        );
        let mut second = first.clone();
        second.rotate(SigningAlg::ES256, 2000, 1200).unwrap();
        store.save(&second, Some(1)).await.unwrap();
        assert!(
            matches!(
                store.save(&second, Some(1)).await,
                Err(KeyStoreError::Conflict)
            ),
            "stale version"
        );
        assert_eq!(store.load().await.unwrap().unwrap().version, 2);
    }

    #[tokio::test]
    async fn racing_rotations_have_exactly_one_winner_and_lose_no_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(FileKeyStore::new(dir.path().join("keyset.json")));
        let base = KeySet::generate(SigningAlg::ES256, 1000).unwrap();
        store.save(&base, None).await.unwrap();
        let barrier = Arc::new(Barrier::new(8));
        let handles: Vec<_> = (0..8u64)
            .map(|i| {
                let (store, barrier, mut keyset) =
                    (Arc::clone(&store), Arc::clone(&barrier), base.clone());
                std::thread::spawn(move || {
                    keyset.rotate(SigningAlg::ES256, 2000 + i, 1200).unwrap();
                    barrier.wait();
                    store.save_blocking(&keyset, Some(1)).map(|()| keyset)
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(winners.len(), 1);
        assert!(results
            .iter()
            .filter(|r| r.is_err())
            .all(|r| matches!(r, Err(KeyStoreError::Conflict))));
        assert_eq!(
            store.load().await.unwrap().as_ref(),
            Some(winners[0]),
            "the winner's keyset, whole"
        );
    }

    #[tokio::test]
    async fn a_corrupt_file_is_an_error_that_shows_no_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keyset.json");
        fs::write(&path, b"{\"keys\": [{\"private_key_pkcs8\": \"c2VjcmV0").unwrap();
        let error = FileKeyStore::new(&path).load().await.unwrap_err();
        assert!(matches!(error, KeyStoreError::Corrupt(_)));
        assert!(!error.to_string().contains("c2VjcmV0"));
    }
}

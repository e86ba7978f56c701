//! The local key store: one JSON file, mode 0600, replaced atomically (write
//! a temporary file, fsync, rename, fsync the directory) under an exclusive
//! lock on a side file, so a CLI rotation and a server rotation cannot
//! interleave. Readers need no lock: a rename is atomic.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::{KeyStore, KeyStoreError};
use crate::keyset::KeySet;

/// A keyset in a file (`KEYSET_FILE`).
#[derive(Clone, Debug)]
pub struct FileKeyStore {
    path: PathBuf,
}

fn io(error: std::io::Error) -> KeyStoreError {
    KeyStoreError::Io(error.to_string())
}

impl FileKeyStore {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    fn lock_path(&self) -> PathBuf {
        self.path.with_extension("lock")
    }

    fn read(path: &Path) -> Result<Option<KeySet>, KeyStoreError> {
        match fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                // serde's message names the position, never the content.
                .map(Some)
                .map_err(|e| {
                    KeyStoreError::Corrupt(format!(
                        "{} at line {} column {}",
                        path.display(),
                        e.line(),
                        e.column()
                    ))
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(e)),
        }
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

impl FileKeyStore {
    /// Compare-and-write under the lock file (blocking I/O).
    fn save_blocking(
        &self,
        keyset: &KeySet,
        expected_version: Option<u64>,
    ) -> Result<(), KeyStoreError> {
        let dir = self
            .path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(io)?;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(self.lock_path())
            .map_err(io)?;
        // Held until `lock` drops at the end of this function.
        lock.lock().map_err(io)?;

        let stored_version = Self::read(&self.path)?.map(|k| k.version);
        if stored_version != expected_version {
            return Err(KeyStoreError::Conflict);
        }
        let json =
            serde_json::to_vec_pretty(keyset).map_err(|e| KeyStoreError::Io(e.to_string()))?;
        let temp = self
            .path
            .with_extension(format!("tmp.{}", std::process::id()));
        {
            let mut file = OpenOptions::new()
                .create(true)
                .truncate(true)
                .write(true)
                .mode(0o600)
                .open(&temp)
                .map_err(io)?;
            file.write_all(&json).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
        fs::rename(&temp, &self.path).map_err(io)?;
        // The rename itself must survive a crash too.
        File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::sync::{Arc, Barrier};

    use super::*;
    use crate::signing_key::SigningAlg;

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

//! The local stack's DPoP replay store: one file per used proof in the data
//! directory, created with `O_EXCL` so that of two processes recording the
//! same proof exactly one succeeds, with no lock and no rewrite of a shared
//! file. A file holds its proof's expiry; an expired one may be taken over
//! by the same key (it can no longer pass the age check anyway), and
//! expired files are swept every so often.

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use dpop::{ReplayStore, ReplayStoreError};

/// Every this many recorded proofs, expired files are swept.
const SWEEP_EVERY: u64 = 1024;

/// Used proofs under one directory (mode 0700, files 0600, never through
/// a symbolic link).
#[derive(Debug)]
pub struct DirectoryReplayStore {
    dir: Arc<PathBuf>,
    recorded: AtomicU64,
}

impl DirectoryReplayStore {
    /// The store in `dir`, created on first use.
    pub fn new(dir: PathBuf) -> Self {
        Self {
            dir: Arc::new(dir),
            recorded: AtomicU64::new(0),
        }
    }
}

#[async_trait]
impl ReplayStore for DirectoryReplayStore {
    async fn first_use(&self, key: &str, expires_at: u64) -> Result<bool, ReplayStoreError> {
        // The key is `dpop#` and base64url: safe as a file name once the
        // prefix goes; anything else is refused rather than escaped.
        let name = key.trim_start_matches("dpop#").to_owned();
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(ReplayStoreError(format!("unexpected replay key {key:?}")));
        }
        let dir = Arc::clone(&self.dir);
        let sweep = self.recorded.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1;
        tokio::task::spawn_blocking(move || {
            let first = record(&dir, &name, expires_at)?;
            if sweep {
                sweep_expired(&dir);
            }
            Ok(first)
        })
        .await
        .map_err(|e| ReplayStoreError(format!("replay directory task: {e}")))?
        .map_err(|e: std::io::Error| ReplayStoreError(format!("replay directory: {e}")))
    }
}

/// Creates `dir/name` holding `expires_at`: `false` when it exists with an
/// expiry still ahead.
fn record(dir: &Path, name: &str, expires_at: u64) -> std::io::Result<bool> {
    issuer::atomic_file::create_private_dir(dir)?;
    let path = dir.join(name);
    // Twice at most: once more after taking over an expired record.
    for _ in 0..2 {
        match create_new(&path) {
            Ok(mut file) => {
                file.write_all(expires_at.to_string().as_bytes())?;
                return Ok(true);
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                if expiry(&path)?.is_some_and(|until| until >= environment::unix_now()) {
                    return Ok(false);
                }
                match fs::remove_file(&path) {
                    Err(e) if e.kind() != ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

fn create_new(path: &Path) -> std::io::Result<fs::File> {
    OpenOptions::new()
        .create_new(true)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// A record's expiry; `None` for one still being written (or unreadable),
/// which counts as used: a replay is refused rather than risked.
fn expiry(path: &Path) -> std::io::Result<Option<u64>> {
    let mut text = String::new();
    match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
    {
        Ok(mut file) => {
            file.read_to_string(&mut text)?;
        }
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Some(0)),
        Err(e) => return Err(e),
    }
    Ok(Some(text.trim().parse().unwrap_or(u64::MAX)))
}

fn sweep_expired(dir: &Path) {
    let now = environment::unix_now();
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if expiry(&path)
            .ok()
            .flatten()
            .is_some_and(|until| until < now)
        {
            let _ = fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_proof_is_recorded_once_across_stores_sharing_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let until = environment::unix_now() + 60;
        let (a, b) = (
            Arc::new(DirectoryReplayStore::new(dir.path().join("dpop"))),
            Arc::new(DirectoryReplayStore::new(dir.path().join("dpop"))),
        );
        let mut tasks = Vec::new();
        for i in 0..16 {
            let store = if i % 2 == 0 {
                Arc::clone(&a)
            } else {
                Arc::clone(&b)
            };
            tasks.push(tokio::spawn(async move {
                store.first_use("dpop#abc", until).await
            }));
        }
        let mut wins = 0;
        for task in tasks {
            if task.await.unwrap() == Ok(true) {
                wins += 1;
            }
        }
        assert_eq!(wins, 1);
        assert_eq!(a.first_use("dpop#other", until).await, Ok(true));
        // An expired record gives way to the same key.
        let past = environment::unix_now() - 1;
        assert_eq!(a.first_use("dpop#late", past).await, Ok(true));
        assert_eq!(b.first_use("dpop#late", until).await, Ok(true));
        assert_eq!(b.first_use("dpop#late", until).await, Ok(false));
        assert!(a.first_use("dpop#../escape", until).await.is_err());
    }
}

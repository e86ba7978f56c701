//! A JSON file shared by processes (the CLI and a running server): changes
//! happen under an exclusive lock on a side file and replace the file
//! atomically (temporary file, fsync, rename, fsync of the directory), mode
//! 0600. Readers need no lock: a rename is atomic.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Reads the file, `None` if it does not exist.
pub fn read(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The exclusive right to change one file, held until dropped.
pub struct LockedFile {
    path: PathBuf,
    _lock: File,
}

impl LockedFile {
    /// Waits for the lock on `path` (creating its directory if needed).
    pub fn lock(path: &Path) -> std::io::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)?;
        }
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(path.with_extension("lock"))?;
        lock.lock()?;
        Ok(Self {
            path: path.to_owned(),
            _lock: lock,
        })
    }

    pub fn read(&self) -> std::io::Result<Option<Vec<u8>>> {
        read(&self.path)
    }

    /// Replaces the file's content atomically, mode 0600.
    pub fn replace(&self, bytes: &[u8]) -> std::io::Result<()> {
        let temp = self
            .path
            .with_extension(format!("tmp.{}", std::process::id()));
        {
            let mut file = OpenOptions::new()
                .create(true)
                .truncate(true)
                .write(true)
                .mode(0o600)
                .open(&temp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
        }
        fs::rename(&temp, &self.path)?;
        // The rename itself must survive a crash too.
        let dir = self
            .path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        File::open(dir)?.sync_all()
    }
}

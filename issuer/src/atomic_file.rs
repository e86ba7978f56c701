//! A JSON file shared by processes (the CLI and a running server): changes
//! happen under an exclusive lock on a side file and replace the file
//! atomically (temporary file, fsync, rename, fsync of the directory), mode
//! 0600. Readers need no lock: a rename is atomic. No file is opened
//! through a symbolic link: a link planted where a file belongs is an error,
//! never a write elsewhere.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Reads the file, `None` if it does not exist.
pub fn read(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    // Refuse a symbolic link here too: reading through one could feed
    // another file's content in as keys or accounts.
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{} is a symbolic link; refusing it", path.display()),
            ))
        }
        _ => {}
    }
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Opens (creating if needed, mode 0600) a private file for writing,
/// refusing a symbolic link in its place. `append` keeps the content.
pub fn open_private(path: &Path, append: bool) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options
        .create(true)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW);
    if append {
        options.append(true);
    } else {
        options.truncate(true);
    }
    options.open(path)
}

/// Creates `path` (mode 0600) if it does not exist, without following a
/// symbolic link, for a file another library opens by name afterwards.
pub fn ensure_private(path: &Path) -> std::io::Result<()> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map(drop)
}

/// Creates a private directory (mode 0700, and its parents). An existing
/// directory keeps its mode.
pub fn create_private_dir(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
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
            create_private_dir(dir)?;
        }
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path.with_extension("lock"))?;
        lock.lock()?;
        Ok(Self {
            path: path.to_owned(),
            _lock: lock,
        })
    }

    /// The file's content; `None` when it does not exist yet.
    pub fn read(&self) -> std::io::Result<Option<Vec<u8>>> {
        read(&self.path)
    }

    /// Replaces the file's content atomically, mode 0600.
    pub fn replace(&self, bytes: &[u8]) -> std::io::Result<()> {
        let temp = self
            .path
            .with_extension(format!("tmp.{}", std::process::id()));
        {
            // A leftover of a crashed writer (we hold the lock) goes first;
            // then create_new: never through a link, never someone else's file.
            match fs::remove_file(&temp) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
            let mut file = OpenOptions::new()
                .create_new(true)
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

//! Where the local stack keeps its state: the stores' files, the books
//! database, the first start's passwords and the issuer URL it fixed.

use std::path::PathBuf;

use issuer::atomic_file;

/// The local stack's data directory (`--data-dir`, `.tollgate/` by default).
#[derive(Clone, Debug)]
pub struct DataDir(pub PathBuf);

impl DataDir {
    /// The embedded keyset file.
    pub fn keyset(&self) -> PathBuf {
        self.0.join(issuer::KEYSET_FILE_NAME)
    }
    /// The embedded accounts file.
    pub fn users(&self) -> PathBuf {
        self.0.join(issuer::USERS_FILE_NAME)
    }
    /// The embedded token status (status list entries and revocations).
    pub fn status(&self) -> PathBuf {
        self.0.join(issuer::STATUS_FILE_NAME)
    }
    /// The embedded books database.
    pub fn books(&self) -> PathBuf {
        self.0.join("books.redb")
    }
    /// The first start's generated passwords (mode 0600).
    pub fn credentials(&self) -> PathBuf {
        self.0.join("credentials")
    }
    /// The used DPoP proofs (one file each), shared by the stack's issuer
    /// and authorizer.
    pub fn dpop_proofs(&self) -> PathBuf {
        self.0.join("dpop-proofs")
    }
    /// The issuer URL (`iss`), fixed at first start.
    pub fn issuer_url(&self) -> PathBuf {
        self.0.join("issuer-url")
    }

    /// Creates the directory (mode 0700) if it does not exist.
    pub fn create(&self) -> std::io::Result<()> {
        atomic_file::create_private_dir(&self.0)
    }

    /// The stored issuer URL, if a first start has fixed one.
    pub fn stored_issuer_url(&self) -> anyhow::Result<Option<String>> {
        Ok(atomic_file::read(&self.issuer_url())?
            .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned())
            .filter(|url| !url.is_empty()))
    }

    /// The issuer URL to serve with: the stored one; `requested` on a first
    /// start (stored now); `None` on a first start without one (the stack
    /// stores its own address once bound). A different `requested` URL
    /// than the stored one is an error: every token issued would break.
    pub fn resolve_issuer_url(&self, requested: Option<&str>) -> anyhow::Result<Option<String>> {
        let requested = requested.map(normalize_issuer_url).transpose()?;
        match (self.stored_issuer_url()?, requested) {
            (Some(stored), Some(requested)) if stored != requested => anyhow::bail!(
                "this data directory issues as {stored}; --issuer-url {requested} would invalidate \
                 every token (use another --data-dir for another issuer)"
            ),
            (Some(stored), _) => Ok(Some(stored)),
            (None, Some(requested)) => {
                self.store_issuer_url(&requested)?;
                Ok(Some(requested))
            }
            (None, None) => Ok(None),
        }
    }

    /// Fixes the issuer URL of this data directory (a private file, written
    /// atomically).
    pub fn store_issuer_url(&self, url: &str) -> std::io::Result<()> {
        use std::io::Write;
        self.create()?;
        let mut file = atomic_file::open_private(&self.issuer_url(), false)?;
        file.write_all(format!("{url}\n").as_bytes())
    }
}

/// An issuer URL: `http://` or `https://` with a host, no trailing `/`,
/// no query or fragment.
fn normalize_issuer_url(url: &str) -> anyhow::Result<String> {
    let url = url.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(rest)
            if !rest.is_empty()
                && !rest.starts_with('/')
                && !rest.contains(['?', '#', ' '])
                && url.parse::<axum::http::Uri>().is_ok() =>
        {
            Ok(url.to_owned())
        }
        _ => anyhow::bail!("--issuer-url must be an http(s) URL with a host, got {url:?}"),
    }
}

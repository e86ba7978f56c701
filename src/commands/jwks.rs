//! `tollgate jwks snapshot`: writes the file `JWKS_SNAPSHOT` names, an
//! issuer's JWKS with the time it was fetched (`{"keys": [...],
//! "fetched_at": <Unix seconds>}`), from its URL or from a JWKS file, to
//! package with the authorizer (`make lambda JWKS_SNAPSHOT_FROM=...`).
//!
//! The URL follows the authorizer's rule (`https`, or `http` on loopback),
//! no redirect is followed, and the body is capped as the authorizer caps
//! it. The snapshot is refused unless the authorizer would use it: at
//! least one usable key, read back as the authorizer reads it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Subcommand;
use serde_json::Value;

/// The authorizer's JWKS body cap (authorizer/src/config.rs).
const MAX_BODY_BYTES: usize = 256 * 1024;

/// What to do with a JWKS.
#[derive(Debug, Subcommand)]
pub enum JwksCommand {
    /// Write a JWKS snapshot for `JWKS_SNAPSHOT`, fetched now.
    Snapshot {
        /// The issuer's JWKS URL, or a JWKS file (its `fetched_at`, if it has one, is kept).
        #[arg(long, value_name = "URL|FILE")]
        from: String,
        /// Where to write the snapshot.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

/// Writes the snapshot and says what it holds.
pub async fn run(command: JwksCommand) -> anyhow::Result<()> {
    let JwksCommand::Snapshot { from, out } = command;
    let now = environment::unix_now();
    let (body, fetched_at) = if from.starts_with("https://") || from.starts_with("http://") {
        (fetch(&from).await?, now)
    } else {
        let body = std::fs::read(&from).with_context(|| format!("reading {from}"))?;
        let stamped = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v.get("fetched_at").and_then(Value::as_u64));
        (body, stamped.unwrap_or(now))
    };
    let mut document: Value = serde_json::from_slice(&body).context("the JWKS is not JSON")?;
    let Some(object) = document.as_object_mut() else {
        bail!("the JWKS is not a JSON object");
    };
    object.insert("fetched_at".to_owned(), Value::from(fetched_at));
    let text = serde_json::to_string(&document)?;
    let max_age = Duration::from_secs(u64::MAX / 2);
    let snapshot = authorizer::JwksSnapshot::load(&text, now, max_age)?
        .context("the snapshot would not be used")?;
    write_atomically(&out, text.as_bytes())?;
    let mut kids: Vec<&String> = snapshot.set.keys.keys().collect();
    kids.sort();
    println!(
        "wrote {}: {} usable keys ({}), {} skipped, fetched_at {fetched_at}",
        out.display(),
        kids.len(),
        kids.iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        snapshot.set.skipped.len()
    );
    Ok(())
}

/// The JWKS at `url`, as the authorizer would fetch it.
async fn fetch(url: &str) -> anyhow::Result<Vec<u8>> {
    authorizer::check_fetch_url(url)?;
    let mut builder = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none());
    // As the authorizer: a loopback IdP is never reached through a proxy.
    if authorizer::is_loopback_url(url) {
        builder = builder.no_proxy();
    }
    let client = builder.build()?;
    let mut response = client
        .get(url)
        .header("accept", "application/jwk-set+json, application/json")
        .send()
        .await
        .with_context(|| format!("fetching {url}"))?;
    if !response.status().is_success() {
        bail!("{url} answered HTTP {}", response.status().as_u16());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            bail!("{url}: the JWKS exceeds {MAX_BODY_BYTES} bytes");
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Writes beside `path`, then renames: a packaging step never sees half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let partial = path.with_extension("partial");
    std::fs::write(&partial, bytes).with_context(|| format!("writing {}", partial.display()))?;
    std::fs::rename(&partial, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

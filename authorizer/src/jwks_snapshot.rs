//! `JWKS_SNAPSHOT`: an issuer's JWKS packaged with the function, so that a
//! cold start answers its first token with no round trip to the IdP.
//!
//! The file is a JWKS with one more member, when it was fetched:
//! `{"keys": [...], "fetched_at": <Unix seconds>}`. It is as trusted as the
//! code it ships with: whoever can change the function's package or its
//! environment can change it, and could as well change the issuer URL. Its
//! keys serve only until the first live JWKS arrives (fetched at once, in
//! the background), which then replaces them whole: a key absent from the
//! live set is gone, with the decisions it made. A snapshot older than
//! `JWKS_SNAPSHOT_MAX_AGE_SECONDS` is not used; one that cannot be read,
//! or holds no usable key, stops the function at init, since a packaging
//! mistake should show on the first deploy, not as a slower cold start.

use std::time::Duration;

use jose::JwkSet;

/// A snapshot read at init.
#[derive(Debug)]
pub struct JwksSnapshot {
    /// Its usable keys.
    pub set: JwkSet,
    /// When its keys were fetched, Unix seconds.
    pub fetched_at: u64,
}

/// Why a snapshot was refused at init.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The file could not be read.
    #[error("JWKS_SNAPSHOT: cannot read {path}: {error}")]
    Read {
        /// The path given.
        path: String,
        /// Why.
        error: String,
    },
    /// Not a JSON object with `keys` and an integer `fetched_at`.
    #[error("JWKS_SNAPSHOT: {0}")]
    Format(String),
    /// Every key was unusable.
    #[error("JWKS_SNAPSHOT holds no usable key ({0} skipped)")]
    NoUsableKey(usize),
    /// `fetched_at` is later than now (beyond a minute of clock skew).
    #[error("JWKS_SNAPSHOT: fetched_at {fetched_at} is in the future (now {now})")]
    FromTheFuture {
        /// The file's `fetched_at`.
        fetched_at: u64,
        /// The clock at init.
        now: u64,
    },
    /// Several trusted issuers: the file holds one issuer's keys.
    #[error("JWKS_SNAPSHOT holds one issuer's keys; it needs exactly one trusted issuer")]
    SeveralIssuers,
}

/// Where `JWKS_SNAPSHOT` points: a relative path is under the function's
/// package (`LAMBDA_TASK_ROOT`, /var/task on Lambda) when that is set;
/// inline JSON and absolute paths are taken as they are.
pub fn locate(value: &str, task_root: Option<&str>) -> String {
    let inline = value.trim_start().starts_with('{');
    match task_root {
        Some(root) if !inline && std::path::Path::new(value).is_relative() => {
            std::path::Path::new(root)
                .join(value)
                .to_string_lossy()
                .into_owned()
        }
        _ => value.to_owned(),
    }
}

/// Clock skew allowed between the machine that wrote a snapshot and this one.
const FUTURE_SKEW_SECONDS: u64 = 60;

/// What the snapshot's JSON must hold besides `keys` (read by [`JwkSet`]).
#[derive(serde::Deserialize)]
struct Stamp {
    fetched_at: serde_json::Value,
}

impl JwksSnapshot {
    /// Reads `value`, a file path or, when it starts with `{`, the JSON
    /// itself (the form an environment variable carries). `Ok(None)`: the
    /// snapshot is older than `max_age` and is not used (logged).
    pub fn load(
        value: &str,
        now_unix: u64,
        max_age: Duration,
    ) -> Result<Option<Self>, SnapshotError> {
        let text = if value.trim_start().starts_with('{') {
            value.to_owned()
        } else {
            std::fs::read_to_string(value).map_err(|e| SnapshotError::Read {
                path: value.to_owned(),
                error: e.to_string(),
            })?
        };
        let stamp: Stamp = serde_json::from_str(&text).map_err(|e| {
            SnapshotError::Format(format!(
                "not a JWKS with \"fetched_at\" (Unix seconds): {e}"
            ))
        })?;
        let fetched_at = stamp.fetched_at.as_u64().ok_or_else(|| {
            SnapshotError::Format(format!(
                "fetched_at must be Unix seconds (an integer), not {}",
                stamp.fetched_at
            ))
        })?;
        if fetched_at > now_unix + FUTURE_SKEW_SECONDS {
            return Err(SnapshotError::FromTheFuture {
                fetched_at,
                now: now_unix,
            });
        }
        let set =
            JwkSet::parse(text.as_bytes()).map_err(|e| SnapshotError::Format(e.to_string()))?;
        for skipped in &set.skipped {
            tracing::warn!(kid = ?skipped.kid, error = %skipped.error, "JWKS_SNAPSHOT: JWK skipped");
        }
        if set.keys.is_empty() {
            return Err(SnapshotError::NoUsableKey(set.skipped.len()));
        }
        let age = now_unix.saturating_sub(fetched_at);
        if age > max_age.as_secs() {
            tracing::warn!(
                age_seconds = age,
                max_age_seconds = max_age.as_secs(),
                "JWKS_SNAPSHOT is too old (JWKS_SNAPSHOT_MAX_AGE_SECONDS): not used; the first \
                 token waits for the live JWKS"
            );
            return Ok(None);
        }
        Ok(Some(Self { set, fetched_at }))
    }

    /// Seconds since its keys were fetched.
    pub fn age(&self, now_unix: u64) -> Duration {
        Duration::from_secs(now_unix.saturating_sub(self.fetched_at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DAY: Duration = Duration::from_secs(24 * 3600);
    const NOW: u64 = 1_800_000_000;

    fn ec_jwk(kid: &str) -> serde_json::Value {
        // RFC 7515 A.3's P-256 public key.
        json!({"kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256",
               "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
               "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})
    }

    fn load(value: serde_json::Value) -> Result<Option<JwksSnapshot>, SnapshotError> {
        JwksSnapshot::load(&value.to_string(), NOW, DAY)
    }

    #[test]
    fn a_fresh_snapshot_is_read_inline_or_from_a_file() {
        let snapshot = json!({"keys": [ec_jwk("a")], "fetched_at": NOW - 3600});
        let read = load(snapshot.clone()).unwrap().unwrap();
        assert_eq!(read.fetched_at, NOW - 3600);
        assert!(read.set.keys.contains_key("a"));
        let file = std::env::temp_dir().join(format!("snapshot-{}.json", std::process::id()));
        std::fs::write(&file, snapshot.to_string()).unwrap();
        let read = JwksSnapshot::load(file.to_str().unwrap(), NOW, DAY).unwrap();
        std::fs::remove_file(&file).unwrap();
        assert_eq!(read.unwrap().age(NOW), Duration::from_secs(3600));
    }

    #[test]
    fn a_relative_path_is_under_the_task_root() {
        assert_eq!(
            locate("jwks.json", Some("/var/task")),
            "/var/task/jwks.json"
        );
        assert_eq!(
            locate("/opt/jwks.json", Some("/var/task")),
            "/opt/jwks.json"
        );
        assert_eq!(locate("jwks.json", None), "jwks.json");
        assert_eq!(
            locate(r#"{"keys":[]}"#, Some("/var/task")),
            r#"{"keys":[]}"#
        );
    }

    #[test]
    fn a_snapshot_older_than_its_max_age_is_not_used() {
        let old = json!({"keys": [ec_jwk("a")], "fetched_at": NOW - DAY.as_secs() - 1});
        assert!(load(old).unwrap().is_none());
    }

    #[test]
    fn bad_snapshots_are_refused_with_the_reason() {
        let refused = |value: serde_json::Value| load(value).unwrap_err().to_string();
        assert!(refused(json!({"keys": [ec_jwk("a")]})).contains("fetched_at"));
        assert!(
            refused(json!({"keys": [ec_jwk("a")], "fetched_at": "yesterday"})).contains("integer")
        );
        assert!(refused(json!({"keys": [ec_jwk("a")], "fetched_at": 1.5})).contains("integer"));
        assert!(refused(json!({"fetched_at": NOW})).contains("keys"));
        assert!(
            refused(json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}], "fetched_at": NOW}))
                .contains("no usable key")
        );
        assert!(
            refused(json!({"keys": [ec_jwk("a")], "fetched_at": NOW + 3600})).contains("future")
        );
        let missing = JwksSnapshot::load("/nonexistent/snapshot.json", NOW, DAY).unwrap_err();
        assert!(
            missing.to_string().contains("/nonexistent/snapshot.json"),
            "{missing}"
        );
        let garbage = JwksSnapshot::load("{not json", NOW, DAY).unwrap_err();
        assert!(
            garbage.to_string().starts_with("JWKS_SNAPSHOT"),
            "{garbage}"
        );
    }
}

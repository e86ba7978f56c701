//! Where secrets are checked: argon2 costs tens of milliseconds of CPU and
//! 19 MiB, so it runs on tokio's blocking pool, at most one check per core
//! at a time, never on the async workers that serve every other route (the
//! JWKS the authorizer fetches included). A bounded queue waits for a turn;
//! beyond it a login is answered "busy" at once instead of piling up.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Semaphore;

use crate::password::{verify_against_dummy, verify_secret};

/// Checks allowed to wait for a turn; more are refused as busy.
const MAX_WAITING: usize = 256;

/// Too many secret checks are queued already; retry shortly (503).
#[derive(Debug, thiserror::Error)]
#[error("too many logins in progress")]
pub struct Busy;

/// The bounded argon2 worker pool of one issuer instance.
pub struct SecretChecker {
    permits: Semaphore,
    waiting: AtomicUsize,
}

impl Default for SecretChecker {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::new(cores)
    }
}

/// Decrements the waiting count however the wait ends (a dropped request too).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl SecretChecker {
    /// A checker running at most `concurrent` argon2 checks at once.
    pub fn new(concurrent: usize) -> Self {
        Self {
            permits: Semaphore::new(concurrent.max(1)),
            waiting: AtomicUsize::new(0),
        }
    }

    /// Whether `secret` matches `hash`; with `None` (no such account) a
    /// dummy check of the same cost runs and the answer is `false`.
    pub async fn check(&self, secret: &str, hash: Option<&str>) -> Result<bool, Busy> {
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= MAX_WAITING {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(Busy);
        }
        let waiting = Waiting(&self.waiting);
        let _permit = self.permits.acquire().await.map_err(|_| Busy)?;
        drop(waiting);
        let (secret, hash) = (secret.to_owned(), hash.map(str::to_owned));
        tokio::task::spawn_blocking(move || match hash {
            Some(hash) => verify_secret(&secret, &hash),
            None => {
                verify_against_dummy(&secret);
                false
            }
        })
        .await
        .map_err(|_| Busy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::password::hash_secret;

    #[tokio::test]
    async fn checks_match_and_unknown_accounts_never_match() {
        let checker = SecretChecker::new(1);
        let hash = hash_secret("right").unwrap();
        assert!(checker.check("right", Some(&hash)).await.unwrap());
        assert!(!checker.check("wrong", Some(&hash)).await.unwrap());
        assert!(!checker.check("right", None).await.unwrap());
    }
}

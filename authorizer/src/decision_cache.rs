//! Verified tokens, kept so a repeat of the same token skips the signature
//! check. An entry never outlives the token's `exp`, and is served only
//! while the key that verified it is still in its issuer's fresh key set.

use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::sync::Cache;
use moka::Expiry;

use crate::verified::VerifiedToken;

/// Expires each entry at its token's `exp` (Unix seconds).
struct UntilExp;

impl Expiry<Arc<str>, Arc<VerifiedToken>> for UntilExp {
    fn expire_after_create(
        &self,
        _key: &Arc<str>,
        value: &Arc<VerifiedToken>,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(Duration::from_secs(
            value.exp.saturating_sub(environment::unix_now()),
        ))
    }
}

/// The largest entry kept: token plus claims. Tokens may be 8 KiB and carry
/// 16 KiB of context; capping each entry bounds the cache's memory at about
/// capacity × 4 KiB. A larger token is verified every time.
pub const MAX_ENTRY_BYTES: usize = 4096;

/// Token → verification result, bounded in entries and in entry size.
pub struct DecisionCache {
    cache: Option<Cache<Arc<str>, Arc<VerifiedToken>>>,
}

impl DecisionCache {
    /// A cache of `capacity` entries; zero disables it.
    pub fn new(capacity: u64) -> Self {
        let cache = (capacity > 0).then(|| {
            Cache::builder()
                .max_capacity(capacity)
                .expire_after(UntilExp)
                .build()
        });
        Self { cache }
    }

    /// The cached result for `token` if still valid at `now_unix` and
    /// `still_current` confirms its key.
    pub fn get(
        &self,
        token: &str,
        now_unix: u64,
        still_current: impl FnOnce(&VerifiedToken) -> bool,
    ) -> Option<Arc<VerifiedToken>> {
        let cache = self.cache.as_ref()?;
        if token.len() > MAX_ENTRY_BYTES {
            return None; // never stored: skip hashing it
        }
        let hit = cache.get(token)?;
        // moka's expiry has timer granularity; the exp check here is exact.
        if hit.exp < now_unix || !still_current(&hit) {
            cache.invalidate(token);
            return None;
        }
        Some(hit)
    }

    /// Keeps `verified` for `token` until its `exp`, unless already expired
    /// at `now_unix` or larger than [`MAX_ENTRY_BYTES`].
    pub fn insert(&self, token: &str, verified: Arc<VerifiedToken>, now_unix: u64) {
        if let Some(cache) = &self.cache {
            if verified.exp > now_unix && token.len() + verified.claim_bytes() <= MAX_ENTRY_BYTES {
                cache.insert(Arc::from(token), verified);
            }
        }
    }
}

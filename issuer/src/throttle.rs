//! Login throttling. Every attempt reserves a slot in two buckets before
//! its secret is checked: one for the account name together with the
//! client's address (`PAIR_LIMIT` failures per window) and one for the name
//! alone (`NAME_LIMIT`, much higher). A wrong secret keeps its slots as
//! failures; a right one clears its pair bucket and frees its name slot; an
//! attempt that ends otherwise (store error, dropped request) frees both.
//! Reserving before the `.await` is what makes the limit hold under
//! concurrency: N parallel guesses cannot all pass a check that none of
//! them has recorded yet.
//!
//! A third party guessing from one address locks only its own pair bucket;
//! locking the account for everyone takes `NAME_LIMIT` failures, which is
//! what a distributed guessing attack would spend anyway. Buckets are keyed
//! by a digest of kind, name and address (fixed size, whatever the name's
//! length) in a bounded cache. Per process and in memory: on Lambda each
//! warm instance counts on its own (README says what that means).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use moka::sync::Cache;

use crate::accounts::AccountKind;

/// Failures allowed per account name and client address within `WINDOW`.
pub const PAIR_LIMIT: u32 = 5;
/// Failures allowed per account name, from all addresses, within `WINDOW`.
pub const NAME_LIMIT: u32 = 100;
/// How long a failure counts against the limits.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Most buckets held at once (about 100 bytes each).
const CAPACITY: u64 = 100_000;

type BucketKey = [u8; 16];

#[derive(Clone, Copy, Debug)]
struct Bucket {
    /// Failures plus attempts in flight.
    used: u32,
    first: Instant,
}

/// Failure buckets, shared by every login of one issuer instance.
pub struct LoginThrottle {
    buckets: Cache<BucketKey, Bucket>,
    /// Reserve-or-refuse on two buckets must be one step.
    update: Mutex<()>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            buckets: Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(WINDOW)
                .build(),
            update: Mutex::new(()),
        }
    }
}

fn bucket_key(kind: AccountKind, name: &str, address: Option<&str>) -> BucketKey {
    let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    context.update(match kind {
        AccountKind::User => b"user\0",
        AccountKind::Client => b"client\0",
    });
    // Length-prefixed, so no name/address split collides with another.
    context.update(&(name.len() as u64).to_be_bytes());
    context.update(name.as_bytes());
    match address {
        Some(address) => {
            context.update(b"\x01");
            context.update(address.as_bytes());
        }
        None => context.update(b"\x00"),
    }
    let digest = context.finish();
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest.as_ref()[..16]);
    key
}

/// A reserved login attempt. Settle it with [`Attempt::failed`] or
/// [`Attempt::succeeded`]; dropped unsettled, it frees its slots.
pub struct Attempt {
    throttle: Arc<LoginThrottle>,
    pair: BucketKey,
    name: BucketKey,
    settled: bool,
}

impl Attempt {
    /// A wrong secret: the slots stay taken, as failures.
    pub fn failed(mut self) {
        self.settled = true;
    }

    /// The right secret: the caller's own failures are forgiven; failures
    /// others made against the name still count.
    pub fn succeeded(mut self) {
        self.settled = true;
        let _guard = self.throttle.lock();
        self.throttle.buckets.invalidate(&self.pair);
        self.throttle.release(&self.name);
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if !self.settled {
            let _guard = self.throttle.lock();
            self.throttle.release(&self.pair);
            self.throttle.release(&self.name);
        }
    }
}

impl LoginThrottle {
    fn lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.update.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn current(&self, key: &BucketKey, now: Instant) -> Option<Bucket> {
        self.buckets
            .get(key)
            .filter(|b| now.saturating_duration_since(b.first) < WINDOW)
    }

    fn release(&self, key: &BucketKey) {
        if let Some(bucket) = self.buckets.get(key) {
            let used = bucket.used.saturating_sub(1);
            self.buckets.insert(*key, Bucket { used, ..bucket });
        }
    }

    /// Reserves one attempt for `name` from `address` (`None`: unknown,
    /// all such callers share one bucket), or `Err(retry_after)` when either
    /// bucket is full.
    pub fn begin(
        self: &Arc<Self>,
        kind: AccountKind,
        name: &str,
        address: Option<&str>,
        now: Instant,
    ) -> Result<Attempt, Duration> {
        let pair_key = bucket_key(kind, name, Some(address.unwrap_or("")));
        let name_key = bucket_key(kind, name, None);
        let _guard = self.lock();
        let fresh = Bucket {
            used: 0,
            first: now,
        };
        let pair = self.current(&pair_key, now).unwrap_or(fresh);
        let named = self.current(&name_key, now).unwrap_or(fresh);
        let retry =
            |bucket: Bucket| WINDOW.saturating_sub(now.saturating_duration_since(bucket.first));
        if pair.used >= PAIR_LIMIT {
            return Err(retry(pair));
        }
        if named.used >= NAME_LIMIT {
            return Err(retry(named));
        }
        for (key, bucket) in [(pair_key, pair), (name_key, named)] {
            self.buckets.insert(
                key,
                Bucket {
                    used: bucket.used + 1,
                    ..bucket
                },
            );
        }
        Ok(Attempt {
            throttle: Arc::clone(self),
            pair: pair_key,
            name: name_key,
            settled: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER: AccountKind = AccountKind::User;

    fn fail(throttle: &Arc<LoginThrottle>, name: &str, address: &str, now: Instant) {
        throttle
            .begin(USER, name, Some(address), now)
            .expect("not throttled yet")
            .failed();
    }

    #[test]
    fn locks_a_name_and_address_after_the_limit_and_reopens_after_the_window() {
        let throttle = Arc::new(LoginThrottle::default());
        let start = Instant::now();
        for _ in 0..PAIR_LIMIT {
            fail(&throttle, "alice", "192.0.2.1", start);
        }
        let later = start + Duration::from_secs(60);
        let retry = throttle
            .begin(USER, "alice", Some("192.0.2.1"), later)
            .err()
            .unwrap();
        assert_eq!(retry, WINDOW - Duration::from_secs(60));
        assert!(
            throttle
                .begin(USER, "alice", Some("198.51.100.7"), later)
                .is_ok(),
            "another address is not locked out by this one's failures"
        );
        assert!(throttle
            .begin(USER, "bob", Some("192.0.2.1"), later)
            .is_ok());
        assert!(throttle
            .begin(AccountKind::Client, "alice", Some("192.0.2.1"), later)
            .is_ok());
        assert!(throttle
            .begin(USER, "alice", Some("192.0.2.1"), start + WINDOW)
            .is_ok());
    }

    #[test]
    fn attempts_in_flight_count_against_the_limit() {
        let throttle = Arc::new(LoginThrottle::default());
        let now = Instant::now();
        let in_flight: Vec<Attempt> = (0..PAIR_LIMIT)
            .map(|_| throttle.begin(USER, "alice", Some("a"), now).unwrap())
            .collect();
        assert!(throttle.begin(USER, "alice", Some("a"), now).is_err());
        drop(in_flight); // unsettled (e.g. the store failed): freed
        assert!(throttle.begin(USER, "alice", Some("a"), now).is_ok());
    }

    #[test]
    fn a_success_forgives_only_its_own_address() {
        let throttle = Arc::new(LoginThrottle::default());
        let now = Instant::now();
        for _ in 0..PAIR_LIMIT - 1 {
            fail(&throttle, "alice", "a", now);
        }
        throttle
            .begin(USER, "alice", Some("a"), now)
            .unwrap()
            .succeeded();
        for _ in 0..PAIR_LIMIT {
            fail(&throttle, "alice", "a", now);
        }
        assert!(throttle.begin(USER, "alice", Some("a"), now).is_err());
    }

    #[test]
    fn many_addresses_lock_the_name_at_the_much_higher_name_limit() {
        let throttle = Arc::new(LoginThrottle::default());
        let now = Instant::now();
        for i in 0..NAME_LIMIT {
            fail(
                &throttle,
                "alice",
                &format!("10.0.{}.{}", i / 256, i % 256),
                now,
            );
        }
        assert!(throttle
            .begin(USER, "alice", Some("192.0.2.200"), now)
            .is_err());
        assert!(throttle
            .begin(USER, "bob", Some("192.0.2.200"), now)
            .is_ok());
    }

    #[test]
    fn bucket_keys_have_a_fixed_size_and_do_not_collide_across_fields() {
        let long = "x".repeat(8192);
        assert_eq!(bucket_key(USER, &long, Some("a")).len(), 16);
        assert_ne!(
            bucket_key(USER, "ab", Some("c")),
            bucket_key(USER, "a", Some("bc"))
        );
        assert_ne!(bucket_key(USER, "a", None), bucket_key(USER, "a", Some("")));
    }
}

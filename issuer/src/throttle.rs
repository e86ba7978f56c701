//! Repeated login failures for one name are throttled: after
//! `MAX_FAILURES` within the window, attempts are refused (429 with
//! `Retry-After`) until the window since the first failure passes.
//! Per instance and in memory: enough to make online guessing slow.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use moka::sync::Cache;

pub const MAX_FAILURES: u32 = 5;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

#[derive(Clone, Copy, Debug)]
struct Failures {
    count: u32,
    first: Instant,
}

/// Failure counts by account name.
pub struct LoginThrottle {
    failures: Cache<String, Failures>,
    update: Mutex<()>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            failures: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(WINDOW)
                .build(),
            update: Mutex::new(()),
        }
    }
}

impl LoginThrottle {
    /// `Some(retry_after)` when `name` is locked out now.
    pub fn check(&self, name: &str, now: Instant) -> Option<Duration> {
        let failures = self.failures.get(name)?;
        let elapsed = now.saturating_duration_since(failures.first);
        (failures.count >= MAX_FAILURES && elapsed < WINDOW).then(|| WINDOW - elapsed)
    }

    pub fn record_failure(&self, name: &str, now: Instant) {
        let _guard = self.update.lock();
        let next = match self.failures.get(name) {
            Some(f) if now.saturating_duration_since(f.first) < WINDOW => Failures {
                count: f.count + 1,
                first: f.first,
            },
            _ => Failures {
                count: 1,
                first: now,
            },
        };
        self.failures.insert(name.to_owned(), next);
    }

    pub fn record_success(&self, name: &str) {
        self.failures.invalidate(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_max_failures_and_reopens_after_the_window() {
        let throttle = LoginThrottle::default();
        let start = Instant::now();
        for _ in 0..MAX_FAILURES {
            assert_eq!(throttle.check("alice", start), None);
            throttle.record_failure("alice", start);
        }
        let retry = throttle
            .check("alice", start + Duration::from_secs(60))
            .unwrap();
        assert_eq!(retry, WINDOW - Duration::from_secs(60));
        assert_eq!(throttle.check("bob", start), None, "per name");
        assert_eq!(throttle.check("alice", start + WINDOW), None);
        throttle.record_success("alice");
        assert_eq!(throttle.check("alice", start), None);
    }
}

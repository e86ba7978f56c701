//! Remembering which proofs were used (RFC 9449 §11.1): a proof is accepted
//! once, by the first request that presents it. [`MemoryReplayStore`] is one
//! process's memory; the DynamoDB store ([`crate::DynamoReplayStore`]) is
//! shared by every instance.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

/// The store could not answer: the proof is refused (fail closed).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ReplayStoreError(pub String);

/// Where used proofs are remembered.
#[async_trait]
pub trait ReplayStore: Send + Sync {
    /// Records `key` until `expires_at` (Unix seconds): `true` when it was
    /// not recorded before (or only with an expiry already past), `false`
    /// for a replay. Of two concurrent calls with one key, one gets `true`.
    async fn first_use(&self, key: &str, expires_at: u64) -> Result<bool, ReplayStoreError>;
}

/// Entries a [`MemoryReplayStore`] holds at most: past it, expired ones go,
/// and if none has expired new proofs are refused rather than an unexpired
/// one forgotten (which would let it be replayed).
pub const MEMORY_STORE_CAPACITY: usize = 100_000;

/// One process's memory of used proofs. It does not stop a proof replayed
/// at another instance, nor one replayed after this process restarted.
#[derive(Debug)]
pub struct MemoryReplayStore {
    seen: Mutex<HashMap<String, u64>>,
    capacity: usize,
}

impl Default for MemoryReplayStore {
    fn default() -> Self {
        Self::with_capacity(MEMORY_STORE_CAPACITY)
    }
}

impl MemoryReplayStore {
    /// An empty store of [`MEMORY_STORE_CAPACITY`] entries.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store of `capacity` unexpired entries at most (a bench that
    /// checks more proofs a minute than a process would).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            seen: Mutex::new(HashMap::new()),
            capacity,
        }
    }
}

#[async_trait]
impl ReplayStore for MemoryReplayStore {
    async fn first_use(&self, key: &str, expires_at: u64) -> Result<bool, ReplayStoreError> {
        let now = environment::unix_now();
        let mut seen = self
            .seen
            .lock()
            .map_err(|_| ReplayStoreError("replay memory poisoned".into()))?;
        if let Some(&until) = seen.get(key) {
            if until >= now {
                return Ok(false);
            }
        }
        if seen.len() >= self.capacity {
            seen.retain(|_, until| *until >= now);
            if seen.len() >= self.capacity {
                return Err(ReplayStoreError(
                    "replay memory full of unexpired proofs".into(),
                ));
            }
        }
        seen.insert(key.to_owned(), expires_at);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_key_is_accepted_once_until_it_expires() {
        let store = MemoryReplayStore::new();
        let now = environment::unix_now();
        assert_eq!(store.first_use("a", now + 60).await, Ok(true));
        assert_eq!(store.first_use("a", now + 60).await, Ok(false));
        assert_eq!(store.first_use("b", now + 60).await, Ok(true));
        // An entry whose proof has expired no longer blocks its key.
        assert_eq!(store.first_use("old", now - 1).await, Ok(true));
        assert_eq!(store.first_use("old", now + 60).await, Ok(true));
    }

    #[tokio::test]
    async fn concurrent_uses_of_one_key_have_one_winner() {
        let store = std::sync::Arc::new(MemoryReplayStore::new());
        let until = environment::unix_now() + 60;
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let store = std::sync::Arc::clone(&store);
                tokio::spawn(async move { store.first_use("same", until).await })
            })
            .collect();
        let mut wins = 0;
        for task in tasks {
            if task.await.unwrap() == Ok(true) {
                wins += 1;
            }
        }
        assert_eq!(wins, 1);
    }
}

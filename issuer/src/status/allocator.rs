//! Status entries handed out from blocks this instance reserved: one store
//! write per [`BLOCK_SIZE`] tokens, and no two instances ever share an
//! entry (each block comes from one atomic reservation).

use std::sync::Arc;

use tokio::sync::Mutex;

use super::{Slot, StatusStore, StatusStoreError, BLOCK_LIFETIME_SECONDS, BLOCK_SIZE};

/// The block being handed out.
#[derive(Debug)]
struct Block {
    next: u64,
    end: u64,
    /// Past this (Unix seconds) the rest of the block is abandoned.
    usable_until: u64,
    /// Its list's expiry was set for tokens expiring by this.
    expires_by: u64,
}

/// Hands out unique status entries.
pub(crate) struct Allocator {
    store: Arc<dyn StatusStore>,
    block: Mutex<Option<Block>>,
}

impl Allocator {
    pub(crate) fn new(store: Arc<dyn StatusStore>) -> Self {
        Self {
            store,
            block: Mutex::new(None),
        }
    }

    /// An entry for a token expiring at `token_exp`, minted at `now`.
    pub(crate) async fn allocate(
        &self,
        token_exp: u64,
        now: u64,
    ) -> Result<Slot, StatusStoreError> {
        let mut block = self.block.lock().await;
        if let Some(current) = block.as_mut() {
            // The list's expiry covers this token only within the block's
            // lifetime and for tokens no longer-lived than it was set for.
            if current.next < current.end
                && now <= current.usable_until
                && token_exp <= current.expires_by
            {
                current.next += 1;
                return Ok(Slot::at(current.next - 1));
            }
        }
        let expires_by = token_exp.saturating_add(BLOCK_LIFETIME_SECONDS);
        let first = self.store.reserve_block(expires_by, now).await?;
        *block = Some(Block {
            next: first + 1,
            end: first + BLOCK_SIZE,
            usable_until: now.saturating_add(BLOCK_LIFETIME_SECONDS),
            expires_by,
        });
        Ok(Slot::at(first))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::status::{FileStatusStore, BLOCKS_PER_LIST, LIST_CLAIM_WINDOW_SECONDS};

    fn store() -> (tempfile::TempDir, Arc<FileStatusStore>) {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(FileStatusStore::new(dir.path().join("status.json")));
        (dir, store)
    }

    #[tokio::test]
    async fn entries_are_unique_and_a_block_is_one_reservation() {
        let (_dir, store) = store();
        let (one, two) = (Allocator::new(store.clone()), Allocator::new(store.clone()));
        let now = environment::unix_now();
        let mut seen = HashSet::new();
        for _ in 0..BLOCK_SIZE + 3 {
            assert!(seen.insert(one.allocate(now + 900, now).await.unwrap()));
            assert!(seen.insert(two.allocate(now + 900, now).await.unwrap()));
        }
        let blocks: HashSet<(u64, u64)> =
            seen.iter().map(|s| (s.list, s.idx / BLOCK_SIZE)).collect();
        assert_eq!(blocks.len(), 4, "two blocks each");
        let list = store.list(0).await.unwrap().unwrap();
        assert_eq!(list.expires_at, now + 900 + BLOCK_LIFETIME_SECONDS);
    }

    #[tokio::test]
    async fn an_old_block_is_abandoned() {
        let (_dir, store) = store();
        let allocator = Allocator::new(store);
        let now = environment::unix_now();
        let first = allocator.allocate(now + 900, now).await.unwrap();
        let later = now + BLOCK_LIFETIME_SECONDS + 1;
        let next = allocator.allocate(later + 900, later).await.unwrap();
        assert_ne!(next.idx / BLOCK_SIZE, first.idx / BLOCK_SIZE, "a new block");
    }

    #[tokio::test]
    async fn a_list_three_quarters_claimed_gives_way_to_the_next() {
        let (_dir, store) = store();
        let now = environment::unix_now();
        let expires = now + 900;
        let mut blocks = HashSet::new();
        for _ in 0..BLOCKS_PER_LIST * 3 / 4 {
            let first = store.reserve_block(expires, now).await.unwrap();
            assert_eq!(Slot::at(first).list, 0);
            assert!(blocks.insert(first), "a block claimed twice");
        }
        let next = store.reserve_block(expires, now).await.unwrap();
        assert_eq!(Slot::at(next).list, 1, "the next list opens");
        // Blocks were claimed at random, not in order.
        let in_order = blocks
            .iter()
            .filter(|&&b| b < BLOCKS_PER_LIST * 3 / 4 * BLOCK_SIZE)
            .count();
        assert!(in_order < blocks.len(), "blocks claimed in order");
    }

    #[tokio::test]
    async fn a_list_takes_claims_for_its_window_only() {
        let (_dir, store) = store();
        let now = environment::unix_now();
        let first = store.reserve_block(now + 960, now).await.unwrap();
        assert_eq!(Slot::at(first).list, 0);
        let within = now + LIST_CLAIM_WINDOW_SECONDS - 1;
        let second = store.reserve_block(within + 960, within).await.unwrap();
        assert_eq!(Slot::at(second).list, 0, "within its window");
        let past = now + LIST_CLAIM_WINDOW_SECONDS;
        let third = store.reserve_block(past + 960, past).await.unwrap();
        assert_eq!(Slot::at(third).list, 1, "past it: the next list");
        // Days later, when list 1 (still the open list) would be purged: a
        // claim opens list 2, never list 1 again.
        let much_later = past + 3 * 24 * 3600;
        let fourth = store
            .reserve_block(much_later + 960, much_later)
            .await
            .unwrap();
        assert_eq!(Slot::at(fourth).list, 2);
    }
}

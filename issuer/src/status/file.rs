//! Token status in one JSON file (`STATUS_FILE`, the local stack's
//! `status.json`), changed under its lock and replaced atomically
//! ([`crate::atomic_file`]), so the CLI can revoke beside a running server.
//! Expired token records and purged lists are dropped on every write.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{random_block, BLOCKS_PER_LIST, BLOCK_SIZE, LIST_SIZE};
use super::{ListRecord, Slot, StatusStore, StatusStoreError, TokenRecord};
use super::{LIST_CLAIM_WINDOW_SECONDS, PURGE_AFTER_SECONDS, REVOCABLE_PAST_EXP_SECONDS};
use crate::atomic_file::{self, LockedFile};

/// What the file holds.
#[derive(Debug, Default, Serialize, Deserialize)]
struct StatusFile {
    revision: u64,
    /// The list blocks are claimed in.
    open_list: u64,
    /// When the open list stops taking claims (0: not set yet, a new file
    /// or one written before lists had a claim window).
    #[serde(default)]
    open_until: u64,
    lists: BTreeMap<u64, StoredList>,
    /// By `jti`.
    tokens: BTreeMap<String, StoredToken>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct StoredList {
    expires_at: u64,
    version: u64,
    revoked: BTreeSet<u64>,
    /// Block numbers handed out.
    #[serde(default)]
    claimed: BTreeSet<u64>,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredToken {
    sub: String,
    list: u64,
    idx: u64,
    exp: u64,
}

impl StoredToken {
    fn issued(&self, jti: &str) -> TokenRecord {
        TokenRecord {
            jti: jti.to_owned(),
            sub: self.sub.clone(),
            slot: Slot {
                list: self.list,
                idx: self.idx,
            },
            exp: self.exp,
        }
    }
}

fn io(error: impl std::fmt::Display) -> StatusStoreError {
    StatusStoreError::Io(error.to_string())
}

fn parse(bytes: Option<Vec<u8>>) -> Result<StatusFile, StatusStoreError> {
    match bytes {
        None => Ok(StatusFile::default()),
        Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            StatusStoreError::Corrupt(format!(
                "status file at line {} column {}",
                e.line(),
                e.column()
            ))
        }),
    }
}

/// Token status in a JSON file.
#[derive(Clone, Debug)]
pub struct FileStatusStore {
    path: PathBuf,
}

impl FileStatusStore {
    /// The status file at `path` (created on the first write).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Reads the file without the lock (a rename is atomic).
    async fn read(&self) -> Result<StatusFile, StatusStoreError> {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || parse(atomic_file::read(&path).map_err(io)?))
            .await
            .map_err(io)?
    }

    /// Changes the file under its lock; expired entries go on every write.
    async fn change<T: Send + 'static>(
        &self,
        change: impl FnOnce(&mut StatusFile) -> T + Send + 'static,
    ) -> Result<T, StatusStoreError> {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let file = LockedFile::lock(&path).map_err(io)?;
            let mut status = parse(file.read().map_err(io)?)?;
            let result = change(&mut status);
            let now = environment::unix_now();
            status
                .tokens
                .retain(|_, token| token.exp.saturating_add(REVOCABLE_PAST_EXP_SECONDS) >= now);
            status
                .lists
                .retain(|_, list| list.expires_at.saturating_add(PURGE_AFTER_SECONDS) >= now);
            let json = serde_json::to_vec(&status).map_err(io)?;
            file.replace(&json).map_err(io)?;
            Ok(result)
        })
        .await
        .map_err(io)?
    }
}

#[async_trait]
impl StatusStore for FileStatusStore {
    async fn reserve_block(&self, expires_by: u64, now: u64) -> Result<u64, StatusStoreError> {
        let start = random_block();
        self.change(move |status| {
            // Under the lock the free blocks are known: the next one from a
            // random start, or the next list once three quarters are taken
            // or its claim window is over. The claimed blocks live as long
            // as their list here; the window keeps the two stores alike, and
            // keeps a list purged while open from coming back under its
            // number.
            let open = status.lists.get(&status.open_list);
            let full = open.is_some_and(|l| l.claimed.len() as u64 >= BLOCKS_PER_LIST * 3 / 4);
            if status.open_until == 0 && open.is_none() {
                // Nothing claimed in it yet: it opens now.
                status.open_until = now.saturating_add(LIST_CLAIM_WINDOW_SECONDS);
            } else if full || now >= status.open_until {
                status.open_list += 1;
                status.open_until = now.saturating_add(LIST_CLAIM_WINDOW_SECONDS);
            }
            let number = status.open_list;
            let list = status.lists.entry(number).or_default();
            let block = (0..BLOCKS_PER_LIST)
                .map(|step| (start + step) % BLOCKS_PER_LIST)
                .find(|block| !list.claimed.contains(block))
                .unwrap_or(start);
            list.claimed.insert(block);
            list.expires_at = list.expires_at.max(expires_by);
            number * LIST_SIZE + block * BLOCK_SIZE
        })
        .await
    }

    async fn record(&self, token: &TokenRecord) -> Result<(), StatusStoreError> {
        let token = token.clone();
        self.change(move |status| {
            status.tokens.insert(
                token.jti,
                StoredToken {
                    sub: token.sub,
                    list: token.slot.list,
                    idx: token.slot.idx,
                    exp: token.exp,
                },
            );
        })
        .await
    }

    async fn by_jti(&self, jti: &str, now: u64) -> Result<Option<TokenRecord>, StatusStoreError> {
        let status = self.read().await?;
        Ok(status
            .tokens
            .get(jti)
            .filter(|token| token.exp >= now)
            .map(|token| token.issued(jti)))
    }

    async fn by_subject(&self, sub: &str, now: u64) -> Result<Vec<TokenRecord>, StatusStoreError> {
        let status = self.read().await?;
        Ok(status
            .tokens
            .iter()
            .filter(|(_, token)| token.sub == sub && token.exp >= now)
            .map(|(jti, token)| token.issued(jti))
            .collect())
    }

    async fn revoke(&self, slots: &[Slot]) -> Result<(), StatusStoreError> {
        let slots = slots.to_vec();
        self.change(move |status| {
            for slot in slots {
                if let Some(list) = status.lists.get_mut(&slot.list) {
                    if list.revoked.insert(slot.idx) {
                        list.version += 1;
                    }
                }
            }
            status.revision += 1;
        })
        .await
    }

    async fn list(&self, list: u64) -> Result<Option<ListRecord>, StatusStoreError> {
        let status = self.read().await?;
        Ok(status.lists.get(&list).map(|stored| ListRecord {
            revoked: stored.revoked.iter().copied().collect(),
            version: stored.version,
            expires_at: stored.expires_at,
        }))
    }

    async fn live_lists(&self, now: u64) -> Result<Vec<u64>, StatusStoreError> {
        let status = self.read().await?;
        Ok(status
            .lists
            .iter()
            .filter(|(_, list)| list.expires_at >= now)
            .map(|(number, _)| *number)
            .collect())
    }

    async fn revision(&self) -> Result<u64, StatusStoreError> {
        Ok(self.read().await?.revision)
    }
}

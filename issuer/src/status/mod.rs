//! Token status (draft-ietf-oauth-status-list): every access token carries
//! `status.status_list.{idx,uri}`, an entry in one of the issuer's status
//! lists, and revoking a token sets its entry to INVALID. Authorizers fetch
//! the signed list (`GET /statuslists/{n}`) and cache it like the JWKS, so a
//! revocation reaches them within the list's max age, without a database
//! call per request.
//!
//! The map:
//! - [`StatusStore`]: where positions are reserved, issued tokens recorded
//!   (to revoke by `jti` or `sub`) and revoked entries kept: a local file
//!   ([`FileStatusStore`], `STATUS_FILE`) or DynamoDB
//!   ([`DynamoStatusStore`], `STATUS_TABLE`);
//! - `allocator`: each instance reserves blocks of entries, so indices are
//!   unique across instances at one store write per block;
//! - `list_token`: the signed `statuslist+jwt` of one list, cached per
//!   instance until the list or the signing key changes;
//! - `registry`: the three together, as the issuer service uses them.
//!
//! Positions count across all lists: position `p` is index `p % LIST_SIZE`
//! of list `p / LIST_SIZE`. Blocks are claimed at random within the open
//! list, so an index tells nothing of when its token was issued (the
//! draft's linkability advice), and a claim is a conditional write that two
//! instances can never both win. When claims keep meeting claimed blocks,
//! the open list is three-quarters full or more and the next list opens.
//! A list also stops taking claims [`LIST_CLAIM_WINDOW_SECONDS`] after it
//! opened: a claimed block's record (what makes the claim exclusive) is
//! kept [`PURGE_AFTER_SECONDS`] past its tokens, longer than the window, so
//! no block record of a list can expire while the list still takes claims,
//! and no block is handed out twice while its list lives.
//! Lists are never reused: a list whose tokens have all expired is purged
//! and its number never comes back.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

mod allocator;
mod dynamo;
mod file;
mod list_token;
mod registry;

pub use dynamo::DynamoStatusStore;
pub use file::FileStatusStore;
pub use list_token::{ListToken, LIST_TOKEN_GRACE_SECONDS};
pub use registry::{ListTokenError, StatusRegistry, REVOCABLE_PAST_EXP_SECONDS};

/// Entries per list: 65536 tokens share one list (8 KiB uncompressed, far
/// less compressed), which is the herd a relying party's fetch hides in.
pub const LIST_SIZE: u64 = 1 << 16;
/// Positions an instance reserves at a time; divides [`LIST_SIZE`], so a
/// block never straddles two lists.
pub const BLOCK_SIZE: u64 = 64;
/// Blocks in one list.
pub const BLOCKS_PER_LIST: u64 = LIST_SIZE / BLOCK_SIZE;
/// Claims of already-claimed blocks in a row after which the open list is
/// taken as full (at 3/4 claimed, eight misses in a row happen 10% of the
/// time; lists fill to about that before the next opens).
pub const MISSES_BEFORE_NEXT_LIST: u32 = 8;
/// How long an instance may hand out positions from a block it reserved:
/// the list's expiry is set at reservation, for tokens minted within this.
pub const BLOCK_LIFETIME_SECONDS: u64 = 60;
/// How long a list or token record is kept after its last token expired.
pub const PURGE_AFTER_SECONDS: u64 = 24 * 3600;
/// How long after it opens a list takes claims of new blocks. Shorter than
/// [`PURGE_AFTER_SECONDS`], which every block record outlives its claim by
/// (DynamoDB's TTL deletes an item only after its `purge_at`): the list
/// closes to claims before its first block record can expire, so a claim
/// never wins a block whose record the TTL removed. 12 h of margin also
/// absorbs clock skew between instances. A quiet issuer opens a list every
/// 12 h at most; a busy one fills its list (three quarters of 65536
/// entries) before that.
pub const LIST_CLAIM_WINDOW_SECONDS: u64 = 12 * 3600;
const _: () = assert!(LIST_CLAIM_WINDOW_SECONDS < PURGE_AFTER_SECONDS);

/// One token's entry: list number and index in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Slot {
    /// The list number (`/statuslists/{list}`).
    pub list: u64,
    /// The index in that list.
    pub idx: u64,
}

/// A random block number of a list: where a claim tries first.
pub(crate) fn random_block() -> u64 {
    let mut bytes = [0u8; 8];
    // aws-lc-rs's system randomness; should it fail, block 0 is a fine start.
    let _ = aws_lc_rs::rand::fill(&mut bytes);
    u64::from_le_bytes(bytes) % BLOCKS_PER_LIST
}

impl Slot {
    /// The entry of a global position.
    pub fn at(position: u64) -> Self {
        Self {
            list: position / LIST_SIZE,
            idx: position % LIST_SIZE,
        }
    }
}

/// An issued token as the store remembers it, to revoke it by `jti` or by
/// subject.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// Its `jti`.
    pub jti: String,
    /// Its `sub`.
    pub sub: String,
    /// Its status entry.
    pub slot: Slot,
    /// Its `exp` (Unix seconds).
    pub exp: u64,
}

/// One list as stored: its revoked indices and when its last token expires.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListRecord {
    /// Indices set to INVALID.
    pub revoked: Vec<u64>,
    /// Bumped by every revocation in this list.
    pub version: u64,
    /// The latest `exp` a token in this list may have (Unix seconds).
    pub expires_at: u64,
}

/// Why a status store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StatusStoreError {
    /// The stored state cannot be read (the message names where, never content).
    #[error("the stored token status is unreadable: {0}")]
    Corrupt(String),
    /// The file or DynamoDB call failed.
    #[error("token status store I/O failed: {0}")]
    Io(String),
}

/// Where token status lives. Every method is safe under concurrent callers
/// in several processes: positions are reserved atomically, revocations
/// only ever add entries.
#[async_trait]
pub trait StatusStore: Send + Sync {
    /// Claims a free block of [`BLOCK_SIZE`] positions of the open list at
    /// `now` for tokens expiring by `expires_by` (Unix seconds) and returns
    /// its first position (a multiple of [`BLOCK_SIZE`]). No two calls, in
    /// any process, get the same block: a list past its claim window
    /// ([`LIST_CLAIM_WINDOW_SECONDS`]) takes no claim, whatever a store's
    /// expiry has removed since.
    async fn reserve_block(&self, expires_by: u64, now: u64) -> Result<u64, StatusStoreError>;

    /// Remembers an issued token until after its `exp`.
    async fn record(&self, token: &TokenRecord) -> Result<(), StatusStoreError>;

    /// The unexpired token with this `jti`, if any.
    async fn by_jti(&self, jti: &str, now: u64) -> Result<Option<TokenRecord>, StatusStoreError>;

    /// Every unexpired token of `sub`.
    async fn by_subject(&self, sub: &str, now: u64) -> Result<Vec<TokenRecord>, StatusStoreError>;

    /// Sets these entries to INVALID. An entry of a purged list is skipped
    /// (its tokens have long expired).
    async fn revoke(&self, slots: &[Slot]) -> Result<(), StatusStoreError>;

    /// List `list`, if it was ever reserved from and is not purged.
    async fn list(&self, list: u64) -> Result<Option<ListRecord>, StatusStoreError>;

    /// The numbers of lists whose tokens have not all expired at `now`.
    async fn live_lists(&self, now: u64) -> Result<Vec<u64>, StatusStoreError>;

    /// A number that grows with every revocation: a process sharing the
    /// store polls it to notice revocations made beside it.
    async fn revision(&self) -> Result<u64, StatusStoreError>;
}

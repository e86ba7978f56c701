//! Where books live: one trait, two implementations with the same semantics
//! (checked by one generic test suite).

pub mod dynamo;
pub mod embedded;

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::model::Book;

/// Store failures, mapped to HTTP by the routes.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no such book")]
    NotFound,
    #[error("a book with this id exists")]
    AlreadyExists,
    /// The version condition failed: someone changed the book first.
    #[error("version conflict")]
    VersionConflict,
    #[error("the cursor is not one this store issued")]
    BadCursor,
    /// Throttled after retries: worth retrying later (503).
    #[error("store busy")]
    Unavailable,
    /// Anything else; logged, answered 500 without details.
    #[error("store failure: {0}")]
    Internal(String),
}

/// One page of a listing and where the next one starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    pub items: Vec<Book>,
    pub next_cursor: Option<String>,
}

/// Book storage. Writes are conditional, so concurrent writers never lose
/// an update: exactly one of several writers of the same version wins.
#[async_trait]
pub trait BookStore: Send + Sync {
    /// Stores a new book; fails if its id exists.
    async fn create(&self, book: &Book) -> Result<(), StoreError>;

    async fn get(&self, id: &str) -> Result<Option<Book>, StoreError>;

    /// Replaces the book if its stored version is still `expected_version`.
    async fn update(&self, book: &Book, expected_version: u64) -> Result<(), StoreError>;

    /// Deletes the book, only at `expected_version` when one is given.
    async fn delete(&self, id: &str, expected_version: Option<u64>) -> Result<(), StoreError>;

    /// Up to `limit` books after `cursor`; holds one page in memory.
    async fn list(&self, limit: usize, cursor: Option<&str>) -> Result<Page, StoreError>;
}

/// Cursors are opaque to clients: base64url of the last id of a page.
pub(crate) fn encode_cursor(last_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(last_id)
}

pub(crate) fn decode_cursor(cursor: &str) -> Result<String, StoreError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| StoreError::BadCursor)?;
    let id = String::from_utf8(bytes).map_err(|_| StoreError::BadCursor)?;
    // Ids are ULIDs: 26 Crockford base32 characters.
    if id.len() == 26 && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(id)
    } else {
        Err(StoreError::BadCursor)
    }
}

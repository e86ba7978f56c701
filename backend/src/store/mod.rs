//! Where books live: one trait, two implementations with the same semantics
//! (checked by one generic test suite), and the one place the environment
//! chooses between them.

mod dynamo;
mod embedded;

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::model::Book;
pub use dynamo::DynamoStore;
pub use embedded::EmbeddedStore;

/// Store failures, mapped to HTTP by the routes.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No book with that id.
    #[error("no such book")]
    NotFound,
    /// A create met an existing id (never for ULIDs; a bug).
    #[error("a book with this id exists")]
    AlreadyExists,
    /// The version condition failed: someone changed the book first.
    #[error("version conflict")]
    VersionConflict,
    /// A cursor this store did not issue.
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
    /// The books, in id (creation) order.
    pub items: Vec<Book>,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// Book storage. Writes are conditional, so concurrent writers never lose
/// an update: exactly one of several writers of the same version wins.
#[async_trait]
pub trait BookStore: Send + Sync {
    /// Stores a new book; fails if its id exists.
    async fn create(&self, book: &Book) -> Result<(), StoreError>;

    /// The book, if it exists.
    async fn get(&self, id: &str) -> Result<Option<Book>, StoreError>;

    /// Replaces the book if its stored version is still `expected_version`.
    async fn update(&self, book: &Book, expected_version: u64) -> Result<(), StoreError>;

    /// Deletes the book, only at `expected_version` when one is given.
    async fn delete(&self, id: &str, expected_version: Option<u64>) -> Result<(), StoreError>;

    /// Up to `limit` books after `cursor`, only those whose `owner` is
    /// `owner` when given (a shelf); holds one page in memory.
    async fn list(
        &self,
        owner: Option<&str>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page, StoreError>;
}

/// Where the books live: DynamoDB when `BOOKS_TABLE` is set, else an
/// embedded database file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BookStoreLocation {
    /// The DynamoDB table `BOOKS_TABLE`.
    Dynamo(String),
    /// A redb file.
    Embedded(PathBuf),
}

impl BookStoreLocation {
    /// `BOOKS_TABLE` when set, else the embedded file at `embedded` (the
    /// Lambda's `/tmp`, the local stack's data directory).
    pub fn from_env(embedded: impl Into<PathBuf>) -> Self {
        match environment::Settings::from_env().text("BOOKS_TABLE") {
            Some(table) => Self::Dynamo(table),
            None => Self::Embedded(embedded.into()),
        }
    }

    /// The store at this location (a DynamoDB client from the environment).
    pub async fn open(self) -> Result<Arc<dyn BookStore>, StoreError> {
        Ok(match self {
            Self::Dynamo(table) => Arc::new(DynamoStore::from_env(table).await),
            Self::Embedded(path) => Arc::new(EmbeddedStore::open(&path)?),
        })
    }
}

/// Cursors are opaque to clients: base64url of the last id of a page.
pub(crate) fn encode_cursor(last_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(last_id)
}

/// The last id of the previous page; refuses anything not issued here.
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

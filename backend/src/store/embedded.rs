//! The local store: an embedded redb database file, so books survive a
//! restart. redb serialises write transactions, which makes every
//! conditional write atomic; reads run on MVCC snapshots.

use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use super::{decode_cursor, encode_cursor, BookStore, Page, StoreError};
use crate::model::Book;

/// id → JSON of the book. ULID ids keep the table in creation order.
const BOOKS: TableDefinition<&str, &[u8]> = TableDefinition::new("books");

/// Books in a redb file.
#[derive(Clone)]
pub struct EmbeddedStore {
    db: Arc<Database>,
}

impl std::fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EmbeddedStore")
    }
}

fn internal(error: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(error.to_string())
}

impl EmbeddedStore {
    /// Opens (or creates) the database file.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = Database::create(path).map_err(internal)?;
        // Create the table up front so readers never see it missing.
        let txn = db.begin_write().map_err(internal)?;
        txn.open_table(BOOKS).map_err(internal)?;
        txn.commit().map_err(internal)?;
        Ok(Self { db: Arc::new(db) })
    }

    /// Runs a write (which commits with an fsync) off the async executor.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || work(&db))
            .await
            .map_err(internal)?
    }
}

fn encode(book: &Book) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(book).map_err(internal)
}

fn decode(bytes: &[u8]) -> Result<Book, StoreError> {
    serde_json::from_slice(bytes).map_err(internal)
}

/// The stored version of `id` inside a write transaction, if any.
fn stored_version(table: &redb::Table<&str, &[u8]>, id: &str) -> Result<Option<u64>, StoreError> {
    match table.get(id).map_err(internal)? {
        Some(guard) => Ok(Some(decode(guard.value())?.version)),
        None => Ok(None),
    }
}

#[async_trait]
impl BookStore for EmbeddedStore {
    async fn create(&self, book: &Book) -> Result<(), StoreError> {
        let bytes = encode(book)?;
        let id = book.id.clone();
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(internal)?;
            {
                let mut table = txn.open_table(BOOKS).map_err(internal)?;
                if table.get(id.as_str()).map_err(internal)?.is_some() {
                    return Err(StoreError::AlreadyExists);
                }
                table
                    .insert(id.as_str(), bytes.as_slice())
                    .map_err(internal)?;
            }
            txn.commit().map_err(internal)
        })
        .await
    }

    // Reads run on the async worker itself: an MVCC snapshot never waits for
    // a writer, and a page read of this small file costs microseconds, less
    // than handing the work to the blocking pool and back (two thread
    // wake-ups per request).
    async fn get(&self, id: &str) -> Result<Option<Book>, StoreError> {
        let txn = self.db.begin_read().map_err(internal)?;
        let table = txn.open_table(BOOKS).map_err(internal)?;
        let found = table.get(id).map_err(internal)?;
        found.map(|guard| decode(guard.value())).transpose()
    }

    async fn update(&self, book: &Book, expected_version: u64) -> Result<(), StoreError> {
        let bytes = encode(book)?;
        let id = book.id.clone();
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(internal)?;
            {
                let mut table = txn.open_table(BOOKS).map_err(internal)?;
                match stored_version(&table, &id)? {
                    None => return Err(StoreError::NotFound),
                    Some(v) if v != expected_version => return Err(StoreError::VersionConflict),
                    Some(_) => {}
                }
                table
                    .insert(id.as_str(), bytes.as_slice())
                    .map_err(internal)?;
            }
            txn.commit().map_err(internal)
        })
        .await
    }

    async fn delete(&self, id: &str, expected_version: Option<u64>) -> Result<(), StoreError> {
        let id = id.to_owned();
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(internal)?;
            {
                let mut table = txn.open_table(BOOKS).map_err(internal)?;
                match (stored_version(&table, &id)?, expected_version) {
                    (None, _) => return Err(StoreError::NotFound),
                    (Some(v), Some(expected)) if v != expected => {
                        return Err(StoreError::VersionConflict)
                    }
                    _ => {}
                }
                table.remove(id.as_str()).map_err(internal)?;
            }
            txn.commit().map_err(internal)
        })
        .await
    }

    async fn list(
        &self,
        owner: Option<&str>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page, StoreError> {
        let after = cursor.map(decode_cursor).transpose()?;
        let txn = self.db.begin_read().map_err(internal)?;
        let table = txn.open_table(BOOKS).map_err(internal)?;
        let start = match &after {
            Some(id) => Bound::Excluded(id.as_str()),
            None => Bound::Unbounded,
        };
        let mut items = Vec::with_capacity(limit);
        let mut more = false;
        for entry in table
            .range::<&str>((start, Bound::Unbounded))
            .map_err(internal)?
        {
            let (_, value) = entry.map_err(internal)?;
            let book = decode(value.value())?;
            if owner.is_some_and(|owner| book.owner != owner) {
                continue;
            }
            if items.len() == limit {
                more = true;
                break;
            }
            items.push(book);
        }
        let next_cursor = if more {
            items.last().map(|b: &Book| encode_cursor(&b.id))
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }
}

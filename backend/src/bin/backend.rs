//! The `backend` Lambda: the books router under `lambda_http`.
//! `BOOKS_TABLE` selects DynamoDB; without it, an embedded store at
//! `BOOKS_DB_PATH` (default `/tmp/tollgate-books.redb`) serves the requests.

use std::path::PathBuf;
use std::sync::Arc;

use backend::store::dynamo::DynamoStore;
use backend::store::embedded::EmbeddedStore;
use backend::BookStore;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init_logging();
    let store: Arc<dyn BookStore> = match std::env::var("BOOKS_TABLE") {
        Ok(table) if !table.is_empty() => Arc::new(DynamoStore::from_env(table).await),
        _ => {
            let path = std::env::var("BOOKS_DB_PATH")
                .map(PathBuf::from)
                .unwrap_or_else(|_| PathBuf::from("/tmp/tollgate-books.redb"));
            Arc::new(EmbeddedStore::open(&path)?)
        }
    };
    lambda_http::run(backend::router(store))
        .await
        .map_err(|e| anyhow::anyhow!(e))
}

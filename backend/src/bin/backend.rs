//! The `backend` Lambda: the books router under `lambda_http`.
//! `BOOKS_TABLE` selects DynamoDB; without it, an embedded store at
//! `BOOKS_DB_PATH` (default `/tmp/tollgate-books.redb`) serves the requests.

use backend::BookStoreLocation;
use environment::Settings;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init_logging();
    let embedded = Settings::from_env()
        .text("BOOKS_DB_PATH")
        .unwrap_or_else(|| "/tmp/tollgate-books.redb".to_owned());
    let store = BookStoreLocation::from_env(embedded).open().await?;
    lambda_http::run(backend::router(store))
        .await
        .map_err(|e| anyhow::anyhow!(e))
}

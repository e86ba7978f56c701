//! Tollgate's books API: a CRUD service that trusts only the authorizer's
//! request context. It never sees a token: API Gateway has already run the
//! authorizer, which put the caller's `sub`, issuer and scopes in the
//! context; [`identity::Caller`] reads them from there and nowhere else.
//!
//! A map of the crate:
//! - [`router`]: the axum routes (`/books`, `/books/{id}`), their request
//!   parsing (JSON bodies within limits, `If-Match`, pages) and the problem
//!   each failure answers; the same router runs under `lambda_http` and in
//!   the local stack.
//! - [`Book`] and its validation ([`BookError`] names the offending member).
//! - Access rules: which scope each action needs, and that only a book's
//!   owner (same `sub` from the same issuer) or an admin changes it.
//! - [`BookStore`] with optimistic concurrency on each book's version:
//!   [`DynamoStore`] on AWS, [`EmbeddedStore`] (redb) locally;
//!   [`BookStoreLocation`] chooses from the environment, for the Lambda and
//!   the local stack.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use axum::body::Body;
//! use axum::http::{Request, StatusCode};
//! use tower::ServiceExt;
//!
//! let path = std::env::temp_dir().join(format!("books-doc-{}.redb", std::process::id()));
//! let store = Arc::new(backend::EmbeddedStore::open(&path)?);
//! // No authorizer context: the API refuses before it reads anything.
//! let response = backend::router(store)
//!     .oneshot(Request::get("/books").body(Body::empty())?)
//!     .await?;
//! assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
//! # std::fs::remove_file(&path)?;
//! # Ok(())
//! # }
//! ```

#![deny(missing_docs)]

mod access;
mod isbn;
mod model;
mod routes;
mod store;

pub use access::{ADMIN_SCOPE, READ_SCOPE, WRITE_SCOPE};
pub use isbn::normalize_isbn;
pub use model::{
    parse_new_book, parse_patch, Book, BookError, BookPatch, NewBook, AUTHOR_MAX_CHARS, MAX_TAGS,
    TAG_MAX_CHARS, TITLE_MAX_CHARS, YEAR_MAX, YEAR_MIN,
};
pub use routes::{router, DEFAULT_PAGE, MAX_BODY_BYTES, MAX_PAGE};
pub use store::{BookStore, BookStoreLocation, DynamoStore, EmbeddedStore, Page, StoreError};

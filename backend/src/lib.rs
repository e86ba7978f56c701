//! Tollgate books API: a books CRUD service that trusts only the
//! authorizer's request context.
//!
//! [`routes::router`] builds the axum router over a [`store::BookStore`]:
//! DynamoDB on AWS ([`store::dynamo`]), an embedded redb file locally
//! ([`store::embedded`]).

pub mod identity;
pub mod isbn;
pub mod model;
pub mod problem;
pub mod routes;
pub mod store;

pub use identity::Caller;
pub use model::Book;
pub use problem::Problem;
pub use routes::router;
pub use store::{BookStore, Page, StoreError};

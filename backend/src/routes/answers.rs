//! What each failure of the store and the model answers, and a book's own
//! answer with its `ETag`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use identity::Problem;

use crate::model::{Book, BookError};
use crate::store::StoreError;

/// The store's failures: internals are logged, never sent.
impl From<StoreError> for Problem {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => Problem::not_found("no such book"),
            StoreError::VersionConflict => Problem::precondition_failed(
                "the book changed since the given ETag; fetch it again",
            ),
            StoreError::BadCursor => {
                Problem::bad_request("cursor is not valid; start again without it")
            }
            StoreError::Unavailable => {
                Problem::unavailable("the book store is busy; retry shortly")
            }
            StoreError::AlreadyExists | StoreError::Internal(_) => {
                tracing::error!(%error, "book store failure");
                Problem::internal()
            }
        }
    }
}

/// A body that is not JSON is unreadable (400); one that breaks a rule is
/// unprocessable (422), naming the member.
impl From<BookError> for Problem {
    fn from(error: BookError) -> Self {
        match error {
            BookError::Malformed(_) => Problem::bad_request(error.to_string()),
            BookError::Invalid { field, detail } => Problem::unprocessable(field, detail),
        }
    }
}

/// A book with its `ETag`.
pub(super) fn book_response(status: StatusCode, book: &Book) -> Response {
    let mut response = (status, Json(book)).into_response();
    if let Ok(etag) = HeaderValue::from_str(&book.etag()) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

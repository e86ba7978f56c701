//! What the handlers read from a request besides the caller: the JSON body
//! within its limits, `If-Match`, the list query and the book id. Each
//! refusal is the problem the client gets.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap};
use identity::Problem;
use serde::Deserialize;

use crate::store::StoreError;

/// Bodies above this are refused with 413 before parsing.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// Books per page when the client does not say.
pub const DEFAULT_PAGE: usize = 20;
/// Most books per page.
pub const MAX_PAGE: usize = 100;

/// `If-Match` as the versions it names: `None` when absent, `Some(None)` for
/// `*`, else the listed strong tags (RFC 9110: any may match).
pub(super) type Precondition = Option<Option<Vec<u64>>>;

/// The body, refused above `MAX_BODY_BYTES` (413) or when declared as
/// something other than JSON (415).
pub(super) async fn json_body(headers: &HeaderMap, body: Body) -> Result<Bytes, Problem> {
    if let Some(content_type) = headers.get(header::CONTENT_TYPE) {
        let media = content_type
            .to_str()
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if media != "application/json"
            && !(media.starts_with("application/") && media.ends_with("+json"))
        {
            return Err(Problem::unsupported_media_type());
        }
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_BYTES) {
        return Err(Problem::payload_too_large(MAX_BODY_BYTES));
    }
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| Problem::payload_too_large(MAX_BODY_BYTES))
}

/// `If-Match` (see [`Precondition`]). Tags we never issued (weak or not
/// numeric) match nothing.
pub(super) fn if_match(headers: &HeaderMap) -> Result<Precondition, Problem> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| Problem::bad_request("If-Match is not ASCII"))?
        .trim();
    if value == "*" {
        return Ok(Some(None));
    }
    let versions = value
        .split(',')
        .filter_map(|tag| {
            tag.trim()
                .strip_prefix('"')?
                .strip_suffix('"')?
                .parse::<u64>()
                .ok()
        })
        .collect();
    Ok(Some(Some(versions)))
}

/// `GET /books?limit=&cursor=`.
#[derive(Deserialize)]
pub(super) struct ListQuery {
    limit: Option<String>,
    cursor: Option<String>,
}

impl ListQuery {
    /// The page size: [`DEFAULT_PAGE`] when unset, else 1 to [`MAX_PAGE`].
    pub(super) fn limit(&self) -> Result<usize, Problem> {
        match self.limit.as_deref() {
            None | Some("") => Ok(DEFAULT_PAGE),
            Some(text) => text
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_PAGE).contains(n))
                .ok_or_else(|| {
                    Problem::bad_request(format!(
                        "limit must be a whole number from 1 to {MAX_PAGE}"
                    ))
                }),
        }
    }

    /// Where the page starts; `None` for the first page.
    pub(super) fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref().filter(|c| !c.is_empty())
    }
}

/// Ids are ULIDs: any other id names no book (and never reaches the store).
/// With `If-Match`, a missing book fails the precondition (412, RFC 9110
/// §13.1.1) rather than 404.
pub(super) fn book_id(id: &str, precondition: &Precondition) -> Result<(), Problem> {
    if id.len() == 26 && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Ok(());
    }
    Err(missing_book(precondition))
}

/// No such book: 404, or 412 when `If-Match` expected one.
pub(super) fn missing_book(precondition: &Precondition) -> Problem {
    match precondition {
        Some(_) => Problem::from(StoreError::VersionConflict)
            .with_detail("If-Match was given, but there is no such book"),
        None => Problem::from(StoreError::NotFound),
    }
}

//! The books API as an axum router. The same router runs under
//! `lambda_http` on AWS and behind the local gateway.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use lambda_http::request::RequestContext;
use serde::Deserialize;
use serde_json::json;

use crate::identity::{Caller, CallerRules, READ_SCOPE, WRITE_SCOPE};
use crate::model::{parse_new_book, parse_patch, Book};
use crate::problem::Problem;
use crate::store::{BookStore, StoreError};

/// Bodies above this are refused with 413 before parsing.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
pub const DEFAULT_PAGE: usize = 20;
pub const MAX_PAGE: usize = 100;

#[derive(Clone)]
struct AppState {
    store: Arc<dyn BookStore>,
}

/// The books API over `store`.
pub fn router(store: Arc<dyn BookStore>) -> Router {
    let api = Router::new()
        .route("/books", get(list_books).post(create_book))
        .route(
            "/books/{id}",
            get(get_book).patch(patch_book).delete(delete_book),
        )
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .with_state(AppState { store });
    // An outer router's layer runs before the inner one routes, so the
    // stage can be stripped from the path first.
    Router::new()
        .fallback_service(api)
        .layer(axum::middleware::map_request(identity::strip_stage))
}

async fn not_found() -> Problem {
    Problem::not_found().with_detail("no such resource")
}

async fn method_not_allowed(method: Method) -> Response {
    let mut problem = Problem::bad_request(format!("{method} is not allowed here"));
    problem.status = StatusCode::METHOD_NOT_ALLOWED.as_u16();
    problem.title = "Method Not Allowed";
    problem.kind = "about:blank#method-not-allowed";
    problem.into_response()
}

fn store_problem(error: StoreError) -> Problem {
    match error {
        StoreError::NotFound => Problem::not_found(),
        StoreError::VersionConflict => Problem::precondition_failed(),
        StoreError::BadCursor => {
            Problem::bad_request("cursor is not valid; start again without it")
        }
        StoreError::Unavailable => Problem::unavailable(),
        StoreError::AlreadyExists | StoreError::Internal(_) => {
            tracing::error!(%error, "book store failure");
            Problem::internal()
        }
    }
}

/// A book with its `ETag`.
fn book_response(status: StatusCode, book: &Book) -> Response {
    let mut response = (status, Json(book)).into_response();
    if let Ok(etag) = HeaderValue::from_str(&book.etag()) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Ids are ULIDs; anything else can't exist (and never reaches the store).
fn valid_id(id: &str) -> Result<(), Problem> {
    if id.len() == 26 && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(Problem::not_found())
    }
}

/// The body, refused above `MAX_BODY_BYTES` (413) or when declared as
/// something other than JSON (415).
async fn json_body(headers: &HeaderMap, body: Body) -> Result<Bytes, Problem> {
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

/// `If-Match` as the versions it names: `None` when absent, `Some(None)` for
/// `*`, else the listed strong tags (RFC 9110: any may match). Tags we never
/// issued (weak or not numeric) match nothing.
fn if_match(headers: &HeaderMap) -> Result<Option<Option<Vec<u64>>>, Problem> {
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

#[derive(Deserialize)]
struct ListQuery {
    limit: Option<String>,
    cursor: Option<String>,
}

async fn list_books(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    caller.require(READ_SCOPE)?;
    let Query(query) =
        query.map_err(|_| Problem::bad_request("query parameters are limit and cursor"))?;
    let limit = match query.limit.as_deref() {
        None | Some("") => DEFAULT_PAGE,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| {
                Problem::bad_request(format!("limit must be a whole number from 1 to {MAX_PAGE}"))
            })?,
    };
    let cursor = query.cursor.as_deref().filter(|c| !c.is_empty());
    let page = state
        .store
        .list(limit, cursor)
        .await
        .map_err(store_problem)?;
    Ok(Json(json!({"items": page.items, "next_cursor": page.next_cursor})).into_response())
}

async fn create_book(
    State(state): State<AppState>,
    caller: Caller,
    context: Option<Extension<RequestContext>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    caller.require(WRITE_SCOPE)?;
    let body = json_body(&headers, body).await?;
    let input = parse_new_book(&body)?;
    let book = Book::create(input, &caller.sub, caller.iss.as_deref(), &now_rfc3339());
    state.store.create(&book).await.map_err(store_problem)?;
    let mut response = book_response(StatusCode::CREATED, &book);
    // The client's path, stage (or base path) included: `/prod/books/{id}`.
    let prefix = context.as_ref().map_or("", |Extension(context)| {
        identity::path_prefix(context, "/books")
    });
    if let Ok(location) = HeaderValue::from_str(&format!("{prefix}/books/{}", book.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

async fn get_book(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, Problem> {
    caller.require(READ_SCOPE)?;
    let Path(id) = id.map_err(|_| Problem::not_found())?;
    valid_id(&id)?;
    let book = state
        .store
        .get(&id)
        .await
        .map_err(store_problem)?
        .ok_or_else(Problem::not_found)?;
    Ok(book_response(StatusCode::OK, &book))
}

/// How often a PATCH without `If-Match` re-reads after losing a race.
const UNCONDITIONAL_RETRIES: usize = 3;

async fn patch_book(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    caller.require(WRITE_SCOPE)?;
    let Path(id) = id.map_err(|_| Problem::not_found())?;
    let precondition = if_match(&headers)?;
    existing_id(&id, precondition.as_ref())?;
    let body = json_body(&headers, body).await?;
    let patch = parse_patch(&body)?;
    // Without If-Match (or with `*`) the client named no version: apply the
    // patch to the newer version after losing a race, and answer 409 (not
    // 412: no ETag of the client's failed) if the races go on.
    let names_versions = matches!(precondition, Some(Some(_)));
    let mut retries = 0;
    loop {
        let current = book_to_change(&state, &caller, &id, precondition.as_ref()).await?;
        let next = current.patched(patch.clone(), &now_rfc3339());
        // Conditional on the version read: no concurrent update is lost.
        match state.store.update(&next, current.version).await {
            Ok(()) => return Ok(book_response(StatusCode::OK, &next)),
            Err(StoreError::VersionConflict) if !names_versions => {
                if retries == UNCONDITIONAL_RETRIES {
                    return Err(Problem::conflict());
                }
                retries += 1;
            }
            Err(error) => return Err(store_problem(error)),
        }
    }
}

/// Ids are ULIDs: any other id names no book. With `If-Match`, a missing
/// book fails the precondition (412, RFC 9110 §13.1.1) rather than 404.
fn existing_id(id: &str, precondition: Option<&Option<Vec<u64>>>) -> Result<(), Problem> {
    valid_id(id).map_err(|not_found| match precondition {
        Some(_) => Problem::precondition_failed_missing(),
        None => not_found,
    })
}

/// The current book, if the caller may change it and `If-Match` (when
/// given) names its version.
async fn book_to_change(
    state: &AppState,
    caller: &Caller,
    id: &str,
    precondition: Option<&Option<Vec<u64>>>,
) -> Result<Book, Problem> {
    let current = state
        .store
        .get(id)
        .await
        .map_err(store_problem)?
        .ok_or_else(|| match precondition {
            Some(_) => Problem::precondition_failed_missing(),
            None => Problem::not_found(),
        })?;
    if !caller.may_change(&current) {
        return Err(Problem::forbidden(
            "only the owner or an admin may change or delete this book",
        ));
    }
    if let Some(Some(versions)) = precondition {
        if !versions.contains(&current.version) {
            return Err(Problem::precondition_failed());
        }
    }
    Ok(current)
}

async fn delete_book(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    caller.require(WRITE_SCOPE)?;
    let Path(id) = id.map_err(|_| Problem::not_found())?;
    let precondition = if_match(&headers)?;
    existing_id(&id, precondition.as_ref())?;
    let current = book_to_change(&state, &caller, &id, precondition.as_ref()).await?;
    // With If-Match naming versions, delete only the version checked above
    // (a concurrent change makes it 412); otherwise delete what exists.
    let expected = match precondition {
        Some(Some(_)) => Some(current.version),
        _ => None,
    };
    match state.store.delete(&id, expected).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT.into_response()),
        // Deleted by someone else since it was read: with If-Match, the
        // precondition has failed; without, the book is gone anyway.
        Err(StoreError::NotFound) if precondition.is_some() => {
            Err(Problem::precondition_failed_missing())
        }
        Err(error) => Err(store_problem(error)),
    }
}

//! The books API as an axum router. The same router runs under
//! `lambda_http` on AWS and behind the local gateway.

use std::sync::Arc;

mod answers;
mod request;

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use identity::{Caller, Problem};
use lambda_http::request::RequestContext;
use serde_json::json;

use crate::access::{CallerRules, READ_SCOPE, WRITE_SCOPE};
use crate::model::{parse_new_book, parse_patch, Book};
use crate::store::{BookStore, StoreError};
use answers::book_response;
use request::{book_id, if_match, json_body, missing_book, ListQuery, Precondition};
pub use request::{DEFAULT_PAGE, MAX_BODY_BYTES, MAX_PAGE};

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
        .route("/shelves/{owner}/books", get(list_shelf))
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
    Problem::not_found("no such resource")
}

async fn method_not_allowed(method: Method) -> Problem {
    Problem::method_not_allowed(format!("{method} is not allowed here"))
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

async fn list_books(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    caller.require(READ_SCOPE)?;
    let Query(query) =
        query.map_err(|_| Problem::bad_request("query parameters are limit and cursor"))?;
    let page = state
        .store
        .list(None, query.limit()?, query.cursor())
        .await?;
    Ok(Json(json!({"items": page.items, "next_cursor": page.next_cursor})).into_response())
}

/// One owner's books. The authorizer's route rule allows a caller its own
/// shelf (`{owner}` bound to `sub`) or any with `books:admin`; checked here
/// again, as the scope is.
async fn list_shelf(
    State(state): State<AppState>,
    caller: Caller,
    owner: Result<Path<String>, PathRejection>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    caller.require(READ_SCOPE)?;
    let Path(owner) = owner.map_err(|_| Problem::not_found("no such shelf"))?;
    if !caller.may_read_shelf(&owner) {
        return Err(Problem::forbidden("this is another caller's shelf"));
    }
    let Query(query) =
        query.map_err(|_| Problem::bad_request("query parameters are limit and cursor"))?;
    let page = state
        .store
        .list(Some(&owner), query.limit()?, query.cursor())
        .await?;
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
    state.store.create(&book).await?;
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
    let Path(id) = id.map_err(|_| StoreError::NotFound)?;
    book_id(&id, &None)?;
    let book = state.store.get(&id).await?.ok_or(StoreError::NotFound)?;
    Ok(book_response(StatusCode::OK, &book))
}

/// The book a PATCH or DELETE names, and its `If-Match`, once the caller
/// is known to write.
fn change_target(
    caller: &Caller,
    id: Result<Path<String>, PathRejection>,
    headers: &HeaderMap,
) -> Result<(String, Precondition), Problem> {
    caller.require(WRITE_SCOPE)?;
    let Path(id) = id.map_err(|_| StoreError::NotFound)?;
    let precondition = if_match(headers)?;
    book_id(&id, &precondition)?;
    Ok((id, precondition))
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
    let (id, precondition) = change_target(&caller, id, &headers)?;
    let body = json_body(&headers, body).await?;
    let patch = parse_patch(&body)?;
    // Without If-Match (or with `*`) the client named no version: apply the
    // patch to the newer version after losing a race, and answer 409 (not
    // 412: no ETag of the client's failed) if the races go on.
    let names_versions = matches!(precondition, Some(Some(_)));
    let mut retries = 0;
    loop {
        let current = book_to_change(&state, &caller, &id, &precondition).await?;
        let next = current.patched(patch.clone(), &now_rfc3339());
        // Conditional on the version read: no concurrent update is lost.
        match state.store.update(&next, current.version).await {
            Ok(()) => return Ok(book_response(StatusCode::OK, &next)),
            Err(StoreError::VersionConflict) if !names_versions => {
                if retries == UNCONDITIONAL_RETRIES {
                    return Err(Problem::conflict(
                        "the book is being changed by others right now; retry",
                    ));
                }
                retries += 1;
            }
            Err(error) => return Err(error.into()),
        }
    }
}

/// The current book, if the caller may change it and `If-Match` (when
/// given) names its version.
async fn book_to_change(
    state: &AppState,
    caller: &Caller,
    id: &str,
    precondition: &Precondition,
) -> Result<Book, Problem> {
    let current = state
        .store
        .get(id)
        .await?
        .ok_or_else(|| missing_book(precondition))?;
    if !caller.may_change(&current) {
        return Err(Problem::forbidden(
            "only the owner or an admin may change or delete this book",
        ));
    }
    if let Some(Some(versions)) = precondition {
        if !versions.contains(&current.version) {
            return Err(StoreError::VersionConflict.into());
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
    let (id, precondition) = change_target(&caller, id, &headers)?;
    let current = book_to_change(&state, &caller, &id, &precondition).await?;
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
        Err(StoreError::NotFound) if precondition.is_some() => Err(missing_book(&precondition)),
        Err(error) => Err(error.into()),
    }
}

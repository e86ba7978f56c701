//! The status lists (draft-ietf-oauth-status-list): the aggregation and
//! each list's signed token.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use identity::Problem;
use serde_json::json;

use crate::service::IssuerService;

use super::request::if_none_match;

/// `GET /statuslists`: the Status List Aggregation (draft §9).
pub(super) async fn status_lists(State(service): State<Arc<IssuerService>>) -> Response {
    match service.status_lists().await {
        Ok(uris) => {
            let mut response = Json(json!({ "status_lists": uris })).into_response();
            allow_any_origin(&mut response);
            response
        }
        Err(error) => Problem::from(error).into_response(),
    }
}

/// `GET /statuslists/{list}`: the list's `statuslist+jwt`, cacheable for
/// `STATUS_LIST_MAX_AGE_SECONDS`, with an `ETag` (304 on `If-None-Match`).
pub(super) async fn status_list(
    State(service): State<Arc<IssuerService>>,
    Path(list): Path<String>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    // Historical resolution (draft §8.4) is not kept: say so, as it asks.
    if uri
        .query()
        .is_some_and(|q| q.split('&').any(|p| p.starts_with("time=")))
    {
        return Problem::plain(
            StatusCode::NOT_IMPLEMENTED,
            "historical status lists are not kept",
        )
        .into_response();
    }
    let Some(number) = list.parse::<u64>().ok().filter(|n| n.to_string() == list) else {
        return Problem::not_found("no such status list").into_response();
    };
    let token = match service.status_list(number).await {
        Ok(Some(token)) => token,
        Ok(None) => return Problem::not_found("no such status list").into_response(),
        Err(error) => return Problem::from(error).into_response(),
    };
    let max_age = service.config().status_list_max_age_seconds;
    let mut response = if if_none_match(&headers, &token.etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = token.token.to_string().into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(status_list::MEDIA_TYPE),
        );
        response
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&format!("public, max-age={max_age}")) {
        headers.insert(header::CACHE_CONTROL, value);
    }
    if let Ok(value) = HeaderValue::from_str(&token.etag) {
        headers.insert(header::ETAG, value);
    }
    allow_any_origin(&mut response);
    response
}

/// Status lists are public and meant for browsers too (draft §8.1: CORS).
pub(super) fn allow_any_origin(response: &mut Response) {
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
}

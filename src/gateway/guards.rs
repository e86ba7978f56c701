//! What the gateway refuses before routing, as API Gateway does, and its own
//! error bodies.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// API Gateway's quota on a REST request: the request line and all header
/// names and values together at most 10240 bytes (above it: 431).
pub const MAX_REQUEST_HEAD_BYTES: usize = 10 * 1024;

/// The refusal of a request no route may see, if it is one.
pub(super) fn refusal(request: &Request) -> Option<Response> {
    if head_too_large(request) {
        return Some(gateway_error(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Some("Request Header Fields Too Large"),
        ));
    }
    if ambiguous_path(request.uri().path()) {
        return Some(gateway_error(StatusCode::BAD_REQUEST, Some("Bad Request")));
    }
    None
}

fn head_too_large(request: &Request) -> bool {
    let target = request
        .uri()
        .path_and_query()
        .map_or(0, |target| target.as_str().len());
    let line = request.method().as_str().len() + target;
    let headers: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    line + headers > MAX_REQUEST_HEAD_BYTES
}

/// A path that could mean something else after decoding: a `.` or `..`
/// segment (raw or percent-encoded) or an encoded `/` or `\`. Refused
/// before routing, so no route or policy ever sees it.
fn ambiguous_path(raw_path: &str) -> bool {
    let lower = raw_path.to_ascii_lowercase();
    if lower.contains("%2f") || lower.contains("%5c") || raw_path.contains('\\') {
        return true;
    }
    raw_path.split('/').any(|segment| {
        let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
        decoded == "." || decoded == ".."
    })
}

/// API Gateway's own error bodies: `{"message": …}`.
pub(super) fn gateway_error(status: StatusCode, message: Option<&str>) -> Response {
    (status, axum::Json(json!({ "message": message }))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_segments_and_encoded_separators_are_ambiguous() {
        for path in [
            "/books/../admin/keys",
            "/books/%2e%2e/admin/keys",
            "/books/%2E%2e",
            "/books/.",
            "/books/%2E",
            "/books%2fx",
            "/books/a%2Fb",
            "/books/a%5cb",
            "/books/a\\b",
        ] {
            assert!(ambiguous_path(path), "{path}");
        }
        for path in [
            "/books",
            "/books/01ARZ3NDEKTSV4RRFFQ69G5FAV",
            "/books/a..b",
            "/.well-known/jwks.json",
        ] {
            assert!(!ambiguous_path(path), "{path}");
        }
    }
}

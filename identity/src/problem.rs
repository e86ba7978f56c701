//! RFC 9457 problem details: every error answer of the issuer and the books
//! API, as `application/problem+json`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An `application/problem+json` answer. `detail` never carries internals
/// (no store errors, no stack traces): those go to the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The problem type: `about:blank`, or `about:blank#…` naming the kind.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The status's reason phrase.
    pub title: &'static str,
    /// The HTTP status, repeated in the body (RFC 9457 §3.1.4).
    pub status: u16,
    /// What went wrong, for a person.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The offending request member, for validation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Sent as `Retry-After`, not in the body.
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl Problem {
    /// A problem of `kind` with `title`, answered with `status`.
    pub fn new(status: StatusCode, kind: &'static str, title: &'static str) -> Self {
        Self {
            kind,
            title,
            status: status.as_u16(),
            detail: None,
            field: None,
            retry_after: None,
        }
    }

    /// A problem with no type of its own (`about:blank`): the status and
    /// its reason phrase say it all, `detail` the rest.
    pub fn plain(status: StatusCode, detail: impl Into<String>) -> Self {
        let title = status.canonical_reason().unwrap_or("Error");
        Self::new(status, "about:blank", title).with_detail(detail)
    }

    /// With `detail`.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Naming the offending request member.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// Telling the client when to retry.
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// 400: the request cannot be read.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "about:blank#bad-request",
            "Bad Request",
        )
        .with_detail(detail)
    }

    /// 403: the caller may not do this.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "about:blank#forbidden", "Forbidden").with_detail(detail)
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "about:blank#not-found", "Not Found").with_detail(detail)
    }

    /// 405.
    pub fn method_not_allowed(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "about:blank#method-not-allowed",
            "Method Not Allowed",
        )
        .with_detail(detail)
    }

    /// 409: the change lost to others.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "about:blank#conflict", "Conflict").with_detail(detail)
    }

    /// 412: `If-Match` names no current version.
    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            "about:blank#precondition-failed",
            "Precondition Failed",
        )
        .with_detail(detail)
    }

    /// 413: the body is over `limit` bytes.
    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "about:blank#payload-too-large",
            "Payload Too Large",
        )
        .with_detail(format!("request bodies are limited to {limit} bytes"))
    }

    /// 415: only JSON is taken.
    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "about:blank#unsupported-media-type",
            "Unsupported Media Type",
        )
        .with_detail("send application/json")
    }

    /// 422: `field` breaks a rule.
    pub fn unprocessable(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "about:blank#validation",
            "Validation Failed",
        )
        .with_field(field)
        .with_detail(detail)
    }

    /// 503, retry in a second.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "about:blank#unavailable",
            "Service Unavailable",
        )
        .with_detail(detail)
        .with_retry_after(1)
    }

    /// 500, with nothing of the cause (the log has it).
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "about:blank#internal",
            "Internal Server Error",
        )
    }

    /// The status to answer with.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self).unwrap_or_else(|_| b"{}".to_vec());
        let mut response = (self.status(), body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_body_is_rfc9457_and_retry_after_a_header() {
        let response = Problem::unavailable("busy").into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        assert_eq!(
            std::str::from_utf8(&body).unwrap(),
            r#"{"type":"about:blank#unavailable","title":"Service Unavailable","status":503,"detail":"busy"}"#
        );
        let plain = Problem::plain(StatusCode::TOO_MANY_REQUESTS, "later");
        assert_eq!(
            (plain.kind, plain.title),
            ("about:blank", "Too Many Requests")
        );
    }
}

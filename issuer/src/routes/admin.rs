//! The administration routes' own check of the caller's scope.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use identity::{Caller, Problem};

/// The scope the admin routes require (checked by the authorizer in front
/// and again here).
pub const ADMIN_SCOPE: &str = "keys:admin";

/// The admin routes need `keys:admin` in the request context (no context
/// at all fails closed earlier, as 401): the refusal, if any.
pub(super) fn refusal_unless_admin(caller: &Caller) -> Option<Response> {
    (!caller.has_scope(ADMIN_SCOPE)).then(|| {
        Problem::plain(StatusCode::FORBIDDEN, "this needs the keys:admin scope").into_response()
    })
}

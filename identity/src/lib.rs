//! What a service behind API Gateway and a Tollgate authorizer needs from
//! its requests and for its errors: who is calling ([`Caller`], read only
//! from the authorizer's context: the REST flat map or the HTTP API
//! `lambda` map, never from a header a client can set), the stage to strip
//! from the path ([`strip_stage`]), and RFC 9457 problem answers
//! ([`Problem`]) — one shape for every error of the issuer and the books API.
//!
//! ```
//! use axum::http::StatusCode;
//! use axum::response::IntoResponse;
//! use identity::Problem;
//!
//! let response = Problem::unprocessable("title", "title is required").into_response();
//! assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
//! assert_eq!(response.headers()["content-type"], "application/problem+json");
//! ```

#![deny(missing_docs)]

mod caller;
mod problem;

pub use caller::{path_prefix, source_ip, strip_stage, Caller, MissingIdentity};
pub use problem::Problem;

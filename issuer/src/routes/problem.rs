//! A failed key or token status operation as its problem+json answer.

use axum::http::StatusCode;
use identity::Problem;

use crate::error::ServiceError;

/// The answer for a failed key operation: the cause is logged, never sent.
impl From<ServiceError> for Problem {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Conflict => Problem::plain(
                StatusCode::CONFLICT,
                "the keyset changed concurrently; retry",
            ),
            ServiceError::UnknownKid(_) => Problem::plain(StatusCode::NOT_FOUND, "no such key"),
            ServiceError::NoTokenStatus => Problem::plain(
                StatusCode::NOT_IMPLEMENTED,
                "this issuer keeps no token status (set STATUS_TABLE or STATUS_FILE)",
            ),
            ServiceError::RotationTooSoon { retry_after } => {
                let seconds = retry_after.as_secs().max(1);
                Problem::plain(
                    StatusCode::TOO_MANY_REQUESTS,
                    format!(
                        "the next key was published too recently: warm authorizers may not hold \
                         it yet. Rotate again in {seconds} s; to take a compromised key out now, \
                         revoke it"
                    ),
                )
                .with_retry_after(seconds)
            }
            other => {
                // The message names the failing store, never key material.
                tracing::error!(error = %other, "issuer failure");
                Problem::plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the issuer could not complete the request",
                )
            }
        }
    }
}

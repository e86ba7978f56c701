//! Why an issuer call failed: a login, or a key or token status operation.

use std::time::Duration;

use dpop::ProofError;

use crate::accounts::AccountStoreError;
use crate::keys::{KeySetError, KeyStoreError};
use crate::status::{ListTokenError, StatusStoreError};

/// Why a login failed. Unknown names, wrong secrets and disabled accounts
/// are all `InvalidCredentials`: callers can't tell them apart.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown name, wrong secret or disabled account (400/401).
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Too many recent failures for this name; retry after the duration (429).
    #[error("too many failed attempts")]
    Throttled(Duration),
    /// Too many logins are waiting for a secret check (503).
    #[error("too many logins in progress")]
    Busy,
    /// The request asked for a scope the account was not granted.
    #[error("requested scope exceeds what is granted")]
    InvalidScope,
    /// The keys or accounts could not be read (500).
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// The DPoP proof was refused, or a DPoP-only account sent none
    /// (RFC 9449 §5: `invalid_dpop_proof`).
    #[error("DPoP proof refused: {0}")]
    DpopProof(#[from] ProofError),
}

/// Why a key operation or token signing failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Another rotation or revocation won the race: retry (409).
    #[error("the keyset changed concurrently")]
    Conflict,
    /// No key with that `kid` to revoke (404).
    #[error("no key {0}")]
    UnknownKid(String),
    /// The `next` key is younger than the rotation spacing: activating it
    /// now would meet warm authorizers that have not fetched it yet.
    #[error(
        "the next key was published too recently: warm authorizers may not hold it yet; \
         rotate again in {} s (revoke removes a compromised key at once)",
        retry_after.as_secs().max(1)
    )]
    RotationTooSoon {
        /// When the next key will be old enough.
        retry_after: Duration,
    },
    /// The key store failed; the message (logged, never sent) keeps its cause.
    #[error("key store: {0}")]
    Store(#[source] KeyStoreError),
    /// The keyset refused a change.
    #[error("keyset: {0}")]
    Keys(#[source] KeySetError),
    /// The account store failed.
    #[error("account store: {0}")]
    Accounts(#[from] AccountStoreError),
    /// The token status store failed.
    #[error("token status store: {0}")]
    Status(#[from] StatusStoreError),
    /// This issuer keeps no token status, so it cannot revoke single tokens.
    #[error("this issuer keeps no token status")]
    NoTokenStatus,
    /// The blocking task that changed the keyset (it generates keys) did
    /// not finish.
    #[error("keyset change task: {0}")]
    KeyTask(#[source] tokio::task::JoinError),
}

impl From<ListTokenError> for ServiceError {
    fn from(error: ListTokenError) -> Self {
        match error {
            ListTokenError::Store(error) => error.into(),
            ListTokenError::Keys(error) => error.into(),
        }
    }
}

impl From<KeyStoreError> for ServiceError {
    fn from(error: KeyStoreError) -> Self {
        match error {
            KeyStoreError::Conflict => ServiceError::Conflict,
            other => ServiceError::Store(other),
        }
    }
}

impl From<KeySetError> for ServiceError {
    fn from(error: KeySetError) -> Self {
        match error {
            KeySetError::UnknownKid(kid) => ServiceError::UnknownKid(kid),
            other => ServiceError::Keys(other),
        }
    }
}

//! Why a token was refused. Each variant is a low-cardinality metric reason;
//! none carries token or key material, so errors are safe to log.

/// A verification failure. All of them answer API Gateway `Unauthorized`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// No `Authorization: Bearer` credential.
    #[error("no bearer token")]
    MissingToken,
    /// Over the token size limit.
    #[error("token larger than the size limit")]
    TokenTooLarge,
    /// Not three base64url segments of JSON.
    #[error("token is not a well-formed compact JWS")]
    Malformed,
    /// `alg` is absent, `none`, `HS*` or unknown.
    #[error("token algorithm is not accepted")]
    UnsupportedAlgorithm,
    /// The header has `crit`.
    #[error("token header names a critical extension")]
    CriticalHeader,
    /// The header has no `kid`.
    #[error("token header has no kid")]
    MissingKid,
    /// `iss` is absent or not trusted.
    #[error("token issuer is not trusted")]
    UntrustedIssuer,
    /// The issuer's key set has no such `kid`.
    #[error("token kid is not in the issuer's key set")]
    UnknownKid,
    /// The issuer's key set publishes this `kid`, but its JWK was refused
    /// at intake (a weak, malformed or ambiguous key: `JwksKeysRefused`).
    #[error("token kid names a key the issuer publishes but the authorizer refused")]
    RefusedKey,
    /// The issuer's keys could not be fetched (and no usable set is held).
    #[error("issuer's key set is unavailable")]
    KeysUnavailable,
    /// The key is pinned to another algorithm.
    #[error("token algorithm does not match its key")]
    AlgorithmMismatch,
    /// The signature does not verify.
    #[error("token signature is invalid")]
    BadSignature,
    /// The claims are not an object of correctly typed claims.
    #[error("token claims are malformed")]
    InvalidClaims,
    /// `exp` is past (beyond the leeway).
    #[error("token has expired")]
    Expired,
    /// `nbf` is ahead (beyond the leeway).
    #[error("token is not yet valid")]
    NotYetValid,
    /// No accepted audience in `aud` (or `client_id`).
    #[error("token audience is not accepted")]
    BadAudience,
    /// No `sub`.
    #[error("token has no subject")]
    MissingSubject,
    /// `token_use` is not `access` (or `id` when allowed).
    #[error("token_use is not accepted (an id token, or an unknown use)")]
    WrongTokenUse,
    /// The header `typ` is not `JWT_REQUIRED_TYP`.
    #[error("token header typ is not the required type")]
    BadType,
    /// The `PRINCIPAL_CLAIM` is missing or not a string.
    #[error("token has no usable principal claim")]
    MissingPrincipal,
    /// Its status list entry is not VALID (revoked, suspended, …).
    #[error("token has been revoked")]
    Revoked,
    /// Its status list could not be fetched, verified or read (or its URI
    /// is not its issuer's), and no usable copy is held: fail closed.
    #[error("token status is unavailable")]
    StatusUnavailable,
    /// `STATUS_LIST_CHECK=required` and the token names no status list.
    #[error("token names no status list")]
    MissingStatus,
}

impl VerifyError {
    /// The metric reason: stable snake_case names.
    pub fn reason(self) -> &'static str {
        match self {
            VerifyError::MissingToken => "missing_token",
            VerifyError::TokenTooLarge => "token_too_large",
            VerifyError::Malformed => "malformed",
            VerifyError::UnsupportedAlgorithm => "unsupported_alg",
            VerifyError::CriticalHeader => "crit_header",
            VerifyError::MissingKid => "missing_kid",
            VerifyError::UntrustedIssuer => "untrusted_issuer",
            VerifyError::UnknownKid => "unknown_kid",
            VerifyError::RefusedKey => "refused_key",
            VerifyError::KeysUnavailable => "keys_unavailable",
            VerifyError::AlgorithmMismatch => "alg_mismatch",
            VerifyError::BadSignature => "bad_signature",
            VerifyError::InvalidClaims => "invalid_claims",
            VerifyError::Expired => "expired",
            VerifyError::NotYetValid => "not_yet_valid",
            VerifyError::BadAudience => "bad_audience",
            VerifyError::MissingSubject => "missing_subject",
            VerifyError::WrongTokenUse => "wrong_token_use",
            VerifyError::BadType => "bad_typ",
            VerifyError::MissingPrincipal => "missing_principal",
            VerifyError::Revoked => "revoked",
            VerifyError::StatusUnavailable => "status_unavailable",
            VerifyError::MissingStatus => "missing_status",
        }
    }
}

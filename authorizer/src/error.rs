//! Why a token was refused. Each variant is a low-cardinality metric reason;
//! none carries token or key material, so errors are safe to log.

/// A verification failure. All of them answer API Gateway `Unauthorized`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("no bearer token")]
    MissingToken,
    #[error("token larger than the size limit")]
    TokenTooLarge,
    #[error("token is not a well-formed compact JWS")]
    Malformed,
    #[error("token algorithm is not accepted")]
    UnsupportedAlgorithm,
    #[error("token header names a critical extension")]
    CriticalHeader,
    #[error("token header has no kid")]
    MissingKid,
    #[error("token issuer is not trusted")]
    UntrustedIssuer,
    #[error("token kid is not in the issuer's key set")]
    UnknownKid,
    #[error("issuer's key set is unavailable")]
    KeysUnavailable,
    #[error("token algorithm does not match its key")]
    AlgorithmMismatch,
    #[error("token signature is invalid")]
    BadSignature,
    #[error("token claims are malformed")]
    InvalidClaims,
    #[error("token has expired")]
    Expired,
    #[error("token is not yet valid")]
    NotYetValid,
    #[error("token audience is not accepted")]
    BadAudience,
    #[error("token has no subject")]
    MissingSubject,
    #[error("token_use is not accepted (an id token, or an unknown use)")]
    WrongTokenUse,
    #[error("token header typ is not the required type")]
    BadType,
    #[error("token has no usable principal claim")]
    MissingPrincipal,
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
        }
    }
}

//! Why a DPoP proof was refused: one reason per check, as the authorizer's
//! logs, metrics and `tollgate explain` name it.

/// A refused proof. None of them carries the proof, a key or a token, so
/// they are safe to log.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// No `DPoP` header where one is needed.
    #[error("no DPoP proof")]
    Missing,
    /// Not a well-formed, well-signed proof: the header field (more than
    /// one), the JWS, `typ`, `alg`, `jwk`, the signature or a claim's type.
    #[error("DPoP proof is invalid: {0}")]
    Invalid(String),
    /// `htm` is not the request's method.
    #[error("DPoP proof htm is not the request method")]
    Method,
    /// `htu` is not the request's URI.
    #[error("DPoP proof htu is not the request URI")]
    Uri,
    /// `ath` is not the hash of the access token presented with it.
    #[error("DPoP proof ath does not match the access token")]
    AccessTokenHash,
    /// `iat` is outside the accepted window.
    #[error("DPoP proof is too old or from the future")]
    Stale,
    /// Its `jti` was seen before, within the window.
    #[error("DPoP proof was used before")]
    Replay,
    /// The replay store could not be asked: fail closed.
    #[error("DPoP replay store unavailable: {0}")]
    ReplayStore(String),
    /// The proof's key is not the one the token is bound to (`cnf.jkt`).
    #[error("DPoP proof key is not the token's")]
    Binding,
}

impl ProofError {
    /// The metric reason: stable snake_case names.
    pub fn reason(&self) -> &'static str {
        match self {
            ProofError::Missing => "dpop_missing",
            ProofError::Invalid(_) => "dpop_invalid",
            ProofError::Method => "dpop_htm",
            ProofError::Uri => "dpop_htu",
            ProofError::AccessTokenHash => "dpop_ath",
            ProofError::Stale => "dpop_stale",
            ProofError::Replay => "dpop_replay",
            ProofError::ReplayStore(_) => "dpop_replay_unavailable",
            ProofError::Binding => "dpop_binding",
        }
    }

    pub(crate) fn invalid(why: impl Into<String>) -> Self {
        ProofError::Invalid(why.into())
    }
}

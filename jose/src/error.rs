//! Why a JWK is refused: one variant per rule, each with a stable metric
//! reason ([`JwkError::reason`]) and a message that names what was seen
//! (`tollgate explain` prints it as "key K refused: …").

use crate::jwk::{MAX_RSA_BITS, MIN_RSA_BITS};

/// Why one JWK was not usable. The rest of its set still loads.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwkError {
    /// No `kid`.
    #[error("JWK has no kid")]
    MissingKid,
    /// `use` is not `sig`.
    #[error("JWK use is {0:?}, not \"sig\"")]
    NotForSignatures(String),
    /// `key_ops` does not say "verify signatures, nothing else but sign".
    #[error("JWK key_ops {0}")]
    KeyOperations(String),
    /// Private members (`d`, `p`, …) are present.
    #[error("JWK carries private key members")]
    PrivateMembers,
    /// A key type or curve we do not verify with.
    #[error("JWK kty/crv {0} is not supported")]
    UnsupportedKeyType(String),
    /// An `alg` we do not verify.
    #[error("JWK alg {0} is not supported")]
    UnsupportedAlgorithm(String),
    /// `alg` names another key type or curve than `kty`/`crv`.
    #[error("JWK alg {alg} does not fit {key}")]
    AlgorithmKeyMismatch {
        /// The `alg` named.
        alg: &'static str,
        /// What it was checked against: the key type, or another `alg`.
        key: String,
    },
    /// `kty` and `crv` do not agree (a curve on an RSA key, an EdDSA
    /// curve under `EC`, a NIST curve under `OKP`).
    #[error("JWK kty {kty} does not take crv {crv}")]
    CurveKeyTypeMismatch {
        /// The JWK's `kty`.
        kty: String,
        /// The JWK's `crv`.
        crv: String,
    },
    /// An RSA modulus outside the accepted sizes.
    #[error("{}", rsa_size(*.0))]
    RsaKeySize(usize),
    /// An RSA modulus that no RSA key has: even, or with a small factor.
    #[error("RSA modulus {0}")]
    RsaModulus(String),
    /// An RSA public exponent outside the accepted ones.
    #[error("RSA exponent {0}")]
    RsaExponent(String),
    /// The modulus has the fingerprint of Infineon's weak key generation
    /// (ROCA, CVE-2017-15361): its private key can be computed.
    #[error("RSA modulus has the ROCA fingerprint (CVE-2017-15361)")]
    Roca,
    /// The EC point is not on the named curve (or a coordinate is not
    /// below the field prime).
    #[error("EC point is not on the curve {0}")]
    NotOnCurve(&'static str),
    /// An Ed25519 public key that is a point of small order, or a
    /// non-canonical encoding: signatures under it can be forged.
    #[error("Ed25519 public key is {0}")]
    WeakPoint(&'static str),
    /// A member is missing or not base64url.
    #[error("JWK member {0} is missing or not base64url")]
    BadMember(&'static str),
    /// Not a JSON object of JWK members.
    #[error("not a JWK object")]
    NotAnObject,
    /// The same `kid` names different keys in one set: which one a token
    /// means is ambiguous, so none of them is used.
    #[error("kid appears {0} times in the set with different key material")]
    DuplicateKid(usize),
    /// aws-lc-rs refused the key material, or the JSON does not read as a
    /// JWK (a member of the wrong type).
    #[error("JWK key material was rejected: {0}")]
    Rejected(String),
}

fn rsa_size(bits: usize) -> String {
    if bits < MIN_RSA_BITS {
        format!("RSA modulus {bits} bits < {MIN_RSA_BITS}")
    } else {
        format!("RSA modulus {bits} bits > {MAX_RSA_BITS}")
    }
}

impl JwkError {
    /// The metric reason (`JwksKeysRefused` by `Reason`): stable snake_case
    /// names, one per rule.
    pub fn reason(&self) -> &'static str {
        match self {
            JwkError::MissingKid => "no_kid",
            JwkError::NotForSignatures(_) | JwkError::KeyOperations(_) => "not_for_signatures",
            JwkError::PrivateMembers => "private_members",
            JwkError::UnsupportedKeyType(_) => "unsupported_key_type",
            JwkError::UnsupportedAlgorithm(_) => "unsupported_key_alg",
            JwkError::AlgorithmKeyMismatch { .. } | JwkError::CurveKeyTypeMismatch { .. } => {
                "type_mismatch"
            }
            JwkError::RsaKeySize(_) => "rsa_modulus_size",
            JwkError::RsaModulus(_) => "rsa_modulus",
            JwkError::RsaExponent(_) => "rsa_exponent",
            JwkError::Roca => "roca",
            JwkError::NotOnCurve(_) => "not_on_curve",
            JwkError::WeakPoint(_) => "weak_point",
            JwkError::BadMember(_) => "bad_member",
            JwkError::NotAnObject => "not_a_jwk",
            JwkError::DuplicateKid(_) => "duplicate_kid",
            JwkError::Rejected(_) => "rejected",
        }
    }
}

//! The signature algorithms Tollgate verifies, and the aws-lc-rs primitive
//! behind each.
//!
//! `none` and the `HS*` family are deliberately absent: a public-key
//! authorizer must never accept a token whose "signature" is keyed with
//! something public.

use aws_lc_rs::signature::{self, VerificationAlgorithm};

/// A JWS `alg` this authorizer accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
    /// Ed25519.
    EdDSA,
}

/// The key type an algorithm needs, used to pin a JWK that names no `alg`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyFamily {
    /// RSA (`kty` `RSA`), 2048 to 8192 bits.
    Rsa,
    /// ECDSA on P-256 (`kty` `EC`, `crv` `P-256`).
    EcP256,
    /// ECDSA on P-384 (`kty` `EC`, `crv` `P-384`).
    EcP384,
    /// Ed25519 (`kty` `OKP`, `crv` `Ed25519`).
    Ed25519,
}

impl Algorithm {
    /// Every accepted algorithm, for iteration in tests and key pinning.
    pub const ALL: [Algorithm; 9] = [
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ];

    /// Parses a JWS `alg` name; `None` for anything not accepted (`none`, `HS*`, unknown).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "RS256" => Algorithm::RS256,
            "RS384" => Algorithm::RS384,
            "RS512" => Algorithm::RS512,
            "PS256" => Algorithm::PS256,
            "PS384" => Algorithm::PS384,
            "PS512" => Algorithm::PS512,
            "ES256" => Algorithm::ES256,
            "ES384" => Algorithm::ES384,
            "EdDSA" => Algorithm::EdDSA,
            _ => return None,
        })
    }

    /// The JWS `alg` name.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::RS256 => "RS256",
            Algorithm::RS384 => "RS384",
            Algorithm::RS512 => "RS512",
            Algorithm::PS256 => "PS256",
            Algorithm::PS384 => "PS384",
            Algorithm::PS512 => "PS512",
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
            Algorithm::EdDSA => "EdDSA",
        }
    }

    /// The key type this algorithm needs.
    pub fn family(self) -> KeyFamily {
        match self {
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => KeyFamily::Rsa,
            Algorithm::ES256 => KeyFamily::EcP256,
            Algorithm::ES384 => KeyFamily::EcP384,
            Algorithm::EdDSA => KeyFamily::Ed25519,
        }
    }

    /// The aws-lc-rs verification primitive. RSA keys are limited to
    /// 2048–8192 bits here as well as at JWK parsing; ECDSA signatures are
    /// the fixed-width `r || s` that JWS uses, not DER.
    pub(crate) fn verification(self) -> &'static dyn VerificationAlgorithm {
        if let Some(rsa) = self.rsa_parameters() {
            return rsa;
        }
        match self {
            Algorithm::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
            Algorithm::ES384 => &signature::ECDSA_P384_SHA384_FIXED,
            // Only EdDSA is left once the RSA family is handled above.
            _ => &signature::ED25519,
        }
    }

    /// The RSA parameters for RSA algorithms (needed to parse from `n`/`e`).
    pub(crate) fn rsa_parameters(self) -> Option<&'static signature::RsaParameters> {
        Some(match self {
            Algorithm::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            Algorithm::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
            Algorithm::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
            Algorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
            Algorithm::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
            Algorithm::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
            _ => return None,
        })
    }
}

impl KeyFamily {
    /// The one algorithm a key of this family is pinned to when its JWK
    /// names no `alg` (RFC 8725 §3.1: one key, one algorithm): RS256 for RSA
    /// (what every common IdP signs with), ES256/ES384 by curve, EdDSA.
    pub fn default_algorithm(self) -> Algorithm {
        match self {
            KeyFamily::Rsa => Algorithm::RS256,
            KeyFamily::EcP256 => Algorithm::ES256,
            KeyFamily::EcP384 => Algorithm::ES384,
            KeyFamily::Ed25519 => Algorithm::EdDSA,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unsafe_algs_are_refused() {
        for alg in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(alg.name()), Some(alg));
        }
        for refused in [
            "none", "None", "HS256", "HS384", "HS512", "rs256", "ES512", "",
        ] {
            assert_eq!(Algorithm::from_name(refused), None, "{refused}");
        }
    }

    #[test]
    fn each_family_defaults_to_one_algorithm_of_its_own() {
        for family in [
            KeyFamily::Rsa,
            KeyFamily::EcP256,
            KeyFamily::EcP384,
            KeyFamily::Ed25519,
        ] {
            assert_eq!(family.default_algorithm().family(), family);
        }
        assert_eq!(KeyFamily::Rsa.default_algorithm(), Algorithm::RS256);
    }
}

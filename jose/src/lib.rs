//! The JOSE pieces Tollgate verifies with, shared by the authorizer (access
//! tokens, JWKS, status lists) and by DPoP proof checks (the authorizer's
//! and the issuer's token endpoint): the accepted JWS [`Algorithm`]s, and
//! JWKs parsed once into aws-lc-rs keys pinned to one algorithm
//! ([`VerifyingKey`], [`JwkSet`]), each with its RFC 7638 thumbprint.
//!
//! ```
//! use jose::{Algorithm, VerifyingKey};
//!
//! let jwk = serde_json::json!({"kty": "EC", "crv": "P-256",
//!     "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
//!     "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"});
//! let key = VerifyingKey::from_public_jwk(&jwk, Some(Algorithm::ES256))?;
//! assert_eq!(key.algorithms().collect::<Vec<_>>(), [Algorithm::ES256]);
//! assert_eq!(key.thumbprint().len(), 43); // base64url of a SHA-256
//! # Ok::<(), jose::JwkError>(())
//! ```

#![deny(missing_docs)]

mod algorithm;
mod error;
mod hygiene;
mod jwk;

pub use algorithm::{Algorithm, KeyFamily};
pub use error::JwkError;
pub use hygiene::{has_roca_fingerprint, MAX_RSA_EXPONENT};
pub use jwk::{JwkSet, JwkSetError, SkippedJwk, VerifyingKey, MAX_RSA_BITS, MIN_RSA_BITS};

//! Tollgate issuer: login and token endpoint, signing with rotating keys kept
//! in Secrets Manager, JWKS publication and key rotation.
//!
//! Built so far: signing keys ([`signing_key`]) and the keyset lifecycle
//! ([`keyset`]). Still to come (issue "Issuer"): key stores, token minting,
//! login, routes and the rotation Lambda.

pub mod keyset;
pub mod signing_key;

pub use keyset::{KeyMetadata, KeySet, KeyState};
pub use signing_key::{PrivateKey, SigningAlg};

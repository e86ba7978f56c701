//! Tollgate issuer: login and token endpoint, signing with rotating keys kept
//! in Secrets Manager, JWKS publication and key rotation.
//!
//! Built so far: signing keys ([`signing_key`]), the keyset lifecycle
//! ([`keyset`]) and the file key store ([`store::file`]). Still to come
//! (issue "Issuer"): the Secrets Manager store, token minting, login,
//! routes and the rotation Lambda.

pub mod account_store;
pub mod accounts;
pub mod atomic_file;
pub mod config;
pub mod keyset;
pub mod metered_key_store;
pub mod metrics;
pub mod password;
pub mod rotation;
pub mod routes;
pub mod secret_check;
pub mod service;
pub mod signing_key;
pub mod store;
pub mod throttle;
pub mod tokens;

pub use keyset::{KeyMetadata, KeySet, KeyState};
pub use signing_key::{PrivateKey, SigningAlg};

//! Tollgate issuer: login and the token endpoint, signing with rotating keys
//! kept in Secrets Manager (or a local file), JWKS publication and key
//! rotation.
//!
//! A map of the crate:
//! - HTTP: [`routes`] (the axum router, run by the `issuer` bin and mounted
//!   by the local stack) over [`service`] (behaviour independent of HTTP).
//! - Tokens and keys: [`tokens`] mints RFC 9068 access tokens with a
//!   [`signing_key`]; [`keyset`] is the next → active → previous lifecycle;
//!   [`rotation`] runs Secrets Manager's four rotation steps (the
//!   `issuer-rotation` bin).
//! - Login: [`accounts`] (users and OAuth clients), [`password`] hashing,
//!   [`secret_check`] (argon2 off the async threads) and [`throttle`].
//! - Stores: [`store`] (keysets: [`store::file`], [`store::secrets_manager`],
//!   wrapped by [`metered_key_store`]), the account stores in [`accounts`],
//!   [`atomic_file`] for the local files, and [`stores`], the one place both
//!   are chosen from the environment.
//! - Settings and telemetry: [`config`] and [`metrics`].

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
pub mod stores;
pub mod throttle;
pub mod tokens;

pub use keyset::{KeyMetadata, KeySet, KeyState};
pub use signing_key::{PrivateKey, SigningAlg};

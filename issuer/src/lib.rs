//! Tollgate issuer: login and the token endpoint, signing with rotating keys
//! kept in Secrets Manager (or a local file), JWKS publication and key
//! rotation.
//!
//! A map of the crate:
//! - HTTP: [`routes`] (the axum router, run by the `issuer` bin and mounted
//!   by the local stack) over [`service`] (behaviour independent of HTTP).
//! - Tokens and keys: [`tokens`] mints RFC 9068 access tokens with a
//!   [`keys::signing_key`]; [`keys::keyset`] is the next → active →
//!   previous lifecycle;
//!   [`rotation`] runs Secrets Manager's four rotation steps (the
//!   `issuer-rotation` bin).
//! - Login: [`accounts`] (users and OAuth clients), [`password`] hashing,
//!   [`secret_check`] (argon2 off the async threads) and [`throttle`].
//! - Stores: [`keys`] (the keyset, signing keys and their stores:
//!   [`keys::file`], [`keys::secrets_manager`], wrapped by [`keys::metered`]),
//!   the account stores in [`accounts`],
//!   [`atomic_file`] for the local files, and [`stores`], the one place both
//!   are chosen from the environment.
//! - Settings and telemetry: [`config`] and [`metrics`].

pub mod accounts;
pub mod atomic_file;
pub mod config;
pub mod keys;
pub mod metrics;
pub mod password;
pub mod rotation;
pub mod routes;
pub mod secret_check;
pub mod service;
pub mod stores;
pub mod throttle;
pub mod tokens;

pub use keys::keyset::{KeyMetadata, KeySet, KeyState};
pub use keys::signing_key::{PrivateKey, SigningAlg};

//! Tollgate's issuer: it logs users and OAuth clients in, signs RFC 9068
//! access tokens with rotating keys, and publishes the keys that verify
//! them. The `issuer` Lambda serves [`router`]; the `issuer-rotation`
//! Lambda runs [`run_step`] for Secrets Manager; the `tollgate` local stack
//! mounts the same router over file stores.
//!
//! A map of the crate, from the outside in:
//! - **HTTP**: [`router`] (`/token`, `/login`, JWKS, discovery, key
//!   administration) over [`IssuerService`], which holds the behaviour and
//!   knows nothing of HTTP.
//! - **Keys**: [`keys`] holds the [`KeySet`] (next → active → previous, so
//!   a key is published before it signs and after it stops), its
//!   [`SigningAlg`]s and the [`keys::KeyStore`]s: a local file, or the
//!   Secrets Manager secret whose four-step rotation is [`run_step`]. Every
//!   store saves with optimistic concurrency: of two racing rotations one
//!   wins, the other gets a conflict.
//! - **Token status**: [`status`] gives every token an entry in a status
//!   list (draft-ietf-oauth-status-list), revokes single tokens or every
//!   token of a subject, and signs the lists relying parties fetch.
//! - **Accounts**: [`accounts`] (users and clients with argon2id secrets,
//!   in a file or DynamoDB); logins are throttled per name and address and
//!   their secret checks run off the async threads.
//! - **Set-up**: [`IssuerConfig`] and [`RotationConfig`] read the
//!   environment; [`Stores`] chooses both stores from it, in one place for
//!   both bins and the local stack; [`IssuerMetrics`] and
//!   [`RotationMetrics`] record through `telemetry`.
//!
//! A token from file stores, end to end:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use issuer::accounts::{Account, AccountKind, AccountStore, FileAccountStore};
//! use issuer::keys::FileKeyStore;
//! use issuer::{IssuerConfig, IssuerService};
//!
//! let dir = std::env::temp_dir().join(format!("issuer-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let accounts = Arc::new(FileAccountStore::new(dir.join("users.json")));
//! accounts
//!     .put(&Account::new(AccountKind::User, "ada", "correct horse", "books:read")?)
//!     .await?;
//! let config = IssuerConfig::from_lookup(|name| match name {
//!     "JWT_ISSUER" => Some("https://issuer.example".to_owned()),
//!     "JWT_AUDIENCE" => Some("books-api".to_owned()),
//!     "SIGNING_ALG" => Some("ES256".to_owned()),
//!     _ => None,
//! })?;
//! let keys = Arc::new(FileKeyStore::new(dir.join("keyset.json")));
//! let service = IssuerService::new(config, keys, accounts);
//! let token = service
//!     .login(AccountKind::User, "ada", "correct horse", None, None)
//!     .await?;
//! assert_eq!(token.scope, "books:read");
//! assert_eq!(token.access_token.split('.').count(), 3);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(())
//! # }
//! ```

#![deny(missing_docs)]

pub mod accounts;
pub mod atomic_file;
mod config;
mod error;
pub mod keys;
mod metrics;
mod password;
mod revocations;
mod rotation;
mod routes;
mod secret_check;
mod service;
pub mod status;
mod stores;
mod throttle;
mod tokens;

pub use config::{
    ConfigError, IssuerConfig, RotationConfig, StoreLocation, DEFAULT_JWKS_MAX_AGE,
    DEFAULT_KEYSET_TTL, DEFAULT_STATUS_LIST_MAX_AGE, MAX_JWKS_MAX_AGE_SECONDS,
    MAX_STATUS_LIST_MAX_AGE_SECONDS, MAX_TOKEN_TTL_SECONDS,
};
pub use error::{LoginError, ServiceError};
pub use keys::{KeyMetadata, KeySet, KeyState, PrivateKey, SigningAlg};
pub use metrics::{IssuerMetrics, KeyChange, RotationMetrics};
pub use password::{hash_secret, HashError};
pub use revocations::{Revocation, RevocationListener, Revoked, RevokedEntry, Revoker};
pub use rotation::{run_step, RotationError, Step};
pub use routes::{router, ADMIN_SCOPE};
pub use service::IssuerService;
pub use stores::{
    account_store, key_store, secrets_manager_key_store, status_store, Stores, KEYSET_FILE_NAME,
    STATUS_FILE_NAME, USERS_FILE_NAME,
};
pub use throttle::{NAME_LIMIT, PAIR_LIMIT, WINDOW};
pub use tokens::IssuedToken;

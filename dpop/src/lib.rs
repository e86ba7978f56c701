//! DPoP (RFC 9449): sender-constrained tokens. A client proves on every
//! request that it holds the private key its access token is bound to
//! (`cnf.jkt`), with a fresh signed proof in the `DPoP` header that names
//! the request's method and URI and, at a resource, the token's hash.
//!
//! Shared by the authorizer (resource requests) and the issuer's token
//! endpoint, so both apply the same checks:
//! - [`ProofReader`] (`proof`): the JWS, `typ`, `alg`, the header's public
//!   `jwk` and the signature;
//! - [`ProofChecker`] (`check`): §4.3's checks against the request
//!   ([`ProofRequest`]): `htm`, `htu` (normalized by `htu`), `iat`, `ath`,
//!   the binding, then the replay store;
//! - [`ReplayStore`] (`replay`): in memory ([`MemoryReplayStore`]) or a
//!   DynamoDB table shared by every instance ([`DynamoReplayStore`],
//!   `dynamo`).
//!
//! Each refusal is a [`ProofError`] with its own metric reason;
//! [`DpopSettings`] reads the settings both share.

#![deny(missing_docs)]

mod check;
mod dynamo;
mod error;
pub mod htu;
mod proof;
mod replay;
mod settings;

pub use check::{access_token_hash, ProofChecker, ProofRequest, CLOCK_SKEW_SECONDS};
pub use dynamo::DynamoReplayStore;
pub use error::ProofError;
pub use proof::{Proof, ProofReader, MAX_JTI_BYTES, MAX_PROOF_BYTES};
pub use replay::{MemoryReplayStore, ReplayStore, ReplayStoreError, MEMORY_STORE_CAPACITY};
pub use settings::{DpopSettings, DpopSettingsError, DEFAULT_ALGORITHMS, DEFAULT_MAX_AGE_SECONDS};

//! The `tollgate` package: the local stack (a gateway with API Gateway's
//! REST semantics in front of the issuer and books routers) and the
//! administration commands behind the `tollgate` CLI.
//!
//! A map of the package:
//! - [`local_stack`]: the data directory, the stores, first start, and
//!   starting the whole stack on one loopback address;
//! - `gateway`: API Gateway's REST semantics over the demo API's route
//!   table (authorizer event and cache, [`policy_eval`], the request
//!   context); a running stack exposes its [`Gateway`];
//! - [`authorizer_backend`]: where the authorizer runs, in process or as a
//!   Lambda function process (the `lambda-host` crate), configured by
//!   [`lambda_mode_args`];
//! - `store_watch`: a running stack noticing key changes and token
//!   revocations made beside it;
//! - [`explain`]: `tollgate explain`, why a token is accepted or refused;
//! - [`dpop_key`]: a client's DPoP key and the proofs it signs;
//! - [`log_batch`]: the stack's log lines, written to stderr in batches.
//!
//! The CLI itself (`src/main.rs` and `src/commands/`) only parses and calls
//! into these modules.

#![deny(missing_docs)]

pub mod authorizer_backend;
pub mod dpop_key;
pub mod explain;
mod gateway;
pub mod lambda_mode_args;
pub mod local_stack;
pub mod log_batch;
mod store_watch;

pub use gateway::{policy_eval, Gateway};

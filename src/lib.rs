//! The `tollgate` package: the local stack (a gateway with API Gateway's
//! REST semantics in front of the issuer and books routers) and the
//! administration commands behind the `tollgate` CLI.
//!
//! A map of the package:
//! - [`local_stack`]: the data directory, the stores, first start, and
//!   starting the whole stack on one loopback address;
//! - `gateway` (its metrics in `gateway_metrics`) with [`policy_eval`]: API
//!   Gateway's REST semantics (authorizer event and cache, policy
//!   evaluation); a running stack exposes its [`Gateway`];
//! - [`authorizer_backend`]: where the authorizer runs, in process or as a
//!   Lambda function process (the `lambda-host` crate), configured by
//!   [`lambda_mode_args`];
//! - `store_watch`: a running stack noticing key changes and token
//!   revocations made beside it;
//! - [`explain`]: `tollgate explain`, why a token is accepted or refused;
//! - [`log_batch`]: the stack's log lines, written to stderr in batches.
//!
//! The CLI itself (`src/main.rs` and `src/commands/`) only parses and calls
//! into these modules.

#![deny(missing_docs)]

pub mod authorizer_backend;
pub mod explain;
mod gateway;
mod gateway_metrics;
pub mod lambda_mode_args;
pub mod local_stack;
pub mod log_batch;
pub mod policy_eval;
mod store_watch;

pub use gateway::Gateway;

//! The `tollgate` package: the local stack (a gateway with API Gateway's
//! REST semantics in front of the issuer and books routers) and the
//! administration commands behind the `tollgate` CLI.
//!
//! A map of the package:
//! - [`local_stack`]: the data directory, the stores, first start, and
//!   starting the whole stack on one loopback address;
//! - [`gateway`] with [`gateway_metrics`] and [`policy_eval`]: API Gateway's
//!   REST semantics (authorizer event and cache, policy evaluation);
//! - [`authorizer_backend`]: where the authorizer runs, in process or as a
//!   Lambda function process via [`lambda_host`] and [`runtime_api`]
//!   (configured by [`lambda_mode_args`]);
//! - [`keyset_watch`]: a running stack noticing key changes made beside it;
//! - [`explain`]: `tollgate explain`, why a token is accepted or refused.
//!
//! The CLI itself (`src/main.rs` and `src/commands/`) only parses and calls
//! into these modules.

#![deny(missing_docs)]

pub mod authorizer_backend;
pub mod explain;
pub mod gateway;
pub mod gateway_metrics;
pub mod keyset_watch;
pub mod lambda_host;
pub mod lambda_mode_args;
pub mod local_stack;
pub mod policy_eval;
pub mod runtime_api;

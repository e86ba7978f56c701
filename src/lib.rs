//! The `tollgate` package: the local stack (a gateway with API Gateway's
//! REST semantics in front of the issuer and books routers) and the
//! administration commands behind the `tollgate` CLI.

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

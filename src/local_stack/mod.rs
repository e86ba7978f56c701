//! The local stack: issuer, authorizer and books behind the gateway on one
//! loopback address, with embedded stores in the data directory (keys,
//! users and books survive a restart), or AWS's when configured. The
//! authorizer fetches the JWKS from the issuer over real loopback HTTP, as
//! it does on AWS.
//!
//! The map: `data_dir` (where state lives), `stores` (with `replay_dir`,
//! used DPoP proofs), `first_start` (the demo users), `issuer` and
//! `authorizer_config` (the two services as the stack configures them),
//! `start` (binding and wiring).

mod authorizer_config;
mod data_dir;
mod first_start;
mod issuer;
mod replay_dir;
mod start;
mod stores;

pub use authorizer_config::{authorizer_config, demo_route_table, public_base_urls};
pub use data_dir::DataDir;
pub use first_start::{first_start, FirstStart};
pub use issuer::{audiences, issuer_service, issuer_service_recording, AUDIENCE, KEYSET_POLL};
pub use replay_dir::DirectoryReplayStore;
pub use start::{start, start_in, RunningStack, StackOptions};
pub use stores::{identity_stores, Stores};

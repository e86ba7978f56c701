//! An authorizer as a deployment runs it, trusting one issuer on a
//! loopback [`Server`] that publishes the fixed keys' JWKS, built once per
//! fuzzing process and pre-warmed, with a runtime to drive it.

use std::collections::HashMap;
use std::sync::Arc;

use authorizer::{Authorizer, AuthorizerConfig, RouteScopes};

use crate::keys::issuer_jwks;
use crate::server::Server;

/// The `iss` every authorizer here trusts. Fixed, so that a token in a
/// corpus file means the same on every run; its keys and status lists are
/// fetched from the loopback server (`status_lists_served_at`, as the
/// local stack does).
pub const ISSUER: &str = "https://issuer.fuzz.test";
/// The audience every authorizer here accepts.
pub const AUDIENCE: &str = "books-api";
/// `JWT_LEEWAY_SECONDS` of every authorizer here.
pub const LEEWAY: u64 = 30;
/// Where the JWKS is served.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// A runtime (one thread: the fuzzer calls in one at a time) and a served
/// issuer.
pub struct Stack {
    /// Drives the authorizer's futures.
    pub runtime: tokio::runtime::Runtime,
    /// Serves the JWKS and whatever the target sets.
    pub server: Server,
}

impl Stack {
    /// A runtime and a server publishing the fixed JWKS.
    pub fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let server = Server::start();
        server.set(
            JWKS_PATH,
            "application/json",
            issuer_jwks().to_string().into_bytes(),
        );
        Self { runtime, server }
    }

    /// The issuer (`iss`).
    pub fn issuer(&self) -> String {
        ISSUER.to_owned()
    }

    /// An authorizer trusting [`Self::issuer`] with the demo API's route
    /// table, configured by `overrides` on top of the settings every
    /// target shares (keys fresh for a year, so that no input depends on
    /// when a refetch happens), pre-warmed.
    pub fn authorizer(&self, overrides: &[(&str, &str)]) -> Authorizer {
        let mut env: HashMap<String, String> = HashMap::from([
            ("JWT_ISSUER".to_owned(), self.issuer()),
            (
                "JWKS_URI".to_owned(),
                format!("{}{JWKS_PATH}", self.server.origin()),
            ),
            ("JWT_AUDIENCE".to_owned(), AUDIENCE.to_owned()),
            ("JWT_LEEWAY_SECONDS".to_owned(), LEEWAY.to_string()),
            ("JWKS_MAX_AGE_SECONDS".to_owned(), "31536000".to_owned()),
            (
                "JWKS_REFRESH_COOLDOWN_SECONDS".to_owned(),
                "31536000".to_owned(),
            ),
            ("DPOP_MODE".to_owned(), "off".to_owned()),
        ]);
        for (name, value) in overrides {
            env.insert((*name).to_owned(), (*value).to_owned());
        }
        let mut config =
            AuthorizerConfig::from_lookup(|name| env.get(name).cloned(), Some(routes().into()))
                .expect("authorizer settings");
        for issuer in &mut config.issuers {
            issuer.status_lists_served_at = Some(self.server.origin());
        }
        let authorizer =
            Authorizer::new(config, Arc::new(telemetry::DiscardSink)).expect("authorizer");
        let warmed = self.runtime.block_on(authorizer.prewarm());
        assert!(
            warmed.iter().all(|(_, result)| matches!(result, Ok(4))),
            "the fixed JWKS must load whole: {warmed:?}"
        );
        authorizer
    }
}

/// The demo API's route table, the authorizer binary's default.
pub fn routes() -> RouteScopes {
    let demo = api_routes::ApiRoutes::demo().expect("the demo route table");
    RouteScopes::from_json(&demo.route_scopes_json()).expect("the demo ROUTE_SCOPES")
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

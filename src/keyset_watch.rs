//! A running local stack notices keyset changes made beside it: `tollgate
//! keys revoke` (or `rotate`) on the same data directory writes the store,
//! not this process. Every [`crate::local_stack::KEYSET_POLL`] the stored
//! version is compared with the last one seen; on a change the issuer
//! re-reads the keyset (its JWKS no longer lists a revoked key), then the
//! gateway's authorizer refetches the JWKS and its answer cache is flushed
//! (in that order). A revocation done by the CLI therefore takes effect
//! within one poll interval plus one JWKS fetch.

use std::sync::Arc;
use std::time::Duration;

use issuer::keys::KeyStore;
use issuer::IssuerService;

use crate::gateway::Gateway;

/// Polls `keys` until the task is aborted.
pub async fn watch(
    keys: Arc<dyn KeyStore>,
    issuer: Arc<IssuerService>,
    gateway: Arc<Gateway>,
    mut seen_version: u64,
    every: Duration,
) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let version = match keys.load().await {
            Ok(Some(keyset)) => keyset.version,
            Ok(None) => continue,
            Err(error) => {
                tracing::warn!(%error, "keyset store unreadable; keeping the current keys");
                continue;
            }
        };
        if version == seen_version {
            continue;
        }
        if let Err(error) = issuer.reload().await {
            tracing::warn!(%error, "keyset reload failed; retrying at the next poll");
            continue;
        }
        gateway.refresh_keys().await;
        tracing::info!(
            from = seen_version,
            to = version,
            "keyset changed beside the stack: JWKS refetched, authorizer cache flushed"
        );
        seen_version = version;
    }
}

//! A running local stack notices changes made beside it: `tollgate keys
//! revoke` (or `rotate`), `tollgate token revoke` and `tollgate user
//! revoke-tokens` on the same data directory write the stores, not this
//! process. Every [`crate::local_stack::KEYSET_POLL`] the keyset version
//! and the token status revision are compared with the last ones seen.
//! On a keyset change the issuer re-reads the keyset (its JWKS no longer
//! lists a revoked key), then the gateway drops the key, refetches and
//! flushes its answer cache; on a status change the gateway's authorizer
//! fetches its status lists again and the answer cache is flushed. Either
//! takes effect within one poll interval plus one fetch.

use std::sync::Arc;
use std::time::Duration;

use issuer::keys::KeyStore;
use issuer::status::StatusStore;
use issuer::IssuerService;

use crate::gateway::Gateway;

/// The stores watched and what was last seen of them.
pub struct Watched {
    /// The keyset store.
    pub keys: Arc<dyn KeyStore>,
    /// The token status store.
    pub status: Arc<dyn StatusStore>,
    /// The keyset version in force.
    pub keyset_version: u64,
    /// The `kid`s it publishes.
    pub published: Vec<String>,
    /// The status revision in force.
    pub status_revision: u64,
}

/// Polls both stores until the task is aborted.
pub async fn watch(
    mut watched: Watched,
    issuer: Arc<IssuerService>,
    gateway: Arc<Gateway>,
    every: Duration,
) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        keyset_changed(&mut watched, &issuer, &gateway).await;
        status_changed(&mut watched, &gateway).await;
    }
}

async fn keyset_changed(watched: &mut Watched, issuer: &IssuerService, gateway: &Gateway) {
    let keyset = match watched.keys.load().await {
        Ok(Some(keyset)) => keyset,
        Ok(None) => return,
        Err(error) => {
            tracing::warn!(%error, "keyset store unreadable; keeping the current keys");
            return;
        }
    };
    if keyset.version == watched.keyset_version {
        return;
    }
    if let Err(error) = issuer.reload().await {
        tracing::warn!(%error, "keyset reload failed; retrying at the next poll");
        return;
    }
    // Keys no longer published (revoked, or retired past their grace) go
    // from the authorizer before anything else.
    let published = published_kids(&keyset);
    let gone: Vec<String> = watched
        .published
        .iter()
        .filter(|kid| !published.contains(kid))
        .cloned()
        .collect();
    gateway.keys_revoked(&gone).await;
    tracing::info!(
        from = watched.keyset_version,
        to = keyset.version,
        ?gone,
        "keyset changed beside the stack: keys gone dropped, JWKS refetched, authorizer cache flushed"
    );
    watched.keyset_version = keyset.version;
    watched.published = published;
}

/// The `kid`s a keyset publishes.
pub fn published_kids(keyset: &issuer::KeySet) -> Vec<String> {
    keyset.keys.iter().map(|key| key.kid.clone()).collect()
}

async fn status_changed(watched: &mut Watched, gateway: &Gateway) {
    let revision = match watched.status.revision().await {
        Ok(revision) => revision,
        Err(error) => {
            tracing::warn!(%error, "token status store unreadable; keeping the current lists");
            return;
        }
    };
    if revision == watched.status_revision {
        return;
    }
    gateway.tokens_revoked();
    tracing::info!(
        from = watched.status_revision,
        to = revision,
        "tokens revoked beside the stack: status lists due again, authorizer cache flushed"
    );
    watched.status_revision = revision;
}

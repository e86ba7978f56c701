//! A running local stack notices changes made beside it: `tollgate keys
//! revoke` (or `rotate`), `tollgate token revoke` and `tollgate user
//! revoke-tokens` on the same data directory write the stores, not this
//! process. Every [`crate::local_stack::KEYSET_POLL`] the keyset version
//! and the token status revision are compared with the last ones seen.
//! On a keyset change the issuer re-reads the keyset (its JWKS no longer
//! lists a revoked key), then the gateway drops the keys that left it and
//! the answers made with them; on a status change the entries revoked since
//! the last look are found, and the gateway refetches their lists and drops
//! their tokens' answers. Either takes effect within one poll interval plus
//! one fetch, and touches nothing else.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use environment::unix_now;
use issuer::keys::KeyStore;
use issuer::status::{StatusStore, StatusStoreError};
use issuer::{IssuerService, KeySet};

use crate::gateway::Gateway;
use crate::local_stack::Stores;

/// The revoked indices of each live status list.
type RevokedEntries = HashMap<u64, BTreeSet<u64>>;

/// The stores watched and what was last seen of them.
pub struct Watched {
    keys: Arc<dyn KeyStore>,
    status: Arc<dyn StatusStore>,
    /// The keyset version in force.
    keyset_version: u64,
    /// The `kid`s it publishes.
    published: Vec<String>,
    /// The status revision in force.
    status_revision: u64,
    /// What was revoked at that revision.
    revoked: RevokedEntries,
}

impl Watched {
    /// What the stack starts with: `keyset`, and the status at `status_revision`.
    pub async fn new(
        stores: &Stores,
        keyset: &KeySet,
        status_revision: u64,
    ) -> Result<Self, StatusStoreError> {
        Ok(Self {
            keys: Arc::clone(&stores.keys),
            status: Arc::clone(&stores.status),
            keyset_version: keyset.version,
            published: published_kids(keyset),
            status_revision,
            revoked: revoked_entries(stores.status.as_ref()).await?,
        })
    }
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
        status_changed(&mut watched, &issuer, &gateway).await;
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
        "keyset changed beside the stack: keys gone dropped with their cached answers, JWKS refetched"
    );
    watched.keyset_version = keyset.version;
    watched.published = published;
}

/// The `kid`s a keyset publishes.
fn published_kids(keyset: &KeySet) -> Vec<String> {
    keyset.keys.iter().map(|key| key.kid.clone()).collect()
}

async fn status_changed(watched: &mut Watched, issuer: &IssuerService, gateway: &Gateway) {
    let read = async {
        let revision = watched.status.revision().await?;
        if revision == watched.status_revision {
            return Ok(None);
        }
        Ok::<_, StatusStoreError>(Some((
            revision,
            revoked_entries(watched.status.as_ref()).await?,
        )))
    };
    let (revision, revoked) = match read.await {
        Ok(Some(changed)) => changed,
        Ok(None) => return,
        Err(error) => {
            tracing::warn!(%error, "token status store unreadable; keeping the current lists");
            return;
        }
    };
    let newly: Vec<(u64, u64)> = revoked
        .iter()
        .flat_map(|(list, entries)| {
            let seen = watched.revoked.get(list);
            entries
                .iter()
                .filter(move |idx| !seen.is_some_and(|seen| seen.contains(idx)))
                .map(move |idx| (*list, *idx))
        })
        .collect();
    if let Some(registry) = issuer.status() {
        let entries = newly
            .iter()
            .map(|(list, idx)| (registry.uri(*list), *idx))
            .collect();
        gateway.tokens_revoked(entries);
    }
    tracing::info!(
        from = watched.status_revision,
        to = revision,
        revoked = newly.len(),
        "tokens revoked beside the stack: their lists due again, their cached answers dropped"
    );
    watched.status_revision = revision;
    watched.revoked = revoked;
}

/// What each live list holds revoked now.
async fn revoked_entries(store: &dyn StatusStore) -> Result<RevokedEntries, StatusStoreError> {
    let mut entries = RevokedEntries::new();
    for list in store.live_lists(unix_now()).await? {
        if let Some(record) = store.list(list).await? {
            entries.insert(list, record.revoked.into_iter().collect());
        }
    }
    Ok(entries)
}

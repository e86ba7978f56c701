//! The issuer's token status, as the service uses it: an entry for each
//! token it mints, the record that lets it revoke by `jti` or subject, the
//! revocations themselves, and the signed lists it serves.

use std::sync::Arc;

use status_list::StatusReference;

use super::allocator::Allocator;
use super::list_token::{ListTokenRequest, ListTokens};
use super::{ListToken, Slot, StatusStore, StatusStoreError, TokenRecord};
use crate::keys::{KeySet, KeySetError};

/// How long after its `exp` a token may still be accepted somewhere (the
/// authorizer's largest `JWT_LEEWAY_SECONDS`), so how long it stays worth
/// revoking.
pub const REVOCABLE_PAST_EXP_SECONDS: u64 = 300;

/// Why a list token could not be served.
#[derive(Debug, thiserror::Error)]
pub enum ListTokenError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StatusStoreError),
    /// The keyset could not sign.
    #[error(transparent)]
    Keys(#[from] KeySetError),
}

/// Token status for one issuer.
pub struct StatusRegistry {
    store: Arc<dyn StatusStore>,
    allocator: Allocator,
    tokens: ListTokens,
    /// `{issuer}/statuslists`, the aggregation URI and every list URI's prefix.
    base: String,
    issuer: String,
    max_age_seconds: u64,
}

impl StatusRegistry {
    /// Status for tokens of `issuer`, kept in `store`, its lists cacheable
    /// for `max_age_seconds`.
    pub fn new(store: Arc<dyn StatusStore>, issuer: &str, max_age_seconds: u64) -> Self {
        Self {
            allocator: Allocator::new(Arc::clone(&store)),
            store,
            tokens: ListTokens::default(),
            base: format!("{}/statuslists", issuer.trim_end_matches('/')),
            issuer: issuer.to_owned(),
            max_age_seconds,
        }
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn StatusStore> {
        &self.store
    }

    /// How long a relying party may cache a list (`ttl`, `max-age`).
    pub fn max_age_seconds(&self) -> u64 {
        self.max_age_seconds
    }

    /// The Status List Aggregation URI (`GET /statuslists`).
    pub fn aggregation_uri(&self) -> &str {
        &self.base
    }

    /// The URI of list `list`.
    pub fn uri(&self, list: u64) -> String {
        format!("{}/{list}", self.base)
    }

    /// The list number of one of this issuer's list URIs.
    pub fn list_of(&self, uri: &str) -> Option<u64> {
        let number = uri.strip_prefix(&self.base)?.strip_prefix('/')?;
        // Canonical digits only: `/statuslists/01` is not list 1's URI.
        let list: u64 = number.parse().ok()?;
        (list.to_string() == number).then_some(list)
    }

    /// A fresh entry for a token expiring at `exp`, and the claim naming it.
    pub async fn assign(
        &self,
        exp: u64,
        now: u64,
    ) -> Result<(Slot, StatusReference), StatusStoreError> {
        let slot = self.allocator.allocate(exp, now).await?;
        let reference = StatusReference {
            idx: slot.idx,
            uri: self.uri(slot.list),
        };
        Ok((slot, reference))
    }

    /// Remembers a minted token, to revoke it by `jti` or subject later.
    pub async fn record(&self, token: &TokenRecord) -> Result<(), StatusStoreError> {
        self.store.record(token).await
    }

    /// Sets these entries to INVALID.
    pub async fn revoke(&self, slots: &[Slot]) -> Result<(), StatusStoreError> {
        self.store.revoke(slots).await
    }

    /// Revokes the token with `jti`; `None` if no such token is still worth revoking.
    pub async fn revoke_jti(
        &self,
        jti: &str,
        now: u64,
    ) -> Result<Option<TokenRecord>, StatusStoreError> {
        let cutoff = now.saturating_sub(REVOCABLE_PAST_EXP_SECONDS);
        let Some(token) = self.store.by_jti(jti, cutoff).await? else {
            return Ok(None);
        };
        self.store.revoke(&[token.slot]).await?;
        Ok(Some(token))
    }

    /// Revokes every token of `sub` still worth revoking; returns them.
    pub async fn revoke_subject(
        &self,
        sub: &str,
        now: u64,
    ) -> Result<Vec<TokenRecord>, StatusStoreError> {
        let cutoff = now.saturating_sub(REVOCABLE_PAST_EXP_SECONDS);
        let tokens = self.store.by_subject(sub, cutoff).await?;
        if !tokens.is_empty() {
            let slots: Vec<Slot> = tokens.iter().map(|t| t.slot).collect();
            self.store.revoke(&slots).await?;
        }
        Ok(tokens)
    }

    /// The signed token of list `list`; `None` for a list never used or purged.
    pub async fn list_token(
        &self,
        list: u64,
        keyset: &KeySet,
        now: u64,
    ) -> Result<Option<ListToken>, ListTokenError> {
        let Some(record) = self.store.list(list).await? else {
            return Ok(None);
        };
        let uri = self.uri(list);
        let request = ListTokenRequest {
            issuer: &self.issuer,
            uri: &uri,
            aggregation_uri: &self.base,
            ttl: self.max_age_seconds,
            now,
        };
        Ok(Some(self.tokens.token(list, &record, keyset, &request)?))
    }

    /// The URIs of every list with unexpired tokens (the aggregation).
    pub async fn live_uris(&self, now: u64) -> Result<Vec<String>, StatusStoreError> {
        let cutoff = now.saturating_sub(REVOCABLE_PAST_EXP_SECONDS);
        let lists = self.store.live_lists(cutoff).await?;
        Ok(lists.into_iter().map(|list| self.uri(list)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::FileStatusStore;

    #[test]
    fn list_uris_read_back_only_in_canonical_form() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(FileStatusStore::new(dir.path().join("s.json")));
        let registry = StatusRegistry::new(store, "https://issuer.example/prod/", 60);
        assert_eq!(registry.uri(7), "https://issuer.example/prod/statuslists/7");
        assert_eq!(registry.list_of(&registry.uri(7)), Some(7));
        for foreign in [
            "https://issuer.example/prod/statuslists/07",
            "https://issuer.example/prod/statuslists/+7",
            "https://issuer.example/prod/statuslists/7/",
            "https://issuer.example/prod/statuslists",
            "https://other.example/prod/statuslists/7",
            "https://issuer.example/prod/statuslists/x",
        ] {
            assert_eq!(registry.list_of(foreign), None, "{foreign}");
        }
    }
}

//! Revocations: who may revoke a presented token ([`Revoker`]), what a
//! token revocation changed ([`Revocation`]), and what a revocation took out
//! of service ([`Revoked`]), said to whoever runs beside the issuer and
//! caches its answers: the local stack's gateway drops exactly the answers,
//! keys and status lists a revocation touched, before the revoking request
//! is answered.

use std::sync::{Arc, RwLock, Weak};

use async_trait::async_trait;

use crate::status::TokenRecord;

/// Who revokes a presented token, which decides which tokens it may revoke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Revoker<'a> {
    /// RFC 7009 without client authentication: whoever holds the token.
    /// The token is its own credential; only a user's token (no
    /// `client_id`) is revoked this way.
    Holder,
    /// An authenticated client (its name): its own tokens only.
    Client(&'a str),
    /// The administrator on the CLI: any token of this issuer.
    Admin,
}

impl Revoker<'_> {
    /// Whether this revoker may revoke a token with this `client_id`.
    pub(crate) fn may_revoke(self, client_id: Option<&str>) -> bool {
        match (self, client_id) {
            (Revoker::Admin, _) => true,
            (Revoker::Holder, None) => true,
            (Revoker::Client(name), Some(client_id)) => name == client_id,
            _ => false,
        }
    }

    /// For the audit log.
    pub(crate) fn describe(self) -> String {
        match self {
            Revoker::Holder => "the token's holder".to_owned(),
            Revoker::Client(name) => format!("client {name}"),
            Revoker::Admin => "the administrator".to_owned(),
        }
    }
}

/// What a revocation changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Revocation {
    /// These tokens are now revoked.
    Revoked(Vec<TokenRecord>),
    /// Nothing: an unknown, foreign, expired or status-less token, or one the
    /// revoker may not revoke. RFC 7009 answers 200 all the same.
    Unchanged,
}

/// One revocation's effect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Revoked {
    /// A signing key left signing and the JWKS.
    Key {
        /// Its `kid`.
        kid: String,
    },
    /// These tokens' status list entries are now INVALID.
    Tokens {
        /// Each token's list URI (as its `status.status_list.uri`) and index.
        entries: Vec<RevokedEntry>,
    },
}

/// A revoked token's status list entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevokedEntry {
    /// The list's URI.
    pub uri: String,
    /// The token's index in it.
    pub idx: u64,
}

/// Told of every revocation that changed something; a revocation that
/// changed nothing (RFC 7009 answers 200 all the same) is not announced.
#[async_trait]
pub trait RevocationListener: Send + Sync {
    /// Called after the revocation is stored, before it is answered.
    async fn revoked(&self, revoked: &Revoked);
}

/// The listeners of one issuer. Held weakly: a listener usually holds the
/// issuer's router, and the issuer must not keep it alive in return.
#[derive(Default)]
pub(crate) struct Listeners(RwLock<Vec<Weak<dyn RevocationListener>>>);

impl Listeners {
    pub(crate) fn add(&self, listener: Weak<dyn RevocationListener>) {
        if let Ok(mut listeners) = self.0.write() {
            listeners.retain(|l| l.strong_count() > 0);
            listeners.push(listener);
        }
    }

    pub(crate) async fn announce(&self, revoked: &Revoked) {
        let live: Vec<Arc<dyn RevocationListener>> = self
            .0
            .read()
            .map(|listeners| listeners.iter().filter_map(Weak::upgrade).collect())
            .unwrap_or_default();
        for listener in live {
            listener.revoked(revoked).await;
        }
    }
}

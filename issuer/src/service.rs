//! The issuer's behaviour, independent of HTTP: the cached keyset, login,
//! rotation and key revocation, and token status (revoking one token, or
//! every token of a subject, and the status lists that publish it).

use std::sync::{Arc, RwLock, Weak};
use std::time::Instant;

use environment::unix_now;

use crate::accounts::{validate_name, Account, AccountKind, AccountStore};
use crate::config::IssuerConfig;
use crate::error::{LoginError, ServiceError};
use crate::keys::MeteredKeyStore;
use crate::keys::{KeyMetadata, KeySet, KeySetError};
use crate::keys::{KeyStore, KeyStoreError};
use crate::metrics::{IssuerMetrics, KeyChange};
use crate::revocations::{
    Listeners, Revocation, RevocationListener, Revoked, RevokedEntry, Revoker,
};
use crate::secret_check::SecretChecker;
use crate::status::{
    ListToken, StatusRegistry, StatusStore, TokenRecord, REVOCABLE_PAST_EXP_SECONDS,
};
use crate::throttle::LoginThrottle;
use crate::tokens::{mint, read_own, Grant, IssuedToken};
use dpop::{Proof, ProofChecker, ProofError, ProofRequest, ReplayStore};

/// The issuer: configuration, stores, and the keyset cached for a few seconds.
pub struct IssuerService {
    config: IssuerConfig,
    keys: Arc<dyn KeyStore>,
    accounts: Arc<dyn AccountStore>,
    throttle: Arc<LoginThrottle>,
    secrets: SecretChecker,
    cached: RwLock<Option<(Arc<KeySet>, Instant)>>,
    metrics: IssuerMetrics,
    status: Option<StatusRegistry>,
    listeners: Listeners,
    /// DPoP proofs at the token endpoint, and where used ones are kept.
    proofs: ProofChecker,
    /// The token endpoint's URLs a proof's `htu` may name.
    token_endpoints: Vec<String>,
}

impl IssuerService {
    /// An issuer over `keys` and `accounts`, with default throttling and no metrics.
    pub fn new(
        config: IssuerConfig,
        keys: Arc<dyn KeyStore>,
        accounts: Arc<dyn AccountStore>,
    ) -> Self {
        let proofs = config.dpop.checker(config.dpop.replay_store());
        let token_endpoints = vec![format!("{}/token", config.issuer.trim_end_matches('/'))];
        Self {
            proofs,
            token_endpoints,
            config,
            keys,
            accounts,
            throttle: Arc::new(LoginThrottle::default()),
            secrets: SecretChecker::default(),
            cached: RwLock::new(None),
            metrics: IssuerMetrics::default(),
            status: None,
            listeners: Listeners::default(),
        }
    }

    /// Remembers used DPoP proofs in `replay` instead of what
    /// `DPOP_REPLAY_TABLE` names (the local stack shares one store between
    /// its issuer and its authorizer).
    pub fn with_replay_store(mut self, replay: Arc<dyn ReplayStore>) -> Self {
        self.proofs = self.config.dpop.checker(replay);
        self
    }

    /// Accepts proofs for the token endpoint at these URLs too (the local
    /// stack's own address, when it issues as another URL).
    pub fn with_token_endpoint_urls(mut self, urls: impl IntoIterator<Item = String>) -> Self {
        self.token_endpoints.extend(urls);
        self
    }

    /// The DPoP proof checks (their algorithms for discovery).
    pub fn proofs(&self) -> &ProofChecker {
        &self.proofs
    }

    /// Tells `listener` of every revocation that changes something, before
    /// the revoking call returns. Held weakly: it may hold this service.
    pub fn subscribe(&self, listener: Weak<dyn RevocationListener>) {
        self.listeners.add(listener);
    }

    /// Keeps token status in `store`: every token gets a status list entry,
    /// and single tokens can be revoked.
    pub fn with_status(mut self, store: Arc<dyn StatusStore>) -> Self {
        self.status = Some(StatusRegistry::new(
            store,
            &self.config.issuer,
            self.config.status_list_max_age_seconds,
        ));
        self
    }

    /// The token status, if this issuer keeps it.
    pub fn status(&self) -> Option<&StatusRegistry> {
        self.status.as_ref()
    }

    fn registry(&self) -> Result<&StatusRegistry, ServiceError> {
        self.status.as_ref().ok_or(ServiceError::NoTokenStatus)
    }

    /// Records logins, key changes and key-store failures to `metrics`.
    pub fn with_metrics(mut self, metrics: IssuerMetrics) -> Self {
        self.keys = Arc::new(MeteredKeyStore::new(self.keys, metrics.clone()));
        self.metrics = metrics;
        self
    }

    /// Its settings.
    pub fn config(&self) -> &IssuerConfig {
        &self.config
    }

    /// Where its accounts live.
    pub fn accounts(&self) -> &Arc<dyn AccountStore> {
        &self.accounts
    }

    /// The keyset, from memory if read within `keyset_ttl`. Signing and the
    /// JWKS both come from it, so a key signs only while it is published.
    /// The first call on an empty store creates the first keyset.
    pub async fn keyset(&self) -> Result<Arc<KeySet>, ServiceError> {
        if let Ok(cached) = self.cached.read() {
            if let Some((keyset, read_at)) = cached.as_ref() {
                if read_at.elapsed() < self.config.keyset_ttl {
                    return Ok(Arc::clone(keyset));
                }
            }
        }
        self.reload().await
    }

    /// Reads the keyset from the store now rather than when the cache goes
    /// stale (after a change made elsewhere, such as the CLI beside a local
    /// stack). A newer cached keyset that was still fresh when the read
    /// began wins over what it read.
    pub async fn reload(&self) -> Result<Arc<KeySet>, ServiceError> {
        let started = Instant::now();
        let keyset = match self.keys.load().await? {
            Some(keyset) => keyset,
            None => {
                let alg = self.config.signing_alg;
                let first = off_worker(move || KeySet::generate(alg, unix_now())).await??;
                match self.keys.save(&first, None).await {
                    Ok(()) => first,
                    // Another instance created it first: use theirs.
                    Err(KeyStoreError::Conflict) => {
                        self.keys.load().await?.ok_or(ServiceError::Conflict)?
                    }
                    Err(other) => return Err(other.into()),
                }
            }
        };
        Ok(self.cache(keyset, started))
    }

    /// Caches `loaded`, read by a reload that began at `started`, and
    /// returns the keyset to use. An older version than a cached keyset
    /// that was still fresh when the reload began is a stale read (a slow
    /// reload overtaken by a rotation or revocation): keeping the cached one
    /// keeps a revoked key out. A cached keyset already stale then gives
    /// way, so a keyset restored on purpose is followed within a TTL.
    fn cache(&self, loaded: KeySet, started: Instant) -> Arc<KeySet> {
        let loaded = Arc::new(loaded);
        let Ok(mut cached) = self.cached.write() else {
            return loaded;
        };
        if let Some((current, read_at)) = cached.as_ref() {
            let fresh_when_started = read_at
                .checked_add(self.config.keyset_ttl)
                .is_none_or(|until| until >= started);
            if current.version > loaded.version && fresh_when_started {
                return Arc::clone(current);
            }
        }
        *cached = Some((Arc::clone(&loaded), Instant::now()));
        loaded
    }

    /// One rotation step on the latest keyset (read now, as [`Self::reload`]
    /// reads it), saved only if the store still holds that version. Refused
    /// while the `next` key is younger than the rotation spacing (a
    /// compromised key is removed with [`Self::revoke`], which has no wait).
    pub async fn rotate(&self) -> Result<KeyMetadata, ServiceError> {
        let result = self.rotate_stored().await;
        self.metrics.key_change(KeyChange::Rotation, &result);
        result
    }

    async fn rotate_stored(&self) -> Result<KeyMetadata, ServiceError> {
        let mut keyset = (*self.reload().await?).clone();
        let expected = keyset.version;
        let now = unix_now();
        if let Some(retry_after) = keyset.rotation_wait(self.config.rotation_spacing, now) {
            return Err(ServiceError::RotationTooSoon { retry_after });
        }
        let (alg, grace) = (self.config.signing_alg, self.config.grace_seconds());
        let (keyset, active) = off_worker(move || {
            let active = keyset.rotate(alg, now, grace)?;
            Ok::<_, KeySetError>((keyset, active))
        })
        .await??;
        self.keys.save(&keyset, Some(expected)).await?;
        self.reload().await?;
        Ok(active)
    }

    /// Removes a key from signing and from the JWKS at once.
    pub async fn revoke(&self, kid: &str) -> Result<KeyMetadata, ServiceError> {
        let result = self.revoke_stored(kid).await;
        self.metrics.key_change(KeyChange::Revocation, &result);
        if let Ok(revoked) = &result {
            let kid = revoked.kid.clone();
            self.listeners.announce(&Revoked::Key { kid }).await;
        }
        result
    }

    async fn revoke_stored(&self, kid: &str) -> Result<KeyMetadata, ServiceError> {
        let mut keyset = (*self.reload().await?).clone();
        let expected = keyset.version;
        let (alg, kid) = (self.config.signing_alg, kid.to_owned());
        let (keyset, revoked) = off_worker(move || {
            let revoked = keyset.revoke(&kid, alg, unix_now())?;
            Ok::<_, KeySetError>((keyset, revoked))
        })
        .await??;
        self.keys.save(&keyset, Some(expected)).await?;
        self.reload().await?;
        Ok(revoked)
    }

    /// Authenticates a user or client calling from `address` (the client
    /// address API Gateway saw, if known) and mints a bearer token for the
    /// granted (or narrowed) scopes.
    pub async fn login(
        &self,
        kind: AccountKind,
        name: &str,
        secret: &str,
        requested_scope: Option<&str>,
        address: Option<&str>,
    ) -> Result<IssuedToken, LoginError> {
        self.login_with_proof(kind, name, secret, requested_scope, address, None)
            .await
    }

    /// [`Self::login`] with the request's DPoP proof, if it sent one: a
    /// valid proof (`POST` to this token endpoint, never used before) binds
    /// the token to its key (`cnf.jkt`, `token_type` `DPoP`). The proof is
    /// checked before the secret, and remembered as used only once the
    /// client has authenticated. A DPoP-only account without a proof is
    /// refused.
    pub async fn login_with_proof(
        &self,
        kind: AccountKind,
        name: &str,
        secret: &str,
        requested_scope: Option<&str>,
        address: Option<&str>,
        proof: Option<&str>,
    ) -> Result<IssuedToken, LoginError> {
        let result = async {
            let proof = proof.map(|proof| self.verify_proof(proof)).transpose()?;
            let account = self.authenticate(kind, name, secret, address).await?;
            if account.dpop_only && proof.is_none() {
                return Err(ProofError::Missing.into());
            }
            if let Some(proof) = &proof {
                self.proofs.remember(proof).await?;
            }
            let jkt = proof.as_ref().map(|proof| proof.jkt.as_str());
            self.mint_for(&account, requested_scope, jkt).await
        }
        .await;
        self.metrics.login(kind, &result);
        result
    }

    /// A token request's proof: `POST` to this token endpoint, no `ath`.
    fn verify_proof(&self, proof: &str) -> Result<Proof, ProofError> {
        let request = ProofRequest {
            method: "POST",
            uris: &self.token_endpoints,
            access_token: None,
            bound_jkt: None,
            now: unix_now(),
        };
        self.proofs.verify(proof, &request)
    }

    /// Authenticates an OAuth client (RFC 7009 revocation), throttled and
    /// counted like a login.
    pub async fn authenticate_client(
        &self,
        name: &str,
        secret: &str,
        address: Option<&str>,
    ) -> Result<Account, LoginError> {
        self.authenticate(AccountKind::Client, name, secret, address)
            .await
    }

    /// The account, if the secret matches and it is enabled; every failure
    /// counts against the throttle, a success clears it.
    async fn authenticate(
        &self,
        kind: AccountKind,
        name: &str,
        secret: &str,
        address: Option<&str>,
    ) -> Result<Account, LoginError> {
        let attempt = self
            .throttle
            .begin(kind, name, address, Instant::now())
            .map_err(LoginError::Throttled)?;
        // A name that could not be stored is not looked up (it may be as
        // long as the body limit); it still costs a dummy check.
        let account = match validate_name(kind, name) {
            Ok(()) => self
                .accounts
                .get(kind, name)
                .await
                .map_err(ServiceError::from)?,
            Err(_) => None,
        };
        let matches = self
            .secrets
            .check(secret, account.as_ref().map(|a| a.secret_hash.as_str()))
            .await
            .map_err(|_| LoginError::Busy)?;
        let Some(account) = account.filter(|a| matches && !a.disabled) else {
            attempt.failed();
            return Err(LoginError::InvalidCredentials);
        };
        attempt.succeeded();
        Ok(account)
    }

    /// A token for `account`, narrowed to `requested_scope`, with its status
    /// list entry recorded before the token is handed out (so it can always
    /// be revoked by `jti` or subject).
    async fn mint_for(
        &self,
        account: &Account,
        requested_scope: Option<&str>,
        jkt: Option<&str>,
    ) -> Result<IssuedToken, LoginError> {
        let scopes = account
            .narrow(requested_scope)
            .ok_or(LoginError::InvalidScope)?;
        let keyset = self.keyset().await?;
        let subject = account.subject();
        let now = unix_now();
        let exp = now.saturating_add(self.config.token_ttl_seconds);
        let jti = ulid::Ulid::new().to_string();
        let assigned = match &self.status {
            Some(status) => Some(status.assign(exp, now).await.map_err(ServiceError::from)?),
            None => None,
        };
        let grant = Grant {
            subject: &subject,
            scopes: &scopes,
            client_id: (account.kind == AccountKind::Client).then_some(account.name.as_str()),
            jti: &jti,
            status: assigned.as_ref().map(|(_, reference)| reference),
            jkt,
        };
        let issued = mint(
            &keyset,
            &self.config.issuer,
            &self.config.audiences,
            &grant,
            now,
            exp,
        )
        .map_err(|e| LoginError::Service(e.into()))?;
        if let (Some(status), Some((slot, _))) = (&self.status, assigned) {
            let record = TokenRecord {
                jti,
                sub: subject,
                slot,
                exp,
            };
            status.record(&record).await.map_err(ServiceError::from)?;
        }
        Ok(issued)
    }

    /// Revokes a presented token (RFC 7009, or the CLI), if `by` may revoke
    /// it. Foreign, forged, unknown and long-expired tokens change nothing.
    pub async fn revoke_token(
        &self,
        token: &str,
        by: Revoker<'_>,
    ) -> Result<Revocation, ServiceError> {
        let result = self.revoke_presented(token, by).await;
        self.metrics.token_revocation("token", &result);
        self.announce_tokens(&result).await;
        result
    }

    /// Tells the listeners which entries a token revocation set, if any.
    async fn announce_tokens(&self, result: &Result<Revocation, ServiceError>) {
        let (Ok(Revocation::Revoked(records)), Some(status)) = (result, &self.status) else {
            return;
        };
        let entries = records
            .iter()
            .map(|record| RevokedEntry {
                uri: status.uri(record.slot.list),
                idx: record.slot.idx,
            })
            .collect();
        self.listeners.announce(&Revoked::Tokens { entries }).await;
    }

    async fn revoke_presented(
        &self,
        token: &str,
        by: Revoker<'_>,
    ) -> Result<Revocation, ServiceError> {
        let status = self.registry()?;
        let keyset = self.keyset().await?;
        let Some(own) = read_own(
            &keyset,
            &self.config.issuer,
            &self.config.audiences,
            token,
            REVOCABLE_PAST_EXP_SECONDS,
        ) else {
            return Ok(Revocation::Unchanged);
        };
        let slot = own.status().and_then(|reference| {
            let list = status.list_of(&reference.uri)?;
            Some(crate::status::Slot {
                list,
                idx: reference.idx,
            })
        });
        let Some(slot) = slot.filter(|_| by.may_revoke(own.client_id.as_deref())) else {
            tracing::info!(by = %by.describe(), "token revocation changed nothing: not a token this caller may revoke");
            return Ok(Revocation::Unchanged);
        };
        status.revoke(&[slot]).await?;
        let record = TokenRecord {
            jti: own.jti.clone().unwrap_or_default(),
            sub: own.sub.clone(),
            slot,
            exp: own.exp,
        };
        audit(
            std::slice::from_ref(&record),
            by.describe(),
            "presented token",
        );
        Ok(Revocation::Revoked(vec![record]))
    }

    /// Revokes the token with this `jti` (admin).
    pub async fn revoke_jti(&self, jti: &str, by: &str) -> Result<Revocation, ServiceError> {
        let result = async {
            let revoked = self.registry()?.revoke_jti(jti, unix_now()).await?;
            Ok(match revoked {
                Some(record) => Revocation::Revoked(vec![record]),
                None => Revocation::Unchanged,
            })
        }
        .await;
        if let Ok(Revocation::Revoked(records)) = &result {
            audit(records, by.to_owned(), "jti");
        }
        self.metrics.token_revocation("jti", &result);
        self.announce_tokens(&result).await;
        result
    }

    /// Revokes every unexpired token of `sub` (admin, and the CLI's
    /// `user revoke-tokens`).
    pub async fn revoke_subject(&self, sub: &str, by: &str) -> Result<Revocation, ServiceError> {
        let result = async {
            let revoked = self.registry()?.revoke_subject(sub, unix_now()).await?;
            Ok(if revoked.is_empty() {
                Revocation::Unchanged
            } else {
                Revocation::Revoked(revoked)
            })
        }
        .await;
        if let Ok(Revocation::Revoked(records)) = &result {
            audit(records, by.to_owned(), "subject");
        }
        self.metrics.token_revocation("subject", &result);
        self.announce_tokens(&result).await;
        result
    }

    /// The signed status list token of list `list`; `None` for a list that
    /// was never used or has been purged.
    pub async fn status_list(&self, list: u64) -> Result<Option<ListToken>, ServiceError> {
        let status = self.registry()?;
        let keyset = self.keyset().await?;
        Ok(status.list_token(list, &keyset, unix_now()).await?)
    }

    /// The URIs of the live status lists (Status List Aggregation).
    pub async fn status_lists(&self) -> Result<Vec<String>, ServiceError> {
        Ok(self.registry()?.live_uris(unix_now()).await?)
    }
}

/// One audit line per revoked token: what, whose, by whom, and how.
fn audit(records: &[TokenRecord], by: String, how: &'static str) {
    for record in records {
        tracing::warn!(
            jti = %record.jti,
            sub = %record.sub,
            list = record.slot.list,
            idx = record.slot.idx,
            by = %by,
            how,
            "token revoked"
        );
    }
}

/// Runs a keyset change on the blocking pool: generating an RSA key takes
/// tens of milliseconds, and on an async worker it would hold up every
/// request queued there (the local stack serves them on the same runtime).
async fn off_worker<T: Send + 'static>(
    change: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ServiceError> {
    tokio::task::spawn_blocking(change)
        .await
        .map_err(ServiceError::KeyTask)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;
    use tokio::sync::oneshot;

    use super::*;
    use crate::accounts::FileAccountStore;
    use crate::keys::{FileKeyStore, SigningAlg};

    /// A file store whose first load reads at once but answers only when
    /// released: a slow reload that another change can overtake.
    struct SlowFirstLoad {
        inner: FileKeyStore,
        hold: Mutex<Option<(oneshot::Sender<()>, oneshot::Receiver<()>)>>,
    }

    #[async_trait]
    impl KeyStore for SlowFirstLoad {
        async fn load(&self) -> Result<Option<KeySet>, KeyStoreError> {
            let read = self.inner.load().await;
            let hold = self.hold.lock().unwrap().take();
            if let Some((has_read, release)) = hold {
                has_read.send(()).unwrap();
                release.await.unwrap();
            }
            read
        }

        async fn save(&self, keyset: &KeySet, expected: Option<u64>) -> Result<(), KeyStoreError> {
            self.inner.save(keyset, expected).await
        }
    }

    #[tokio::test]
    async fn a_slow_reload_overtaken_by_a_revocation_does_not_bring_the_key_back() {
        let dir = tempfile::tempdir().unwrap();
        let inner = FileKeyStore::new(dir.path().join("keyset.json"));
        let first = KeySet::generate(SigningAlg::ES256, unix_now()).unwrap();
        inner.save(&first, None).await.unwrap();
        let (has_read, read) = oneshot::channel();
        let (release, released) = oneshot::channel();
        let store = SlowFirstLoad {
            inner,
            hold: Mutex::new(Some((has_read, released))),
        };
        let config = crate::config::tests::issuer_with("SIGNING_ALG", "ES256").unwrap();
        let accounts = Arc::new(FileAccountStore::new(dir.path().join("users.json")));
        let service = IssuerService::new(config, Arc::new(store), accounts);
        let compromised = first.active().unwrap().kid.clone();

        let (slow, revoked) = tokio::join!(service.reload(), async {
            read.await.unwrap(); // the slow reload holds the old keyset
            let revoked = service.revoke(&compromised).await;
            release.send(()).unwrap();
            revoked
        });
        revoked.unwrap();
        assert_eq!(slow.unwrap().version, first.version + 1, "the newer keyset");
        let cached = service.keyset().await.unwrap();
        assert_eq!(cached.version, first.version + 1);
        assert!(
            cached.keys.iter().all(|k| k.kid != compromised),
            "the revoked key stays out of signing and the JWKS"
        );
    }
}

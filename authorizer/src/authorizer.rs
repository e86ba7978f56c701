//! `Authorizer`: configuration, key caches, decision cache and metrics in one
//! value that lives across warm invocations. This module verifies tokens;
//! [`crate::answer`] shapes API Gateway's answers from the result.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use dpop::{ProofChecker, ReplayStore};
use telemetry::MetricsSink;

use crate::claims::{ClaimChecks, Claims};
use crate::config::{AuthorizerConfig, ConfigError, StatusCheck};
use crate::decision_cache::DecisionCache;
use crate::error::VerifyError;
use crate::fetch::{FetchError, Fetcher};
use crate::jwks_snapshot::{JwksSnapshot, SnapshotError};
use crate::key_cache::KeyCache;
use crate::metrics::Metrics;
use crate::route_table::RouteTable;
use crate::rule_grants::RuleGrants;
use crate::status_lists::StatusLists;
use crate::token::{parse_token, typ_matches, SignatureBuf, UnverifiedToken};
use crate::verified::{Binding, StatusEntry, VerifiedToken};
use jose::VerifyingKey;

/// Why the authorizer could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The settings were refused.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// `JWKS_SNAPSHOT` was refused.
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
}

/// A JWT authorizer for API Gateway. Cheap to call: a warm verification is
/// one signature check, a repeated token one cache lookup.
pub struct Authorizer {
    config: AuthorizerConfig,
    /// One per trusted issuer: its settings and keys, and its status lists.
    issuers: Vec<TrustedKeys>,
    decisions: DecisionCache,
    /// DPoP proofs' checks and the replay store they remember proofs in.
    proofs: ProofChecker,
    metrics: Metrics,
    /// Verifications started: the first never waits for the live JWKS
    /// that replaces a snapshot, the later ones do while it is missing.
    verifications: AtomicU64,
    /// Whether some issuer may still serve a snapshot: the warm path reads
    /// this one flag, nothing more.
    snapshot_pending: AtomicBool,
}

/// What is kept per trusted issuer.
struct TrustedKeys {
    keys: Arc<KeyCache>,
    status: Arc<StatusLists>,
}

impl std::fmt::Debug for Authorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorizer")
            .field("issuers", &self.config.issuers)
            .finish_non_exhaustive()
    }
}

impl Authorizer {
    /// Builds from the environment variables of docs/reference.md, with
    /// `default_routes` when `ROUTE_SCOPES` is unset.
    pub fn from_env(
        sink: Arc<dyn MetricsSink>,
        default_routes: Option<RouteTable>,
    ) -> Result<Self, BuildError> {
        Self::new(AuthorizerConfig::from_env(default_routes)?, sink)
    }

    /// Builds from a configuration, emitting metrics to `sink`. Nothing is
    /// fetched yet: call [`Authorizer::prewarm`] during init.
    pub fn new(config: AuthorizerConfig, sink: Arc<dyn MetricsSink>) -> Result<Self, BuildError> {
        let metrics = Metrics::new(sink);
        let fetcher = Fetcher::new(&config.cache);
        if config.http_api_simple_responses {
            tracing::warn!(
                "HTTP_API_SIMPLE_RESPONSES: the answer covers one route; API Gateway caches it per \
                 identity source, so include $context.routeKey in the identity sources or set the \
                 authorizer cache TTL to 0"
            );
        }
        let issuers = config
            .issuers
            .iter()
            .map(|issuer| {
                let keys = Arc::new(KeyCache::new(
                    issuer.clone(),
                    config.cache.clone(),
                    fetcher.clone(),
                    metrics.clone(),
                ));
                let status = Arc::new(StatusLists::new(
                    Arc::clone(&keys),
                    config.status.clone(),
                    config.leeway_seconds,
                    fetcher.clone(),
                    metrics.clone(),
                ));
                TrustedKeys { keys, status }
            })
            .collect::<Vec<TrustedKeys>>();
        let mut snapshot_pending = false;
        if let Some(value) = &config.jwks_snapshot {
            let [only] = issuers.as_slice() else {
                return Err(SnapshotError::SeveralIssuers.into());
            };
            let max_age = config.jwks_snapshot_max_age;
            if let Some(snapshot) = JwksSnapshot::load(value, environment::unix_now(), max_age)? {
                tracing::info!(
                    keys = snapshot.set.keys.len(),
                    age_seconds = snapshot.age(environment::unix_now()).as_secs(),
                    "serving JWKS_SNAPSHOT until the live JWKS arrives"
                );
                only.keys.install_snapshot(snapshot, max_age);
                snapshot_pending = true;
            }
        }
        let proofs = config
            .sender
            .proofs
            .checker(config.sender.proofs.replay_store());
        Ok(Self {
            decisions: DecisionCache::new(config.decision_cache_capacity),
            proofs,
            config,
            issuers,
            metrics,
            verifications: AtomicU64::new(0),
            snapshot_pending: AtomicBool::new(snapshot_pending),
        })
    }

    /// Remembers used DPoP proofs in `replay` instead of what
    /// `DPOP_REPLAY_TABLE` names (the local stack shares one store between
    /// its issuer and authorizer).
    pub fn with_replay_store(mut self, replay: Arc<dyn ReplayStore>) -> Self {
        self.proofs = self.config.sender.proofs.checker(replay);
        self
    }

    /// The configuration in force.
    pub fn config(&self) -> &AuthorizerConfig {
        &self.config
    }

    /// The DPoP proof checks.
    pub(crate) fn proofs(&self) -> &ProofChecker {
        &self.proofs
    }

    /// The metrics recorder (the Lambda binary records its cold start here).
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The key cache of the issuer `iss`, if trusted.
    pub fn key_cache(&self, iss: &str) -> Option<&Arc<KeyCache>> {
        self.trusted(iss).map(|trusted| &trusted.keys)
    }

    fn trusted(&self, iss: &str) -> Option<&TrustedKeys> {
        self.issuers
            .iter()
            .find(|trusted| trusted.keys.issuer().issuer == iss)
    }

    /// A key was revoked beside the authorizer (the local stack served the
    /// revocation): `kid` is dropped from every issuer's keys at once, then
    /// each JWKS is fetched again. A failed refetch keeps the other keys
    /// serving; the revoked one is gone either way. Returns the refetches'
    /// results.
    pub async fn key_revoked(&self, kids: &[String]) -> Vec<(String, Result<usize, FetchError>)> {
        for trusted in &self.issuers {
            for kid in kids {
                if trusted.keys.forget(kid) {
                    tracing::warn!(issuer = %trusted.keys.issuer().issuer, %kid, "revoked key dropped");
                }
            }
        }
        self.prewarm().await
    }

    /// Makes the cached status lists at `uris` due for a fetch (and
    /// unusable until it succeeds): after a token revocation in them that
    /// the local stack served.
    pub fn forget_status_lists(&self, uris: &[String]) {
        for trusted in &self.issuers {
            trusted.status.forget(uris);
        }
    }

    /// Fetches every issuer's JWKS concurrently. Failures are logged and
    /// returned, never fatal: the authorizer then fails closed until a fetch
    /// succeeds. An issuer serving a `JWKS_SNAPSHOT` is not waited for: its
    /// live set is fetched in the background.
    pub async fn prewarm(&self) -> Vec<(String, Result<usize, FetchError>)> {
        let mut tasks = tokio::task::JoinSet::new();
        let mut results = Vec::with_capacity(self.issuers.len());
        for trusted in &self.issuers {
            let keys = Arc::clone(&trusted.keys);
            if keys.serving_snapshot() {
                keys.replace_snapshot_in_background();
                results.push((keys.issuer().issuer.clone(), Ok(keys.kids().len())));
                continue;
            }
            tasks.spawn(async move { (keys.issuer().issuer.clone(), keys.prewarm().await) });
        }
        while let Some(joined) = tasks.join_next().await {
            if let Ok((issuer, result)) = joined {
                match &result {
                    Ok(count) => tracing::info!(%issuer, keys = count, "JWKS pre-warmed"),
                    Err(error) => {
                        tracing::warn!(%issuer, %error, "JWKS pre-warm failed; failing closed until a fetch succeeds")
                    }
                }
                results.push((issuer, result));
            }
        }
        results
    }

    /// From the second verification on, while an issuer's keys are still a
    /// snapshot's: wait for (or make) the fetch of its live set, which a
    /// Lambda freeze may have stopped in flight. The first answer never
    /// waits: that is what the snapshot is for.
    async fn replace_snapshots(&self) {
        let mut pending = false;
        for trusted in &self.issuers {
            trusted.keys.replace_snapshot().await;
            pending |= trusted.keys.serving_snapshot();
        }
        if !pending {
            self.snapshot_pending.store(false, Ordering::Relaxed);
        }
    }

    /// Verifies a token: decision cache, then parse, key (fetching the JWKS
    /// if needed), signature and claims. The result is cached until `exp`.
    pub async fn verify(&self, token: &str) -> Result<Arc<VerifiedToken>, VerifyError> {
        Ok(self.verify_traced(token).await?.0)
    }

    /// Like `verify`, also telling whether the decision cache answered.
    pub(crate) async fn verify_traced(
        &self,
        token: &str,
    ) -> Result<(Arc<VerifiedToken>, bool), VerifyError> {
        if self.snapshot_pending.load(Ordering::Relaxed)
            && self.verifications.fetch_add(1, Ordering::Relaxed) > 0
        {
            self.replace_snapshots().await;
        }
        let now_unix = environment::unix_now();
        if let Some(hit) = self.cached(token, now_unix) {
            // A bit lookup: a cached decision never outlives a revocation.
            check_status(&hit).await?;
            return Ok((hit, true));
        }
        let mut signature = SignatureBuf::default();
        let parsed = parse_token(token, &mut signature)?;
        let (claims, trusted) = self.prepare(&parsed)?;
        let key = match trusted.keys.cached_key(&parsed.kid, Instant::now()) {
            Some(key) => key,
            None => trusted.keys.key(&parsed.kid).await?,
        };
        let verified = Arc::new(self.check(&parsed, claims, trusted, key, now_unix)?);
        // After every other check, as the draft orders it: a token refused
        // for another reason never causes a list fetch.
        check_status(&verified).await?;
        self.decisions
            .insert(token, Arc::clone(&verified), now_unix);
        Ok((verified, false))
    }

    /// The decision cache alone: a token verified before, still unexpired,
    /// whose key is still current.
    pub fn cached(&self, token: &str, now_unix: u64) -> Option<Arc<VerifiedToken>> {
        self.decisions.get(token, now_unix, |hit| {
            hit.issuer.still_current(&hit.kid, &hit.key, Instant::now())
        })
    }

    /// Verifies with the keys already cached, without the decision cache and
    /// without fetching: the pure per-token cost (what the benches measure).
    /// A `kid` not cached fresh is `UnknownKid`.
    /// A token with a status claim is checked against its list as cached:
    /// a list not cached fresh is `StatusUnavailable`.
    pub fn verify_with_cached_keys(&self, token: &str) -> Result<VerifiedToken, VerifyError> {
        let now_unix = environment::unix_now();
        let mut signature = SignatureBuf::default();
        let parsed = parse_token(token, &mut signature)?;
        let (claims, trusted) = self.prepare(&parsed)?;
        let now = Instant::now();
        let key = trusted
            .keys
            .cached_key(&parsed.kid, now)
            .ok_or(VerifyError::UnknownKid)?;
        let verified = self.check(&parsed, claims, trusted, key, now_unix)?;
        if let Some(status) = &verified.status {
            StatusLists::check_cached(&status.entry, status.idx, now)
                .unwrap_or(Err(VerifyError::StatusUnavailable))?;
        }
        Ok(verified)
    }

    /// What both verification paths do before finding the key: the claims,
    /// and the trusted issuer their `iss` names.
    fn prepare<'t>(
        &self,
        parsed: &'t UnverifiedToken<'_>,
    ) -> Result<(Claims<'t>, &TrustedKeys), VerifyError> {
        let claims = parsed.claims()?;
        let iss = claims.iss.as_deref().ok_or(VerifyError::UntrustedIssuer)?;
        let trusted = self.trusted(iss).ok_or(VerifyError::UntrustedIssuer)?;
        Ok((claims, trusted))
    }

    /// Signature, header `typ`, then claims, and where its status is (the
    /// status itself is checked by the caller, which may await a fetch).
    /// The key must be pinned to the token's `alg`.
    fn check(
        &self,
        parsed: &UnverifiedToken<'_>,
        claims: Claims<'_>,
        trusted: &TrustedKeys,
        key: Arc<VerifyingKey>,
        now_unix: u64,
    ) -> Result<VerifiedToken, VerifyError> {
        let issuer = &trusted.keys;
        let public_key = key
            .for_algorithm(parsed.alg)
            .ok_or(VerifyError::AlgorithmMismatch)?;
        public_key
            .verify_sig(parsed.signing_input, parsed.signature())
            .map_err(|_| VerifyError::BadSignature)?;
        self.check_typ(parsed.typ.as_deref())?;
        claims.validate(&self.claim_checks(&issuer.issuer().audiences), now_unix)?;
        let identity = self
            .config
            .claim_mapping
            .identity(&claims, parsed.payload())?;
        let status = self.status_entry(&claims, trusted)?;
        let rule_grants = self.rule_grants(parsed.payload(), &identity.scopes)?;
        let binding = claims
            .cnf
            .as_ref()
            .map(|cnf| Binding {
                jkt: cnf.jkt.as_deref().map(str::to_owned),
                x5t_s256: cnf.x5t_s256.as_deref().map(str::to_owned),
            })
            .unwrap_or_default();
        Ok(VerifiedToken {
            sub: claims.sub.as_deref().unwrap_or_default().to_owned(),
            principal_claim: identity.principal,
            iss: Arc::clone(issuer.iss()),
            kid: parsed.kid.clone(),
            scopes: identity.scopes,
            client_id: claims.client_id.map(|c| c.into_owned()),
            context_claims: identity.context,
            exp: claims.exp.unwrap_or_default(),
            issuer: Arc::clone(issuer),
            key,
            status,
            binding,
            rule_grants,
        })
    }

    /// What the token's route rules grant it, evaluated once here so that
    /// every answer built from a cached decision carries the same grants.
    fn rule_grants(&self, payload: &[u8], scopes: &[String]) -> Result<RuleGrants, VerifyError> {
        let rules = &self.config.route_rules;
        if rules.is_empty() {
            return Ok(RuleGrants::default());
        }
        let claims: serde_json::Value =
            serde_json::from_slice(payload).map_err(|_| VerifyError::InvalidClaims)?;
        let (grants, refused) = rules.grants(&claims, scopes);
        if refused > 0 {
            self.metrics.rule_values_refused(refused);
        }
        Ok(grants)
    }

    /// The list entry a token's status is checked in, as `STATUS_LIST_CHECK`
    /// says: none when off or when the token names none (`if_present`);
    /// a token naming none is refused when `required`.
    fn status_entry(
        &self,
        claims: &Claims<'_>,
        trusted: &TrustedKeys,
    ) -> Result<Option<StatusEntry>, VerifyError> {
        let reference = claims
            .status
            .as_ref()
            .and_then(|status| status.status_list.as_ref());
        match (self.config.status.check, reference) {
            (StatusCheck::Off, _) => Ok(None),
            (StatusCheck::Required, None) => Err(VerifyError::MissingStatus),
            (StatusCheck::IfPresent, None) => Ok(None),
            (_, Some(reference)) => Ok(Some(StatusEntry {
                entry: trusted.status.entry(&reference.uri)?,
                lists: Arc::clone(&trusted.status),
                idx: reference.idx,
            })),
        }
    }

    /// `JWT_REQUIRED_TYP`, when set: the header must carry that `typ`.
    pub(crate) fn check_typ(&self, typ: Option<&str>) -> Result<(), VerifyError> {
        match (&self.config.required_typ, typ) {
            (None, _) => Ok(()),
            (Some(required), Some(typ)) if typ_matches(typ, required) => Ok(()),
            (Some(_), _) => Err(VerifyError::BadType),
        }
    }

    /// The claim checks for one trusted issuer's audiences.
    pub(crate) fn claim_checks<'c>(&'c self, audiences: &'c [String]) -> ClaimChecks<'c> {
        ClaimChecks {
            audiences,
            leeway: self.config.leeway_seconds,
            allow_id_tokens: self.config.allow_id_tokens,
        }
    }
}

/// A verified token's status, if it names a list: `Revoked` unless VALID.
async fn check_status(verified: &VerifiedToken) -> Result<(), VerifyError> {
    match &verified.status {
        Some(status) => status.lists.check(&status.entry, status.idx).await,
        None => Ok(()),
    }
}

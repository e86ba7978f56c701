//! One trusted issuer's public keys, kept across warm invocations.
//!
//! Reads are lock-free in practice (an `RwLock` read and an `Arc` clone);
//! fetches go through one async mutex, so concurrent misses share a single
//! fetch. Refetches caused by unknown `kid`s are rate-limited by the refresh
//! cooldown, and so are retries after a failed fetch: a flood of random
//! `kid`s, or an outage, costs at most one fetch per cooldown.
//!
//! A `JWKS_SNAPSHOT` ([`crate::jwks_snapshot`]) fills the cache at init
//! with no fetch; the live set is fetched at once in the background and
//! replaces it whole. Lambda may freeze the process with that fetch in
//! flight (it runs only while an invocation or init does), so from the
//! second answer on, each answer first waits for the live set (one fetch,
//! bounded by its timeout) while the snapshot still serves: the live set
//! replaces the snapshot by the second answer whenever the IdP answers.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use crate::config::{CacheSettings, JwksSource, TrustedIssuer};
use crate::error::VerifyError;
use crate::fetch::{FetchError, FetchedJwks, Fetcher};
use crate::fetch_timing::{timed, Phases};
use crate::jwks_snapshot::JwksSnapshot;
use crate::metrics::{FetchTiming, Metrics};
use jose::{JwkError, SkippedJwk, VerifyingKey};

/// Refused JWKs logged one by one per fetch at most; past that, one line
/// says how many more. A hostile or broken set of thousands of junk keys
/// costs a bounded log, and every refusal is still counted.
const REFUSALS_LOGGED_PER_FETCH: usize = 16;

/// The keys of the last good fetch and how long they may serve.
#[derive(Debug, Default)]
struct KeySetState {
    keys: HashMap<String, Arc<VerifyingKey>>,
    /// The `kid`s of the set whose JWK was refused at intake, and why: a
    /// token naming one is refused as `refused_key` (no refetch: the set
    /// is fresh and says what it says), and `explain` tells why.
    refused: HashMap<String, JwkError>,
    /// Bumped by every successful fetch; lets queued callers see that the
    /// fetch they waited for already happened.
    generation: u64,
    fresh_until: Option<Instant>,
    /// `fresh_until + max_stale`: past it, the set no longer serves at all.
    usable_until: Option<Instant>,
    /// `Some(fetched_at)` while the keys are a snapshot's, not yet replaced
    /// by a live fetch.
    snapshot_fetched_at: Option<u64>,
}

impl KeySetState {
    fn is_fresh(&self, now: Instant) -> bool {
        self.fresh_until.is_some_and(|t| now < t)
    }

    fn is_usable(&self, now: Instant) -> bool {
        self.usable_until.is_some_and(|t| now < t)
    }
}

#[derive(Debug, Default)]
struct RefreshLog {
    last_unknown_kid_fetch: Option<Instant>,
    last_failure: Option<Instant>,
    /// The JWKS URL once known: configured, or found by discovery (once per
    /// process; a failed discovery is retried with the next fetch).
    jwks_uri: Option<String>,
    /// Whether an answer has waited for a live fetch to replace the
    /// snapshot: the first such fetch ignores the cooldown, since a failure
    /// before it may only be a fetch that Lambda froze past its timeout.
    snapshot_fetch_awaited: bool,
    /// The refusals of the last good fetch. A refusal is logged and counted
    /// when it is not among them, so a set refetched every few minutes
    /// with the same bad key logs it once; a key refused again after it
    /// left the set (or under new material, or for a new reason) is new.
    /// Bounded by the size of one set.
    refusals_seen: HashSet<Refusal>,
}

/// One refused JWK, as told apart across fetches.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Refusal {
    kid: Option<String>,
    reason: &'static str,
    /// A hash of the JWK as served (`SkippedJwk::material`).
    material: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RefreshCause {
    /// The set is past its freshness (or was never fetched).
    Expired,
    /// The set is fresh but lacks the token's `kid`.
    UnknownKid,
}

/// The key cache of one issuer.
#[derive(Debug)]
pub struct KeyCache {
    issuer: TrustedIssuer,
    /// `issuer.issuer`, shared with every verified token: no copy per token.
    iss: Arc<str>,
    settings: CacheSettings,
    fetcher: Fetcher,
    metrics: Metrics,
    state: RwLock<Arc<KeySetState>>,
    refresh: Mutex<RefreshLog>,
}

impl KeyCache {
    pub fn new(
        issuer: TrustedIssuer,
        settings: CacheSettings,
        fetcher: Fetcher,
        metrics: Metrics,
    ) -> Self {
        let jwks_uri = match issuer.jwks_source() {
            JwksSource::Uri(uri) => Some(uri),
            JwksSource::Discovery(_) => None,
        };
        Self {
            iss: Arc::from(issuer.issuer.as_str()),
            issuer,
            settings,
            fetcher,
            metrics,
            state: RwLock::new(Arc::new(KeySetState::default())),
            refresh: Mutex::new(RefreshLog {
                jwks_uri,
                ..RefreshLog::default()
            }),
        }
    }

    /// The trusted issuer these keys belong to.
    pub fn issuer(&self) -> &TrustedIssuer {
        &self.issuer
    }

    /// The issuer's `iss` value.
    pub fn iss(&self) -> &Arc<str> {
        &self.iss
    }

    fn snapshot(&self) -> Arc<KeySetState> {
        match self.state.read() {
            Ok(state) => Arc::clone(&state),
            // A panic while holding the lock cannot leave a half-written
            // state: writers swap a whole Arc.
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// The key for `kid` if the set is fresh and holds it: the warm path,
    /// no await, no fetch.
    pub fn cached_key(&self, kid: &str, now: Instant) -> Option<Arc<VerifyingKey>> {
        let state = self.state.read().ok()?;
        if state.is_fresh(now) {
            state.keys.get(kid).cloned()
        } else {
            None
        }
    }

    /// Whether `key` is still the fresh set's key for `kid` (decision-cache check).
    pub fn still_current(&self, kid: &str, key: &Arc<VerifyingKey>, now: Instant) -> bool {
        self.cached_key(kid, now)
            .is_some_and(|current| Arc::ptr_eq(&current, key))
    }

    /// The kids currently held, for diagnostics and tests.
    pub fn kids(&self) -> Vec<String> {
        let mut kids: Vec<String> = self.snapshot().keys.keys().cloned().collect();
        kids.sort();
        kids
    }

    /// The key for `kid`, fetching the JWKS when the set is expired or lacks
    /// the `kid` (within the cooldown), and serving a stale set while
    /// refetches fail, up to `max_stale`.
    pub async fn key(&self, kid: &str) -> Result<Arc<VerifyingKey>, VerifyError> {
        let state = self.snapshot();
        let now = Instant::now();
        if state.is_fresh(now) {
            if let Some(key) = state.keys.get(kid) {
                return Ok(Arc::clone(key));
            }
            if state.refused.contains_key(kid) {
                return Err(VerifyError::RefusedKey);
            }
            self.metrics.unknown_kid(&self.issuer.issuer);
            self.refresh(RefreshCause::UnknownKid, state.generation)
                .await;
        } else {
            self.refresh(RefreshCause::Expired, state.generation).await;
        }
        let state = self.snapshot();
        let now = Instant::now();
        if !state.is_usable(now) {
            return Err(VerifyError::KeysUnavailable);
        }
        let key = match state.keys.get(kid) {
            Some(key) => Arc::clone(key),
            None if state.refused.contains_key(kid) => return Err(VerifyError::RefusedKey),
            None => return Err(VerifyError::UnknownKid),
        };
        if !state.is_fresh(now) {
            self.metrics.stale_serve(&self.issuer.issuer);
        }
        Ok(key)
    }

    /// Why the held set's JWK for `kid` was refused, if it was.
    pub fn refusal(&self, kid: &str) -> Option<JwkError> {
        self.snapshot().refused.get(kid).cloned()
    }

    /// Drops `kid` from the held keys at once (a revocation served beside
    /// the authorizer): its tokens stop verifying whatever a refetch does,
    /// and decision-cache entries made with it are refused. `false` if it
    /// was not held.
    pub fn forget(&self, kid: &str) -> bool {
        let previous = self.snapshot();
        if !previous.keys.contains_key(kid) {
            return false;
        }
        let mut keys = previous.keys.clone();
        keys.remove(kid);
        let state = KeySetState {
            keys,
            refused: previous.refused.clone(),
            generation: previous.generation + 1,
            fresh_until: previous.fresh_until,
            usable_until: previous.usable_until,
            snapshot_fetched_at: previous.snapshot_fetched_at,
        };
        self.store(state);
        true
    }

    /// Fetches the JWKS now, whatever the state: Lambda init's pre-warm.
    pub async fn prewarm(&self) -> Result<usize, FetchError> {
        let mut log = self.refresh.lock().await;
        let result = self.fetch_and_install(&mut log).await;
        result.map(|()| self.snapshot().keys.len())
    }

    /// Serves `snapshot`'s keys, with no fetch, until a live fetch replaces
    /// them, and at most until it is `max_age` old.
    pub fn install_snapshot(&self, snapshot: JwksSnapshot, max_age: Duration) {
        let now = Instant::now();
        let until = now + max_age.saturating_sub(snapshot.age(environment::unix_now()));
        let previous = self.snapshot();
        let refused = snapshot
            .set
            .skipped
            .into_iter()
            .filter_map(|skipped| Some((skipped.kid?, skipped.error)))
            .collect();
        let state = KeySetState {
            keys: snapshot.set.keys,
            refused,
            generation: previous.generation + 1,
            fresh_until: Some(until),
            usable_until: Some(until),
            snapshot_fetched_at: Some(snapshot.fetched_at),
        };
        self.store(state);
    }

    /// Whether the keys are still a snapshot's (no live set yet).
    pub fn serving_snapshot(&self) -> bool {
        self.snapshot().snapshot_fetched_at.is_some()
    }

    /// Starts the fetch of the live set in the background (Lambda init,
    /// with a snapshot): the first answer does not wait for it.
    pub fn replace_snapshot_in_background(self: &Arc<Self>) {
        let keys = Arc::clone(self);
        tokio::spawn(async move {
            let mut log = keys.refresh.lock().await;
            if keys.serving_snapshot() {
                let _ = keys.fetch_and_install(&mut log).await;
            }
        });
    }

    /// While the snapshot still serves: waits for the fetch in flight, and
    /// if the snapshot still serves after it, fetches the live set now
    /// (the first time whatever the cooldown, then at most once per
    /// cooldown). Bounded by the fetch timeout, twice at worst.
    pub async fn replace_snapshot(&self) {
        if !self.serving_snapshot() {
            return;
        }
        let mut log = self.refresh.lock().await;
        if !self.serving_snapshot() {
            return;
        }
        let cooldown = self.settings.refresh_cooldown;
        let recent_failure = log.last_failure.is_some_and(|t| t.elapsed() < cooldown);
        if log.snapshot_fetch_awaited && recent_failure {
            return;
        }
        log.snapshot_fetch_awaited = true;
        let _ = self.fetch_and_install(&mut log).await;
    }

    fn store(&self, state: KeySetState) {
        match self.state.write() {
            Ok(mut slot) => *slot = Arc::new(state),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(state),
        }
    }

    /// A live fetch failed while a snapshot serves: from now on the
    /// snapshot is a stale set, served only within the bound a warm
    /// instance has after its last good fetch (`fetched_at` +
    /// `JWKS_MAX_AGE_SECONDS` + `JWKS_MAX_STALE_SECONDS`), then refused.
    fn snapshot_fetch_failed(&self, now: Instant) {
        let previous = self.snapshot();
        let Some(fetched_at) = previous.snapshot_fetched_at else {
            return;
        };
        let bound_unix = fetched_at
            .saturating_add(self.settings.max_age.as_secs())
            .saturating_add(self.settings.max_stale.as_secs());
        let left = Duration::from_secs(bound_unix.saturating_sub(environment::unix_now()));
        let usable_until = previous.usable_until.map(|t| t.min(now + left));
        let state = KeySetState {
            keys: previous.keys.clone(),
            refused: previous.refused.clone(),
            generation: previous.generation,
            fresh_until: Some(now),
            usable_until,
            snapshot_fetched_at: Some(fetched_at),
        };
        self.store(state);
    }

    async fn refresh(&self, cause: RefreshCause, seen_generation: u64) {
        let mut log = self.refresh.lock().await;
        if self.snapshot().generation != seen_generation {
            return; // someone fetched while we queued: share their result
        }
        let now = Instant::now();
        let cooldown = self.settings.refresh_cooldown;
        let within = |t: Option<Instant>| t.is_some_and(|t| now.duration_since(t) < cooldown);
        if within(log.last_failure) {
            return;
        }
        if cause == RefreshCause::UnknownKid {
            if within(log.last_unknown_kid_fetch) {
                return;
            }
            log.last_unknown_kid_fetch = Some(now);
        }
        let _ = self.fetch_and_install(&mut log).await;
    }

    /// The JWKS URL, running discovery first when it is not known yet.
    async fn jwks_uri(&self, log: &mut RefreshLog) -> Result<String, FetchError> {
        if let Some(uri) = &log.jwks_uri {
            return Ok(uri.clone());
        }
        let discovery = self.issuer.jwks_source();
        let uri = self
            .fetcher
            .discover(discovery.url(), &self.issuer.issuer)
            .await?;
        tracing::info!(issuer = %self.issuer.issuer, jwks_uri = %uri, "JWKS URL discovered");
        log.jwks_uri = Some(uri.clone());
        Ok(uri)
    }

    async fn fetch_and_install(&self, log: &mut RefreshLog) -> Result<(), FetchError> {
        let started = Instant::now();
        let phases = Arc::new(Phases::default());
        let result = timed(Arc::clone(&phases), async {
            match self.jwks_uri(log).await {
                Ok(uri) => self.fetcher.fetch(&uri).await,
                Err(error) => Err(error),
            }
        })
        .await;
        let timing = FetchTiming {
            millis: started.elapsed().as_secs_f64() * 1000.0,
            dns_millis: phases.dns_ms(),
            connect_millis: phases.connect_ms(),
        };
        tracing::debug!(
            issuer = %self.issuer.issuer,
            total_ms = timing.millis,
            dns_ms = timing.dns_millis,
            connect_ms = timing.connect_millis,
            connections = phases.connections(),
            "JWKS fetch timed"
        );
        match result {
            Ok(fetched) => {
                self.metrics.jwks_fetch(&self.issuer.issuer, true, &timing);
                log.last_failure = None;
                self.report_refusals(&fetched.set.skipped, log);
                self.install(fetched, Instant::now());
                Ok(())
            }
            Err(error) => {
                self.metrics.jwks_fetch(&self.issuer.issuer, false, &timing);
                tracing::warn!(issuer = %self.issuer.issuer, %error, "JWKS fetch failed");
                log.last_failure = Some(Instant::now());
                self.snapshot_fetch_failed(Instant::now());
                Err(error)
            }
        }
    }

    /// Replaces the key set. Keys absent from the new set are gone at once;
    /// unchanged keys keep their `Arc`, so decision-cache entries survive.
    fn install(&self, fetched: FetchedJwks, now: Instant) {
        let previous = self.snapshot();
        let refused = fetched
            .set
            .skipped
            .into_iter()
            .filter_map(|skipped| Some((skipped.kid?, skipped.error)))
            .collect();
        let keys = fetched
            .set
            .keys
            .into_iter()
            .map(|(kid, key)| match previous.keys.get(&kid) {
                Some(old) if old.same_key_as(&key) => (kid, Arc::clone(old)),
                _ => (kid, key),
            })
            .collect();
        // min(Cache-Control max-age, JWKS_MAX_AGE_SECONDS), floored at 1 s so
        // a server saying max-age=0 costs at most one (shared) fetch a second.
        let freshness = fetched
            .max_age
            .map_or(self.settings.max_age, |age| age.min(self.settings.max_age))
            .max(Duration::from_secs(1));
        let fresh_until = now + freshness;
        let state = KeySetState {
            keys,
            refused,
            generation: previous.generation + 1,
            fresh_until: Some(fresh_until),
            usable_until: Some(fresh_until + self.settings.max_stale),
            snapshot_fetched_at: None,
        };
        if previous.snapshot_fetched_at.is_some() {
            tracing::info!(issuer = %self.issuer.issuer, keys = state.keys.len(), "live JWKS replaced JWKS_SNAPSHOT");
        }
        self.store(state);
    }

    /// Logs and counts the refusals of a fetched set that the last good
    /// fetch did not have, then remembers this fetch's.
    fn report_refusals(&self, skipped: &[SkippedJwk], log: &mut RefreshLog) {
        let issuer = self.issuer.issuer.as_str();
        let mut seen = HashSet::with_capacity(skipped.len());
        let mut new_by_reason: BTreeMap<&'static str, usize> = BTreeMap::new();
        let mut logged = 0usize;
        for refused in skipped {
            let refusal = Refusal {
                kid: refused.kid.clone(),
                reason: refused.error.reason(),
                material: refused.material.clone(),
            };
            if !log.refusals_seen.contains(&refusal) {
                *new_by_reason.entry(refusal.reason).or_default() += 1;
                if logged < REFUSALS_LOGGED_PER_FETCH {
                    tracing::warn!(
                        issuer,
                        kid = ?refused.kid,
                        reason = refusal.reason,
                        material = %refused.material,
                        error = %refused.error,
                        "JWK refused"
                    );
                }
                logged += 1;
            }
            seen.insert(refusal);
        }
        if logged > REFUSALS_LOGGED_PER_FETCH {
            tracing::warn!(
                issuer,
                more = logged - REFUSALS_LOGGED_PER_FETCH,
                "more JWKs refused than are logged one by one"
            );
        }
        for (reason, count) in new_by_reason {
            self.metrics.keys_refused(issuer, reason, count);
        }
        log.refusals_seen = seen;
    }
}

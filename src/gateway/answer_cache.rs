//! The gateway's authorizer result cache, as API Gateway keeps one per
//! stage: the authorizer's answer per token for the TTL. A revocation drops
//! exactly the answers it touched: those made with a revoked key, or for a
//! token whose status entry was revoked.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use moka::sync::Cache;
use serde_json::Value;

/// Most bytes of tokens and answers the cache holds.
pub const ANSWER_CACHE_BYTES: u64 = 32 * 1024 * 1024;

/// One cached answer and what a revocation would look for in it.
#[derive(Clone, Debug)]
pub(super) struct CachedAnswer {
    pub(super) answer: Arc<Value>,
    /// The `kid` that verified the token (the answer's `context.kid`).
    kid: Option<String>,
    /// The token's status list entry (`status.status_list`), if it names one.
    status: Option<(String, u64)>,
}

/// Answers by token; empty and inert when the TTL is 0.
pub(super) struct AnswerCache {
    answers: Option<Cache<String, CachedAnswer>>,
    /// Bumped by every invalidation: an answer computed before one is not
    /// cached after it (it may have used a key or a list that is gone).
    invalidations: AtomicU64,
}

/// Where an answer was asked for: `ticket` says which invalidations it has
/// seen, so it is cached only if none came since.
pub(super) struct Ticket(u64);

impl AnswerCache {
    pub(super) fn new(ttl: Duration) -> Self {
        let answers = (!ttl.is_zero()).then(|| {
            Cache::builder()
                // Bounded in bytes, not entries: a token may be kilobytes long.
                .weigher(|token: &String, cached: &CachedAnswer| {
                    u32::try_from(token.len() + cached.answer.to_string().len()).unwrap_or(u32::MAX)
                })
                .max_capacity(ANSWER_CACHE_BYTES)
                .time_to_live(ttl)
                .support_invalidation_closures()
                .build()
        });
        Self {
            answers,
            invalidations: AtomicU64::new(0),
        }
    }

    pub(super) fn is_on(&self) -> bool {
        self.answers.is_some()
    }

    pub(super) fn get(&self, token: &str) -> Option<Arc<Value>> {
        self.answers
            .as_ref()?
            .get(token)
            .map(|cached| cached.answer)
    }

    /// Taken before the authorizer is asked.
    pub(super) fn ticket(&self) -> Ticket {
        Ticket(self.invalidations.load(Ordering::SeqCst))
    }

    /// Caches `answer` for `token`, unless an invalidation came since `ticket`.
    pub(super) fn insert(&self, token: String, answer: Arc<Value>, ticket: Ticket) {
        let Some(answers) = &self.answers else {
            return;
        };
        let cached = CachedAnswer {
            kid: answer
                .pointer("/context/kid")
                .and_then(Value::as_str)
                .map(str::to_owned),
            status: status_entry(&token),
            answer,
        };
        answers.insert(token.clone(), cached);
        // An invalidation since the authorizer was called: undo.
        if self.invalidations.load(Ordering::SeqCst) != ticket.0 {
            answers.invalidate(&token);
        }
    }

    /// How many answers are cached now.
    pub(super) fn len(&self) -> u64 {
        self.answers.as_ref().map_or(0, |answers| {
            answers.run_pending_tasks();
            answers.entry_count()
        })
    }

    /// Drops every answer, as `FlushStageAuthorizersCache` does.
    pub(super) fn clear(&self) {
        self.invalidations.fetch_add(1, Ordering::SeqCst);
        if let Some(answers) = &self.answers {
            answers.invalidate_all();
        }
    }

    /// Drops the answers made with any of `kids`.
    pub(super) fn drop_kids(&self, kids: &[String]) {
        let kids = kids.to_vec();
        self.drop_where(move |cached| cached.kid.as_ref().is_some_and(|kid| kids.contains(kid)));
    }

    /// Drops the answers of tokens at any of `entries` (list URI, index).
    pub(super) fn drop_status_entries(&self, entries: Vec<(String, u64)>) {
        self.drop_where(move |cached| {
            cached
                .status
                .as_ref()
                .is_some_and(|entry| entries.contains(entry))
        });
    }

    fn drop_where(&self, doomed: impl Fn(&CachedAnswer) -> bool + Send + Sync + 'static) {
        self.invalidations.fetch_add(1, Ordering::SeqCst);
        let Some(answers) = &self.answers else {
            return;
        };
        if answers
            .invalidate_entries_if(move |_, cached| doomed(cached))
            .is_err()
        {
            // Cannot happen (closures are enabled); fail safe all the same.
            answers.invalidate_all();
        }
    }
}

/// A token's `status.status_list` `(uri, idx)`, read from its payload. The
/// authorizer verified the token before its answer was cached; this only
/// finds the answer again when the entry is revoked.
fn status_entry(token: &str) -> Option<(String, u64)> {
    let payload = token.split('.').nth(1)?;
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    let reference = claims.pointer("/status/status_list")?;
    Some((
        reference.get("uri")?.as_str()?.to_owned(),
        reference.get("idx")?.as_u64()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn token_with(claims: Value) -> String {
        format!("e30.{}.sig", URL_SAFE_NO_PAD.encode(claims.to_string()))
    }

    fn answer(kid: &str) -> Arc<Value> {
        Arc::new(json!({"principalId": "alice", "context": {"kid": kid}}))
    }

    #[test]
    fn a_revocation_drops_only_the_answers_it_touches() {
        let cache = AnswerCache::new(Duration::from_secs(300));
        let list = "https://issuer.example/statuslists/0";
        let listed =
            |idx: u64| token_with(json!({"status": {"status_list": {"uri": list, "idx": idx}}}));
        let (a, b, other_key) = (listed(1), listed(2), token_with(json!({"sub": "bob"})));
        cache.insert(a.clone(), answer("k1"), cache.ticket());
        cache.insert(b.clone(), answer("k1"), cache.ticket());
        cache.insert(other_key.clone(), answer("k2"), cache.ticket());

        cache.drop_status_entries(vec![(list.to_owned(), 2)]);
        cache.len();
        assert!(cache.get(&a).is_some());
        assert!(cache.get(&b).is_none(), "its entry was revoked");
        cache.drop_status_entries(vec![("https://issuer.example/statuslists/1".to_owned(), 1)]);
        assert!(cache.get(&a).is_some(), "another list's index 1");

        cache.drop_kids(&["k1".to_owned()]);
        cache.len();
        assert!(cache.get(&a).is_none(), "made with the revoked key");
        assert!(cache.get(&other_key).is_some());
    }

    #[test]
    fn an_answer_made_before_an_invalidation_is_not_cached_after_it() {
        let cache = AnswerCache::new(Duration::from_secs(300));
        let ticket = cache.ticket();
        cache.drop_kids(&["k9".to_owned()]);
        cache.insert("t".to_owned(), answer("k1"), ticket);
        assert!(cache.get("t").is_none());
    }

    #[test]
    fn with_no_ttl_nothing_is_cached() {
        let cache = AnswerCache::new(Duration::ZERO);
        cache.insert("t".to_owned(), answer("k1"), cache.ticket());
        assert!(!cache.is_on());
        assert!(cache.get("t").is_none());
        assert_eq!(cache.len(), 0);
    }
}

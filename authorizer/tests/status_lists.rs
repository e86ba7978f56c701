//! Token revocation through status lists (draft-ietf-oauth-status-list),
//! against a real loopback issuer: a revoked entry is refused (decision-cache
//! hits included), forged or hostile lists are never trusted, an outage
//! serves the last list within its stale bound then fails closed, and
//! `STATUS_LIST_CHECK` decides what a token without a status claim gets.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use authorizer::{Authorizer, VerifyError};
use common::{decision_lines, metric_sum, rsa_key};
use jsonwebtoken::Header;
use serde_json::{json, Value};
use status_list::{Bits, StatusList, INVALID};
use telemetry::CaptureSink;
use testkit::{JwksServer, ServerMode, TestKey};

const LIST: &str = "/statuslists/0";

/// An issuer on loopback (its URL is the server's), signing with `key`.
struct Issuer {
    server: JwksServer,
    key: TestKey,
    authorizer: Authorizer,
    metrics: CaptureSink,
}

impl Issuer {
    async fn start(overrides: &[(&str, &str)]) -> Self {
        let key = rsa_key("k1");
        let server = JwksServer::start(testkit::jwks(&[&key])).await;
        let metrics = CaptureSink::new();
        let mut env: Vec<(String, String)> = vec![
            ("JWT_ISSUER".into(), server.base_url()),
            ("JWKS_URI".into(), server.url()),
            ("JWT_AUDIENCE".into(), common::AUDIENCE.into()),
            ("DPOP_MODE".into(), "off".into()),
        ];
        env.extend(overrides.iter().map(|(k, v)| ((*k).into(), (*v).into())));
        let config = authorizer::AuthorizerConfig::from_lookup(
            |name| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
            common::demo_routes(),
        )
        .unwrap();
        let authorizer = Authorizer::new(config, Arc::new(metrics.clone())).unwrap();
        authorizer.prewarm().await;
        let issuer = Self {
            server,
            key,
            authorizer,
            metrics,
        };
        issuer.publish(&[], 60);
        issuer
    }

    fn uri(&self) -> String {
        format!("{}{LIST}", self.server.base_url())
    }

    /// The list token's claims: entries `revoked` INVALID.
    fn list_claims(&self, revoked: &[u64], ttl: u64) -> Value {
        let mut list = StatusList::new(Bits::One, 1024);
        for &idx in revoked {
            list.set(idx, INVALID).unwrap();
        }
        let now = testkit::now();
        json!({"sub": self.uri(), "iat": now, "exp": now + 3600, "ttl": ttl,
               "status_list": {"bits": 1, "lst": list.encode()}})
    }

    fn list_header(&self) -> Header {
        let mut header = self.key.header();
        header.typ = Some("statuslist+jwt".into());
        header
    }

    /// Serves a properly signed list with `revoked` entries INVALID.
    fn publish(&self, revoked: &[u64], ttl: u64) {
        let token = self
            .key
            .sign_with_header(&self.list_header(), &self.list_claims(revoked, ttl));
        self.serve(&token);
    }

    fn serve(&self, body: &str) {
        self.server
            .set_document(LIST, "application/statuslist+jwt", Some(body));
    }

    /// An access token whose status is entry `idx` of the list at `uri`.
    fn token_at(&self, uri: &str, idx: u64) -> String {
        let mut claims = testkit::access_claims(
            &self.server.base_url(),
            common::AUDIENCE,
            "alice",
            "books:read",
            600,
        );
        // A jti of its own: each token is a new decision-cache entry.
        static MINTED: AtomicU64 = AtomicU64::new(0);
        claims["jti"] = json!(format!(
            "jti-{idx}-{}",
            MINTED.fetch_add(1, Ordering::SeqCst)
        ));
        claims["status"] = json!({"status_list": {"idx": idx, "uri": uri}});
        self.key.sign(&claims)
    }

    fn token(&self, idx: u64) -> String {
        self.token_at(&self.uri(), idx)
    }

    async fn verify(&self, token: &str) -> Result<(), VerifyError> {
        self.authorizer.verify(token).await.map(|_| ())
    }

    fn last_reason(&self) -> Value {
        decision_lines(&self.metrics)
            .last()
            .map(|l| l["Reason"].clone())
            .unwrap_or(Value::Null)
    }
}

#[tokio::test]
async fn a_revoked_entry_is_refused_and_every_other_token_passes() {
    let issuer = Issuer::start(&[]).await;
    let after_prewarm = issuer.server.requests();
    issuer.publish(&[3], 60);
    assert_eq!(issuer.verify(&issuer.token(2)).await, Ok(()));
    assert_eq!(
        issuer.server.requests(),
        after_prewarm + 1,
        "fetched lazily, once"
    );
    assert_eq!(
        issuer.verify(&issuer.token(3)).await,
        Err(VerifyError::Revoked)
    );
    assert_eq!(issuer.verify(&issuer.token(4)).await, Ok(()));
    // The answer: Unauthorized, reason `revoked`.
    let denied = common::answer(&issuer.authorizer, &issuer.token(3)).await;
    assert!(denied.is_err());
    assert_eq!(issuer.last_reason(), "revoked");
    assert_eq!(
        issuer.server.requests(),
        after_prewarm + 1,
        "one fetch served them all"
    );
    assert_eq!(metric_sum(&issuer.metrics, "StatusListFetches"), 1.0);
    // Past the list's end no statement can be made: refused.
    assert_eq!(
        issuer.verify(&issuer.token(4096)).await,
        Err(VerifyError::StatusUnavailable)
    );
}

#[tokio::test]
async fn a_cached_decision_never_outlives_a_revocation() {
    let issuer = Issuer::start(&[("STATUS_LIST_MAX_AGE_SECONDS", "1")]).await;
    let token = issuer.token(7);
    assert_eq!(issuer.verify(&token).await, Ok(()));
    issuer.verify(&token).await.unwrap();
    let hits = metric_sum(&issuer.metrics, "DecisionCacheHits");
    issuer.publish(&[7], 60);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let answered = common::answer(&issuer.authorizer, &token).await;
    assert!(answered.is_err(), "revoked once the list is due again");
    assert_eq!(issuer.last_reason(), "revoked");
    assert!(metric_sum(&issuer.metrics, "DecisionCacheHits") >= hits);

    // A revocation the stack served itself is seen at once.
    let other = issuer.token(8);
    assert_eq!(issuer.verify(&other).await, Ok(()));
    issuer.publish(&[7, 8], 60);
    // Another list's revocation leaves this one's copy in force.
    let elsewhere = format!("{}/statuslists/9", issuer.server.base_url());
    issuer.authorizer.forget_status_lists(&[elsewhere]);
    assert_eq!(issuer.verify(&other).await, Ok(()));
    issuer.authorizer.forget_status_lists(&[issuer.uri()]);
    assert_eq!(issuer.verify(&other).await, Err(VerifyError::Revoked));
}

#[tokio::test]
async fn the_list_is_revalidated_with_its_etag() {
    let issuer = Issuer::start(&[("STATUS_LIST_MAX_AGE_SECONDS", "1")]).await;
    let token = issuer.token(1);
    issuer.verify(&token).await.unwrap();
    let fetched = issuer.server.requests();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    issuer.verify(&token).await.unwrap();
    assert_eq!(
        issuer.server.requests(),
        fetched + 1,
        "one conditional fetch"
    );
    assert_eq!(metric_sum(&issuer.metrics, "StatusListFetchFailures"), 0.0);
}

/// Every way a list can be wrong: the token naming it is refused (reason
/// `status_unavailable`) and no list is taken from it.
#[tokio::test]
async fn forged_and_broken_lists_are_never_trusted() {
    let issuer = Issuer::start(&[]).await;
    let stranger = rsa_key("k1"); // the issuer's kid, another key
    let unknown = rsa_key("k9");
    let now = testkit::now();
    let claims = issuer.list_claims(&[], 60);
    let with = |change: &dyn Fn(&mut Value)| {
        let mut changed = claims.clone();
        change(&mut changed);
        issuer.key.sign_with_header(&issuer.list_header(), &changed)
    };
    let mut plain_typ = issuer.key.header();
    plain_typ.typ = Some("JWT".into());
    let bomb = StatusList::new(Bits::One, 64 << 20).encode(); // 8 MiB of zeros
    let truncated = {
        let lst = claims["status_list"]["lst"].as_str().unwrap();
        lst[..lst.len() - 4].to_owned()
    };
    let forged: Vec<(&str, String)> = vec![
        (
            "another key, same kid",
            stranger.sign_with_header(&issuer.list_header(), &claims),
        ),
        (
            "a kid the issuer does not have",
            unknown.sign_with_header(&issuer.list_header(), &claims),
        ),
        ("typ JWT", issuer.key.sign_with_header(&plain_typ, &claims)),
        (
            "another sub",
            with(&|c| c["sub"] = json!(format!("{}/statuslists/1", issuer.server.base_url()))),
        ),
        (
            "no sub",
            with(&|c| {
                c.as_object_mut().unwrap().remove("sub");
            }),
        ),
        ("expired", with(&|c| c["exp"] = json!(now - 3600))),
        (
            "issued in the future",
            with(&|c| c["iat"] = json!(now + 3600)),
        ),
        (
            "no iat",
            with(&|c| {
                c.as_object_mut().unwrap().remove("iat");
            }),
        ),
        (
            "another iss",
            with(&|c| c["iss"] = json!("https://evil.example")),
        ),
        ("bits 3", with(&|c| c["status_list"]["bits"] = json!(3))),
        ("bits 16", with(&|c| c["status_list"]["bits"] = json!(16))),
        ("a ttl of 0", with(&|c| c["ttl"] = json!(0))),
        (
            "truncated deflate",
            with(&|c| c["status_list"]["lst"] = json!(truncated)),
        ),
        (
            "a deflate bomb",
            with(&|c| c["status_list"]["lst"] = json!(bomb)),
        ),
        (
            "lst not base64",
            with(&|c| c["status_list"]["lst"] = json!("***")),
        ),
        (
            "no status_list",
            with(&|c| {
                c.as_object_mut().unwrap().remove("status_list");
            }),
        ),
        ("not a JWS", "not-a-token".to_owned()),
    ];
    for (why, body) in forged {
        issuer.serve(&body);
        issuer.authorizer.forget_status_lists(&[issuer.uri()]);
        let before = issuer.server.requests();
        let token = issuer.token(1);
        assert!(
            common::answer(&issuer.authorizer, &token).await.is_err(),
            "{why}"
        );
        assert_eq!(issuer.last_reason(), "status_unavailable", "{why}");
        assert!(
            issuer.server.requests() > before,
            "{why}: the list was fetched and refused"
        );
    }
    // The genuine list is accepted again.
    issuer.publish(&[], 60);
    issuer.authorizer.forget_status_lists(&[issuer.uri()]);
    assert_eq!(issuer.verify(&issuer.token(1)).await, Ok(()));
}

/// A list anywhere but on the token's issuer's origin is never fetched.
#[tokio::test]
async fn a_list_on_another_origin_or_over_http_is_refused_without_a_fetch() {
    let issuer = Issuer::start(&[]).await;
    let elsewhere = JwksServer::start(json!({"keys": []})).await;
    let base = issuer.server.base_url();
    let port = base.rsplit(':').next().unwrap();
    for uri in [
        format!("{}{LIST}", elsewhere.base_url()),
        format!("http://localhost:{port}{LIST}"),
        format!("https://127.0.0.1:{port}{LIST}"),
        "https://evil.example/statuslists/0".to_owned(),
        "not a uri".to_owned(),
    ] {
        let before = (issuer.server.requests(), elsewhere.requests());
        let token = issuer.token_at(&uri, 1);
        assert_eq!(
            issuer.verify(&token).await,
            Err(VerifyError::StatusUnavailable),
            "{uri}"
        );
        assert_eq!(
            (issuer.server.requests(), elsewhere.requests()),
            before,
            "{uri}"
        );
    }
}

#[tokio::test]
async fn an_outage_serves_the_last_list_within_its_stale_bound_then_fails_closed() {
    let issuer = Issuer::start(&[
        ("STATUS_LIST_MAX_AGE_SECONDS", "1"),
        ("STATUS_LIST_MAX_STALE_SECONDS", "2"),
    ])
    .await;
    issuer.publish(&[5], 60);
    let (good, revoked) = (issuer.token(4), issuer.token(5));
    assert_eq!(issuer.verify(&good).await, Ok(()));
    issuer.server.set_mode(ServerMode::Status(503));
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        issuer.verify(&good).await,
        Ok(()),
        "stale, within the bound"
    );
    assert_eq!(issuer.verify(&revoked).await, Err(VerifyError::Revoked));
    assert!(metric_sum(&issuer.metrics, "StatusListStaleServes") >= 1.0);
    assert!(metric_sum(&issuer.metrics, "StatusListFetchFailures") >= 1.0);
    tokio::time::sleep(Duration::from_millis(2200)).await;
    assert!(
        common::answer(&issuer.authorizer, &good).await.is_err(),
        "closed"
    );
    assert_eq!(issuer.last_reason(), "status_unavailable");
    issuer.server.set_mode(ServerMode::Serve);
    tokio::time::sleep(Duration::from_millis(1100)).await; // past the retry pause
    assert_eq!(issuer.verify(&good).await, Ok(()), "recovers");
}

#[tokio::test]
async fn a_list_unreachable_from_the_start_fails_closed() {
    let issuer = Issuer::start(&[]).await;
    issuer
        .server
        .set_document(LIST, "application/statuslist+jwt", None);
    assert_eq!(
        issuer.verify(&issuer.token(1)).await,
        Err(VerifyError::StatusUnavailable)
    );
}

#[tokio::test]
async fn concurrent_checks_of_a_list_share_one_fetch() {
    let issuer = Arc::new(Issuer::start(&[]).await);
    let before = issuer.server.requests();
    let mut checks = tokio::task::JoinSet::new();
    for idx in 0..32 {
        let issuer = Arc::clone(&issuer);
        checks.spawn(async move { issuer.verify(&issuer.token(idx)).await });
    }
    while let Some(result) = checks.join_next().await {
        assert_eq!(result.unwrap(), Ok(()));
    }
    assert_eq!(issuer.server.requests(), before + 1);
}

#[tokio::test]
async fn status_list_check_decides_what_a_token_without_status_gets() {
    let plain = |issuer: &Issuer| {
        issuer.key.sign(&testkit::access_claims(
            &issuer.server.base_url(),
            common::AUDIENCE,
            "alice",
            "books:read",
            600,
        ))
    };
    let if_present = Issuer::start(&[]).await;
    assert_eq!(if_present.verify(&plain(&if_present)).await, Ok(()));

    let required = Issuer::start(&[("STATUS_LIST_CHECK", "required")]).await;
    assert!(common::answer(&required.authorizer, &plain(&required))
        .await
        .is_err());
    assert_eq!(required.last_reason(), "missing_status");
    assert_eq!(required.verify(&required.token(1)).await, Ok(()));

    let off = Issuer::start(&[("STATUS_LIST_CHECK", "off")]).await;
    off.publish(&[1], 60);
    let before = off.server.requests();
    assert_eq!(
        off.verify(&off.token(1)).await,
        Ok(()),
        "not checked when off"
    );
    assert_eq!(off.server.requests(), before, "no fetch");
}

/// A token refused for another reason never causes a list fetch.
#[tokio::test]
async fn an_invalid_token_is_refused_before_its_status_is_fetched() {
    let issuer = Issuer::start(&[]).await;
    let before = issuer.server.requests();
    let mut claims = testkit::access_claims(&issuer.server.base_url(), "another-api", "a", "", 600);
    claims["status"] = json!({"status_list": {"idx": 1, "uri": issuer.uri()}});
    let token = issuer.key.sign(&claims);
    assert_eq!(issuer.verify(&token).await, Err(VerifyError::BadAudience));
    assert_eq!(issuer.server.requests(), before);
}

/// `tollgate explain` shows the status check and names `revoked` first.
#[tokio::test]
async fn explain_shows_the_status_check() {
    use authorizer::explain::Verdict;
    let issuer = Issuer::start(&[]).await;
    issuer.publish(&[3], 60);
    let status_line = |explanation: &authorizer::explain::Explanation| {
        explanation
            .checks
            .iter()
            .find(|c| c.name == "status")
            .cloned()
            .expect("a status line")
    };
    let valid = issuer.authorizer.explain(&issuer.token(2)).await;
    assert!(valid.outcome.is_ok());
    let line = status_line(&valid);
    assert_eq!(line.verdict, Verdict::Pass);
    assert!(line.detail.contains("VALID"), "{}", line.detail);

    let revoked = issuer.authorizer.explain(&issuer.token(3)).await;
    assert_eq!(revoked.first_failure(), Some("revoked"));
    assert_eq!(status_line(&revoked).verdict, Verdict::Fail);
}

/// The review's finding: when an earlier check failed, `explain` printed
/// the status line twice (`skip`, then `pass`). It is there once, skipped.
#[tokio::test]
async fn explain_shows_the_status_check_once_whatever_failed_before() {
    use authorizer::explain::Verdict;
    let issuer = Issuer::start(&[]).await;
    issuer.publish(&[], 60);
    let token = issuer.token(2);
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    // The first character: the last one may carry only unused bits.
    let first = if parts[2].starts_with('A') { "B" } else { "A" };
    parts[2] = format!("{first}{}", &parts[2][1..]);
    for (refused, why) in [
        ("not-a-token".to_owned(), "structure"),
        (parts.join("."), "signature"),
    ] {
        let explanation = issuer.authorizer.explain(&refused).await;
        let status: Vec<_> = explanation
            .checks
            .iter()
            .filter(|c| c.name == "status")
            .collect();
        assert_eq!(status.len(), 1, "{why}: {:?}", explanation.checks);
        assert_eq!(status[0].verdict, Verdict::Skipped, "{why}");
    }
}

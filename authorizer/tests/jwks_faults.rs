//! The key cache against a real loopback JWKS server that rotates keys,
//! fails, hangs, resets, floods and trickles.

mod common;

use std::sync::Arc;
use std::time::Duration;

use authorizer::VerifyError;
use common::*;
use serde_json::json;
use testkit::{jwks, JwksServer, ServerMode};

/// Short cache timings so staleness is observable in a test.
const FAST: &[(&str, &str)] = &[
    ("JWKS_MAX_AGE_SECONDS", "1"),
    ("JWKS_REFRESH_COOLDOWN_SECONDS", "1"),
    ("JWKS_MAX_STALE_SECONDS", "2"),
    ("JWKS_FETCH_TIMEOUT_MS", "400"),
];

async fn sleep_ms(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

#[tokio::test]
async fn a_key_published_before_it_signs_needs_no_fetch() {
    let active = rsa_key("active");
    let next = rsa_key("next");
    let h = harness(jwks(&[&active, &next]), &[]).await;
    assert_eq!(h.server.requests(), 1, "pre-warm fetched once");
    assert!(answer(&h.authorizer, &active.sign(&claims("books:read")))
        .await
        .is_ok());
    // Rotation: `next` starts signing. The warm cache already holds it.
    assert!(answer(&h.authorizer, &next.sign(&claims("books:read")))
        .await
        .is_ok());
    assert_eq!(h.server.requests(), 1, "rotation caused no fetch");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unknown_kid_triggers_one_refetch_shared_by_concurrent_misses() {
    let old = rsa_key("old");
    let new = rsa_key("new");
    let h = Arc::new(harness(jwks(&[&old]), &[]).await);
    h.server.set_jwks(jwks(&[&old, &new]));
    let token = new.sign(&claims("books:read"));
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let h = Arc::clone(&h);
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            h.authorizer.verify(&token).await.is_ok()
        }));
    }
    for task in tasks {
        assert!(
            task.await.unwrap(),
            "every concurrent miss is served by the shared fetch"
        );
    }
    assert_eq!(h.server.requests(), 2, "pre-warm + exactly one refetch");
    assert!(metric_sum(&h.metrics, "UnknownKidMisses") >= 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_of_random_kids_costs_at_most_one_fetch_per_cooldown() {
    let key = rsa_key("real");
    let h = Arc::new(harness(jwks(&[&key]), &[]).await);
    let mut tasks = Vec::new();
    for i in 0..300 {
        let h = Arc::clone(&h);
        let forged = key.sign_raw(
            &json!({"alg": "RS256", "kid": format!("random-{i}")}).to_string(),
            &claims("books:read").to_string(),
        );
        tasks.push(tokio::spawn(async move {
            h.authorizer.verify(&forged).await.err()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), Some(VerifyError::UnknownKid));
    }
    assert!(h.server.requests() <= 2, "fetches: {}", h.server.requests());
    // The real key still works, from cache.
    assert!(answer(&h.authorizer, &key.sign(&claims("books:read")))
        .await
        .is_ok());
    assert!(h.server.requests() <= 2);
}

#[tokio::test]
async fn outage_serves_stale_keys_then_fails_closed_then_recovers() {
    let key = rsa_key("k");
    let h = harness(jwks(&[&key]), FAST).await;
    let token = key.sign(&claims("books:read"));
    assert!(h.authorizer.verify(&token).await.is_ok());

    h.server.set_mode(ServerMode::Status(500));
    sleep_ms(1200).await; // past freshness (1 s), within stale (2 s more)
    let fresh_token = key.sign(&claims("books:write"));
    assert!(
        h.authorizer.verify(&fresh_token).await.is_ok(),
        "stale set serves during the outage"
    );
    assert!(metric_sum(&h.metrics, "JwksStaleServes") >= 1.0);
    assert!(metric_sum(&h.metrics, "JwksFetchFailures") >= 1.0);

    sleep_ms(2200).await; // past freshness + max stale
    assert_eq!(
        h.authorizer.verify(&fresh_token).await.err(),
        Some(VerifyError::KeysUnavailable),
        "fails closed"
    );
    assert_eq!(
        h.authorizer.verify(&token).await.err(),
        Some(VerifyError::KeysUnavailable),
        "decision cache is not served either"
    );

    h.server.set_mode(ServerMode::Serve);
    sleep_ms(1100).await; // let the failure back-off pass
    assert!(
        h.authorizer.verify(&fresh_token).await.is_ok(),
        "recovers once the JWKS is back"
    );
}

#[tokio::test]
async fn a_key_removed_from_the_jwks_stops_verifying_once_the_set_refreshes() {
    let revoked = rsa_key("revoked");
    let kept = rsa_key("kept");
    let h = harness(jwks(&[&revoked, &kept]), FAST).await;
    let token = revoked.sign(&claims("books:read"));
    assert!(answer(&h.authorizer, &token).await.is_ok());
    assert!(
        h.authorizer.cached(&token, testkit::now()).is_some(),
        "decision cached"
    );

    h.server.set_jwks(jwks(&[&kept]));
    sleep_ms(1200).await;
    assert!(
        answer(&h.authorizer, &token).await.is_err(),
        "revoked key's token refused after refresh"
    );
    assert!(
        h.authorizer.cached(&token, testkit::now()).is_none(),
        "its decision is gone too"
    );
    assert!(answer(&h.authorizer, &kept.sign(&claims("books:read")))
        .await
        .is_ok());
}

/// README's bound: a key revoked while the JWKS endpoint fails keeps
/// verifying at most `JWKS_MAX_AGE_SECONDS + JWKS_MAX_STALE_SECONDS` after
/// the last successful fetch, then is refused (the whole stale set is).
#[tokio::test]
async fn a_key_revoked_during_an_outage_stops_verifying_within_the_stale_bound() {
    let revoked = rsa_key("revoked");
    let kept = rsa_key("kept");
    let h = harness(jwks(&[&revoked, &kept]), FAST).await;
    let last_good_fetch = std::time::Instant::now();
    let token = revoked.sign(&claims("books:read"));
    assert!(answer(&h.authorizer, &token).await.is_ok());

    // The issuer revokes the key, but the JWKS endpoint fails from then on,
    // so the authorizer cannot learn it.
    h.server.set_jwks(jwks(&[&kept]));
    h.server.set_mode(ServerMode::Status(503));
    let bound = Duration::from_secs(1 + 2); // max-age 1 s + max stale 2 s
    let mut refused_at = None;
    while last_good_fetch.elapsed() < bound + Duration::from_millis(1500) {
        if answer(&h.authorizer, &token).await.is_err() {
            refused_at = Some(last_good_fetch.elapsed());
            break;
        }
        sleep_ms(100).await;
    }
    let refused_at = refused_at.expect("the revoked key's token must stop verifying");
    assert!(
        refused_at <= bound + Duration::from_millis(500),
        "refused after {refused_at:?}, bound {bound:?}"
    );
    assert_eq!(
        h.authorizer.verify(&token).await.err(),
        Some(VerifyError::KeysUnavailable)
    );
}

#[tokio::test]
async fn unchanged_keys_keep_their_decision_cache_entries_across_refreshes() {
    let key = rsa_key("steady");
    let h = harness(jwks(&[&key]), FAST).await;
    let (a, b) = (
        key.sign(&claims("books:read")),
        key.sign(&claims("books:write")),
    );
    assert!(h.authorizer.verify(&a).await.is_ok());
    assert!(h.authorizer.verify(&b).await.is_ok());
    sleep_ms(1200).await;
    // Token A's verification refreshes the stale set; the same key keeps its
    // identity, so B (never re-verified) is still a decision-cache hit.
    assert!(h.authorizer.verify(&a).await.is_ok());
    assert_eq!(h.server.requests(), 2, "one refresh");
    assert!(
        h.authorizer.cached(&b, testkit::now()).is_some(),
        "B survived the refresh"
    );
}

#[tokio::test]
async fn cache_control_max_age_below_the_bound_is_honoured() {
    // Default cooldown (10 s): freshness follows the server's max-age=1, not the cooldown.
    let key = rsa_key("k");
    let h = harness(jwks(&[&key]), &[]).await;
    h.server.set_cache_control(Some("public, max-age=1"));
    // The pre-warm fetch saw max-age=300; fetch again through a kid miss to pick up max-age=1.
    let stranger = rsa_key("stranger");
    h.server.set_jwks(jwks(&[&key, &stranger]));
    assert!(h
        .authorizer
        .verify(&stranger.sign(&claims("books:read")))
        .await
        .is_ok());
    assert_eq!(h.server.requests(), 2);
    sleep_ms(1200).await;
    assert!(h
        .authorizer
        .verify(&key.sign(&claims("books:write")))
        .await
        .is_ok());
    assert_eq!(
        h.server.requests(),
        3,
        "expired after max-age=1 and refetched"
    );
}

#[tokio::test]
async fn hanging_and_trickling_servers_are_bounded_by_the_fetch_timeout() {
    for mode in [ServerMode::Hang, ServerMode::Trickle] {
        let key = rsa_key("k");
        let server = JwksServer::start(jwks(&[&key])).await;
        server.set_mode(mode.clone());
        // Cooldown 0: the request-time verification below really fetches again.
        let authorizer = authorizer::Authorizer::new(
            config(
                &server,
                &[
                    ("JWKS_FETCH_TIMEOUT_MS", "300"),
                    ("JWKS_REFRESH_COOLDOWN_SECONDS", "0"),
                ],
            ),
            Arc::new(telemetry::DiscardSink),
        )
        .unwrap();
        let prewarm = tokio::time::timeout(Duration::from_secs(2), authorizer.prewarm()).await;
        let results = prewarm.unwrap_or_else(|_| panic!("{mode:?}: pre-warm hung"));
        assert!(results[0].1.is_err(), "{mode:?}: fetch must time out");
        let before = server.requests();
        let verdict = tokio::time::timeout(
            Duration::from_secs(2),
            authorizer.verify(&key.sign(&claims("books:read"))),
        )
        .await;
        assert_eq!(
            server.requests(),
            before + 1,
            "{mode:?}: the request fetched, bounded by the timeout"
        );
        assert_eq!(
            verdict.expect("verification hung").err(),
            Some(VerifyError::KeysUnavailable),
            "{mode:?}"
        );
    }
}

#[tokio::test]
async fn resets_errors_and_oversized_bodies_fail_the_fetch_not_the_process() {
    for mode in [
        ServerMode::Reset,
        ServerMode::Status(500),
        ServerMode::Status(404),
        ServerMode::Huge,
        ServerMode::HugeUnannounced,
    ] {
        let key = rsa_key("k");
        let server = JwksServer::start(jwks(&[&key])).await;
        server.set_mode(mode.clone());
        let authorizer =
            authorizer::Authorizer::new(config(&server, &[]), Arc::new(telemetry::DiscardSink))
                .unwrap();
        let results = tokio::time::timeout(Duration::from_secs(10), authorizer.prewarm())
            .await
            .expect("bounded");
        assert!(results[0].1.is_err(), "{mode:?}");
        assert!(
            answer(&authorizer, &key.sign(&claims("books:read")))
                .await
                .is_err(),
            "{mode:?}: fails closed"
        );
    }
}

#[tokio::test]
async fn an_unreachable_jwks_at_start_fails_closed_until_it_answers() {
    let key = rsa_key("k");
    let h = {
        let server = JwksServer::start(jwks(&[&key])).await;
        server.set_mode(ServerMode::Status(503));
        let metrics = telemetry::CaptureSink::new();
        let authorizer =
            authorizer::Authorizer::new(config(&server, FAST), Arc::new(metrics.clone())).unwrap();
        authorizer.prewarm().await;
        Harness {
            server,
            authorizer,
            metrics,
        }
    };
    let token = key.sign(&claims("books:read"));
    assert!(answer(&h.authorizer, &token).await.is_err());
    h.server.set_mode(ServerMode::Serve);
    sleep_ms(1100).await;
    assert!(answer(&h.authorizer, &token).await.is_ok());
}

#[tokio::test]
async fn invalid_jwks_documents_keep_the_last_good_set() {
    let key = rsa_key("k");
    let h = harness(jwks(&[&key]), FAST).await;
    h.server.set_jwks(json!({"not": "a jwks"}));
    sleep_ms(1200).await;
    assert!(
        h.authorizer
            .verify(&key.sign(&claims("books:read")))
            .await
            .is_ok(),
        "stale good set still serves"
    );
    assert!(metric_sum(&h.metrics, "JwksFetchFailures") >= 1.0);
}

#[tokio::test]
async fn each_issuers_keys_verify_only_its_own_tokens() {
    let key_a = rsa_key("a-key");
    let key_b = rsa_key("b-key");
    let server_a = JwksServer::start(jwks(&[&key_a])).await;
    let server_b = JwksServer::start(jwks(&[&key_b])).await;
    let trusted = json!([
        {"issuer": "https://a.example", "jwks_uri": server_a.url(), "audiences": ["api-a"]},
        {"issuer": "https://b.example", "jwks_uri": server_b.url(), "audiences": ["api-b"]},
    ]);
    let env = std::collections::HashMap::from([
        ("TRUSTED_ISSUERS", trusted.to_string()),
        ("DPOP_MODE", "off".to_owned()),
    ]);
    let config =
        authorizer::AuthorizerConfig::from_lookup(|n| env.get(n).cloned(), common::demo_routes())
            .unwrap();
    let authorizer = authorizer::Authorizer::new(config, Arc::new(telemetry::DiscardSink)).unwrap();
    authorizer.prewarm().await;

    let a_token = key_a.sign(&testkit::access_claims(
        "https://a.example",
        "api-a",
        "u",
        "books:read",
        600,
    ));
    let b_token = key_b.sign(&testkit::access_claims(
        "https://b.example",
        "api-b",
        "u",
        "books:read",
        600,
    ));
    assert!(authorizer.verify(&a_token).await.is_ok());
    assert!(authorizer.verify(&b_token).await.is_ok());
    // B's key signing a token that claims to be from A: A's set lacks it.
    let cross = key_b.sign(&testkit::access_claims(
        "https://a.example",
        "api-a",
        "u",
        "books:read",
        600,
    ));
    assert_eq!(
        authorizer.verify(&cross).await.err(),
        Some(VerifyError::UnknownKid)
    );
    // A's audience is not B's.
    let wrong_aud = key_b.sign(&testkit::access_claims(
        "https://b.example",
        "api-a",
        "u",
        "books:read",
        600,
    ));
    assert_eq!(
        authorizer.verify(&wrong_aud).await.err(),
        Some(VerifyError::BadAudience)
    );
}

/// A revocation served beside the authorizer (the local stack) drops the
/// key first: with the JWKS unreachable, the refetch fails, and the revoked
/// key's tokens are refused all the same (decision-cache hits included),
/// while the other keys keep verifying.
#[tokio::test]
async fn a_revoked_key_is_dropped_even_when_the_refetch_fails() {
    let revoked = rsa_key("revoked");
    let kept = rsa_key("kept");
    let h = harness(jwks(&[&revoked, &kept]), &[]).await;
    let (victim, other) = (
        revoked.sign(&claims("books:read")),
        kept.sign(&claims("books:read")),
    );
    assert!(h.authorizer.verify(&victim).await.is_ok());
    assert!(h.authorizer.verify(&other).await.is_ok());
    h.server.set_mode(ServerMode::Status(503));
    let results = h.authorizer.key_revoked(&["revoked".to_owned()]).await;
    assert!(
        results.iter().all(|(_, r)| r.is_err()),
        "the refetch failed"
    );
    assert!(
        h.authorizer.verify(&victim).await.is_err(),
        "the revoked key's token is refused although nothing was refetched"
    );
    assert!(
        h.authorizer.verify(&other).await.is_ok(),
        "the others serve"
    );
}

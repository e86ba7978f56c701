//! `JWKS_SNAPSHOT` end to end, through the `authorizer` binary and the
//! Lambda Runtime API: the first token is answered from the snapshot with
//! no round trip, the live set replaces it (a key gone from it stops
//! verifying, cached decisions included), a stale snapshot is not used,
//! a process frozen with the live fetch in flight still replaces it, and
//! a bad snapshot stops the function at init. In process: with the IdP
//! failing, a snapshot serves only within the stale bound, then fails closed.

mod common;

use std::sync::Arc;
use std::time::Duration;

use authorizer::{Authorizer, BuildError};
use common::*;
use serde_json::Value;
use testkit::function::{LambdaError, TestFunction};
use testkit::{jwks, DelayProxy, JwksServer, ServerMode, TestKey};

fn start_function(env: &[(&str, String)]) -> TestFunction {
    let binary = std::env::var("AUTHORIZER_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_authorizer").to_owned());
    TestFunction::new(&binary, "tollgate-authorizer", env)
}

/// `keys` as a snapshot fetched `age_seconds` ago, as the inline JSON the
/// variable may carry.
fn snapshot(keys: &[&TestKey], age_seconds: u64) -> String {
    let mut set = jwks(keys);
    set["fetched_at"] = Value::from(environment::unix_now() - age_seconds);
    set.to_string()
}

fn env_for(jwks_uri: String, snapshot: String) -> Vec<(&'static str, String)> {
    vec![
        ("JWT_ISSUER", ISSUER.to_owned()),
        ("JWKS_URI", jwks_uri),
        ("JWT_AUDIENCE", AUDIENCE.to_owned()),
        ("DPOP_MODE", "off".to_owned()),
        ("JWKS_SNAPSHOT", snapshot),
        ("JWKS_FETCH_TIMEOUT_MS", "1000".to_owned()),
    ]
}

async fn refused(function: &TestFunction, token: &str) -> bool {
    match function.invoke(token_event(token)).await {
        Ok(_) => false,
        Err(LambdaError::Function { message, .. }) => {
            assert_eq!(message, "Unauthorized");
            true
        }
        Err(other) => panic!("the function failed: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_token_is_answered_from_the_snapshot_with_the_idp_silent() {
    let key = rsa_key("snap-key");
    // The IdP accepts and never answers: any round trip before the first
    // answer would end in a timeout and a refusal.
    let server = JwksServer::start(jwks(&[&key])).await;
    server.set_mode(ServerMode::Hang);
    let function = start_function(&env_for(server.url(), snapshot(&[&key], 3600)));
    let token = key.sign(&claims("books:read"));
    assert!(
        !refused(&function, &token).await,
        "answered from the snapshot"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_older_than_its_max_age_is_not_used() {
    let key = rsa_key("old-key");
    let server = JwksServer::start(jwks(&[&key])).await;
    server.set_mode(ServerMode::Hang);
    let mut env = env_for(server.url(), snapshot(&[&key], 2 * 3600));
    env.push(("JWKS_SNAPSHOT_MAX_AGE_SECONDS", "3600".to_owned()));
    let function = start_function(&env);
    let token = key.sign(&claims("books:read"));
    assert!(
        refused(&function, &token).await,
        "no keys: the live JWKS never came"
    );
}

/// `server`'s JWKS URL through a delay proxy `rtt` away: the live set
/// cannot arrive before two round trips (connect, request), so the first
/// answer is the snapshot's whatever the scheduling.
async fn distant(server: &JwksServer, rtt: Duration) -> (DelayProxy, String) {
    server.set_keep_alive(true);
    let upstream = server
        .base_url()
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let proxy = DelayProxy::start(0, upstream, rtt).await.unwrap();
    let uri = format!("http://{}/.well-known/jwks.json", proxy.addr());
    (proxy, uri)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_set_replaces_the_snapshot_and_a_key_gone_from_it_stops_verifying() {
    let (removed, kept) = (rsa_key("removed"), rsa_key("kept"));
    let server = JwksServer::start(jwks(&[&kept])).await;
    let (_proxy, jwks_uri) = distant(&server, Duration::from_millis(400)).await;
    let mut env = env_for(jwks_uri, snapshot(&[&removed, &kept], 60));
    // The second answer waits for the live fetch in flight: let it finish.
    env.retain(|(name, _)| *name != "JWKS_FETCH_TIMEOUT_MS");
    env.push(("JWKS_FETCH_TIMEOUT_MS", "5000".to_owned()));
    let function = start_function(&env);
    let old = removed.sign(&claims("books:read"));
    let current = kept.sign(&claims("books:read"));
    // The first answer is the snapshot's: the removed key still verifies.
    assert!(!refused(&function, &old).await);
    // Once the live set has arrived, it no longer does, cached decision or not.
    assert!(
        refused(&function, &old).await,
        "a key gone from the live set is gone"
    );
    assert!(refused(&function, &old).await);
    assert!(!refused(&function, &current).await);
    assert!(server.requests() >= 1);
}

/// Lambda freezes the process between invocations: here with the live
/// fetch in flight (an IdP 300 ms away) for longer than its timeout. The
/// next answer still comes from the live set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_frozen_with_the_live_fetch_in_flight_still_replaces_the_snapshot() {
    let (removed, kept) = (rsa_key("frozen-removed"), rsa_key("frozen-kept"));
    let server = JwksServer::start(jwks(&[&kept])).await;
    let (_proxy, jwks_uri) = distant(&server, Duration::from_millis(300)).await;
    let function = start_function(&env_for(jwks_uri, snapshot(&[&removed, &kept], 60)));
    let old = removed.sign(&claims("books:read"));
    assert!(
        !refused(&function, &old).await,
        "the first answer is the snapshot's"
    );
    let pid = function.pid().expect("the instance is idle").to_string();
    let signal = |name: &str| {
        let status = std::process::Command::new("kill")
            .args([name, pid.as_str()])
            .status()
            .unwrap();
        assert!(status.success());
    };
    signal("-STOP");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    signal("-CONT");
    assert!(
        refused(&function, &old).await,
        "the live set replaced the snapshot"
    );
    assert!(!refused(&function, &kept.sign(&claims("books:read"))).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_snapshot_stops_the_function_at_init() {
    let key = rsa_key("bad-snapshot");
    let server = JwksServer::start(jwks(&[&key])).await;
    let function = start_function(&env_for(server.url(), "/nonexistent/jwks.json".to_owned()));
    let outcome = function.invoke(token_event("a.b.c")).await;
    assert!(
        matches!(outcome, Err(LambdaError::Crashed(ref status)) if !status.contains("exit status: 0")),
        "{outcome:?}"
    );
    // The reason, as init reports it.
    for (value, expected) in [
        (
            "/nonexistent/jwks.json",
            "cannot read /nonexistent/jwks.json",
        ),
        (r#"{"keys": []}"#, "fetched_at"),
        (r#"{"keys": [], "fetched_at": 1}"#, "no usable key"),
    ] {
        let config = config(&server, &[("JWKS_SNAPSHOT", value)]);
        let error = Authorizer::new(config, Arc::new(telemetry::CaptureSink::new())).unwrap_err();
        assert!(matches!(error, BuildError::Snapshot(_)));
        let message = error.to_string();
        assert!(
            message.starts_with("JWKS_SNAPSHOT") && message.contains(expected),
            "{message}"
        );
    }
}

/// The IdP failing from the start: once a live fetch has failed, the
/// snapshot is a stale set like any other, serving only within the bound a
/// warm instance has after its last good fetch (`fetched_at` +
/// `JWKS_MAX_AGE_SECONDS` + `JWKS_MAX_STALE_SECONDS`), then failing closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_idp_failing_a_snapshot_serves_only_within_the_stale_bound() {
    let key = rsa_key("idp-down");
    let server = JwksServer::start(jwks(&[&key])).await;
    server.set_mode(ServerMode::Status(503));
    let token = key.sign(&claims("books:read"));
    // 60 s old: within 300 + 3600 s. Two hours old: past it, though
    // younger than JWKS_SNAPSHOT_MAX_AGE_SECONDS (a day).
    for (age, still_serves) in [(60, true), (2 * 3600, false)] {
        let value = snapshot(&[&key], age);
        let overrides = [
            ("JWKS_SNAPSHOT", value.as_str()),
            ("JWKS_MAX_AGE_SECONDS", "300"),
            ("JWKS_MAX_STALE_SECONDS", "3600"),
        ];
        let metrics = telemetry::CaptureSink::new();
        let authorizer =
            Authorizer::new(config(&server, &overrides), Arc::new(metrics.clone())).unwrap();
        authorizer.prewarm().await;
        assert!(
            authorizer.verify(&token).await.is_ok(),
            "age {age}: the first answer is the snapshot's"
        );
        // The second waits for a live fetch, which fails.
        let second = authorizer.verify(&token).await;
        if still_serves {
            assert!(second.is_ok(), "age {age}: {second:?}");
            assert!(metric_sum(&metrics, "JwksStaleServes") >= 1.0);
        } else {
            assert!(
                matches!(second, Err(authorizer::VerifyError::KeysUnavailable)),
                "age {age}: {second:?}"
            );
        }
        assert!(metric_sum(&metrics, "JwksFetchFailures") >= 1.0);
    }
}

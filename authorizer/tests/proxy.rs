//! The review's reproduction: with HTTP_PROXY / ALL_PROXY set, loopback
//! JWKS fetches went through the proxy, in clear text, and whatever it
//! answered was trusted (a forged token got Allow). Loopback URLs are now
//! fetched directly, whatever the proxy variables say.
//!
//! A test binary of its own: the proxy variables are process-wide.

mod common;

use std::sync::Arc;

use authorizer::Authorizer;
use common::*;
use telemetry::CaptureSink;
use testkit::{jwks, JwksServer};

#[tokio::test]
async fn loopback_fetches_never_go_through_a_proxy() {
    let genuine = rsa_key("k1");
    let forger = rsa_key("k1"); // the same kid, another key
    let issuer = JwksServer::start(jwks(&[&genuine])).await;
    // A "proxy" that answers every request with the forger's key set.
    let proxy = JwksServer::start(jwks(&[&forger])).await;
    for name in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "all_proxy",
    ] {
        // Set before any client is built; nothing else runs in this binary.
        std::env::set_var(name, proxy.base_url());
    }
    let authorizer = Authorizer::new(config(&issuer, &[]), Arc::new(CaptureSink::new())).unwrap();
    authorizer.prewarm().await;
    assert!(answer(&authorizer, &genuine.sign(&claims("books:read")))
        .await
        .is_ok());
    assert!(
        answer(&authorizer, &forger.sign(&claims("keys:admin")))
            .await
            .is_err(),
        "a token signed by the proxy's key is refused"
    );
    assert_eq!(proxy.requests(), 0, "no request went through the proxy");
    assert!(issuer.requests() >= 1, "the issuer was asked directly");
}

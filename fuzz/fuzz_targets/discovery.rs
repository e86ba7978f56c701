//! An OpenID Connect discovery document as fetched for an issuer
//! configured without `JWKS_URI`: what the key cache reads of it.
//!
//! Asserts: a `jwks_uri` is returned only from a JSON object whose `issuer`
//! is exactly the configured issuer (OIDC Discovery §4.3), and only if it
//! is an `https` URL with a host or `http` on a loopback host, checked here
//! with the `url` crate independently.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const ISSUERS: [&str; 3] = [
    "https://issuer.fuzz.test",
    "https://login.example.com/tenant/v2.0",
    "http://127.0.0.1:8080",
];

fn loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(host)) => host.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    let issuer = ISSUERS[usize::from(which) % ISSUERS.len()];
    let Ok(jwks_uri) = authorizer::fuzzing::discovered_jwks_uri(body, issuer) else {
        return;
    };
    let document: Value = serde_json::from_slice(body).expect("an accepted document is JSON");
    assert_eq!(document["issuer"].as_str(), Some(issuer), "{document}");
    assert_eq!(document["jwks_uri"].as_str(), Some(jwks_uri.as_str()));
    let url = url::Url::parse(&jwks_uri).expect("an accepted jwks_uri is a URL");
    match url.scheme() {
        "https" => assert!(url.host().is_some(), "{jwks_uri}"),
        "http" => assert!(loopback(&url), "plain http off loopback: {jwks_uri}"),
        other => panic!("jwks_uri scheme {other}: {jwks_uri}"),
    }
});

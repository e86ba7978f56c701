//! A JWKS document and a single JWK, as fetched: `JwkSet::parse` (the key
//! cache's intake of a fetched body), `VerifyingKey::from_jwk_json` (one
//! key of a set) and `VerifyingKey::from_public_jwk` (a key a client sends,
//! a DPoP proof's). The first byte chooses; the rest is the document.
//!
//! Asserts: every usable key is filed under its own `kid`, came from an
//! entry of the document that carries no private member, is for
//! signatures, has a key type Tollgate verifies with an `alg` that fits it,
//! and (RSA) a modulus of 2048 to 8192 bits; at most as many keys are
//! usable or skipped as the document lists; a client key's members are
//! exact base64url, it is pinned to the algorithm asked for, and its
//! thumbprint is RFC 7638's, computed here independently; no key verifies
//! an all-zero signature.
#![no_main]

use aws_lc_rs::digest::{digest, SHA256};
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use jose::{Algorithm, JwkSet, VerifyingKey};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const PRIVATE: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
const ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Why `jwk` must not have given a usable key, if it must not.
fn refusal(jwk: &Value) -> Option<String> {
    let text = |name: &str| jwk.get(name).and_then(Value::as_str);
    if let Some(private) = PRIVATE.iter().find(|m| jwk.get(**m).is_some()) {
        return Some(format!("private member {private}"));
    }
    if text("use").is_some_and(|u| u != "sig") {
        return Some("use is not sig".into());
    }
    if let Some(ops) = jwk.get("key_ops").and_then(Value::as_array) {
        if !ops.iter().any(|op| op == "verify") {
            return Some("key_ops lacks verify".into());
        }
    }
    let family_algs: &[&str] = match (text("kty"), text("crv")) {
        (Some("RSA"), _) => &["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"],
        (Some("EC"), Some("P-256")) => &["ES256"],
        (Some("EC"), Some("P-384")) => &["ES384"],
        (Some("OKP"), Some("Ed25519")) => &["EdDSA"],
        other => return Some(format!("kty/crv {other:?}")),
    };
    if let Some(alg) = text("alg") {
        if !family_algs.contains(&alg) {
            return Some(format!("alg {alg} does not fit the key type"));
        }
    }
    if text("kty") == Some("RSA") {
        let n = text("n").unwrap_or_default();
        let decoded = URL_SAFE_NO_PAD
            .decode(n.trim_end_matches('='))
            .or_else(|_| URL_SAFE.decode(n))
            .unwrap_or_default();
        let first = decoded
            .iter()
            .position(|b| *b != 0)
            .unwrap_or(decoded.len());
        let magnitude = &decoded[first..];
        let bits =
            magnitude.len() * 8 - magnitude.first().map_or(8, |b| b.leading_zeros() as usize);
        if !(2048..=8192).contains(&bits) {
            return Some(format!("RSA modulus of {bits} bits"));
        }
    }
    None
}

/// RFC 7638 §3.2, from the JWK's own members.
fn thumbprint(jwk: &Value) -> String {
    let m = |name: &str| Value::from(jwk[name].as_str().unwrap_or_default()).to_string();
    let canonical = match jwk["kty"].as_str() {
        Some("RSA") => format!(r#"{{"e":{},"kty":"RSA","n":{}}}"#, m("e"), m("n")),
        Some("EC") => format!(
            r#"{{"crv":{},"kty":"EC","x":{},"y":{}}}"#,
            m("crv"),
            m("x"),
            m("y")
        ),
        _ => format!(r#"{{"crv":{},"kty":"OKP","x":{}}}"#, m("crv"), m("x")),
    };
    URL_SAFE_NO_PAD.encode(digest(&SHA256, canonical.as_bytes()))
}

fn check_key(key: &VerifyingKey, jwk: &Value) {
    if let Some(why) = refusal(jwk) {
        panic!("usable key from a JWK that must be refused ({why}): {jwk}");
    }
    let algorithms: Vec<Algorithm> = key.algorithms().collect();
    assert_eq!(algorithms.len(), 1, "pinned to one algorithm: {jwk}");
    assert_eq!(key.thumbprint().len(), 43);
    assert!(key.same_key_as(key));
    for alg in ALGORITHMS {
        assert!(!key.verify(alg, b"message", &[0u8; 64]));
        assert!(!key.verify(alg, b"message", &[]));
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, body)) = data.split_first() else {
        return;
    };
    match choice % 3 {
        0 => {
            let Ok(set) = JwkSet::parse(body) else {
                return;
            };
            let document: Value = serde_json::from_slice(body).expect("a parsed set is JSON");
            let entries = document["keys"].as_array().expect("a keys array");
            assert!(set.keys.len() + set.skipped.len() <= entries.len());
            for (kid, key) in &set.keys {
                assert_eq!(kid, key.kid());
                let listed: Vec<&Value> = entries
                    .iter()
                    .filter(|e| e.get("kid").and_then(Value::as_str) == Some(kid))
                    .collect();
                // Two entries that are each a usable key under one kid, with
                // different material: ambiguous, so neither may serve.
                let usable: Vec<(&Value, VerifyingKey)> = listed
                    .iter()
                    .filter_map(|e| Some((*e, VerifyingKey::from_jwk_json(&e.to_string()).ok()?)))
                    .collect();
                assert!(
                    usable.iter().all(|(_, k)| k.same_key_as(&usable[0].1)),
                    "kid {kid} names two different keys, yet one is usable"
                );
                let jwk = usable
                    .iter()
                    .find(|(_, k)| k.same_key_as(key))
                    .map(|(e, _)| *e)
                    .expect("a usable key comes from an object entry of the set");
                check_key(key, jwk);
                let again = VerifyingKey::from_jwk_json(&jwk.to_string()).expect("the same entry");
                assert!(again.same_key_as(key));
            }
        }
        1 => {
            let Ok(text) = std::str::from_utf8(body) else {
                return;
            };
            if let Ok(key) = VerifyingKey::from_jwk_json(text) {
                let jwk: Value = serde_json::from_str(text).expect("a parsed key is JSON");
                assert_eq!(jwk["kid"].as_str(), Some(key.kid()));
                check_key(&key, &jwk);
            }
        }
        _ => {
            let Some((&alg, body)) = body.split_first() else {
                return;
            };
            let Ok(jwk) = serde_json::from_slice::<Value>(body) else {
                return;
            };
            let alg = ALGORITHMS.get(usize::from(alg)).copied();
            if let Ok(key) = VerifyingKey::from_public_jwk(&jwk, alg) {
                check_key(&key, &jwk);
                if let Some(alg) = alg {
                    assert_eq!(key.algorithms().collect::<Vec<_>>(), [alg]);
                }
                for member in ["n", "e", "x", "y"] {
                    if let Some(text) = jwk.get(member).and_then(Value::as_str) {
                        let decoded = URL_SAFE_NO_PAD.decode(text).expect("exact base64url");
                        assert_eq!(URL_SAFE_NO_PAD.encode(decoded), text);
                    }
                }
                assert_eq!(key.thumbprint(), thumbprint(&jwk), "RFC 7638: {jwk}");
            }
        }
    }
});

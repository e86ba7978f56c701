//! JWKS key hygiene, end to end: a set served over HTTP with one key for
//! every rule an IdP's key must pass, beside good keys. Each bad key is
//! refused at intake on its own (the good ones keep verifying), counted
//! once in `JwksKeysRefused` by rule, logged once however often the set is
//! refetched, refused as `refused_key` without a refetch when a token names
//! it, and named with its reason by `explain`.

mod common;

use std::sync::Arc;
use std::time::Duration;

use authorizer::{Authorizer, VerifyError};
use common::*;
use jsonwebtoken::Algorithm as JwtAlg;
use serde_json::{json, Value};
use telemetry::CaptureSink;
use testkit::{b64url, JwksServer, TestKey};

/// A 2048-bit modulus with the ROCA fingerprint, as published by the
/// ROCA authors (github.com/crocs-muni/roca, roca/tests/data/mod03.txt).
const ROCA_2048: &str = "9dcd7420e420c270a68060eb8b5aa7457a9f6648f86fafed2775cc1f79ae962f1e63f1b9e51c55f9ea6fdc7332e9b0058c9ff2eb1fc89855029cf6aafe21e689feb38ac9ffb12f1ce371bb5d0e9aae64161abce74b4244bf68f1edb4411f756a097c8929c14740245ea355f8332d1aa36bb50c7dcb4505da8de02e4e53d38f8df06097da7524df0df93db48eac8cc4af2d3a16257eb2b2adca6ba464e5974fa92550d31b1babf161e7692d00b86e3dd886ecab4abfbe1a8f8cc263ff4af55cdb45f4249a5193925f5e983d762f0b6800943eb0267b08f42ed311ce1f5c86eacbc8ce4d3cb7a2fee1ef5641423a1cf4114e5ecf50034a60a412523af9e6f4aa11";

/// A 4096-bit one from the same project (fingerprint/tests/data/mod09.txt).
const ROCA_4096: &str = "c39a928060db513091b604eadad719ed94e246de8fe15fb76efab5cfabbc3fc5486fe2ef2a5a5a8472f0c5be089edec071fb284df4467fa1fa6c8f0b013d3173fe636744666289bf67b5c998c87b59015d94bb9c20d30a70cfe275e42fd3c6f44d4c5252f9c6b6803f92afd928153bdb90ef08ede934c076f33543f9a1c362130929b9a1324c5ebee6831c251c48a7dee24d75ac538ce9a58d7ff09c12a5d772b6c33f4265a4e4830bd73ad221d24d4d3f092e24279c15fc1d10ca69561f4f071313c86b11ab36a5dd28df392f581834eecfdc9e183a466198e33cf01d273bd41d4b7e288cc66f24eba04676bd2090f6f73830336a317bc2d423b558b9d8f632e12af7b0e7fc9bdb69282e81fdf41a68cf4e85f01fc343dfe52a3ad01f67459d380165159e1209ef1ce4ecd26648e061faf0896551f7f1f92d6b6a19af0ab7f1f092d7e168bcec0ee478b8618489a8967a71e5e0a5c197662d8e9756f090a177109d4a34ae20a18c5629efea5ca66623960fc325f779cdae891a7ec051f00e837b8f2fb9fd19f6a35832ca0e5ce8375972c42a308f7d5ca0434022c131874087e826ed737994e46fbe44f5f1e908934f6033e6851ebd05447dddbaa51c0671849cafd3a503cdc150101914edf33b140c168c3dbea4791e74ea619ab1b31c90691de1d425b746b222a2b26ed54222cbcaf27a054f9f66f77be6466198c33e37dd";

fn hex_b64url(hex: &str) -> String {
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    b64url(bytes)
}

fn b64url_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap()
}

/// `jwk` with `kid` and the given members replaced (`null` removes one).
fn variant(jwk: &Value, kid: &str, members: Value) -> Value {
    let mut out = jwk.clone();
    out["kid"] = json!(kid);
    for (name, value) in members.as_object().unwrap() {
        if value.is_null() {
            out.as_object_mut().unwrap().remove(name);
        } else {
            out[name.as_str()] = value.clone();
        }
    }
    out
}

/// One refused JWK: its `kid`, the metric reason, and what `explain`
/// says after "key KID refused: ".
struct Refused {
    jwk: Value,
    kid: &'static str,
    reason: &'static str,
    why: &'static str,
}

/// The keys that sign for the good part of the set.
struct Signers {
    rsa: TestKey,
    ec: TestKey,
    ed: TestKey,
}

fn signers() -> Signers {
    Signers {
        rsa: TestKey::generate(JwtAlg::RS256, "good-rsa"),
        ec: TestKey::generate(JwtAlg::ES256, "good-ec"),
        ed: TestKey::generate(JwtAlg::EdDSA, "good-ed"),
    }
}

/// A refused JWK for every rule, made from the signers' public keys.
fn refused(s: &Signers) -> Vec<Refused> {
    let rsa = &s.rsa.jwk;
    let ec = &s.ec.jwk;
    let ed = &s.ed.jwk;
    let n = b64url_decode(rsa["n"].as_str().unwrap());
    let mut even_n = n.clone();
    *even_n.last_mut().unwrap() &= 0xfe;
    let mut off_curve_y = b64url_decode(ec["y"].as_str().unwrap());
    off_curve_y[31] ^= 1;
    let mut small_order = [0u8; 32];
    small_order[0] = 1; // the identity point, y = 1
    let case = |jwk: Value, kid: &'static str, reason: &'static str, why: &'static str| Refused {
        jwk,
        kid,
        reason,
        why,
    };
    vec![
        case(
            variant(rsa, "rsa-1024", json!({"n": b64url([0xc5u8; 128])})),
            "rsa-1024",
            "rsa_modulus_size",
            "RSA modulus 1024 bits < 2048",
        ),
        case(
            variant(rsa, "rsa-e-1", json!({"e": "AQ"})),
            "rsa-e-1",
            "rsa_exponent",
            "RSA exponent 1 is below 3",
        ),
        case(
            variant(rsa, "rsa-e-even", json!({"e": "AQAA"})),
            "rsa-e-even",
            "rsa_exponent",
            "RSA exponent 65536 is even",
        ),
        case(
            variant(rsa, "rsa-e-padded", json!({"e": "AAEAAQ"})),
            "rsa-e-padded",
            "rsa_exponent",
            "RSA exponent has a leading zero byte",
        ),
        case(
            variant(rsa, "rsa-e-huge", json!({"e": b64url([1u8, 0, 0, 0, 1])})),
            "rsa-e-huge",
            "rsa_exponent",
            "RSA exponent of 33 bits is over 32 bits",
        ),
        case(
            variant(rsa, "rsa-even-n", json!({"n": b64url(&even_n)})),
            "rsa-even-n",
            "rsa_modulus",
            "RSA modulus is even",
        ),
        case(
            // 2^2048 - 1: odd, 2048 bits, and a multiple of 3.
            variant(rsa, "rsa-factor-3", json!({"n": b64url([0xffu8; 256])})),
            "rsa-factor-3",
            "rsa_modulus",
            "RSA modulus has the small factor 3",
        ),
        case(
            variant(rsa, "roca-2048", json!({"n": hex_b64url(ROCA_2048)})),
            "roca-2048",
            "roca",
            "RSA modulus has the ROCA fingerprint (CVE-2017-15361)",
        ),
        case(
            variant(rsa, "roca-4096", json!({"n": hex_b64url(ROCA_4096)})),
            "roca-4096",
            "roca",
            "RSA modulus has the ROCA fingerprint (CVE-2017-15361)",
        ),
        case(
            variant(ec, "ec-off-curve", json!({"y": b64url(&off_curve_y)})),
            "ec-off-curve",
            "not_on_curve",
            "EC point is not on the curve P-256",
        ),
        case(
            variant(ec, "ec-x-too-big", json!({"x": b64url([0xffu8; 32])})),
            "ec-x-too-big",
            "not_on_curve",
            "EC point is not on the curve P-256",
        ),
        case(
            variant(ec, "ec-rs256", json!({"alg": "RS256"})),
            "ec-rs256",
            "type_mismatch",
            "JWK alg RS256 does not fit kty EC crv P-256",
        ),
        case(
            variant(ec, "p256-es384", json!({"alg": "ES384"})),
            "p256-es384",
            "type_mismatch",
            "JWK alg ES384 does not fit kty EC crv P-256",
        ),
        case(
            variant(ed, "ed25519-es256", json!({"alg": "ES256"})),
            "ed25519-es256",
            "type_mismatch",
            "JWK alg ES256 does not fit kty OKP crv Ed25519",
        ),
        case(
            variant(rsa, "rsa-crv", json!({"crv": "P-256"})),
            "rsa-crv",
            "type_mismatch",
            "JWK kty RSA does not take crv P-256",
        ),
        case(
            variant(ec, "ec-crv-ed25519", json!({"crv": "Ed25519", "alg": null})),
            "ec-crv-ed25519",
            "type_mismatch",
            "JWK kty EC does not take crv Ed25519",
        ),
        case(
            variant(ed, "ed-small-order", json!({"x": b64url(small_order)})),
            "ed-small-order",
            "weak_point",
            "Ed25519 public key is a point of small order",
        ),
        case(
            variant(rsa, "use-enc", json!({"use": "enc"})),
            "use-enc",
            "not_for_signatures",
            "JWK use is \"enc\", not \"sig\"",
        ),
        case(
            variant(
                rsa,
                "ops-encrypt",
                json!({"key_ops": ["verify", "encrypt"]}),
            ),
            "ops-encrypt",
            "not_for_signatures",
            "also allows \"encrypt\"",
        ),
        case(
            variant(rsa, "ops-sign-only", json!({"key_ops": ["sign"]})),
            "ops-sign-only",
            "not_for_signatures",
            "lacks \"verify\"",
        ),
        case(
            variant(rsa, "ops-twice", json!({"key_ops": ["verify", "verify"]})),
            "ops-twice",
            "not_for_signatures",
            "repeats an operation",
        ),
        // Two different keys under one kid: both refused.
        case(
            variant(rsa, "twin", json!({})),
            "twin",
            "duplicate_kid",
            "kid appears 2 times in the set with different key material",
        ),
        case(
            variant(ec, "twin", json!({})),
            "twin",
            "duplicate_kid",
            "kid appears 2 times in the set with different key material",
        ),
    ]
}

/// The good keys, with `verify` among their `key_ops` where a JWK may say
/// so, and one key published twice, identically (which collapses to one).
fn good_jwks(s: &Signers) -> Vec<Value> {
    let rsa_with_ops = variant(
        &s.rsa.jwk,
        "good-rsa",
        json!({"key_ops": ["sign", "verify"]}),
    );
    vec![
        rsa_with_ops,
        s.ec.jwk.clone(),
        s.ed.jwk.clone(),
        s.ed.jwk.clone(),
    ]
}

/// A token for `kid`, signed by `signer` (for a refused kid, the signature
/// is never checked: the key is not there to check it with).
fn token_for(signer: &TestKey, kid: &str) -> String {
    let mut header = signer.header();
    header.kid = Some(kid.to_owned());
    signer.sign_with_header(&header, &claims("books:read"))
}

/// `JwksKeysRefused` recorded for `reason`, summed.
fn refused_count(metrics: &CaptureSink, reason: &str) -> f64 {
    emf_lines(metrics)
        .iter()
        .filter(|line| line["Reason"] == reason)
        .filter_map(|line| line["JwksKeysRefused"].as_f64())
        .sum()
}

#[tokio::test]
async fn every_rule_refuses_its_key_and_the_rest_of_the_set_keeps_verifying() {
    let s = signers();
    let bad = refused(&s);
    let mut keys = good_jwks(&s);
    // Interleaved, so no rule depends on its key's place in the set.
    for (i, case) in bad.iter().enumerate() {
        keys.insert((i * 2) % (keys.len() + 1), case.jwk.clone());
    }
    let h = harness(json!({ "keys": keys }), &[]).await;
    assert_eq!(h.server.requests(), 1);

    for signer in [&s.rsa, &s.ec, &s.ed] {
        let token = signer.sign(&claims("books:read"));
        assert!(
            h.authorizer.verify(&token).await.is_ok(),
            "{signer:?} verifies beside the refused keys"
        );
    }
    let key_cache = h.authorizer.key_cache(ISSUER).unwrap();
    assert_eq!(key_cache.kids(), ["good-ec", "good-ed", "good-rsa"]);

    for case in &bad {
        let token = token_for(&s.rsa, case.kid);
        assert_eq!(
            h.authorizer.verify(&token).await.unwrap_err(),
            VerifyError::RefusedKey,
            "{}",
            case.kid
        );
        assert!(answer(&h.authorizer, &token).await.is_err());
        let why = key_cache.refusal(case.kid).unwrap();
        assert_eq!(why.reason(), case.reason, "{}", case.kid);
        assert!(
            why.to_string().contains(case.why),
            "{}: {why} lacks {:?}",
            case.kid,
            case.why
        );
    }
    assert_eq!(
        h.server.requests(),
        1,
        "a token naming a refused key of a fresh set costs no refetch"
    );

    // Counted once per key, by rule.
    let mut expected: std::collections::BTreeMap<&str, f64> = Default::default();
    for case in &bad {
        *expected.entry(case.reason).or_default() += 1.0;
    }
    for (reason, count) in &expected {
        assert_eq!(refused_count(&h.metrics, reason), *count, "{reason}");
    }
    assert_eq!(
        metric_sum(&h.metrics, "JwksKeysRefused"),
        bad.len() as f64,
        "nothing else counted (the identical copy of good-ed is not a refusal)"
    );
    // The refusal reason of the decisions.
    let refused_decisions = decision_lines(&h.metrics)
        .iter()
        .filter(|line| line["Reason"] == "refused_key" && line.get("Decisions").is_some())
        .count();
    assert_eq!(refused_decisions, bad.len());
}

#[tokio::test]
async fn explain_names_the_refused_key_and_why() {
    let s = signers();
    let bad = refused(&s);
    let mut keys = good_jwks(&s);
    keys.extend(bad.iter().map(|case| case.jwk.clone()));
    let h = harness(json!({ "keys": keys }), &[]).await;
    for case in &bad {
        let explanation = h.authorizer.explain(&token_for(&s.rsa, case.kid)).await;
        let key = explanation
            .checks
            .iter()
            .find(|check| check.name == "key")
            .unwrap();
        assert_eq!(key.reason, Some("refused_key"), "{}", case.kid);
        let expected = format!("key {:?} refused: ", case.kid);
        assert!(
            key.detail.starts_with(&expected) && key.detail.contains(case.why),
            "{}: {}",
            case.kid,
            key.detail
        );
        assert_eq!(explanation.first_failure(), Some("refused_key"));
        assert!(!key.detail.contains("unknown"), "{}", key.detail);
    }
    // A kid the set never had is still "unknown".
    let unknown = h.authorizer.explain(&token_for(&s.rsa, "nowhere")).await;
    assert_eq!(unknown.first_failure(), Some("unknown_kid"));
}

/// An authorizer over `server`, its metrics, and its log lines (JSON,
/// captured on this thread: the tests run on a current-thread runtime).
fn logged_authorizer(
    server: &JwksServer,
) -> (
    Authorizer,
    CaptureSink,
    testkit::CapturedLogs,
    tracing::subscriber::DefaultGuard,
) {
    let logs = testkit::CapturedLogs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || writer.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    let metrics = CaptureSink::new();
    let authorizer = Authorizer::new(
        config(server, &[("JWKS_REFRESH_COOLDOWN_SECONDS", "1")]),
        Arc::new(metrics.clone()),
    )
    .unwrap();
    (authorizer, metrics, logs, guard)
}

fn refusals_logged(logs: &testkit::CapturedLogs) -> usize {
    logs.text()
        .lines()
        .filter(|line| line.contains("\"JWK refused\""))
        .count()
}

#[tokio::test]
async fn a_refused_key_is_logged_and_counted_once_however_often_the_set_is_refetched() {
    let s = signers();
    let weak = variant(&s.rsa.jwk, "weak", json!({"n": b64url([0xc5u8; 128])}));
    let server = JwksServer::start(json!({"keys": [s.ec.jwk.clone(), weak.clone()]})).await;
    server.set_cache_control(Some("public, max-age=1"));
    let (authorizer, metrics, logs, _guard) = logged_authorizer(&server);
    let good = s.ec.sign(&claims("books:read"));

    authorizer.prewarm().await;
    assert_eq!(refusals_logged(&logs), 1, "{}", logs.text());
    assert!(logs.text().contains("RSA modulus 1024 bits < 2048"));
    assert!(logs.text().contains("\"reason\":\"rsa_modulus_size\""));
    assert_eq!(metric_sum(&metrics, "JwksKeysRefused"), 1.0);

    // The same set, refetched as its max-age runs out: silent.
    for fetch in 2..=4 {
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert!(authorizer.verify(&good).await.is_ok());
        assert_eq!(server.requests(), fetch, "refetched");
    }
    assert_eq!(refusals_logged(&logs), 1, "{}", logs.text());
    assert_eq!(metric_sum(&metrics, "JwksKeysRefused"), 1.0);

    // Other material under the same kid is another refusal: logged once more.
    let other_weak = variant(&s.rsa.jwk, "weak", json!({"n": b64url([0xc7u8; 128])}));
    server.set_jwks(json!({"keys": [s.ec.jwk.clone(), other_weak.clone()]}));
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert!(authorizer.verify(&good).await.is_ok());
    }
    assert_eq!(refusals_logged(&logs), 2, "{}", logs.text());
    assert_eq!(metric_sum(&metrics, "JwksKeysRefused"), 2.0);

    // Gone from the set, then back: refused again, and said again.
    server.set_jwks(json!({"keys": [s.ec.jwk.clone()]}));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(authorizer.verify(&good).await.is_ok());
    assert_eq!(
        authorizer
            .verify(&token_for(&s.rsa, "weak"))
            .await
            .unwrap_err(),
        VerifyError::UnknownKid,
        "no longer published: unknown, not refused"
    );
    server.set_jwks(json!({"keys": [s.ec.jwk.clone(), other_weak]}));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(authorizer.verify(&good).await.is_ok());
    assert_eq!(refusals_logged(&logs), 3, "{}", logs.text());
    assert_eq!(metric_sum(&metrics, "JwksKeysRefused"), 3.0);
}

#[tokio::test]
async fn a_flood_of_bad_keys_is_logged_in_bounded_lines_and_counted_in_full() {
    let s = signers();
    let mut keys = vec![s.ec.jwk.clone()];
    for i in 0..200 {
        keys.push(variant(
            &s.rsa.jwk,
            &format!("weak-{i}"),
            json!({"e": "AQ"}),
        ));
    }
    let server = JwksServer::start(json!({ "keys": keys })).await;
    let (authorizer, metrics, logs, _guard) = logged_authorizer(&server);
    authorizer.prewarm().await;
    assert_eq!(refusals_logged(&logs), 16, "one line each for the first 16");
    assert!(logs.text().contains("\"more\":184"), "{}", logs.text());
    assert_eq!(refused_count(&metrics, "rsa_exponent"), 200.0);
    assert!(authorizer
        .verify(&s.ec.sign(&claims("books:read")))
        .await
        .is_ok());
}

//! Every forged or malformed token is refused with exactly `Unauthorized`.

mod common;

use authorizer::VerifyError;
use aws_lc_rs::hmac;
use common::*;
use jsonwebtoken::Algorithm;
use serde_json::{json, Value};
use testkit::{b64url, now, TestKey};

/// Why each case must be refused.
const EXPECTED: &[(&str, VerifyError)] = &[
    (
        "alg none, empty signature",
        VerifyError::UnsupportedAlgorithm,
    ),
    (
        "alg None, empty signature",
        VerifyError::UnsupportedAlgorithm,
    ),
    (
        "alg none, original signature",
        VerifyError::UnsupportedAlgorithm,
    ),
    ("alg missing", VerifyError::UnsupportedAlgorithm),
    (
        "HS256 keyed with the public JWK",
        VerifyError::UnsupportedAlgorithm,
    ),
    (
        "HS256 keyed with the modulus",
        VerifyError::UnsupportedAlgorithm,
    ),
    ("HS256 with an empty key", VerifyError::UnsupportedAlgorithm),
    ("tampered payload", VerifyError::BadSignature),
    ("tampered header kid", VerifyError::AlgorithmMismatch),
    ("stripped signature", VerifyError::BadSignature),
    ("signature of another token", VerifyError::BadSignature),
    ("attacker key under our kid", VerifyError::BadSignature),
    ("embedded jwk header", VerifyError::BadSignature),
    ("jku header to attacker JWKS", VerifyError::UnknownKid),
    ("x5u header", VerifyError::UnknownKid),
    ("x5c header", VerifyError::UnknownKid),
    ("crit header", VerifyError::CriticalHeader),
    ("crit null", VerifyError::CriticalHeader),
    ("crit empty array", VerifyError::CriticalHeader),
    ("wrong iss", VerifyError::UntrustedIssuer),
    ("iss as an array", VerifyError::InvalidClaims),
    ("wrong aud", VerifyError::BadAudience),
    ("aud array without ours", VerifyError::BadAudience),
    ("missing aud", VerifyError::BadAudience),
    ("expired beyond leeway", VerifyError::Expired),
    ("nbf in the future", VerifyError::NotYetValid),
    ("string exp", VerifyError::InvalidClaims),
    ("float exp", VerifyError::InvalidClaims),
    ("negative exp", VerifyError::InvalidClaims),
    ("missing exp", VerifyError::InvalidClaims),
    ("missing sub", VerifyError::MissingSubject),
    ("numeric sub", VerifyError::InvalidClaims),
    ("duplicate exp claim", VerifyError::InvalidClaims),
    ("payload is an array", VerifyError::InvalidClaims),
    ("deeply nested claims", VerifyError::InvalidClaims),
    (
        "ES256 key, header says RS256",
        VerifyError::AlgorithmMismatch,
    ),
    (
        "RS256 token relabelled PS256",
        VerifyError::AlgorithmMismatch,
    ),
    // Published but refused at intake: named as refused, not unknown.
    ("weak RSA-1024 key", VerifyError::RefusedKey),
    ("use=enc key", VerifyError::RefusedKey),
    ("JWK with private members", VerifyError::RefusedKey),
    ("JWK alg does not fit key type", VerifyError::RefusedKey),
    ("unknown kid", VerifyError::UnknownKid),
    ("missing kid", VerifyError::MissingKid),
    ("oversized token", VerifyError::TokenTooLarge),
    ("two segments", VerifyError::Malformed),
    ("four segments", VerifyError::Malformed),
    ("one segment", VerifyError::Malformed),
    ("bad base64 in header", VerifyError::Malformed),
    ("padded base64 signature", VerifyError::Malformed),
    ("non-JSON header", VerifyError::Malformed),
    ("header is a JSON string", VerifyError::Malformed),
    ("non-ASCII token", VerifyError::Malformed),
    ("whitespace inside token", VerifyError::Malformed),
    ("empty segments", VerifyError::Malformed),
    ("NUL bytes", VerifyError::Malformed),
    ("random garbage", VerifyError::Malformed),
];

fn hs256(secret: &[u8], header: &str, payload: &str) -> String {
    let input = format!("{}.{}", b64url(header), b64url(payload));
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret), input.as_bytes());
    format!("{input}.{}", b64url(tag.as_ref()))
}

fn header(alg: &str, kid: &str) -> String {
    json!({"alg": alg, "kid": kid, "typ": "at+jwt"}).to_string()
}

fn with_claim(claims: &Value, name: &str, value: Value) -> String {
    let mut c = claims.clone();
    c[name] = value;
    c.to_string()
}

fn without_claim(claims: &Value, name: &str) -> String {
    let mut c = claims.clone();
    c.as_object_mut().unwrap().remove(name);
    c.to_string()
}

fn segments(token: &str) -> Vec<String> {
    token.split('.').map(str::to_owned).collect()
}

#[tokio::test]
async fn forged_and_malformed_tokens_are_unauthorized() {
    let good = rsa_key("good-rs");
    let good_es = TestKey::generate(Algorithm::ES256, "good-es");
    let attacker = rsa_key("good-rs"); // same kid, different key
    let enc_key = rsa_key("enc-key");
    let private_key = rsa_key("priv-key");
    let mismatched = rsa_key("mismatch-key");

    let mut enc_jwk = enc_key.jwk.clone();
    enc_jwk["use"] = json!("enc");
    let mut private_jwk = private_key.jwk.clone();
    private_jwk["d"] = json!(b64url([7u8; 256]));
    let mut mismatch_jwk = mismatched.jwk.clone();
    mismatch_jwk["alg"] = json!("ES256");
    let weak_jwk = json!({"kty": "RSA", "kid": "weak", "alg": "RS256", "use": "sig",
        "n": b64url([0xC3u8; 128]), "e": "AQAB"});
    let jwks =
        json!({"keys": [good.jwk, good_es.jwk, enc_jwk, private_jwk, mismatch_jwk, weak_jwk]});
    let h = harness(jwks, &[]).await;

    let claims = claims("books:read");
    let payload = claims.to_string();
    let valid = good.sign(&claims);
    // The harness itself is sound: the genuine token is allowed.
    assert!(
        answer(&h.authorizer, &valid).await.is_ok(),
        "valid token must pass"
    );

    let parts = segments(&valid);
    let (h64, p64, s64) = (&parts[0], &parts[1], &parts[2]);
    let good_header = header("RS256", "good-rs");
    let public_der = {
        let n = good.jwk["n"].as_str().unwrap().to_owned();
        n.into_bytes()
    };
    let now = now();

    let mut cases: Vec<(&str, String)> = vec![
        ("alg none, empty signature", format!("{}.{p64}.", b64url(header("none", "good-rs")))),
        ("alg None, empty signature", format!("{}.{p64}.", b64url(header("None", "good-rs")))),
        ("alg none, original signature", format!("{}.{p64}.{s64}", b64url(header("none", "good-rs")))),
        ("alg missing", format!("{}.{p64}.{s64}", b64url(r#"{"kid":"good-rs"}"#))),
        ("HS256 keyed with the public JWK", hs256(good.jwk.to_string().as_bytes(), &header("HS256", "good-rs"), &payload)),
        ("HS256 keyed with the modulus", hs256(&public_der, &header("HS256", "good-rs"), &payload)),
        ("HS256 with an empty key", hs256(b"", &header("HS256", "good-rs"), &payload)),
        ("tampered payload", format!("{h64}.{}.{s64}", b64url(with_claim(&claims, "scope", json!("books:read books:write keys:admin"))))),
        ("tampered header kid", format!("{}.{p64}.{s64}", b64url(header("RS256", "good-es")))),
        ("stripped signature", format!("{h64}.{p64}.")),
        ("signature of another token", {
            let other = good.sign(&claims_for("mallory"));
            format!("{h64}.{p64}.{}", segments(&other)[2])
        }),
        ("attacker key under our kid", attacker.sign(&claims)),
        ("embedded jwk header", attacker.sign_raw(
            &json!({"alg": "RS256", "kid": "good-rs", "jwk": attacker.jwk}).to_string(), &payload)),
        ("jku header to attacker JWKS", attacker.sign_raw(
            &json!({"alg": "RS256", "kid": "attacker", "jku": "https://attacker.example/jwks.json"}).to_string(), &payload)),
        ("x5u header", attacker.sign_raw(
            &json!({"alg": "RS256", "kid": "attacker", "x5u": "https://attacker.example/cert.pem"}).to_string(), &payload)),
        ("x5c header", attacker.sign_raw(
            &json!({"alg": "RS256", "kid": "attacker", "x5c": [b64url([1u8; 64])]}).to_string(), &payload)),
        ("crit header", good.sign_raw(
            &json!({"alg": "RS256", "kid": "good-rs", "crit": ["exp"]}).to_string(), &payload)),
        ("crit null", good.sign_raw(
            &json!({"alg": "RS256", "kid": "good-rs", "crit": null}).to_string(), &payload)),
        ("crit empty array", good.sign_raw(
            &json!({"alg": "RS256", "kid": "good-rs", "crit": []}).to_string(), &payload)),
        ("wrong iss", good.sign(&json!({"iss": "https://evil.example", "sub": "alice", "aud": AUDIENCE, "exp": now + 600}))),
        ("iss as an array", good.sign_raw(&good_header, &with_claim(&claims, "iss", json!([ISSUER])))),
        ("wrong aud", good.sign_raw(&good_header, &with_claim(&claims, "aud", json!("other-api")))),
        ("aud array without ours", good.sign_raw(&good_header, &with_claim(&claims, "aud", json!(["a", "b"])))),
        ("missing aud", good.sign_raw(&good_header, &without_claim(&claims, "aud"))),
        ("expired beyond leeway", good.sign_raw(&good_header, &with_claim(&claims, "exp", json!(now - 120)))),
        ("nbf in the future", good.sign_raw(&good_header, &with_claim(&claims, "nbf", json!(now + 600)))),
        ("string exp", good.sign_raw(&good_header, &with_claim(&claims, "exp", json!((now + 600).to_string())))),
        ("float exp", good.sign_raw(&good_header, &with_claim(&claims, "exp", json!(1.5e10)))),
        ("negative exp", good.sign_raw(&good_header, &with_claim(&claims, "exp", json!(-1)))),
        ("missing exp", good.sign_raw(&good_header, &without_claim(&claims, "exp"))),
        ("missing sub", good.sign_raw(&good_header, &without_claim(&claims, "sub"))),
        ("numeric sub", good.sign_raw(&good_header, &with_claim(&claims, "sub", json!(42)))),
        ("duplicate exp claim", good.sign_raw(&good_header,
            &format!(r#"{{"iss":"{ISSUER}","sub":"a","aud":"{AUDIENCE}","exp":{},"exp":{}}}"#, now - 1000, now + 600))),
        ("payload is an array", good.sign_raw(&good_header, "[1,2,3]")),
        ("deeply nested claims", good.sign_raw(&good_header,
            &format!(r#"{{"iss":"{ISSUER}","sub":"a","exp":{},"aud":{}{}}}"#, now + 600, "[".repeat(1000), "]".repeat(1000)))),
        ("ES256 key, header says RS256", good_es.sign_raw(&header("RS256", "good-es"), &payload)),
        ("RS256 token relabelled PS256", format!("{}.{p64}.{s64}", b64url(header("PS256", "good-rs")))),
        ("weak RSA-1024 key", good.sign_raw(&header("RS256", "weak"), &payload)),
        ("use=enc key", enc_key.sign(&claims)),
        ("JWK with private members", private_key.sign(&claims)),
        ("JWK alg does not fit key type", mismatched.sign(&claims)),
        ("unknown kid", good.sign_raw(&header("RS256", "no-such-kid"), &payload)),
        ("missing kid", good.sign_raw(r#"{"alg":"RS256"}"#, &payload)),
        ("oversized token", format!("{h64}.{}.{s64}", b64url(with_claim(&claims, "pad", json!("x".repeat(9000)))))),
        ("two segments", format!("{h64}.{p64}")),
        ("four segments", format!("{valid}.{s64}")),
        ("one segment", h64.clone()),
        ("bad base64 in header", format!("{}!.{p64}.{s64}", &h64[..h64.len() - 1])),
        ("padded base64 signature", format!("{valid}==")),
        ("non-JSON header", format!("{}.{p64}.{s64}", b64url("not json"))),
        ("header is a JSON string", format!("{}.{p64}.{s64}", b64url("\"RS256\""))),
        ("non-ASCII token", format!("{h64}.{p64}é.{s64}")),
        ("whitespace inside token", format!("{h64}. {p64}.{s64}")),
        ("empty segments", "..".to_owned()),
        ("NUL bytes", format!("{h64}\0.{p64}.{s64}")),
    ];
    cases.push(("random garbage", "a".repeat(100)));

    assert!(cases.len() >= 30);
    for (name, token) in &cases {
        let result = answer(&h.authorizer, token).await;
        assert!(
            result.is_err(),
            "{name}: forged token was accepted: {result:?}"
        );
        // And for the intended reason, not by accident.
        let reason = h.authorizer.verify(token).await.err();
        let expected = EXPECTED.iter().find(|(n, _)| n == name).map(|(_, r)| *r);
        assert_eq!(reason, expected, "{name}");
        // `tollgate explain` names the same reason first, and never calls a
        // signature valid that was not.
        let explanation = h.authorizer.explain(token).await;
        assert_eq!(
            explanation.first_failure(),
            expected.map(VerifyError::reason),
            "explain: {name}: {:?}",
            explanation.checks
        );
        let signature_passed = explanation
            .checks
            .iter()
            .any(|c| c.name == "signature" && c.verdict == authorizer::explain::Verdict::Pass);
        let signature_sound = !matches!(
            expected,
            Some(
                VerifyError::BadSignature
                    | VerifyError::AlgorithmMismatch
                    | VerifyError::UnknownKid
                    | VerifyError::RefusedKey
                    | VerifyError::Malformed
                    | VerifyError::UnsupportedAlgorithm
                    | VerifyError::UntrustedIssuer
                    | VerifyError::CriticalHeader
                    | VerifyError::MissingKid
                    | VerifyError::TokenTooLarge
            )
        );
        assert!(signature_passed <= signature_sound, "explain: {name}");
    }
    // The valid token explains as valid, every check passing.
    let explanation = h.authorizer.explain(&valid).await;
    assert!(explanation.outcome.is_ok());
    assert!(explanation
        .checks
        .iter()
        .all(|c| c.verdict == authorizer::explain::Verdict::Pass));
    assert!(explanation
        .granted_routes
        .contains(&"GET /books".to_owned()));

    // Header-level refusals: only `Bearer 1*SP token` is a credential.
    let bare = valid.clone();
    let trailing_space = format!("Bearer {valid} ");
    let second_word = format!("Bearer {valid} extra");
    let tab = format!("Bearer\t{valid}");
    let other_scheme = format!("Token {valid}");
    let leading_space = format!(" Bearer {valid}");
    for raw in [
        "Bearer",
        "Basic Zm9vOmJhcg==",
        "",
        &bare,
        &trailing_space,
        &second_word,
        &tab,
        &other_scheme,
        &leading_space,
    ] {
        let event = json!({"type": "TOKEN", "authorizationToken": raw, "methodArn": METHOD_ARN});
        assert_eq!(
            h.authorizer.handle(event).await.unwrap_err().to_string(),
            "Unauthorized",
            "{raw:?}"
        );
    }
    // No identity was ever granted: every decision line but the first is unauthorized.
    let decisions = decision_lines(&h.metrics);
    assert_eq!(count_decisions(&decisions, "allow"), 1);
}

fn claims_for(sub: &str) -> Value {
    testkit::access_claims(ISSUER, AUDIENCE, sub, "books:read", 600)
}

#[tokio::test]
async fn expiry_within_leeway_is_accepted_and_leeway_is_configurable() {
    let key = rsa_key("k1");
    let mut claims = claims("books:read");
    claims["exp"] = json!(now() - 10);
    let token = key.sign(&claims);

    let h = harness(testkit::jwks(&[&key]), &[]).await;
    assert!(
        answer(&h.authorizer, &token).await.is_ok(),
        "10 s past exp is within the default 30 s leeway"
    );

    let strict = harness(testkit::jwks(&[&key]), &[("JWT_LEEWAY_SECONDS", "0")]).await;
    assert!(answer(&strict.authorizer, &token).await.is_err());
}

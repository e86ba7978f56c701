//! JWK rules: what is refused, what is skipped, how keys are pinned.

use authorizer::Algorithm;
use authorizer::{JwkError, JwkSet, VerifyingKey};
use jsonwebtoken::Algorithm as JwtAlg;
use serde_json::{json, Value};
use testkit::{b64url, TestKey};

fn parse(jwk: &Value) -> Result<VerifyingKey, JwkError> {
    VerifyingKey::from_jwk_json(&jwk.to_string())
}

fn verify(key: &VerifyingKey, token: &str) -> bool {
    let mut signature = authorizer::unverified::SignatureBuf::default();
    let parsed = authorizer::unverified::parse_token(token, &mut signature).expect("well-formed");
    key.verify(parsed.alg, parsed.signing_input, parsed.signature())
}

fn claims() -> Value {
    json!({"sub": "a", "exp": testkit::now() + 60})
}

#[test]
fn each_algorithm_verifies_its_own_signatures() {
    for alg in [
        JwtAlg::RS256,
        JwtAlg::RS384,
        JwtAlg::RS512,
        JwtAlg::PS256,
        JwtAlg::PS384,
        JwtAlg::PS512,
        JwtAlg::ES256,
        JwtAlg::ES384,
        JwtAlg::EdDSA,
    ] {
        let key = TestKey::generate(alg, "k");
        let parsed = parse(&key.jwk).unwrap_or_else(|e| panic!("{alg:?}: {e}"));
        assert!(verify(&parsed, &key.sign(&claims())), "{alg:?}");
        let other = TestKey::generate(alg, "k");
        assert!(
            !verify(&parsed, &other.sign(&claims())),
            "{alg:?}: another key's signature"
        );
    }
}

#[test]
fn a_jwk_with_alg_is_pinned_to_it() {
    let key = TestKey::generate(JwtAlg::RS256, "k");
    let parsed = parse(&key.jwk).unwrap();
    assert_eq!(parsed.algorithms().collect::<Vec<_>>(), [Algorithm::RS256]);
    // Same RSA key, PS256 signature: refused because the key is pinned to RS256.
    let mut ps = key.jwk.clone();
    ps["alg"] = json!("PS256");
    let ps_key = parse(&ps).unwrap();
    assert!(!verify(&ps_key, &key.sign(&claims())));
}

#[test]
fn a_jwk_without_alg_is_pinned_to_its_family_default_only() {
    // RFC 8725 §3.1: one key, one algorithm. An RSA JWK without `alg` is RS256.
    let rs = TestKey::generate(JwtAlg::RS256, "k");
    let parsed = parse(&rs.jwk_without_alg()).unwrap();
    assert_eq!(parsed.algorithms().collect::<Vec<_>>(), [Algorithm::RS256]);
    assert!(verify(&parsed, &rs.sign(&claims())));
    // The same key material signing PS256 is refused: it is not pinned to PS*.
    let ps = TestKey::generate(JwtAlg::PS256, "k");
    let ps_parsed = parse(&ps.jwk_without_alg()).unwrap();
    assert_eq!(
        ps_parsed.algorithms().collect::<Vec<_>>(),
        [Algorithm::RS256]
    );
    assert!(!verify(&ps_parsed, &ps.sign(&claims())));
    let ec = TestKey::generate(JwtAlg::ES256, "e");
    assert_eq!(
        parse(&ec.jwk_without_alg())
            .unwrap()
            .algorithms()
            .collect::<Vec<_>>(),
        [Algorithm::ES256]
    );
}

#[test]
fn refusals() {
    let rsa = TestKey::generate(JwtAlg::RS256, "rsa");
    let with = |name: &str, value: Value| {
        let mut jwk = rsa.jwk.clone();
        jwk[name] = value;
        jwk
    };
    let without = |name: &str| {
        let mut jwk = rsa.jwk.clone();
        jwk.as_object_mut().unwrap().remove(name);
        jwk
    };
    assert_eq!(
        parse(&with("use", json!("enc"))).unwrap_err(),
        JwkError::NotForSignatures("enc".into())
    );
    assert!(matches!(
        parse(&with("key_ops", json!(["encrypt"]))).unwrap_err(),
        JwkError::KeyOperations(_)
    ));
    assert!(parse(&with("key_ops", json!(["verify"]))).is_ok());
    for private in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
        assert_eq!(
            parse(&with(private, json!("AQAB"))).unwrap_err(),
            JwkError::PrivateMembers,
            "{private}"
        );
    }
    assert_eq!(parse(&without("kid")).unwrap_err(), JwkError::MissingKid);
    assert_eq!(
        parse(&with("alg", json!("HS256"))).unwrap_err(),
        JwkError::UnsupportedAlgorithm("HS256".into())
    );
    assert_eq!(
        parse(&with("alg", json!("none"))).unwrap_err(),
        JwkError::UnsupportedAlgorithm("none".into())
    );
    assert_eq!(
        parse(&with("alg", json!("ES256"))).unwrap_err(),
        JwkError::AlgorithmKeyMismatch {
            alg: "ES256",
            key: "kty RSA".into()
        }
    );
    assert_eq!(
        parse(&with("n", json!("!!"))).unwrap_err(),
        JwkError::BadMember("n")
    );
    assert_eq!(parse(&without("e")).unwrap_err(), JwkError::BadMember("e"));
    assert!(matches!(
        parse(&with("kty", json!("oct"))).unwrap_err(),
        JwkError::UnsupportedKeyType(_)
    ));

    // RSA below 2048 bits.
    let weak = json!({"kty": "RSA", "kid": "w", "n": b64url([0xC5u8; 128]), "e": "AQAB"});
    assert_eq!(parse(&weak).unwrap_err(), JwkError::RsaKeySize(1024));
    let just_under = json!({"kty": "RSA", "kid": "w", "n": b64url([0x7Fu8; 256]), "e": "AQAB"});
    assert_eq!(parse(&just_under).unwrap_err(), JwkError::RsaKeySize(2047));

    // EC: wrong curve, wrong length, a point not on the curve.
    let ec = TestKey::generate(JwtAlg::ES256, "ec");
    let mut bad_curve = ec.jwk.clone();
    bad_curve["crv"] = json!("secp256k1");
    assert!(matches!(
        parse(&bad_curve).unwrap_err(),
        JwkError::UnsupportedKeyType(_)
    ));
    let mut short = ec.jwk.clone();
    short["x"] = json!(b64url([1u8; 31]));
    assert_eq!(parse(&short).unwrap_err(), JwkError::BadMember("x"));
    let mut off_curve = ec.jwk.clone();
    off_curve["y"] = json!(b64url([1u8; 32]));
    assert_eq!(
        parse(&off_curve).unwrap_err(),
        JwkError::NotOnCurve("P-256")
    );
}

#[test]
fn padded_members_and_a_leading_zero_byte_are_tolerated() {
    let key = TestKey::generate(JwtAlg::RS256, "k");
    let mut jwk = key.jwk.clone();
    let n = base64_decode(jwk["n"].as_str().unwrap());
    let mut padded = vec![0u8];
    padded.extend_from_slice(&n);
    let mut text = b64url(&padded);
    while text.len() % 4 != 0 {
        text.push('=');
    }
    assert!(text.ends_with('='), "the test needs a padded member");
    jwk["n"] = json!(text);
    let parsed = parse(&jwk).unwrap();
    assert!(verify(&parsed, &key.sign(&claims())));
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap()
}

#[test]
fn a_set_skips_bad_keys_and_drops_ambiguous_kids() {
    let good = TestKey::generate(JwtAlg::ES256, "good");
    let twin_a = TestKey::generate(JwtAlg::RS256, "twin");
    let twin_b = TestKey::generate(JwtAlg::RS256, "twin");
    let mut enc = TestKey::generate(JwtAlg::RS256, "enc").jwk;
    enc["use"] = json!("enc");
    let doc = json!({"keys": [good.jwk, enc, twin_a.jwk, twin_b.jwk, {"kty": "weird"}, 42]});
    let set = JwkSet::parse(doc.to_string().as_bytes()).unwrap();
    assert_eq!(set.keys.keys().collect::<Vec<_>>(), ["good"]);
    // enc, both twins, the unknown type and the number.
    assert_eq!(set.skipped.len(), 5, "{:?}", set.skipped);

    for bad in ["", "[]", "{}", "{\"keys\": {}}", "null", "{\"keys\": [1]"] {
        assert!(
            JwkSet::parse(bad.as_bytes()).is_err()
                || JwkSet::parse(bad.as_bytes()).unwrap().keys.is_empty(),
            "{bad}"
        );
    }
    assert!(JwkSet::parse(b"{\"keys\": []}").unwrap().keys.is_empty());
}

//! Tokens signed by the issuer's keyset verify with the authorizer's own
//! JWKS parsing and fast path, across rotations and revocations.

use authorizer::unverified::{parse_token, SignatureBuf};
use authorizer::JwkSet;
use issuer::{KeySet, SigningAlg};
use jsonwebtoken::Header;
use serde_json::json;

const GRACE: u64 = 1200;

fn sign(set: &KeySet) -> String {
    let active = set.active().unwrap();
    let mut header = Header::new(active.alg.jwt_algorithm());
    header.kid = Some(active.kid.clone());
    header.typ = Some("at+jwt".to_owned());
    let claims = json!({"iss": "https://issuer.test", "sub": "alice", "aud": "books-api", "exp": 4_000_000_000u64});
    jsonwebtoken::encode(&header, &claims, &active.encoding_key().unwrap()).unwrap()
}

fn verifies(token: &str, set: &KeySet) -> bool {
    let jwks = serde_json::to_vec(&set.jwks().unwrap()).unwrap();
    let keys = JwkSet::parse(&jwks).unwrap();
    assert!(
        keys.skipped.is_empty(),
        "every published JWK is usable: {:?}",
        keys.skipped
    );
    let mut signature = SignatureBuf::default();
    let parsed = parse_token(token, &mut signature).unwrap();
    keys.keys
        .get(&parsed.kid)
        .is_some_and(|key| key.verify(parsed.alg, parsed.signing_input, parsed.signature()))
}

#[test]
fn tokens_stay_valid_across_a_rotation_and_new_tokens_verify_at_once() {
    for alg in [
        SigningAlg::RS256,
        SigningAlg::PS256,
        SigningAlg::ES256,
        SigningAlg::EdDSA,
    ] {
        let mut set = KeySet::generate(alg, 1000).unwrap();
        let before = sign(&set);
        assert!(verifies(&before, &set), "{alg:?}");
        let published_next = set.next().unwrap().kid.clone();
        set.rotate(alg, 2000, GRACE).unwrap();
        let after = sign(&set);
        assert!(
            verifies(&before, &set),
            "{alg:?}: outstanding token still valid"
        );
        assert!(verifies(&after, &set), "{alg:?}: new token valid at once");
        assert_eq!(
            set.active().unwrap().kid,
            published_next,
            "it was published before it signed"
        );
    }
}

#[test]
fn a_revoked_keys_tokens_no_longer_verify() {
    let mut set = KeySet::generate(SigningAlg::ES256, 1000).unwrap();
    let token = sign(&set);
    let kid = set.active().unwrap().kid.clone();
    set.revoke(&kid, SigningAlg::ES256, 1500).unwrap();
    assert!(!verifies(&token, &set));
    assert!(
        verifies(&sign(&set), &set),
        "signing continues with the promoted key"
    );
}

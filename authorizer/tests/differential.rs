//! Differential property test: on random valid and mutated tokens, the fast
//! path and jsonwebtoken's `decode` (the reference) reach the same verdict.
//!
//! The reference is jsonwebtoken configured like the authorizer (algorithm
//! pinned to the key's, issuer, audience, leeway, `nbf`, required claims),
//! plus the two rules Tollgate is deliberately stricter on: `iss` must be a
//! single string and `sub` must not be empty.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use authorizer::Authorizer;
use common::*;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use proptest::prelude::*;
use serde_json::{json, Value};
use testkit::{jwks, now, JwksServer, TestKey};

struct World {
    keys: Vec<TestKey>,
    authorizer: Authorizer,
    _server: JwksServer,
    _runtime: tokio::runtime::Runtime,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let keys = vec![
            TestKey::generate(Algorithm::RS256, "rs"),
            TestKey::generate(Algorithm::PS256, "ps"),
            TestKey::generate(Algorithm::ES256, "es"),
            TestKey::generate(Algorithm::EdDSA, "ed"),
        ];
        let (server, authorizer) = runtime.block_on(async {
            let server = JwksServer::start(jwks(&keys.iter().collect::<Vec<_>>())).await;
            let authorizer =
                Authorizer::new(config(&server, &[]), Arc::new(telemetry::DiscardSink)).unwrap();
            authorizer.prewarm().await;
            (server, authorizer)
        });
        World {
            keys,
            authorizer,
            _server: server,
            _runtime: runtime,
        }
    })
}

fn reference_verdict(token: &str, keys: &[TestKey]) -> bool {
    let Ok(header) = jsonwebtoken::decode_header(token) else {
        return false;
    };
    let Some(key) = header
        .kid
        .as_deref()
        .and_then(|kid| keys.iter().find(|k| k.kid == kid))
    else {
        return false;
    };
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(key.jwk.clone()).unwrap();
    let decoding = DecodingKey::from_jwk(&jwk).unwrap();
    let mut validation = Validation::new(key.alg);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    validation.leeway = 30;
    validation.validate_nbf = true;
    validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
    match jsonwebtoken::decode::<HashMap<String, Value>>(token, &decoding, &validation) {
        Ok(data) => {
            data.claims.get("iss").is_some_and(Value::is_string)
                && data
                    .claims
                    .get("sub")
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.is_empty())
        }
        Err(_) => false,
    }
}

fn claim_value() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        any::<i64>().prop_map(|n| Some(json!(n))),
        Just(Some(json!("text"))),
        Just(Some(json!([])))
    ]
}

prop_compose! {
    /// Claims that pass every check (exp and nbf within their windows).
    fn valid_claims()(
        aud in prop_oneof![Just(json!(AUDIENCE)), Just(json!(["x", AUDIENCE]))],
        exp in prop_oneof![3 => 60i64..3600, 1 => -25i64..-5],
        nbf in prop_oneof![Just(None), (-600i64..20).prop_map(Some)],
    ) -> Value {
        let mut claims = json!({"iss": ISSUER, "sub": "alice", "aud": aud, "exp": now() as i64 + exp, "scope": "books:read"});
        if let Some(nbf) = nbf {
            claims["nbf"] = json!(now() as i64 + nbf);
        }
        claims
    }
}

fn claims_strategy() -> impl Strategy<Value = Value> {
    prop_oneof![1 => valid_claims(), 1 => any_claims()]
}

prop_compose! {
    /// Claims with any member missing, mistyped or out of range.
    fn any_claims()(
        iss in prop_oneof![4 => Just(Some(json!(ISSUER))), 1 => Just(Some(json!([ISSUER]))), 1 => Just(Some(json!("https://other.example"))), 1 => claim_value()],
        sub in prop_oneof![4 => Just(Some(json!("alice"))), 1 => Just(Some(json!(""))), 1 => claim_value()],
        aud in prop_oneof![3 => Just(Some(json!(AUDIENCE))), 1 => Just(Some(json!(["x", AUDIENCE]))), 1 => Just(Some(json!(["x"]))), 1 => Just(Some(json!("other"))), 1 => claim_value()],
        exp in prop_oneof![4 => (60i64..3600).prop_map(|d| Some(json!(now() as i64 + d))), 1 => (-25i64..-5).prop_map(|d| Some(json!(now() as i64 + d))), 1 => (100i64..10_000).prop_map(|d| Some(json!(now() as i64 - d))), 1 => Just(Some(json!(now().to_string()))), 1 => claim_value()],
        nbf in prop_oneof![3 => Just(None), 1 => (-600i64..20).prop_map(|d| Some(json!(now() as i64 + d))), 1 => (100i64..10_000).prop_map(|d| Some(json!(now() as i64 + d))), 1 => Just(Some(json!("0")))],
    ) -> Value {
        let mut claims = json!({"scope": "books:read", "jti": "j"});
        for (name, value) in [("iss", iss), ("sub", sub), ("aud", aud), ("exp", exp), ("nbf", nbf)] {
            if let Some(value) = value {
                claims[name] = value;
            }
        }
        claims
    }
}

#[derive(Clone, Debug)]
enum Mutation {
    None,
    /// Replace the character at this fraction of the length.
    Flip(f64, char),
    Truncate(f64),
    Append(char),
    /// Header of another key's token.
    ForeignHeader(usize),
    /// Header alg replaced (kept kid).
    Relabel(&'static str),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let chars = prop::sample::select(vec!['A', 'a', '_', '-', '.', '0', '=', '~']);
    prop_oneof![
        8 => Just(Mutation::None),
        3 => (0.0f64..1.0, chars.clone()).prop_map(|(at, c)| Mutation::Flip(at, c)),
        1 => (0.0f64..1.0).prop_map(Mutation::Truncate),
        1 => chars.prop_map(Mutation::Append),
        1 => (0usize..4).prop_map(Mutation::ForeignHeader),
        1 => prop_oneof![Just("RS256"), Just("PS256"), Just("ES256"), Just("EdDSA"), Just("HS256"), Just("none"), Just("RS512")].prop_map(Mutation::Relabel),
    ]
}

fn apply(token: &str, mutation: &Mutation, world: &World, claims: &Value) -> String {
    match mutation {
        Mutation::None => token.to_owned(),
        Mutation::Flip(at, c) => {
            let mut chars: Vec<char> = token.chars().collect();
            let i = ((chars.len() as f64) * at) as usize % chars.len();
            chars[i] = *c;
            chars.into_iter().collect()
        }
        Mutation::Truncate(at) => token[..((token.len() as f64) * at) as usize].to_owned(),
        Mutation::Append(c) => format!("{token}{c}"),
        Mutation::ForeignHeader(i) => {
            let other = world.keys[*i].sign(claims);
            let header = other.split('.').next().unwrap().to_owned();
            let rest = token.split_once('.').map(|(_, r)| r).unwrap_or("");
            format!("{header}.{rest}")
        }
        Mutation::Relabel(alg) => {
            let kid = jsonwebtoken::decode_header(token)
                .ok()
                .and_then(|h| h.kid)
                .unwrap_or_default();
            let header = testkit::b64url(json!({"alg": alg, "kid": kid}).to_string());
            let rest = token.split_once('.').map(|(_, r)| r).unwrap_or("");
            format!("{header}.{rest}")
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn fast_path_agrees_with_jsonwebtoken(key_index in 0usize..4, claims in claims_strategy(), mutation in mutation()) {
        let world = world();
        let token = world.keys[key_index].sign(&claims);
        let token = apply(&token, &mutation, world, &claims);
        let ours = world.authorizer.verify_with_cached_keys(&token);
        let reference = reference_verdict(&token, &world.keys);
        if std::env::var("DIFF_STATS").is_ok() { eprintln!("VERDICT {}", reference); }
        prop_assert_eq!(ours.is_ok(), reference, "token {} claims {} mutation {:?} ours {:?}", token, claims, mutation, ours.err());
    }
}

#[test]
fn the_reference_accepts_what_it_should() {
    // Guard against a vacuous property: valid tokens of every key pass both.
    let world = world();
    for key in &world.keys {
        let token = key.sign(&claims("books:read"));
        assert!(reference_verdict(&token, &world.keys), "{:?}", key.alg);
        assert!(
            world.authorizer.verify_with_cached_keys(&token).is_ok(),
            "{:?}",
            key.alg
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

    /// The token path decodes with base64-simd; jsonwebtoken with the base64
    /// crate. Both must accept exactly the same segments (no padding,
    /// canonical trailing bits) and decode them to the same bytes.
    #[test]
    fn base64_decoders_agree(segment in "[A-Za-z0-9_=+/. -]{0,24}") {
        use base64::Engine;
        let reference = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&segment).ok();
        let ours = base64_simd::URL_SAFE_NO_PAD.decode_to_vec(&segment).ok();
        prop_assert_eq!(ours, reference, "segment {:?}", segment);
    }
}

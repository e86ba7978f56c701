//! The DPoP proof (RFC 9449), through the `dpop` crate's `ProofChecker`
//! (which reads it with `ProofReader`) as the authorizer and the token
//! endpoint call it. Mode 0: the rest is a raw proof for a fixed request.
//! Otherwise structured: header (`typ`, `alg`, `jwk`, `crit`, extras) and
//! claims (`jti`, `htm`, `htu`, `iat`, `ath`, extras) from the fuzzer,
//! signed with the fixed client key (or another), maybe tampered with, for
//! a request the fuzzer picks; then the same proof a second time.
//!
//! Asserts: an accepted proof has `typ` `dpop+jwt`, no `crit`, a public
//! `jwk` that verifies its signature (checked here with aws-lc-rs), that
//! key's RFC 7638 thumbprint (computed here) as `jkt` and the bound one if
//! the token is bound, the request's method, an `htu` that is the
//! request's URI under RFC 3986 comparison (read here strictly), a fresh
//! `iat`, the token's `ath`, a `jti` of 1 to 512 bytes; a proof is never
//! accepted twice; a proof with every part good is accepted.
#![no_main]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use dpop::{MemoryReplayStore, ProofChecker, ProofError, ProofRequest};
use jose::Algorithm;
use libfuzzer_sys::fuzz_target;
use tollgate_fuzz::keys;
use tollgate_fuzz::model::Window;
use tollgate_fuzz::proof::{self, ProofSpec, Request};
use tollgate_fuzz::stack;

const MAX_AGE: u64 = 60;
const URIS: [&str; 4] = [
    "https://api.fuzz.test/books",
    "https://api.fuzz.test/prod/books/42",
    "https://api.fuzz.test/token",
    "https://api.fuzz.test/books/%41%01",
];
const METHODS: [&str; 3] = ["GET", "POST", "DELETE"];

struct Target {
    runtime: tokio::runtime::Runtime,
    checker: ProofChecker,
    unique: AtomicU64,
}

fn target() -> &'static Target {
    static TARGET: OnceLock<Target> = OnceLock::new();
    TARGET.get_or_init(|| Target {
        runtime: tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime"),
        checker: ProofChecker::new(
            vec![Algorithm::ES256, Algorithm::EdDSA],
            Duration::from_secs(MAX_AGE),
            // Unbounded for a fuzzing run's millions of fresh proofs.
            Arc::new(MemoryReplayStore::with_capacity(usize::MAX)),
        ),
        unique: AtomicU64::new(0),
    })
}

#[derive(Arbitrary, Debug)]
struct Input {
    spec: ProofSpec,
    method: u8,
    uri: u8,
    token: Option<String>,
    bound: Option<Option<String>>,
}

fn check(
    proof: &str,
    method: &str,
    uris: &[String],
    token: Option<&str>,
    bound: Option<&str>,
) -> Result<dpop::Proof, ProofError> {
    let target = target();
    let request = ProofRequest {
        method,
        uris,
        access_token: token,
        bound_jkt: bound,
        now: stack::now(),
    };
    target
        .runtime
        .block_on(target.checker.check(proof, &request))
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let target = target();
    let (proof, method, uris, token, bound, all_good) = if mode == 0 {
        let Ok(proof) = std::str::from_utf8(rest) else {
            return;
        };
        let uris = vec![URIS[0].to_owned()];
        (proof.to_owned(), "GET", uris, None, None, false)
    } else {
        let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(rest)) else {
            return;
        };
        let method = METHODS[usize::from(input.method) % METHODS.len()];
        let uri = URIS[usize::from(input.uri) % URIS.len()];
        let unique = target.unique.fetch_add(1, Ordering::Relaxed);
        let proof = input
            .spec
            .build(method, uri, input.token.as_deref(), unique);
        let bound = match input.bound {
            None => None,
            Some(None) => Some(keys::client_jkt()),
            Some(Some(other)) => Some(other),
        };
        let all_good =
            input.spec.all_good() && bound.as_deref().is_none_or(|b| b == keys::client_jkt());
        (
            proof,
            method,
            vec![uri.to_owned()],
            input.token,
            bound,
            all_good,
        )
    };
    let before = stack::now();
    let first = check(&proof, method, &uris, token.as_deref(), bound.as_deref());
    let window = Window {
        before,
        after: stack::now(),
    };
    match &first {
        Ok(accepted) => {
            let request = Request {
                method,
                uris: &uris,
                token: token.as_deref(),
                bound_jkt: bound.as_deref(),
                window,
                max_age: MAX_AGE,
            };
            match proof::refusal(&proof, &request) {
                Ok(jkt) => assert_eq!(accepted.jkt, jkt, "the proof's jkt"),
                Err(why) => panic!("accepted a proof that must be refused ({why}): {proof}"),
            }
            let again = check(&proof, method, &uris, token.as_deref(), bound.as_deref());
            assert_eq!(
                again.err(),
                Some(ProofError::Replay),
                "a proof accepted twice"
            );
        }
        Err(error) => assert!(!all_good, "a good proof was refused ({error}): {proof}"),
    }
});

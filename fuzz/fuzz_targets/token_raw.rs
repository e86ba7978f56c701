//! The token as raw bytes: the compact JWS parser (`unverified::parse_token`
//! and its claims) and the whole verify path with the fixed JWKS. Seeds are
//! tokens signed with the fixed keys, so mutations start past the
//! signature.
//!
//! Asserts: nothing panics; a parsed token's signing input is the text
//! before its last dot; an accepted token was signed by the fixed key its
//! `kid` names with that key's algorithm and has claims `model` accepts;
//! both verification paths agree.
#![no_main]

use std::sync::OnceLock;

use authorizer::unverified::{parse_token, SignatureBuf};
use authorizer::Authorizer;
use libfuzzer_sys::fuzz_target;
use tollgate_fuzz::model::{self, Expect, Window};
use tollgate_fuzz::stack::{self, Stack, AUDIENCE, LEEWAY};

struct Target {
    stack: Stack,
    authorizer: Authorizer,
}

fn target() -> &'static Target {
    static TARGET: OnceLock<Target> = OnceLock::new();
    TARGET.get_or_init(|| {
        let stack = Stack::start();
        let authorizer = stack.authorizer(&[]);
        Target { stack, authorizer }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let target = target();
    let mut signature = SignatureBuf::default();
    if let Ok(parsed) = parse_token(token, &mut signature) {
        let last_dot = token.rfind('.').expect("three segments");
        assert_eq!(parsed.signing_input, &token.as_bytes()[..last_dot]);
        assert!(!parsed.signature().is_empty());
        let _ = parsed.claims();
    }
    let issuer = target.stack.issuer();
    let before = stack::now();
    let verified = target
        .stack
        .runtime
        .block_on(target.authorizer.verify(token));
    let cached = target.authorizer.verify_with_cached_keys(token);
    let window = Window {
        before,
        after: stack::now(),
    };
    assert_eq!(verified.is_ok(), cached.is_ok(), "the two paths disagree");
    if verified.is_ok() {
        let expect = Expect {
            issuer: &issuer,
            audience: AUDIENCE,
            leeway: LEEWAY,
            required_typ: None,
            status_lists_served: false,
        };
        if let Some(why) = model::refusal(token, &expect, window) {
            panic!("accepted a token that must be refused ({why}): {token}");
        }
    }
});

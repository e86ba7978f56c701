//! The status list token (draft-ietf-oauth-status-list §5) as the
//! authorizer fetches it for a token that names it: a valid access token
//! with `status.status_list` {idx, uri}, whose list the loopback server
//! serves with the fuzzer's content, re-fetched on every input
//! (`forget_status_lists`). Mode 0: the served body is raw bytes (seeds: the
//! tests' list tokens). Otherwise structured: the list token's header and
//! claims as JSON, signed with a fixed key, its `lst` from the fuzzer's
//! list bytes (compressed here), its compressed bytes, or any text.
//!
//! Asserts: the access token passes only if the list token was signed by
//! the fixed key its `kid` names, with `typ` `statuslist+jwt`, names the
//! URI it was fetched from as `sub`, is not expired nor issued ahead, its
//! `ttl` and `bits` are sound, and its list, inflated here with flate2, has
//! VALID at the token's index: a revoked (or suspended, or unknown) status
//! never passes. A list token with every part good and VALID passes.
#![no_main]

use std::io::Write;
use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use authorizer::Authorizer;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use tollgate_fuzz::keys::{self, Signer};
use tollgate_fuzz::model::{self, Expect, Window};
use tollgate_fuzz::stack::{self, Stack, AUDIENCE, LEEWAY};
use tollgate_fuzz::{object_text, Field, Json};

const LIST_PATH: &str = "/statuslists/1";

struct Target {
    stack: Stack,
    authorizer: Authorizer,
}

fn target() -> &'static Target {
    static TARGET: OnceLock<Target> = OnceLock::new();
    TARGET.get_or_init(|| {
        let stack = Stack::start();
        let authorizer = stack.authorizer(&[("STATUS_LIST_CHECK", "required")]);
        Target { stack, authorizer }
    })
}

fn list_uri() -> String {
    format!("{}{LIST_PATH}", stack::ISSUER)
}

#[derive(Arbitrary, Debug)]
enum Lst {
    /// These list bytes, compressed and encoded as the draft says.
    List(Vec<u8>),
    /// These bytes as the compressed data.
    Compressed(Vec<u8>),
    Text(String),
}

#[derive(Arbitrary, Debug)]
struct ListToken {
    typ: Field,
    alg: Field,
    kid: Field,
    signer: Signer,
    sub: Field,
    iss: Field,
    iat: Field,
    exp: Field,
    ttl: Field,
    bits: Field,
    /// The bits per entry a good `bits` claims (1, 2, 4 or 8).
    width: u8,
    lst: Lst,
    extra: Vec<(String, Json)>,
    /// The access token's index in the list.
    idx: u16,
}

impl ListToken {
    fn all_good(&self) -> bool {
        [
            &self.typ, &self.alg, &self.kid, &self.sub, &self.iss, &self.iat, &self.exp, &self.ttl,
            &self.bits,
        ]
        .iter()
        .all(|f| matches!(f, Field::Good))
            && matches!(self.signer, Signer::Ed | Signer::Es)
            && matches!(self.lst, Lst::List(_))
            && self.extra.is_empty()
    }

    fn body(&self) -> String {
        let now = stack::now();
        let width = [1u8, 2, 4, 8][usize::from(self.width % 4)];
        let lst = match &self.lst {
            Lst::List(bytes) => keys::b64url(zlib(bytes)),
            Lst::Compressed(bytes) => keys::b64url(bytes),
            Lst::Text(text) => text.clone(),
        };
        let signer_kid = self.signer.kids().first().map_or(keys::ED_KID, |(k, _)| k);
        let mut header = Vec::new();
        let push = |members: &mut Vec<(String, Value)>, name: &str, value: Option<Value>| {
            if let Some(value) = value {
                members.push((name.to_owned(), value));
            }
        };
        push(
            &mut header,
            "alg",
            self.alg.render(json!(self.signer.alg()), now),
        );
        push(&mut header, "kid", self.kid.render(json!(signer_kid), now));
        push(
            &mut header,
            "typ",
            self.typ.render(json!("statuslist+jwt"), now),
        );
        let mut claims = Vec::new();
        push(&mut claims, "sub", self.sub.render(json!(list_uri()), now));
        push(
            &mut claims,
            "iss",
            self.iss.render(json!(stack::ISSUER), now),
        );
        push(&mut claims, "iat", self.iat.render(json!(now), now));
        push(&mut claims, "exp", self.exp.render(json!(now + 3600), now));
        push(&mut claims, "ttl", self.ttl.render(json!(300), now));
        let mut list = serde_json::Map::new();
        if let Some(bits) = self.bits.render(json!(width), now) {
            list.insert("bits".into(), bits);
        }
        list.insert("lst".into(), json!(lst));
        claims.push(("status_list".into(), Value::Object(list)));
        for (name, value) in &self.extra {
            claims.push((name.clone(), value.value()));
        }
        keys::sign_compact(&object_text(&header), &object_text(&claims), self.signer)
    }
}

fn zlib(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).expect("in memory");
    encoder.finish().expect("in memory")
}

/// A valid access token naming entry `idx` of the list.
fn access_token(idx: u64) -> String {
    let now = stack::now();
    let claims = json!({"iss": stack::ISSUER, "sub": "alice", "aud": AUDIENCE, "exp": now + 600,
        "iat": now, "scope": "books:read", "status": {"status_list": {"idx": idx, "uri": list_uri()}}});
    let header = json!({"alg": "EdDSA", "kid": keys::ED_KID, "typ": "at+jwt"});
    keys::sign_compact(&header.to_string(), &claims.to_string(), Signer::Ed)
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (body, idx, all_good) = if mode == 0 {
        let Some((&idx, body)) = rest.split_first() else {
            return;
        };
        (body.to_vec(), u64::from(idx), false)
    } else {
        let Ok(list) = ListToken::arbitrary_take_rest(Unstructured::new(rest)) else {
            return;
        };
        (
            list.body().into_bytes(),
            u64::from(list.idx),
            list.all_good(),
        )
    };
    let target = target();
    target
        .stack
        .server
        .set(LIST_PATH, "application/statuslist+jwt", body.clone());
    target.authorizer.forget_status_lists(&[list_uri()]);
    let token = access_token(idx);
    let before = stack::now();
    let verified = target
        .stack
        .runtime
        .block_on(target.authorizer.verify(&token));
    let window = Window {
        before,
        after: stack::now(),
    };
    let expect = Expect {
        issuer: stack::ISSUER,
        audience: AUDIENCE,
        leeway: LEEWAY,
        required_typ: None,
        status_lists_served: true,
    };
    let refusal = model::status_list_refusal(&body, &list_uri(), idx, &expect, window);
    match (&verified, refusal) {
        (Ok(_), Some(why)) => panic!(
            "a token passed on a list that must not let it ({why}): {}",
            String::from_utf8_lossy(&body)
        ),
        (Err(error), None) if all_good => panic!(
            "a good list with VALID at {idx} refused the token ({error}): {}",
            String::from_utf8_lossy(&body)
        ),
        _ => {}
    }
});

//! The whole verify path with a fixed JWKS, structured: the fuzzer builds
//! the JOSE header and the claims as JSON (good values, absent, null,
//! times around now, other text, any JSON, extra and duplicated members),
//! the target signs them with one of the fixed keys (so the input gets past
//! the signature) or not, may flip a byte afterwards, and verifies through
//! `Authorizer::verify` (fetching, decision cache) and
//! `Authorizer::verify_with_cached_keys`.
//!
//! Asserts: an accepted token was signed by the fixed key its `kid` names,
//! with the algorithm that key is pinned to, has no `crit`, the required
//! `typ`, and claims that pass RFC 7519/9068's checks as `model` reads them
//! independently; the verified identity is the one the claims state; both
//! verification paths agree; a token with every part good is accepted.
#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use authorizer::Authorizer;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use tollgate_fuzz::keys::{self, Signer};
use tollgate_fuzz::model::{self, Expect, Window};
use tollgate_fuzz::stack::{self, Stack, AUDIENCE, LEEWAY};
use tollgate_fuzz::{object_text, Field, Json};

struct Target {
    stack: Stack,
    authorizer: Authorizer,
}

fn target() -> &'static Target {
    static TARGET: OnceLock<Target> = OnceLock::new();
    TARGET.get_or_init(|| {
        let stack = Stack::start();
        let authorizer = stack.authorizer(&[("JWT_REQUIRED_TYP", "at+jwt")]);
        Target { stack, authorizer }
    })
}

#[derive(Arbitrary, Debug)]
enum Kid {
    /// The signer's own kid (its first).
    Signer,
    Ed,
    Es,
    EsNoAlg,
    Rsa,
    Field(Field),
}

#[derive(Arbitrary, Debug)]
struct Header {
    alg: Field,
    kid: Kid,
    typ: Field,
    crit: Option<Json>,
    /// `jku`, `jwk`, `x5u`, … anything: a token must never choose its key.
    extra: Vec<(String, Json)>,
    duplicate: Option<(u8, Json)>,
}

#[derive(Arbitrary, Debug)]
struct Claims {
    iss: Field,
    sub: Field,
    aud: Field,
    exp: Field,
    nbf: Field,
    iat: Field,
    scope: Field,
    scp: Field,
    client_id: Field,
    token_use: Field,
    status: Field,
    cnf: Field,
    extra: Vec<(String, Json)>,
    duplicate: Option<(u8, Json)>,
}

#[derive(Arbitrary, Debug)]
enum Signature {
    By(Signer),
    Bytes(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
struct Input {
    header: Header,
    claims: Claims,
    signature: Signature,
    /// Replace the byte at this position of the compact token.
    tamper: Option<(u16, u8)>,
}

const HEADER_NAMES: [&str; 4] = ["alg", "kid", "typ", "crit"];
const CLAIM_NAMES: [&str; 12] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "scope",
    "scp",
    "client_id",
    "token_use",
    "status",
    "cnf",
];

fn header_json(header: &Header, signer: Signer) -> String {
    let now = stack::now();
    let signer_kid = signer.kids().first().map_or(keys::ED_KID, |(kid, _)| kid);
    let kid = match &header.kid {
        Kid::Signer => Some(json!(signer_kid)),
        Kid::Ed => Some(json!(keys::ED_KID)),
        Kid::Es => Some(json!(keys::ES_KID)),
        Kid::EsNoAlg => Some(json!(keys::ES_NOALG_KID)),
        Kid::Rsa => Some(json!(keys::RSA_KID)),
        Kid::Field(field) => field.render(json!(signer_kid), now),
    };
    let mut members: Vec<(String, Value)> = Vec::new();
    let mut push = |name: &str, value: Option<Value>| {
        if let Some(value) = value {
            members.push((name.to_owned(), value));
        }
    };
    push("alg", header.alg.render(json!(signer.alg()), now));
    push("kid", kid);
    push("typ", header.typ.render(json!("at+jwt"), now));
    push("crit", header.crit.as_ref().map(Json::value));
    for (name, value) in &header.extra {
        push(name, Some(value.value()));
    }
    if let Some((which, value)) = &header.duplicate {
        let name = HEADER_NAMES[usize::from(*which) % HEADER_NAMES.len()];
        push(name, Some(value.value()));
    }
    object_text(&members)
}

fn claims_json(claims: &Claims, issuer: &str) -> String {
    let now = stack::now();
    let fields = [
        (&claims.iss, json!(issuer)),
        (&claims.sub, json!("alice")),
        (&claims.aud, json!(AUDIENCE)),
        (&claims.exp, json!(now + 600)),
        (&claims.nbf, json!(now)),
        (&claims.iat, json!(now)),
        (&claims.scope, json!("books:read books:write")),
        (&claims.scp, json!(["keys:admin"])),
        (&claims.client_id, json!("books-web")),
        (&claims.token_use, json!("access")),
        (
            &claims.status,
            json!({"status_list": {"idx": 3, "uri": format!("{issuer}/statuslists/1")}}),
        ),
        (&claims.cnf, json!({"jkt": keys::client_jkt()})),
    ];
    let mut members: Vec<(String, Value)> = Vec::new();
    for (name, (field, good)) in CLAIM_NAMES.iter().zip(fields) {
        // The good status names a list: a token is good without one here.
        let field = match (*name, field) {
            ("status", Field::Good) => &Field::Absent,
            (_, field) => field,
        };
        if let Some(value) = field.render(good, now) {
            members.push(((*name).to_owned(), value));
        }
    }
    for (name, value) in &claims.extra {
        members.push((name.clone(), value.value()));
    }
    if let Some((which, value)) = &claims.duplicate {
        let name = CLAIM_NAMES[usize::from(*which) % CLAIM_NAMES.len()];
        members.push((name.to_owned(), value.value()));
    }
    object_text(&members)
}

impl Input {
    fn all_good(&self) -> bool {
        let h = &self.header;
        let c = &self.claims;
        h.alg.is_good()
            && matches!(h.kid, Kid::Signer)
            && h.typ.is_good()
            && h.crit.is_none()
            && h.extra.is_empty()
            && h.duplicate.is_none()
            && [
                &c.iss,
                &c.sub,
                &c.aud,
                &c.exp,
                &c.nbf,
                &c.iat,
                &c.scope,
                &c.scp,
                &c.client_id,
                &c.token_use,
                &c.status,
                &c.cnf,
            ]
            .iter()
            .all(|f| f.is_good())
            && c.extra.is_empty()
            && c.duplicate.is_none()
            && matches!(self.signature, Signature::By(Signer::Ed | Signer::Es))
            && self.tamper.is_none()
    }
}

fuzz_target!(|input: Input| {
    let target = target();
    let issuer = target.stack.issuer();
    let signer = match input.signature {
        Signature::By(signer) => signer,
        Signature::Bytes(_) => Signer::Ed,
    };
    let header = header_json(&input.header, signer);
    let payload = claims_json(&input.claims, &issuer);
    let mut token = match &input.signature {
        Signature::By(signer) => keys::sign_compact(&header, &payload, *signer),
        Signature::Bytes(bytes) => format!(
            "{}.{}.{}",
            keys::b64url(&header),
            keys::b64url(&payload),
            keys::b64url(bytes)
        ),
    };
    if let Some((position, byte)) = input.tamper {
        let mut bytes = token.into_bytes();
        if !bytes.is_empty() {
            let at = usize::from(position) % bytes.len();
            bytes[at] = byte;
        }
        token = String::from_utf8_lossy(&bytes).into_owned();
    }

    let before = stack::now();
    let verified = target
        .stack
        .runtime
        .block_on(target.authorizer.verify(&token));
    let cached = target.authorizer.verify_with_cached_keys(&token);
    let window = Window {
        before,
        after: stack::now(),
    };
    let expect = Expect {
        issuer: &issuer,
        audience: AUDIENCE,
        leeway: LEEWAY,
        required_typ: Some("at+jwt"),
        status_lists_served: false,
    };
    assert_eq!(
        verified.is_ok(),
        cached.is_ok(),
        "the two paths disagree: {:?} / {:?}",
        verified.as_ref().err(),
        cached.as_ref().err()
    );
    match &verified {
        Ok(verified) => {
            if let Some(why) = model::refusal(&token, &expect, window) {
                panic!("accepted a token that must be refused ({why}):\n{header}\n{payload}");
            }
            let claims: Value = serde_json::from_str(&payload).expect("the claims we wrote");
            assert_eq!(Some(verified.sub.as_str()), claims["sub"].as_str());
            assert_eq!(&*verified.iss, issuer);
        }
        Err(error) => assert!(
            !input.all_good(),
            "a token with every part good was refused ({error}):\n{header}\n{payload}"
        ),
    }
});

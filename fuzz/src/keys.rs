//! The fixed keys the targets sign with, so that a fuzzed token or proof
//! gets past its signature check, and their public JWKs.
//!
//! Fixed rather than generated per run: a crash artifact (or a corpus file
//! of the raw token target) must mean the same thing on the next run.
//! These keys are test material only; they guard nothing.

use std::sync::OnceLock;

use aws_lc_rs::digest::{digest, SHA256};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

/// base64url without padding, as JOSE writes it.
pub fn b64url(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The issuer's Ed25519 key (`alg` EdDSA).
pub const ED_KID: &str = "fuzz-ed";
/// The issuer's P-256 key (`alg` ES256).
pub const ES_KID: &str = "fuzz-es";
/// An RSA key in the JWKS whose private half nobody has: nothing it names
/// may ever verify.
pub const RSA_KID: &str = "fuzz-rsa";
/// The P-256 key again under its own kid, published without `alg` (pinned
/// to its key type's default, ES256).
pub const ES_NOALG_KID: &str = "fuzz-es-noalg";

/// Who signs a token: one of the fixed keys, or nobody (the signature is
/// the fuzzer's bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, arbitrary::Arbitrary)]
pub enum Signer {
    /// The Ed25519 key behind [`ED_KID`].
    Ed,
    /// The P-256 key behind [`ES_KID`] and [`ES_NOALG_KID`].
    Es,
    /// The DPoP client's Ed25519 key (never in the issuer's JWKS).
    Client,
}

impl Signer {
    /// The JWKS `kid`s whose key this signer holds, with the algorithm each
    /// is pinned to.
    pub fn kids(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Signer::Ed => &[(ED_KID, "EdDSA")],
            Signer::Es => &[(ES_KID, "ES256"), (ES_NOALG_KID, "ES256")],
            Signer::Client => &[],
        }
    }

    /// The JWS algorithm this key signs with.
    pub fn alg(self) -> &'static str {
        match self {
            Signer::Ed | Signer::Client => "EdDSA",
            Signer::Es => "ES256",
        }
    }

    /// Signs `message` (the JWS signing input).
    pub fn sign(self, message: &[u8]) -> Vec<u8> {
        match self {
            Signer::Ed => keys().ed.sign(message).as_ref().to_vec(),
            Signer::Client => keys().client.sign(message).as_ref().to_vec(),
            Signer::Es => keys()
                .es
                .sign(&SystemRandom::new(), message)
                .expect("ECDSA signing")
                .as_ref()
                .to_vec(),
        }
    }
}

struct Keys {
    ed: Ed25519KeyPair,
    es: EcdsaKeyPair,
    client: Ed25519KeyPair,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys {
        ed: Ed25519KeyPair::from_seed_unchecked(&[0x11; 32]).expect("Ed25519 seed"),
        es: EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &hex(ES_PKCS8))
            .expect("P-256 PKCS#8"),
        client: Ed25519KeyPair::from_seed_unchecked(&[0x22; 32]).expect("Ed25519 seed"),
    })
}

/// A P-256 private key (PKCS#8 DER), made once with
/// `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`.
const ES_PKCS8: &str = "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420fa1f49b9b5600dc24b1df47f3a496518e9b4191686d11e28375e23229763a806a14403420004d1f7141a94f6b438db845471289462b9a2657c0568f3e6391958df8fc3650bc614464d5c65383d0abb31874e5f437b73a44363a9f58d5e462ed7d48811c84a2a";

/// RFC 7638 §3.1's example RSA modulus: a real 2048-bit public key whose
/// private key this harness does not have.
const RSA_N: &str = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

fn ed_jwk(pair: &Ed25519KeyPair) -> Value {
    json!({"kty": "OKP", "crv": "Ed25519", "x": b64url(pair.public_key().as_ref())})
}

fn es_jwk() -> Value {
    // SEC 1 uncompressed point: 0x04 || x || y.
    let point = keys().es.public_key().as_ref();
    json!({"kty": "EC", "crv": "P-256", "x": b64url(&point[1..33]), "y": b64url(&point[33..65])})
}

/// The DPoP client's public JWK (no `kid`, as a proof header carries it).
pub fn client_jwk() -> Value {
    ed_jwk(&keys().client)
}

/// The RFC 7638 thumbprint of the DPoP client's key, computed here from
/// the RFC's rules (not by the code under test): what `cnf.jkt` names.
pub fn client_jkt() -> String {
    let x = b64url(keys().client.public_key().as_ref());
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    b64url(digest(&SHA256, canonical.as_bytes()))
}

/// The issuer's JWKS: the Ed25519 and P-256 keys pinned to their
/// algorithms, the P-256 key again without `alg`, and the RSA key.
pub fn issuer_jwks() -> Value {
    let with = |mut jwk: Value, kid: &str, alg: Option<&str>| {
        jwk["kid"] = json!(kid);
        jwk["use"] = json!("sig");
        if let Some(alg) = alg {
            jwk["alg"] = json!(alg);
        }
        jwk
    };
    json!({"keys": [
        with(ed_jwk(&keys().ed), ED_KID, Some("EdDSA")),
        with(es_jwk(), ES_KID, Some("ES256")),
        with(es_jwk(), ES_NOALG_KID, None),
        with(json!({"kty": "RSA", "n": RSA_N, "e": "AQAB"}), RSA_KID, Some("RS256")),
    ]})
}

/// A compact JWS of these exact header and payload texts, signed by
/// `signer`.
pub fn sign_compact(header_json: &str, payload_json: &str, signer: Signer) -> String {
    let input = format!("{}.{}", b64url(header_json), b64url(payload_json));
    let signature = signer.sign(input.as_bytes());
    format!("{input}.{}", b64url(signature))
}

/// Whether `token` carries a signature one of the fixed issuer keys made
/// over its first two segments (checked here with aws-lc-rs directly, not
/// by the code under test). Returns the signer.
pub fn signed_by_issuer_key(token: &str) -> Option<Signer> {
    use aws_lc_rs::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED, ED25519};
    let mut parts = token.rsplitn(2, '.');
    let (signature, input) = (parts.next()?, parts.next()?);
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    let ed = UnparsedPublicKey::new(&ED25519, keys().ed.public_key().as_ref().to_vec());
    if ed.verify(input.as_bytes(), &signature).is_ok() {
        return Some(Signer::Ed);
    }
    let es = UnparsedPublicKey::new(
        &ECDSA_P256_SHA256_FIXED,
        keys().es.public_key().as_ref().to_vec(),
    );
    es.verify(input.as_bytes(), &signature)
        .is_ok()
        .then_some(Signer::Es)
}

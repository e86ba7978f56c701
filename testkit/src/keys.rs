//! Signing keys generated with aws-lc-rs, signing through jsonwebtoken.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{
    EcdsaKeyPair, Ed25519KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

/// base64url without padding, as JOSE uses.
pub fn b64url(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A private signing key with its public JWK.
#[derive(Clone)]
pub struct TestKey {
    /// The JWS algorithm the key signs with.
    pub alg: Algorithm,
    /// The `kid` in its JWK and in the headers it signs.
    pub kid: String,
    encoding: EncodingKey,
    /// The public JWK, with `kid`, `alg` and `use: sig`.
    pub jwk: Value,
}

impl std::fmt::Debug for TestKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TestKey({:?}, {})", self.alg, self.kid)
    }
}

impl TestKey {
    /// A fresh key for `alg` (RS*/PS*: RSA-2048, ES256: P-256, ES384: P-384, EdDSA: Ed25519).
    pub fn generate(alg: Algorithm, kid: &str) -> Self {
        let encoding = match alg {
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => {
                let pair = RsaKeyPair::generate(KeySize::Rsa2048).expect("RSA keygen");
                let pkcs8 = pair.as_der().expect("RSA PKCS#8");
                EncodingKey::from_rsa_der(pkcs1_from_pkcs8(pkcs8.as_ref()))
            }
            Algorithm::ES256 | Algorithm::ES384 => {
                let signing = if alg == Algorithm::ES256 {
                    &ECDSA_P256_SHA256_FIXED_SIGNING
                } else {
                    &ECDSA_P384_SHA384_FIXED_SIGNING
                };
                let pair = EcdsaKeyPair::generate(signing).expect("EC keygen");
                EncodingKey::from_ec_der(pair.to_pkcs8v1().expect("EC PKCS#8").as_ref())
            }
            Algorithm::EdDSA => {
                let pair = Ed25519KeyPair::generate().expect("Ed25519 keygen");
                EncodingKey::from_ed_der(pair.to_pkcs8v1().expect("Ed25519 PKCS#8").as_ref())
            }
            other => panic!("no test keys for {other:?}"),
        };
        let mut jwk = serde_json::to_value(Jwk::from_encoding_key(&encoding, alg).expect("JWK"))
            .expect("JWK JSON");
        jwk["kid"] = json!(kid);
        jwk["use"] = json!("sig");
        Self {
            alg,
            kid: kid.to_owned(),
            encoding,
            jwk,
        }
    }

    /// The JWK without its `alg` member (pinned by key type only).
    pub fn jwk_without_alg(&self) -> Value {
        let mut jwk = self.jwk.clone();
        if let Some(map) = jwk.as_object_mut() {
            map.remove("alg");
        }
        jwk
    }

    /// A standard header: `alg`, `kid`, `typ: at+jwt`.
    pub fn header(&self) -> Header {
        let mut header = Header::new(self.alg);
        header.kid = Some(self.kid.clone());
        header.typ = Some("at+jwt".to_owned());
        header
    }

    /// Signs `claims` with the standard header.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with_header(&self.header(), claims)
    }

    /// Signs `claims` under a header the test chose (any `alg`, `kid`, `typ`).
    pub fn sign_with_header(&self, header: &Header, claims: &Value) -> String {
        jsonwebtoken::encode(header, claims, &self.encoding).expect("sign")
    }

    /// Signs raw header and payload JSON texts, for tokens jsonwebtoken's
    /// typed `Header` cannot express (`crit`, odd members, duplicates).
    pub fn sign_raw(&self, header_json: &str, payload_json: &str) -> String {
        let signing_input = format!("{}.{}", b64url(header_json), b64url(payload_json));
        let signature =
            jsonwebtoken::crypto::sign(signing_input.as_bytes(), &self.encoding, self.alg)
                .expect("sign");
        format!("{signing_input}.{signature}")
    }
}

/// A JWKS document of the keys' public JWKs.
pub fn jwks(keys: &[&TestKey]) -> Value {
    json!({ "keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>() })
}

/// The RSAPrivateKey (PKCS#1) inside a PKCS#8 PrivateKeyInfo: jsonwebtoken's
/// RSA `EncodingKey::from_rsa_der` wants PKCS#1, aws-lc-rs exports PKCS#8.
fn pkcs1_from_pkcs8(der: &[u8]) -> &[u8] {
    // PrivateKeyInfo ::= SEQUENCE { version INTEGER, algorithm SEQUENCE, privateKey OCTET STRING }
    let (_, body, _) = der_element(der, 0x30);
    let (_, _, rest) = der_element(body, 0x02);
    let (_, _, rest) = der_element(rest, 0x30);
    let (_, key, _) = der_element(rest, 0x04);
    key
}

/// Splits one DER element of the expected tag: (header, content, rest).
fn der_element(input: &[u8], tag: u8) -> (&[u8], &[u8], &[u8]) {
    assert_eq!(input[0], tag, "unexpected DER tag");
    let (len, header_len) = if input[1] < 0x80 {
        (input[1] as usize, 2)
    } else {
        let n = (input[1] & 0x7f) as usize;
        let len = input[2..2 + n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | *b as usize);
        (len, 2 + n)
    };
    (
        &input[..header_len],
        &input[header_len..header_len + len],
        &input[header_len + len..],
    )
}

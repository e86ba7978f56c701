//! DPoP proofs as a client makes them (RFC 9449 §4.2), and ways to spoil
//! one check at a time for tests of the proof checks.

use serde_json::{json, Value};

use crate::keys::{b64url, TestKey};

/// A client's DPoP key.
#[derive(Clone, Debug)]
pub struct ProofKey {
    /// The signing key.
    pub key: TestKey,
}

/// One proof's claims and header, to change before signing.
#[derive(Clone, Debug)]
pub struct ProofParts {
    /// The JOSE header (`typ`, `alg`, `jwk`).
    pub header: Value,
    /// The claims (`jti`, `htm`, `htu`, `iat`, `ath`).
    pub claims: Value,
}

impl ProofKey {
    /// A fresh key for `alg` (ES256 is what clients use most).
    pub fn generate(alg: jsonwebtoken::Algorithm) -> Self {
        Self {
            key: TestKey::generate(alg, "dpop"),
        }
    }

    /// The public JWK as a client puts it in a proof: no `kid`, `use` or `alg`.
    pub fn public_jwk(&self) -> Value {
        let mut jwk = self.key.jwk.clone();
        if let Some(map) = jwk.as_object_mut() {
            for member in ["kid", "use", "alg"] {
                map.remove(member);
            }
        }
        jwk
    }

    /// The RFC 7638 thumbprint of the public key: what `cnf.jkt` names.
    pub fn thumbprint(&self) -> String {
        let jwk = self.public_jwk();
        let canonical = match jwk["kty"].as_str() {
            Some("RSA") => json!({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}),
            Some("EC") => json!({"crv": jwk["crv"], "kty": "EC", "x": jwk["x"], "y": jwk["y"]}),
            _ => json!({"crv": jwk["crv"], "kty": "OKP", "x": jwk["x"]}),
        };
        // serde_json sorts object members: the canonical order.
        let digest =
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.to_string().as_bytes());
        b64url(digest.as_ref())
    }

    /// The parts of a fresh proof for `method` `url` (and `token`, whose
    /// hash becomes `ath`), issued now with a random `jti`.
    pub fn parts(&self, method: &str, url: &str, token: Option<&str>) -> ProofParts {
        let mut claims = json!({
            "jti": ulid::Ulid::new().to_string(),
            "htm": method,
            "htu": url,
            "iat": crate::now(),
        });
        if let Some(token) = token {
            claims["ath"] = json!(access_token_hash(token));
        }
        ProofParts {
            header: json!({"typ": "dpop+jwt", "alg": format!("{:?}", self.key.alg), "jwk": self.public_jwk()}),
            claims,
        }
    }

    /// Signs `parts` as they are.
    pub fn sign(&self, parts: &ProofParts) -> String {
        self.key
            .sign_raw(&parts.header.to_string(), &parts.claims.to_string())
    }

    /// A valid proof for `method` `url` (and `token`).
    pub fn proof(&self, method: &str, url: &str, token: Option<&str>) -> String {
        self.sign(&self.parts(method, url, token))
    }
}

/// `ath`: base64url SHA-256 of the access token.
pub fn access_token_hash(token: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    b64url(digest.as_ref())
}

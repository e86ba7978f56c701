//! A DPoP proof JWT (RFC 9449 §4.2) read and its signature checked: `typ`
//! `dpop+jwt`, an accepted asymmetric `alg`, a public `jwk` in the header
//! that verifies the signature, and claims of the right types. What the
//! claims must say about the request is [`crate::check`]'s.

use std::sync::Arc;
use std::time::Duration;

use base64_simd::URL_SAFE_NO_PAD;
use jose::{Algorithm, VerifyingKey};
use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::error::ProofError;

/// Proofs above this size are refused before decoding (an RSA-4096 key in
/// the header is about 1 KiB).
pub const MAX_PROOF_BYTES: usize = 8 * 1024;
/// The longest `jti` accepted: it is stored (hashed) until the proof expires.
pub const MAX_JTI_BYTES: usize = 512;

/// A proof whose signature its own `jwk` verified; its claims are not yet
/// checked against a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proof {
    /// The RFC 7638 thumbprint of the proof's key: what `cnf.jkt` binds.
    pub jkt: String,
    /// The algorithm it was signed with.
    pub alg: Algorithm,
    /// `jti`.
    pub jti: String,
    /// `htm`.
    pub htm: String,
    /// `htu`.
    pub htu: String,
    /// `iat`, Unix seconds.
    pub iat: u64,
    /// `ath`, when present.
    pub ath: Option<String>,
}

#[derive(Deserialize)]
struct Header {
    typ: Option<String>,
    alg: Option<String>,
    jwk: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "present")]
    crit: bool,
}

fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    IgnoredAny::deserialize(deserializer).map(|_| true)
}

#[derive(Deserialize)]
struct Claims {
    jti: String,
    htm: String,
    htu: String,
    iat: serde_json::Number,
    #[serde(default)]
    ath: Option<String>,
}

/// A proof's key and the algorithm it is pinned to.
struct ProofKey {
    key: VerifyingKey,
    alg: Algorithm,
}

/// Reads proofs, keeping each header's parsed key: a client signs every
/// proof with one key, so its header is the same from one request to the
/// next, and a repeat costs a lookup instead of a key parse.
pub struct ProofReader {
    algorithms: Vec<Algorithm>,
    keys: moka::sync::Cache<String, Arc<ProofKey>>,
}

impl std::fmt::Debug for ProofReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProofReader")
            .field("algorithms", &self.algorithms)
            .finish_non_exhaustive()
    }
}

impl ProofReader {
    /// Accepting proofs signed with `algorithms` (asymmetric ones only:
    /// [`Algorithm`] has no other).
    pub fn new(algorithms: Vec<Algorithm>) -> Self {
        Self {
            algorithms,
            keys: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_idle(Duration::from_secs(600))
                .build(),
        }
    }

    /// The accepted algorithms.
    pub fn algorithms(&self) -> &[Algorithm] {
        &self.algorithms
    }

    /// Parses `proof` and checks its signature with its own `jwk`.
    pub fn read(&self, proof: &str) -> Result<Proof, ProofError> {
        if proof.len() > MAX_PROOF_BYTES {
            return Err(ProofError::invalid("larger than the size limit"));
        }
        let mut parts = proof.split('.');
        let (Some(header_b64), Some(claims_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(ProofError::invalid("not a compact JWS"));
        };
        let key = self.key(header_b64)?;
        let signature = decode(signature_b64, "signature")?;
        let signing_input = &proof.as_bytes()[..header_b64.len() + 1 + claims_b64.len()];
        if !key.key.verify(key.alg, signing_input, &signature) {
            return Err(ProofError::invalid("bad signature"));
        }
        let claims = claims(&decode(claims_b64, "claims")?)?;
        Ok(Proof {
            jkt: key.key.thumbprint().to_owned(),
            alg: key.alg,
            jti: claims.jti,
            htm: claims.htm,
            htu: claims.htu,
            iat: numeric_date(&claims.iat)?,
            ath: claims.ath,
        })
    }

    /// The key a header names, parsed once per distinct header.
    fn key(&self, header_b64: &str) -> Result<Arc<ProofKey>, ProofError> {
        if let Some(key) = self.keys.get(header_b64) {
            return Ok(key);
        }
        let key = Arc::new(self.parse_header(&decode(header_b64, "header")?)?);
        self.keys.insert(header_b64.to_owned(), Arc::clone(&key));
        Ok(key)
    }

    fn parse_header(&self, json: &[u8]) -> Result<ProofKey, ProofError> {
        if json.trim_ascii_start().first() != Some(&b'{') {
            return Err(ProofError::invalid("header is not a JSON object"));
        }
        let header: Header = serde_json::from_slice(json)
            .map_err(|_| ProofError::invalid("header is not a JOSE header"))?;
        if !header.typ.as_deref().is_some_and(is_dpop_typ) {
            return Err(ProofError::invalid("typ is not dpop+jwt"));
        }
        if header.crit {
            return Err(ProofError::invalid("header names a critical extension"));
        }
        let alg = header
            .alg
            .as_deref()
            .and_then(Algorithm::from_name)
            .filter(|alg| self.algorithms.contains(alg))
            .ok_or_else(|| ProofError::invalid("alg is not an accepted asymmetric algorithm"))?;
        let jwk = header
            .jwk
            .ok_or_else(|| ProofError::invalid("no jwk in the header"))?;
        let key = VerifyingKey::from_public_jwk(&jwk, Some(alg))
            .map_err(|error| ProofError::invalid(format!("jwk refused: {error}")))?;
        Ok(ProofKey { key, alg })
    }
}

/// `dpop+jwt`, as media types compare (case-insensitive, `application/`
/// optional).
fn is_dpop_typ(typ: &str) -> bool {
    let bare = match typ.get(..12) {
        Some(prefix) if prefix.eq_ignore_ascii_case("application/") => &typ[12..],
        _ => typ,
    };
    bare.eq_ignore_ascii_case("dpop+jwt")
}

fn decode(segment: &str, what: &str) -> Result<Vec<u8>, ProofError> {
    if segment.is_empty() {
        return Err(ProofError::invalid(format!("empty {what}")));
    }
    URL_SAFE_NO_PAD
        .decode_to_vec(segment)
        .map_err(|_| ProofError::invalid(format!("{what} is not base64url")))
}

fn claims(json: &[u8]) -> Result<Claims, ProofError> {
    if json.trim_ascii_start().first() != Some(&b'{') {
        return Err(ProofError::invalid("claims are not a JSON object"));
    }
    let claims: Claims = serde_json::from_slice(json)
        .map_err(|_| ProofError::invalid("claims lack jti, htm, htu or iat, or mistype one"))?;
    if claims.jti.is_empty() || claims.jti.len() > MAX_JTI_BYTES {
        return Err(ProofError::invalid("jti is empty or too long"));
    }
    Ok(claims)
}

/// A NumericDate (RFC 7519 §2): non-negative seconds, a fraction cut off.
fn numeric_date(number: &serde_json::Number) -> Result<u64, ProofError> {
    number
        .as_u64()
        .or_else(|| {
            number
                .as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0 && *f < 1e15)
                .map(|f| f as u64)
        })
        .ok_or_else(|| ProofError::invalid("iat is not a date"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dpop_typ_compares_as_a_media_type() {
        for ok in ["dpop+jwt", "DPoP+JWT", "application/dpop+jwt"] {
            assert!(is_dpop_typ(ok), "{ok}");
        }
        for refused in ["jwt", "at+jwt", "dpop+jwt ", "application/jwt", ""] {
            assert!(!is_dpop_typ(refused), "{refused}");
        }
    }

    #[test]
    fn dates_are_non_negative_seconds() {
        let n = |json: &str| serde_json::from_str::<serde_json::Number>(json).unwrap();
        assert_eq!(numeric_date(&n("1700000000")), Ok(1_700_000_000));
        assert_eq!(numeric_date(&n("1700000000.9")), Ok(1_700_000_000));
        assert!(numeric_date(&n("-1")).is_err());
        assert!(numeric_date(&n("1e300")).is_err());
    }

    /// A proof's `jwk` meets the rules a JWKS key does (jose's one parser):
    /// size, exponent, ROCA, curve, small order, type agreement, use.
    #[test]
    fn a_proof_key_meets_the_key_rules_of_a_jwks() {
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode_to_string(bytes);
        // RFC 7638 §3.1's RSA key, RFC 7517 A.1's P-256 key.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let (x, y) = (
            "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
        );
        let off_curve_y = {
            let mut bytes = URL_SAFE_NO_PAD.decode_to_vec(y).unwrap();
            bytes[31] ^= 1;
            b64(&bytes)
        };
        // ROCA authors' 2048-bit fingerprinted modulus (crocs-muni/roca mod03).
        let roca = "nc10IOQgwnCmgGDri1qnRXqfZkj4b6_tJ3XMH3muli8eY_G55RxV-epv3HMy6bAFjJ_y6x_ImFUCnPaq_iHmif6zisn_sS8c43G7XQ6armQWGrznS0JEv2jx7bRBH3VqCXyJKcFHQCReo1X4My0ao2u1DH3LRQXajeAuTlPTj43wYJfadSTfDfk9tI6sjMSvLToWJX6ysq3Ka6Rk5ZdPqSVQ0xsbq_Fh52ktALhuPdiG7KtKv74aj4zCY_9K9VzbRfQkmlGTkl9emD12LwtoAJQ-sCZ7CPQu0xHOH1yG6svIzk08t6L-4e9WQUI6HPQRTl7PUANKYKQSUjr55vSqEQ";
        let cases = [
            (
                "RS256",
                json!({"kty": "RSA", "n": b64(&[0xc5; 128]), "e": "AQAB"}),
                "RSA modulus 1024 bits < 2048",
            ),
            (
                "RS256",
                json!({"kty": "RSA", "n": n, "e": "AQ"}),
                "RSA exponent 1 is below 3",
            ),
            (
                "RS256",
                json!({"kty": "RSA", "n": n, "e": "AAEAAQ"}),
                "leading zero byte",
            ),
            (
                "RS256",
                json!({"kty": "RSA", "n": roca, "e": "AQAB"}),
                "ROCA",
            ),
            (
                "ES256",
                json!({"kty": "EC", "crv": "P-256", "x": x, "y": off_curve_y}),
                "not on the curve P-256",
            ),
            (
                "EdDSA",
                json!({"kty": "OKP", "crv": "Ed25519", "x": b64(&[0; 32])}),
                "small order",
            ),
            (
                "ES256",
                json!({"kty": "OKP", "crv": "Ed25519", "x": b64(&[9; 32])}),
                "does not fit kty OKP crv Ed25519",
            ),
            (
                "ES256",
                json!({"kty": "EC", "crv": "P-256", "x": x, "y": y, "use": "enc"}),
                "not \"sig\"",
            ),
        ];
        let reader = ProofReader::new(Algorithm::ALL.to_vec());
        for (alg, jwk, why) in cases {
            let header = json!({"typ": "dpop+jwt", "alg": alg, "jwk": jwk});
            let claims =
                json!({"jti": "j", "htm": "GET", "htu": "https://api.example/x", "iat": 1});
            let proof = format!(
                "{}.{}.{}",
                b64(header.to_string().as_bytes()),
                b64(claims.to_string().as_bytes()),
                b64(&[1; 64])
            );
            match reader.read(&proof) {
                Err(ProofError::Invalid(message)) => {
                    assert!(message.starts_with("jwk refused: "), "{message}");
                    assert!(message.contains(why), "{message} lacks {why}");
                }
                other => panic!("{why}: {other:?}"),
            }
        }
    }
}

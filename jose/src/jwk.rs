//! JWK → parsed verification key.
//!
//! A JWK is turned into aws-lc-rs `ParsedPublicKey`s once, when its JWKS is
//! loaded (or a DPoP proof names it), so verifying a signature costs one
//! signature check and no key parsing.
//! The JWK is read with our own serde type rather than jsonwebtoken's `Jwk`
//! because we must see private members (`d`, `p`, …) to refuse them, and
//! jsonwebtoken's type silently drops them.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use aws_lc_rs::signature::{ParsedPublicKey, RsaPublicKeyComponents};
use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::algorithm::{Algorithm, KeyFamily};

/// RSA keys under this many bits are refused (NIST SP 800-131A).
pub const MIN_RSA_BITS: usize = 2048;
/// aws-lc-rs verifies RSA up to 8192 bits; bigger keys only cost CPU.
pub const MAX_RSA_BITS: usize = 8192;

/// Why one JWK was not usable. The rest of its set still loads.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwkError {
    /// No `kid`.
    #[error("JWK has no kid")]
    MissingKid,
    /// `use` is not `sig`.
    #[error("JWK use is {0:?}, not \"sig\"")]
    NotForSignatures(String),
    /// `key_ops` lacks `verify`.
    #[error("JWK key_ops does not allow verify")]
    NoVerifyOperation,
    /// Private members (`d`, `p`, …) are present.
    #[error("JWK carries private key members")]
    PrivateMembers,
    /// A key type or curve we do not verify with.
    #[error("JWK kty/crv {0} is not supported")]
    UnsupportedKeyType(String),
    /// An `alg` we do not verify.
    #[error("JWK alg {0} is not supported")]
    UnsupportedAlgorithm(String),
    /// `alg` names another key type.
    #[error("JWK alg {alg} does not fit its key type")]
    AlgorithmKeyMismatch {
        /// The JWK's `alg`.
        alg: &'static str,
    },
    /// An RSA modulus outside the accepted sizes.
    #[error("RSA key of {0} bits is outside {MIN_RSA_BITS}..={MAX_RSA_BITS}")]
    RsaKeySize(usize),
    /// A member is missing or not base64url.
    #[error("JWK member {0} is missing or not base64url")]
    BadMember(&'static str),
    /// Not a JSON object of JWK members.
    #[error("not a JWK object")]
    NotAnObject,
    /// aws-lc-rs refused the key material.
    #[error("JWK key material was rejected: {0}")]
    Rejected(String),
}

/// The wire form of a JWK. Private members are read only to refuse them.
#[derive(Deserialize)]
struct RawJwk {
    kty: Option<String>,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    key_ops: Option<Vec<String>>,
    crv: Option<String>,
    n: Option<String>,
    e: Option<String>,
    x: Option<String>,
    y: Option<String>,
    d: Option<IgnoredAny>,
    p: Option<IgnoredAny>,
    q: Option<IgnoredAny>,
    dp: Option<IgnoredAny>,
    dq: Option<IgnoredAny>,
    qi: Option<IgnoredAny>,
    oth: Option<IgnoredAny>,
    k: Option<IgnoredAny>,
}

impl RawJwk {
    fn has_private_members(&self) -> bool {
        self.d.is_some()
            || self.p.is_some()
            || self.q.is_some()
            || self.dp.is_some()
            || self.dq.is_some()
            || self.qi.is_some()
            || self.oth.is_some()
            || self.k.is_some()
    }
}

/// A public key ready to verify, pinned to the algorithms it may verify.
///
/// When the JWK names an `alg`, that is the only one; otherwise its key
/// type's default (RS256 for RSA), never a whole family (RFC 8725 §3.1).
pub struct VerifyingKey {
    /// The JWK's `kid` (empty for a key that names none, as a DPoP proof's).
    kid: String,
    /// RFC 7638: base64url SHA-256 of the required members, in order.
    thumbprint: String,
    family: KeyFamily,
    /// The parsed key with the one algorithm it is pinned to (a list, so a
    /// future multi-algorithm pin stays a local change).
    parsed: Vec<(Algorithm, ParsedPublicKey)>,
    /// The public members and pinned algorithms, to tell a refetched key
    /// apart from the one already cached under the same `kid`.
    fingerprint: String,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .field("family", &self.family)
            .field("algorithms", &self.algorithms().collect::<Vec<_>>())
            .finish()
    }
}

/// How strictly a JWK is read: a JWKS key needs a `kid` and may pad its
/// members (some issuers do); a key a client sends (a DPoP proof's) needs no
/// `kid`, and its members must be exactly base64url, since the thumbprint
/// that binds a token to it is computed over their text.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    KeySet,
    Client,
}

/// The key's family from `kty` (and `crv`): only the families Tollgate verifies.
fn key_family(raw: &RawJwk) -> Result<KeyFamily, JwkError> {
    match (raw.kty.as_deref(), raw.crv.as_deref()) {
        (Some("RSA"), _) => Ok(KeyFamily::Rsa),
        (Some("EC"), Some("P-256")) => Ok(KeyFamily::EcP256),
        (Some("EC"), Some("P-384")) => Ok(KeyFamily::EcP384),
        (Some("OKP"), Some("Ed25519")) => Ok(KeyFamily::Ed25519),
        (kty, crv) => Err(JwkError::UnsupportedKeyType(format!(
            "{}/{}",
            kty.unwrap_or("-"),
            crv.unwrap_or("-")
        ))),
    }
}

/// The algorithms the key is pinned to: its `alg`, which must suit its
/// family, or the family's single default when `alg` is absent.
fn pinned_algorithms(raw: &RawJwk, family: KeyFamily) -> Result<Vec<Algorithm>, JwkError> {
    let Some(name) = &raw.alg else {
        return Ok(vec![family.default_algorithm()]);
    };
    let alg =
        Algorithm::from_name(name).ok_or_else(|| JwkError::UnsupportedAlgorithm(name.clone()))?;
    if alg.family() != family {
        return Err(JwkError::AlgorithmKeyMismatch { alg: alg.name() });
    }
    Ok(vec![alg])
}

impl VerifyingKey {
    /// Parses one JWK of a key set given as JSON (a `kid` is required).
    pub fn from_jwk_json(json: &str) -> Result<Self, JwkError> {
        if !is_json_object(json.as_bytes()) {
            return Err(JwkError::NotAnObject);
        }
        let raw: RawJwk =
            serde_json::from_str(json).map_err(|e| JwkError::Rejected(e.to_string()))?;
        Self::from_raw(raw, Origin::KeySet)
    }

    /// Parses a public JWK a client sent (a DPoP proof's `jwk` header): no
    /// `kid` needed, private members refused, members exactly base64url.
    /// With `alg` (the proof's), the key is pinned to it: it must suit the
    /// key type, and the JWK's own `alg`, if any, must be the same.
    pub fn from_public_jwk(
        jwk: &serde_json::Value,
        alg: Option<Algorithm>,
    ) -> Result<Self, JwkError> {
        if !jwk.is_object() {
            return Err(JwkError::NotAnObject);
        }
        let mut raw = RawJwk::deserialize(jwk).map_err(|e| JwkError::Rejected(e.to_string()))?;
        if let Some(alg) = alg {
            match raw.alg.as_deref() {
                Some(own) if own != alg.name() => {
                    return Err(JwkError::AlgorithmKeyMismatch { alg: alg.name() })
                }
                _ => raw.alg = Some(alg.name().to_owned()),
            }
        }
        Self::from_raw(raw, Origin::Client)
    }

    fn from_raw(raw: RawJwk, origin: Origin) -> Result<Self, JwkError> {
        if raw.has_private_members() {
            return Err(JwkError::PrivateMembers);
        }
        let kid = match (raw.kid.clone(), origin) {
            (Some(kid), _) => kid,
            (None, Origin::Client) => String::new(),
            (None, Origin::KeySet) => return Err(JwkError::MissingKid),
        };
        if origin == Origin::Client {
            check_canonical_members(&raw)?;
        }
        if let Some(use_) = &raw.use_ {
            if use_ != "sig" {
                return Err(JwkError::NotForSignatures(use_.clone()));
            }
        }
        if let Some(ops) = &raw.key_ops {
            if !ops.iter().any(|op| op == "verify") {
                return Err(JwkError::NoVerifyOperation);
            }
        }
        let family = key_family(&raw)?;
        let algorithms = pinned_algorithms(&raw, family)?;
        let parsed = match family {
            KeyFamily::Rsa => parse_rsa(&raw, &algorithms)?,
            KeyFamily::EcP256 => parse_ec(&raw, 32, &algorithms)?,
            KeyFamily::EcP384 => parse_ec(&raw, 48, &algorithms)?,
            KeyFamily::Ed25519 => parse_ed25519(&raw, &algorithms)?,
        };
        let thumbprint = thumbprint(&raw, family);
        let algorithm_names: Vec<&str> = algorithms.iter().map(|a| a.name()).collect();
        let fingerprint = [
            algorithm_names.join(","),
            member_text(&raw.n),
            member_text(&raw.e),
            member_text(&raw.x),
            member_text(&raw.y),
        ]
        .join("|");
        Ok(Self {
            kid,
            thumbprint,
            family,
            parsed,
            fingerprint,
        })
    }

    /// The RFC 7638 thumbprint (SHA-256, base64url): what `cnf.jkt` names.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// Whether `other` is the same public key with the same pinning.
    pub fn same_key_as(&self, other: &VerifyingKey) -> bool {
        self.kid == other.kid
            && self.family == other.family
            && self.fingerprint == other.fingerprint
    }

    /// The JWK's `kid`.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Its key type.
    pub fn family(&self) -> KeyFamily {
        self.family
    }

    /// The algorithms this key may verify.
    pub fn algorithms(&self) -> impl Iterator<Item = Algorithm> + '_ {
        self.parsed.iter().map(|(alg, _)| *alg)
    }

    /// The parsed key for `alg`, or `None` when the key is not pinned to it.
    pub fn for_algorithm(&self, alg: Algorithm) -> Option<&ParsedPublicKey> {
        self.parsed
            .iter()
            .find(|(pinned, _)| *pinned == alg)
            .map(|(_, key)| key)
    }

    /// Verifies `signature` over `message` with `alg`. Refuses an algorithm
    /// the key is not pinned to.
    pub fn verify(&self, alg: Algorithm, message: &[u8], signature: &[u8]) -> bool {
        match self.for_algorithm(alg) {
            Some(key) => key.verify_sig(message, signature).is_ok(),
            None => false,
        }
    }
}

/// RFC 7638 §3.2: the required members of the key type, lexicographically,
/// as compact JSON, hashed with SHA-256 and base64url-encoded. Members are
/// taken unpadded (RFC 7518 spells them so).
fn thumbprint(raw: &RawJwk, family: KeyFamily) -> String {
    let text = |value: &Option<String>| serde_json::Value::from(member_text(value)).to_string();
    let json = match family {
        KeyFamily::Rsa => format!(
            r#"{{"e":{},"kty":"RSA","n":{}}}"#,
            text(&raw.e),
            text(&raw.n)
        ),
        KeyFamily::EcP256 | KeyFamily::EcP384 => format!(
            r#"{{"crv":{},"kty":"EC","x":{},"y":{}}}"#,
            text(&raw.crv),
            text(&raw.x),
            text(&raw.y)
        ),
        KeyFamily::Ed25519 => format!(
            r#"{{"crv":{},"kty":"OKP","x":{}}}"#,
            text(&raw.crv),
            text(&raw.x)
        ),
    };
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, json.as_bytes());
    base64_simd::URL_SAFE_NO_PAD.encode_to_string(digest.as_ref())
}

/// A client's key members must be unpadded base64url that decodes and
/// encodes back to the same text: two spellings of one key would have two
/// thumbprints.
fn check_canonical_members(raw: &RawJwk) -> Result<(), JwkError> {
    for (value, name) in [(&raw.n, "n"), (&raw.e, "e"), (&raw.x, "x"), (&raw.y, "y")] {
        let Some(text) = value else { continue };
        let decoded = base64_simd::URL_SAFE_NO_PAD
            .decode_to_vec(text)
            .map_err(|_| JwkError::BadMember(name))?;
        if base64_simd::URL_SAFE_NO_PAD.encode_to_string(&decoded) != *text {
            return Err(JwkError::BadMember(name));
        }
    }
    Ok(())
}

fn member_text(value: &Option<String>) -> String {
    value
        .as_deref()
        .unwrap_or("")
        .trim_end_matches('=')
        .to_owned()
}

fn member(value: &Option<String>, name: &'static str) -> Result<Vec<u8>, JwkError> {
    let text = value.as_deref().ok_or(JwkError::BadMember(name))?;
    // Unpadded by RFC 7517, but some issuers pad; key material is public, so
    // accepting padding costs nothing.
    let engine = if text.ends_with('=') {
        base64_simd::URL_SAFE
    } else {
        base64_simd::URL_SAFE_NO_PAD
    };
    engine
        .decode_to_vec(text)
        .map_err(|_| JwkError::BadMember(name))
}

fn parse_rsa(
    raw: &RawJwk,
    algorithms: &[Algorithm],
) -> Result<Vec<(Algorithm, ParsedPublicKey)>, JwkError> {
    let n = member(&raw.n, "n")?;
    let e = member(&raw.e, "e")?;
    // Some issuers left-pad n with a zero byte; aws-lc-rs wants the minimal form.
    let n = strip_leading_zeros(&n);
    let e = strip_leading_zeros(&e);
    if n.is_empty() || e.is_empty() {
        return Err(JwkError::BadMember(if n.is_empty() { "n" } else { "e" }));
    }
    let bits = (n.len() - 1) * 8 + (8 - n[0].leading_zeros() as usize);
    if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
        return Err(JwkError::RsaKeySize(bits));
    }
    let components = RsaPublicKeyComponents { n, e };
    algorithms
        .iter()
        .map(|&alg| {
            let params = alg
                .rsa_parameters()
                .ok_or(JwkError::AlgorithmKeyMismatch { alg: alg.name() })?;
            components
                .to_parsed_public_key(params)
                .map(|key| (alg, key))
                .map_err(|e| JwkError::Rejected(e.to_string()))
        })
        .collect()
}

fn parse_ec(
    raw: &RawJwk,
    coordinate_len: usize,
    algorithms: &[Algorithm],
) -> Result<Vec<(Algorithm, ParsedPublicKey)>, JwkError> {
    let x = member(&raw.x, "x")?;
    let y = member(&raw.y, "y")?;
    if x.len() != coordinate_len {
        return Err(JwkError::BadMember("x"));
    }
    if y.len() != coordinate_len {
        return Err(JwkError::BadMember("y"));
    }
    // SEC 1 uncompressed point; aws-lc-rs checks it is on the curve.
    let mut point = Vec::with_capacity(1 + 2 * coordinate_len);
    point.push(0x04);
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    parse_each(algorithms, &point)
}

fn parse_ed25519(
    raw: &RawJwk,
    algorithms: &[Algorithm],
) -> Result<Vec<(Algorithm, ParsedPublicKey)>, JwkError> {
    let x = member(&raw.x, "x")?;
    if x.len() != 32 {
        return Err(JwkError::BadMember("x"));
    }
    parse_each(algorithms, &x)
}

fn parse_each(
    algorithms: &[Algorithm],
    bytes: &[u8],
) -> Result<Vec<(Algorithm, ParsedPublicKey)>, JwkError> {
    algorithms
        .iter()
        .map(|&alg| {
            ParsedPublicKey::new(alg.verification(), bytes)
                .map(|key| (alg, key))
                .map_err(|e| JwkError::Rejected(e.to_string()))
        })
        .collect()
}

/// Whether `json` starts (after whitespace) as a JSON object: serde's
/// derived structs also read an array as their fields in order.
fn is_json_object(json: &[u8]) -> bool {
    json.trim_ascii_start().first() == Some(&b'{')
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

/// A JWK that was skipped, with its `kid` when it had one.
#[derive(Debug, PartialEq, Eq)]
pub struct SkippedJwk {
    /// Its `kid`, if it had one.
    pub kid: Option<String>,
    /// Why it was skipped.
    pub error: JwkError,
}

/// The usable keys of one JWKS document, by `kid`.
#[derive(Debug, Default)]
pub struct JwkSet {
    /// Usable keys by `kid`.
    pub keys: HashMap<String, Arc<VerifyingKey>>,
    /// Keys that were skipped, and why.
    pub skipped: Vec<SkippedJwk>,
}

#[derive(Deserialize)]
struct RawJwkSet {
    keys: Vec<serde_json::Value>,
}

/// Why a whole JWKS document was unusable.
#[derive(Debug, thiserror::Error)]
#[error("JWKS document is not a JSON object with a \"keys\" array: {0}")]
pub struct JwkSetError(String);

impl JwkSet {
    /// Parses a JWKS document. Unusable keys are skipped one by one (and
    /// listed in `skipped`); a `kid` that appears twice is ambiguous, so every
    /// key with it is dropped.
    pub fn parse(body: &[u8]) -> Result<Self, JwkSetError> {
        // RFC 7517 §5: a JSON object, all of it UTF-8 (serde would read an
        // array as the struct's fields, and skips unread members unchecked).
        let text = std::str::from_utf8(body).map_err(|e| JwkSetError(e.to_string()))?;
        if !is_json_object(body) {
            return Err(JwkSetError("not a JSON object".to_owned()));
        }
        let raw: RawJwkSet = serde_json::from_str(text).map_err(|e| JwkSetError(e.to_string()))?;
        let mut set = JwkSet::default();
        let mut duplicated: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        for value in raw.keys {
            let kid = value.get("kid").and_then(|k| k.as_str()).map(str::to_owned);
            let parsed = if value.is_object() {
                RawJwk::deserialize(value)
                    .map_err(|e| JwkError::Rejected(e.to_string()))
                    .and_then(|raw| VerifyingKey::from_raw(raw, Origin::KeySet))
            } else {
                Err(JwkError::NotAnObject)
            };
            match parsed {
                Ok(key) => {
                    if set.keys.contains_key(key.kid()) || duplicated.contains(key.kid()) {
                        duplicated.insert(key.kid.clone());
                    } else {
                        set.keys.insert(key.kid.clone(), Arc::new(key));
                    }
                }
                Err(error) => set.skipped.push(SkippedJwk { kid, error }),
            }
        }
        for kid in duplicated {
            set.keys.remove(&kid);
            set.skipped.push(SkippedJwk {
                kid: Some(kid.clone()),
                error: JwkError::Rejected(format!("kid {kid} appears more than once")),
            });
        }
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7638 §3.1's example key and thumbprint.
    #[test]
    fn the_thumbprint_is_rfc_7638s() {
        let jwk = serde_json::json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        });
        let key = VerifyingKey::from_jwk_json(&jwk.to_string()).unwrap();
        assert_eq!(
            key.thumbprint(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    /// What the `discovery` fuzz target found in the discovery document,
    /// checked here in the JWKS, the same kind of parse: a key set, or a key
    /// in it, written as a JSON array was read as the struct's fields in
    /// order, and bytes that are not UTF-8 passed unread in members the
    /// parser skips.
    #[test]
    fn a_key_set_and_its_keys_are_json_objects_of_utf8() {
        let key = serde_json::json!({"kty": "OKP", "crv": "Ed25519", "kid": "k",
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
        let set = JwkSet::parse(serde_json::json!({"keys": [key]}).to_string().as_bytes()).unwrap();
        assert_eq!(set.keys.len(), 1);
        let as_array = serde_json::json!([[key]]).to_string();
        assert!(JwkSet::parse(as_array.as_bytes()).is_err());
        let key_as_array = serde_json::json!({"keys": [["OKP", "k", null, null, null, "Ed25519",
            null, null, "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"]]});
        let set = JwkSet::parse(key_as_array.to_string().as_bytes()).unwrap();
        assert!(set.keys.is_empty());
        assert_eq!(set.skipped[0].error, JwkError::NotAnObject);
        let mut not_utf8 = br#"{"keys": [], "note": "x"}"#.to_vec();
        not_utf8[20] = 0x9b;
        assert!(JwkSet::parse(&not_utf8).is_err());
        assert_eq!(
            VerifyingKey::from_jwk_json(r#"["OKP", "k"]"#).err(),
            Some(JwkError::NotAnObject)
        );
        assert!(VerifyingKey::from_jwk_json(&key.to_string()).is_ok());
    }

    #[test]
    fn a_client_key_needs_no_kid_but_exact_base64url() {
        let jwk = serde_json::json!({"kty": "EC", "crv": "P-256",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"});
        assert!(VerifyingKey::from_public_jwk(&jwk, None).is_ok());
        assert_eq!(
            VerifyingKey::from_jwk_json(&jwk.to_string()).err(),
            Some(JwkError::MissingKid)
        );
        let mut padded = jwk.clone();
        padded["x"] = serde_json::json!("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU=");
        assert_eq!(
            VerifyingKey::from_public_jwk(&padded, None).err(),
            Some(JwkError::BadMember("x"))
        );
        let mut private = jwk.clone();
        private["d"] = serde_json::json!("jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI");
        assert_eq!(
            VerifyingKey::from_public_jwk(&private, None).err(),
            Some(JwkError::PrivateMembers)
        );
        assert_eq!(
            VerifyingKey::from_public_jwk(&serde_json::json!("EC"), None).err(),
            Some(JwkError::NotAnObject)
        );
        // Pinned to the proof's alg: a P-256 key cannot verify EdDSA or RS256.
        for alg in [Algorithm::EdDSA, Algorithm::RS256, Algorithm::ES384] {
            assert!(
                VerifyingKey::from_public_jwk(&jwk, Some(alg)).is_err(),
                "{alg:?}"
            );
        }
        let pinned = VerifyingKey::from_public_jwk(&jwk, Some(Algorithm::ES256)).unwrap();
        assert_eq!(pinned.algorithms().collect::<Vec<_>>(), [Algorithm::ES256]);
        let mut other_alg = jwk.clone();
        other_alg["alg"] = serde_json::json!("ES384");
        assert!(VerifyingKey::from_public_jwk(&other_alg, Some(Algorithm::ES256)).is_err());
    }
}

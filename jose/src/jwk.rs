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
use crate::error::JwkError;
use crate::hygiene;

/// RSA keys under this many bits are refused (NIST SP 800-131A).
pub const MIN_RSA_BITS: usize = 2048;
/// aws-lc-rs verifies RSA up to 8192 bits; bigger keys only cost CPU.
pub const MAX_RSA_BITS: usize = 8192;

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

/// The key's family from `kty` (and `crv`): only the families Tollgate
/// verifies. `kty` and `crv` must agree: an RSA key names no curve, `EC`
/// takes only NIST curves and `OKP` only Edwards/Montgomery ones, so a JWK
/// that mixes them is refused as a mismatch rather than read one way.
fn key_family(raw: &RawJwk) -> Result<KeyFamily, JwkError> {
    let mismatch = |kty: &str, crv: &str| JwkError::CurveKeyTypeMismatch {
        kty: kty.to_owned(),
        crv: crv.to_owned(),
    };
    match (raw.kty.as_deref(), raw.crv.as_deref()) {
        (Some("RSA"), None) => Ok(KeyFamily::Rsa),
        (Some("RSA"), Some(crv)) => Err(mismatch("RSA", crv)),
        (Some("EC"), Some("P-256")) => Ok(KeyFamily::EcP256),
        (Some("EC"), Some("P-384")) => Ok(KeyFamily::EcP384),
        (Some("OKP"), Some("Ed25519")) => Ok(KeyFamily::Ed25519),
        (Some("EC"), Some(crv @ ("Ed25519" | "Ed448" | "X25519" | "X448"))) => {
            Err(mismatch("EC", crv))
        }
        (Some("OKP"), Some(crv @ ("P-256" | "P-384" | "P-521" | "secp256k1"))) => {
            Err(mismatch("OKP", crv))
        }
        (kty, crv) => Err(JwkError::UnsupportedKeyType(format!(
            "{}/{}",
            kty.unwrap_or("-"),
            crv.unwrap_or("-")
        ))),
    }
}

/// How a family is named in messages: its `kty` and `crv`.
fn family_text(family: KeyFamily) -> &'static str {
    match family {
        KeyFamily::Rsa => "kty RSA",
        KeyFamily::EcP256 => "kty EC crv P-256",
        KeyFamily::EcP384 => "kty EC crv P-384",
        KeyFamily::Ed25519 => "kty OKP crv Ed25519",
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
        return Err(JwkError::AlgorithmKeyMismatch {
            alg: alg.name(),
            key: family_text(family).to_owned(),
        });
    }
    Ok(vec![alg])
}

/// `use`, when present, must be `sig` (RFC 7517 §4.2).
fn check_use(raw: &RawJwk) -> Result<(), JwkError> {
    match &raw.use_ {
        Some(use_) if use_ != "sig" => Err(JwkError::NotForSignatures(use_.clone())),
        _ => Ok(()),
    }
}

/// `key_ops`, when present (RFC 7517 §4.3), must allow `verify`, may allow
/// `sign` beside it, and nothing else: a key also offered for encryption,
/// key wrapping or key agreement is one the RFC says not to combine
/// ("unrelated operations SHOULD NOT be specified for a key"), and a value
/// we do not know is not a promise we can read. Duplicates are refused, as
/// the RFC says ("MUST NOT be present").
fn check_key_operations(raw: &RawJwk) -> Result<(), JwkError> {
    let Some(ops) = &raw.key_ops else {
        return Ok(());
    };
    if !ops.iter().any(|op| op == "verify") {
        return Err(JwkError::KeyOperations(format!("{ops:?} lacks \"verify\"")));
    }
    if let Some(other) = ops.iter().find(|op| *op != "verify" && *op != "sign") {
        return Err(JwkError::KeyOperations(format!(
            "{ops:?} also allows {other:?}: a signature key may allow only sign and verify"
        )));
    }
    // Only `sign` and `verify` are left: more than two, or two equal, repeat.
    if ops.len() > 2 || (ops.len() == 2 && ops[0] == ops[1]) {
        return Err(JwkError::KeyOperations(format!(
            "{ops:?} repeats an operation"
        )));
    }
    Ok(())
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
                    return Err(JwkError::AlgorithmKeyMismatch {
                        alg: alg.name(),
                        key: format!("the JWK's own alg {own:?}"),
                    })
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
        check_use(&raw)?;
        check_key_operations(&raw)?;
        let family = key_family(&raw)?;
        let algorithms = pinned_algorithms(&raw, family)?;
        let parsed = match family {
            KeyFamily::Rsa => parse_rsa(&raw, &algorithms, origin)?,
            KeyFamily::EcP256 => parse_ec(&raw, 32, "P-256", &algorithms)?,
            KeyFamily::EcP384 => parse_ec(&raw, 48, "P-384", &algorithms)?,
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
    origin: Origin,
) -> Result<Vec<(Algorithm, ParsedPublicKey)>, JwkError> {
    let n = member(&raw.n, "n")?;
    let e = member(&raw.e, "e")?;
    hygiene::check_exponent(&e)?;
    // Some issuers left-pad n with a zero byte (RFC 7518 §6.3.1.1 warns of
    // libraries that do); aws-lc-rs wants the minimal form. A client's key
    // must be minimal: its thumbprint is computed over the text.
    if origin == Origin::Client && n.first() == Some(&0) {
        return Err(JwkError::BadMember("n"));
    }
    let n = strip_leading_zeros(&n);
    let Some(&first) = n.first() else {
        return Err(JwkError::BadMember("n"));
    };
    let bits = (n.len() - 1) * 8 + (8 - first.leading_zeros() as usize);
    if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
        return Err(JwkError::RsaKeySize(bits));
    }
    hygiene::check_modulus(n)?;
    let components = RsaPublicKeyComponents { n, e: &e[..] };
    algorithms
        .iter()
        .map(|&alg| {
            let params = alg.rsa_parameters().ok_or(JwkError::AlgorithmKeyMismatch {
                alg: alg.name(),
                key: family_text(KeyFamily::Rsa).to_owned(),
            })?;
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
    curve: &'static str,
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
    // SEC 1 uncompressed point. aws-lc-rs checks that both coordinates are
    // below the field prime and that the point satisfies the curve
    // equation; with the lengths right, that is the only thing its refusal
    // can mean, so it is named here, at intake, and not as a bare rejection.
    let mut point = Vec::with_capacity(1 + 2 * coordinate_len);
    point.push(0x04);
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    parse_each(algorithms, &point).map_err(|_| JwkError::NotOnCurve(curve))
}

fn parse_ed25519(
    raw: &RawJwk,
    algorithms: &[Algorithm],
) -> Result<Vec<(Algorithm, ParsedPublicKey)>, JwkError> {
    let x = member(&raw.x, "x")?;
    let x: [u8; 32] = x.try_into().map_err(|_| JwkError::BadMember("x"))?;
    hygiene::check_ed25519(&x)?;
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

/// A JWK that was refused at intake, with its `kid` when it had one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedJwk {
    /// Its `kid`, if it had one.
    pub kid: Option<String>,
    /// Why it was refused.
    pub error: JwkError,
    /// The first 8 bytes of the SHA-256 of the JWK as received (its JSON
    /// re-serialized), in hex: tells a refused key from another refused
    /// under the same `kid`, so a cache can log each refusal once.
    pub material: String,
}

/// The usable keys of one JWKS document, by `kid`.
#[derive(Debug, Default)]
pub struct JwkSet {
    /// Usable keys by `kid`.
    pub keys: HashMap<String, Arc<VerifyingKey>>,
    /// Keys that were refused, and why.
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

/// How often a `kid` appears in a document, and whether every copy is the
/// same JWK.
struct KidCount {
    first: usize,
    count: usize,
    identical: bool,
}

fn material(value: &serde_json::Value) -> String {
    let digest =
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value.to_string().as_bytes());
    digest.as_ref()[..8]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// A JWK's `kid`, when it is a string.
fn kid_of(value: &serde_json::Value) -> Option<&str> {
    value.get("kid").and_then(|k| k.as_str())
}

impl JwkSet {
    /// Parses a JWKS document. Unusable keys are refused one by one (and
    /// listed in `skipped`); the others load. A `kid` that names different
    /// JWKs is ambiguous, so every JWK with it is refused; exact copies of
    /// one JWK count as one.
    pub fn parse(body: &[u8]) -> Result<Self, JwkSetError> {
        // RFC 7517 §5: a JSON object, all of it UTF-8 (serde would read an
        // array as the struct's fields, and skips unread members unchecked).
        let text = std::str::from_utf8(body).map_err(|e| JwkSetError(e.to_string()))?;
        if !is_json_object(body) {
            return Err(JwkSetError("not a JSON object".to_owned()));
        }
        let raw: RawJwkSet = serde_json::from_str(text).map_err(|e| JwkSetError(e.to_string()))?;
        let mut kids: HashMap<&str, KidCount> = HashMap::new();
        for (index, value) in raw.keys.iter().enumerate() {
            let Some(kid) = kid_of(value) else { continue };
            let entry = kids.entry(kid).or_insert(KidCount {
                first: index,
                count: 0,
                identical: true,
            });
            entry.count += 1;
            entry.identical &= raw.keys[entry.first] == *value;
        }
        let mut set = JwkSet::default();
        for (index, value) in raw.keys.iter().enumerate() {
            let kid = kid_of(value);
            let parsed = match kid.and_then(|kid| kids.get(kid)) {
                Some(seen) if seen.identical && seen.first != index => continue,
                Some(seen) if !seen.identical => Err(JwkError::DuplicateKid(seen.count)),
                _ if !value.is_object() => Err(JwkError::NotAnObject),
                _ => RawJwk::deserialize(value)
                    .map_err(|e| JwkError::Rejected(e.to_string()))
                    .and_then(|raw| VerifyingKey::from_raw(raw, Origin::KeySet)),
            };
            match parsed {
                Ok(key) => {
                    set.keys.insert(key.kid.clone(), Arc::new(key));
                }
                Err(error) => set.skipped.push(SkippedJwk {
                    kid: kid.map(str::to_owned),
                    error,
                    material: material(value),
                }),
            }
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

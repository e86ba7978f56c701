//! DPoP proofs (RFC 9449 §4.2) for the targets: built from the fuzzer's
//! choices and signed with the fixed client key, and the checks an
//! accepted proof must pass, made here from the proof's own text (RFC 9449
//! §4.3, RFC 7638), not with the code under test.

use aws_lc_rs::digest::{digest, SHA256};
use aws_lc_rs::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED, ED25519};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use crate::keys::{self, Signer};
use crate::{object_text, Field, Json};

/// The `jwk` a proof header carries.
#[derive(Clone, Debug, arbitrary::Arbitrary)]
pub enum JwkChoice {
    /// The client's public key, as a client sends it.
    Good,
    /// With a `kid`.
    WithKid,
    /// With its private member (`d`).
    WithPrivate,
    /// Its `x` padded with `=`.
    Padded,
    /// The issuer's Ed25519 key (which the client does not hold).
    IssuerKey,
    /// None.
    Absent,
    /// Any JSON.
    Other(Json),
}

/// The `htu` a proof names, against the request URI.
#[derive(Clone, Debug, arbitrary::Arbitrary)]
pub enum Htu {
    /// The request URI itself.
    Good,
    /// Its host in upper case (the same URI, RFC 3986 §6.2.2.1).
    UpperHost,
    /// With the scheme's default port (the same URI, §6.2.3).
    DefaultPort,
    /// With a query (never the request's: §4.3 compares without it).
    WithQuery,
    /// Another host.
    OtherHost,
    /// Another path.
    OtherPath,
    /// Any text.
    Text(String),
}

/// How to build one proof.
#[derive(Clone, Debug, arbitrary::Arbitrary)]
pub struct ProofSpec {
    typ: Field,
    alg: Field,
    jwk: JwkChoice,
    crit: Option<Json>,
    header_extra: Vec<(String, Json)>,
    jti: Field,
    htm: Field,
    htu: Htu,
    iat: Field,
    ath: Field,
    claims_extra: Vec<(String, Json)>,
    signer: Signer,
    tamper: Option<(u16, u8)>,
}

impl ProofSpec {
    /// Whether every part is the good one: such a proof must pass.
    pub fn all_good(&self) -> bool {
        [
            &self.typ, &self.alg, &self.jti, &self.htm, &self.iat, &self.ath,
        ]
        .iter()
        .all(|f| f.is_good())
            && matches!(self.jwk, JwkChoice::Good | JwkChoice::WithKid)
            && matches!(self.htu, Htu::Good | Htu::UpperHost | Htu::DefaultPort)
            && self.crit.is_none()
            && self.header_extra.is_empty()
            && self.claims_extra.is_empty()
            && self.signer == Signer::Client
            && self.tamper.is_none()
    }

    /// The proof for a `method` request to `uri` (an `https` URI with a
    /// host), presented with `token`; `unique` makes a good `jti` fresh.
    pub fn build(&self, method: &str, uri: &str, token: Option<&str>, unique: u64) -> String {
        let now = crate::stack::now();
        let mut jwk = keys::client_jwk();
        match &self.jwk {
            JwkChoice::Good | JwkChoice::Absent | JwkChoice::Other(_) => {}
            JwkChoice::WithKid => jwk["kid"] = json!("client-key"),
            JwkChoice::WithPrivate => jwk["d"] = json!(keys::b64url([0x22u8; 32])),
            JwkChoice::Padded => {
                jwk["x"] = json!(format!("{}=", jwk["x"].as_str().unwrap_or_default()))
            }
            JwkChoice::IssuerKey => jwk = keys::issuer_jwks()["keys"][0].clone(),
        }
        let jwk = match &self.jwk {
            JwkChoice::Absent => None,
            JwkChoice::Other(json) => Some(json.value()),
            _ => Some(jwk),
        };
        let mut header = Vec::new();
        let push = |members: &mut Vec<(String, Value)>, name: &str, value: Option<Value>| {
            if let Some(value) = value {
                members.push((name.to_owned(), value));
            }
        };
        push(&mut header, "typ", self.typ.render(json!("dpop+jwt"), now));
        push(
            &mut header,
            "alg",
            self.alg.render(json!(self.signer.alg()), now),
        );
        push(&mut header, "jwk", jwk);
        push(&mut header, "crit", self.crit.as_ref().map(Json::value));
        for (name, value) in &self.header_extra {
            push(&mut header, name, Some(value.value()));
        }
        let htu = match &self.htu {
            Htu::Good => uri.to_owned(),
            Htu::UpperHost => match uri.split_once("://") {
                Some((scheme, rest)) => match rest.split_once('/') {
                    Some((host, path)) => format!("{scheme}://{}/{path}", host.to_uppercase()),
                    None => format!("{scheme}://{}", rest.to_uppercase()),
                },
                None => uri.to_owned(),
            },
            Htu::DefaultPort => match uri.split_once("://") {
                Some((scheme, rest)) => match rest.split_once('/') {
                    Some((host, path)) => format!("{scheme}://{host}:443/{path}"),
                    None => format!("{scheme}://{rest}:443"),
                },
                None => uri.to_owned(),
            },
            Htu::WithQuery => format!("{uri}?a=1"),
            Htu::OtherHost => uri.replacen("://", "://other.", 1),
            Htu::OtherPath => format!("{uri}/other"),
            Htu::Text(text) => text.clone(),
        };
        let ath = token.map_or_else(|| "no-token".to_owned(), access_token_hash);
        let mut claims = Vec::new();
        push(
            &mut claims,
            "jti",
            self.jti.render(json!(format!("jti-{unique}")), now),
        );
        push(&mut claims, "htm", self.htm.render(json!(method), now));
        push(&mut claims, "htu", Some(json!(htu)));
        push(&mut claims, "iat", self.iat.render(json!(now), now));
        push(&mut claims, "ath", self.ath.render(json!(ath), now));
        for (name, value) in &self.claims_extra {
            push(&mut claims, name, Some(value.value()));
        }
        let mut proof =
            keys::sign_compact(&object_text(&header), &object_text(&claims), self.signer);
        if let Some((position, byte)) = self.tamper {
            let mut bytes = proof.into_bytes();
            if !bytes.is_empty() {
                let at = usize::from(position) % bytes.len();
                bytes[at] = byte;
            }
            proof = String::from_utf8_lossy(&bytes).into_owned();
        }
        proof
    }
}

/// `ath` (RFC 9449 §4.2): base64url of the token's SHA-256.
pub fn access_token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest(&SHA256, token.as_bytes()))
}

/// What the request a proof came with says.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// The method.
    pub method: &'a str,
    /// The URIs the proof may name.
    pub uris: &'a [String],
    /// The token presented with it.
    pub token: Option<&'a str>,
    /// The key the token is bound to.
    pub bound_jkt: Option<&'a str>,
    /// Unix seconds before and after the check.
    pub window: crate::model::Window,
    /// How old a proof may be, in seconds (plus five of skew either side).
    pub max_age: u64,
}

/// Why an accepted `proof` must have been refused for `request`, if it
/// must; also returns the thumbprint of its key.
pub fn refusal(proof: &str, request: &Request<'_>) -> Result<String, String> {
    let mut segments = proof.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Err("not three segments".into());
    };
    let object = |segment: &str| -> Result<serde_json::Map<String, Value>, String> {
        let bytes = URL_SAFE_NO_PAD
            .decode(segment)
            .map_err(|e| format!("not base64url: {e}"))?;
        match serde_json::from_slice(&bytes) {
            Ok(Value::Object(members)) => Ok(members),
            _ => Err("not a JSON object".into()),
        }
    };
    let header = object(header)?;
    let claims = object(payload)?;
    let typ = header
        .get("typ")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let typ = typ.to_ascii_lowercase();
    if typ.strip_prefix("application/").unwrap_or(&typ) != "dpop+jwt" {
        return Err(format!("typ {typ}"));
    }
    if header.contains_key("crit") {
        return Err("crit".into());
    }
    let jwk = header.get("jwk").ok_or("no jwk")?;
    if ["d", "p", "q", "dp", "dq", "qi", "oth", "k"]
        .iter()
        .any(|m| jwk.get(*m).is_some())
    {
        return Err("a private member in the jwk".into());
    }
    let member = |name: &str| -> Result<Vec<u8>, String> {
        let text = jwk[name].as_str().ok_or(format!("no {name}"))?;
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| format!("{name} not base64url"))?;
        if URL_SAFE_NO_PAD.encode(&bytes) != text {
            return Err(format!("{name} not canonical"));
        }
        Ok(bytes)
    };
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let input = &proof.as_bytes()[..proof.len() - signature.len() - 1];
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| "signature not base64url")?;
    let (verified, canonical) = match (alg, jwk["kty"].as_str(), jwk["crv"].as_str()) {
        ("EdDSA", Some("OKP"), Some("Ed25519")) => {
            let x = member("x")?;
            let ok = UnparsedPublicKey::new(&ED25519, &x)
                .verify(input, &signature)
                .is_ok();
            let canonical = format!(
                r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
                keys::b64url(&x)
            );
            (ok, canonical)
        }
        ("ES256", Some("EC"), Some("P-256")) => {
            let (x, y) = (member("x")?, member("y")?);
            let point = [&[4u8][..], &x, &y].concat();
            let ok = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
                .verify(input, &signature)
                .is_ok();
            let canonical = format!(
                r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                keys::b64url(&x),
                keys::b64url(&y)
            );
            (ok, canonical)
        }
        other => {
            return Err(format!(
                "alg/kty/crv {other:?}: no key the target signs with"
            ))
        }
    };
    if !verified {
        return Err("the signature does not verify with the header's jwk".into());
    }
    let jkt = keys::b64url(digest(&SHA256, canonical.as_bytes()));
    if request.bound_jkt.is_some_and(|bound| bound != jkt) {
        return Err("not the key the token is bound to".into());
    }
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("htm") != Some(request.method) {
        return Err(format!(
            "htm {:?} is not {}",
            claims.get("htm"),
            request.method
        ));
    }
    let htu = text("htu").ok_or("no htu")?;
    if !request.uris.iter().any(|uri| same_uri(htu, uri)) {
        return Err(format!("htu {htu} is none of {:?}", request.uris));
    }
    let jti = text("jti").ok_or("no jti")?;
    if jti.is_empty() || jti.len() > 512 {
        return Err("jti empty or too long".into());
    }
    let iat = claims.get("iat").ok_or("no iat")?;
    let iat = iat
        .as_u64()
        .or_else(|| {
            iat.as_f64()
                .filter(|f| *f >= 0.0 && *f < 1e15)
                .map(|f| f as u64)
        })
        .ok_or("iat is not a date")?;
    let oldest = request.window.before.saturating_sub(request.max_age + 5);
    if iat < oldest || iat > request.window.after + 5 {
        return Err(format!("iat {iat} outside the window"));
    }
    if let Some(token) = request.token {
        if text("ath") != Some(access_token_hash(token).as_str()) {
            return Err("ath is not the token's hash".into());
        }
    }
    Ok(jkt)
}

/// RFC 3986 §6.2.2-6.2.3 comparison of an `htu` with a request URI, read
/// strictly: scheme, host (case-insensitive), port (default ones dropped)
/// and path after decoding every valid `%XX`; an `htu` with a query or
/// fragment never matches. A `%` not followed by two hex digits is a
/// literal here.
pub fn same_uri(htu: &str, uri: &str) -> bool {
    let (Ok(a), Ok(b)) = (url::Url::parse(htu), url::Url::parse(uri)) else {
        return false;
    };
    a.scheme() == b.scheme()
        && a.host_str().is_some()
        && a.host_str() == b.host_str()
        && a.username().is_empty()
        && a.password().is_none()
        && a.port_or_known_default() == b.port_or_known_default()
        && a.query().is_none()
        && a.fragment().is_none()
        && decode(a.path()) == decode(b.path())
}

fn decode(path: &str) -> Vec<u8> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

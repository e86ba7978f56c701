//! What the targets hold the authorizer to, written from the RFCs and
//! docs/reference.md rather than from its code: when a token may be
//! accepted at all. Each check is a necessary condition (an acceptance
//! that fails one is a bug); the code under test may refuse more.

use serde_json::Value;

use crate::keys::Signer;

/// A token past this size is refused before decoding, however good its
/// parts (docs/authorizer.md).
pub use authorizer::unverified::MAX_TOKEN_BYTES;

/// When a token was checked: the clock before and after the call.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    /// Unix seconds before the call.
    pub before: u64,
    /// Unix seconds after it.
    pub after: u64,
}

/// What the authorizer was configured with.
#[derive(Clone, Copy, Debug)]
pub struct Expect<'a> {
    /// The one trusted `iss`.
    pub issuer: &'a str,
    /// The one accepted audience.
    pub audience: &'a str,
    /// `JWT_LEEWAY_SECONDS`.
    pub leeway: u64,
    /// `JWT_REQUIRED_TYP`, if set.
    pub required_typ: Option<&'a str>,
    /// Whether a `status.status_list` claim can pass (a list is served).
    pub status_lists_served: bool,
}

/// Why a token must not have been accepted, if it must not.
pub fn refusal(token: &str, expect: &Expect<'_>, window: Window) -> Option<String> {
    let mut segments = token.split('.');
    let (Some(header), Some(payload), Some(_), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Some("not three segments".into());
    };
    if let Some(why) = jws_refusal(token, header, expect.required_typ) {
        return Some(why);
    }
    let claims = match decode_object(payload) {
        Ok(claims) => claims,
        Err(why) => return Some(format!("claims: {why}")),
    };
    claims_refusal(&claims, expect, window)
}

/// Why a compact JWS with this header segment must not verify: no fixed
/// issuer key signed it, or its header does not name that key, its
/// algorithm and the required `typ`.
fn jws_refusal(token: &str, header: &str, required_typ: Option<&str>) -> Option<String> {
    let Some(signer) = crate::keys::signed_by_issuer_key(token) else {
        return Some("no fixed issuer key signed it".into());
    };
    let header = match decode_object(header) {
        Ok(header) => header,
        Err(why) => return Some(format!("header: {why}")),
    };
    header_refusal(&header, signer, required_typ)
}

/// Why a fetched status list token (draft-ietf-oauth-status-list §5) must
/// not let the token at `idx` pass: not signed as [`refusal`] requires
/// (with `typ` `statuslist+jwt`), its `sub` is not the URI it came from,
/// its `iss` another's, its `iat` ahead or its `exp` past, a `ttl` that is
/// not a positive number, `bits` not 1, 2, 4 or 8, an `lst` that does not
/// inflate (within 2 MiB), or a status at `idx` that is not VALID (0) or
/// absent.
pub fn status_list_refusal(
    body: &[u8],
    uri: &str,
    idx: u64,
    expect: &Expect<'_>,
    window: Window,
) -> Option<String> {
    let Ok(text) = std::str::from_utf8(body) else {
        return Some("not text".into());
    };
    let token = text.trim();
    let mut segments = token.split('.');
    let (Some(header), Some(payload), Some(_), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Some("not three segments".into());
    };
    if let Some(why) = jws_refusal(token, header, Some("statuslist+jwt")) {
        return Some(why);
    }
    let claims = match decode_object(payload) {
        Ok(claims) => claims,
        Err(why) => return Some(format!("claims: {why}")),
    };
    if claims.get("sub").and_then(Value::as_str) != Some(uri) {
        return Some("sub is not the list's URI".into());
    }
    if !is_absent(&claims, "iss")
        && claims.get("iss").and_then(Value::as_str) != Some(expect.issuer)
    {
        return Some("iss is another issuer".into());
    }
    match claims.get("iat").and_then(Value::as_u64) {
        Some(iat) if iat <= window.after.saturating_add(expect.leeway) => {}
        other => return Some(format!("iat {other:?}")),
    }
    if !is_absent(&claims, "exp") {
        match claims.get("exp").and_then(Value::as_u64) {
            Some(exp) if exp.saturating_add(expect.leeway) > window.before => {}
            other => return Some(format!("exp {other:?}")),
        }
    }
    if !is_absent(&claims, "ttl") {
        match claims.get("ttl").and_then(Value::as_f64) {
            Some(ttl) if ttl.is_finite() && ttl > 0.0 => {}
            other => return Some(format!("ttl {other:?}")),
        }
    }
    let list = &claims.get("status_list").cloned().unwrap_or_default();
    let bits = match list.get("bits").and_then(Value::as_u64) {
        Some(bits @ (1 | 2 | 4 | 8)) => bits,
        other => return Some(format!("bits {other:?}")),
    };
    let Some(bytes) = list
        .get("lst")
        .and_then(Value::as_str)
        .and_then(inflate_lst)
    else {
        return Some("lst does not inflate".into());
    };
    let Some(bit) = idx.checked_mul(bits) else {
        return Some(format!("idx {idx} is past any list"));
    };
    let Some(byte) = usize::try_from(bit / 8).ok().and_then(|i| bytes.get(i)) else {
        return Some(format!("idx {idx} is past the list"));
    };
    let status = (byte >> (bit % 8)) & ((1u16 << bits) - 1) as u8;
    (status != 0).then(|| format!("status {status} at idx {idx}: revoked"))
}

/// `lst`: base64url (padded or not) around a zlib stream of at most 2 MiB,
/// inflated with flate2's reader.
fn inflate_lst(lst: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    use std::io::Read;
    let compressed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(lst.trim_end_matches('='))
        .ok()?;
    let mut bytes = Vec::new();
    flate2::read::ZlibDecoder::new(compressed.as_slice())
        .take((2 << 20) + 1)
        .read_to_end(&mut bytes)
        .ok()?;
    (bytes.len() <= 2 << 20).then_some(bytes)
}

fn decode_object(segment: &str) -> Result<serde_json::Map<String, Value>, String> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|e| format!("not base64url: {e}"))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(members)) => Ok(members),
        Ok(_) => Err("not a JSON object".into()),
        Err(e) => Err(format!("not JSON: {e}")),
    }
}

/// RFC 7515/8725 as the authorizer applies them: the `kid` names a key of
/// the signer, `alg` is the one that key is pinned to, no `crit`, and the
/// required `typ` if one is configured.
fn header_refusal(
    header: &serde_json::Map<String, Value>,
    signer: Signer,
    required_typ: Option<&str>,
) -> Option<String> {
    let kid = header.get("kid").and_then(Value::as_str);
    let alg = header.get("alg").and_then(Value::as_str);
    let pinned = signer
        .kids()
        .iter()
        .find(|(signer_kid, _)| Some(*signer_kid) == kid);
    match pinned {
        None => return Some(format!("kid {kid:?} is not the signer's ({signer:?})")),
        Some((_, pinned_alg)) if Some(*pinned_alg) != alg => {
            return Some(format!("alg {alg:?} is not the key's {pinned_alg}"))
        }
        Some(_) => {}
    }
    if header.contains_key("crit") {
        return Some("crit present".into());
    }
    if let Some(required) = required_typ {
        let typ = header.get("typ").and_then(Value::as_str).unwrap_or("");
        let bare = |t: &str| {
            let lower = t.to_ascii_lowercase();
            lower
                .strip_prefix("application/")
                .map(str::to_owned)
                .unwrap_or(lower)
        };
        if bare(typ) != bare(required) {
            return Some(format!("typ {typ:?} is not {required}"));
        }
    }
    None
}

fn is_absent(claims: &serde_json::Map<String, Value>, name: &str) -> bool {
    matches!(claims.get(name), None | Some(Value::Null))
}

/// RFC 7519 and RFC 9068 as docs/reference.md states them for the default
/// claim mapping.
fn claims_refusal(
    claims: &serde_json::Map<String, Value>,
    expect: &Expect<'_>,
    window: Window,
) -> Option<String> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("iss") != Some(expect.issuer) {
        return Some(format!("iss {:?} is not trusted", claims.get("iss")));
    }
    if text("sub").is_none_or(str::is_empty) {
        return Some("no sub".into());
    }
    match claims.get("exp").and_then(Value::as_u64) {
        None => return Some("exp is not a non-negative integer".into()),
        Some(exp) if exp < window.before.saturating_sub(expect.leeway) => {
            return Some(format!("expired: exp {exp}, now {}", window.before))
        }
        Some(_) => {}
    }
    if !is_absent(claims, "nbf") {
        match claims.get("nbf").and_then(Value::as_u64) {
            None => return Some("nbf is not a non-negative integer".into()),
            Some(nbf) if nbf > window.after.saturating_add(expect.leeway) => {
                return Some(format!("not yet valid: nbf {nbf}"))
            }
            Some(_) => {}
        }
    }
    if !is_absent(claims, "iat") && !claims.get("iat").is_some_and(Value::is_number) {
        return Some("iat is not a number".into());
    }
    let audience_ok = match claims.get("aud") {
        None | Some(Value::Null) => text("client_id") == Some(expect.audience),
        Some(Value::String(aud)) => aud == expect.audience,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(expect.audience)),
        Some(_) => false,
    };
    if !audience_ok {
        return Some("no accepted audience".into());
    }
    if !is_absent(claims, "token_use") && text("token_use") != Some("access") {
        return Some(format!("token_use {:?}", claims.get("token_use")));
    }
    let status_list = claims
        .get("status")
        .and_then(|status| status.get("status_list"))
        .filter(|list| !list.is_null());
    if status_list.is_some() && !expect.status_lists_served {
        return Some("names a status list, and none is served".into());
    }
    None
}

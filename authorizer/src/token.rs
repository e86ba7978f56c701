//! Compact JWS parsing: split, base64url, header and claims JSON.
//!
//! Nothing here trusts the token: it only shapes it for the signature check
//! and refuses what can be refused before any cryptography.

use std::borrow::Cow;
use std::mem::MaybeUninit;

use base64_simd::{Out, URL_SAFE_NO_PAD};
use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::claims::Claims;
use crate::error::VerifyError;
use jose::Algorithm;

/// Tokens above this size are refused before any decoding. Real access
/// tokens are well under 2 KiB.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// The largest signature we accept: RSA-8192.
pub const MAX_SIGNATURE_BYTES: usize = 1024;

/// Where a token's signature is decoded. The caller owns it (usually on its
/// stack), so a parsed token stays small and nothing is allocated for it.
/// Left uninitialised: the decoder writes before anything reads, and zeroing
/// 1 KiB per token was a measurable share of the per-token cost.
pub struct SignatureBuf([MaybeUninit<u8>; MAX_SIGNATURE_BYTES]);

impl Default for SignatureBuf {
    fn default() -> Self {
        Self([const { MaybeUninit::uninit() }; MAX_SIGNATURE_BYTES])
    }
}

/// The header members we act on. `jku`, `x5u`, `jwk` and `x5c` are ignored on
/// purpose: a token must never choose its own key.
#[derive(Deserialize)]
struct RawHeader<'a> {
    #[serde(borrow)]
    alg: Option<Cow<'a, str>>,
    #[serde(borrow)]
    kid: Option<Cow<'a, str>>,
    #[serde(borrow)]
    typ: Option<Cow<'a, str>>,
    /// Present at all, whatever its value: `crit: null` and `crit: []` name
    /// no extension we understand either, so they are refused too.
    #[serde(default, deserialize_with = "present")]
    crit: bool,
}

/// `true` for any value, `null` included (serde calls this only when the
/// member is there; `default` gives `false` when it is not).
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    IgnoredAny::deserialize(deserializer).map(|_| true)
}

/// A token split and decoded, its signature not yet checked.
#[derive(Debug)]
pub struct UnverifiedToken<'a> {
    /// The header `alg`, accepted.
    pub alg: Algorithm,
    /// The header `kid`.
    pub kid: String,
    /// The header's `typ`, when it has one.
    pub typ: Option<String>,
    /// `header.payload`, the bytes the signature covers.
    pub signing_input: &'a [u8],
    signature: &'a [u8],
    /// The decoded payload; claims borrow their strings from it.
    payload: Vec<u8>,
}

impl UnverifiedToken<'_> {
    /// The decoded signature.
    pub fn signature(&self) -> &[u8] {
        self.signature
    }

    /// Parses the claims, borrowing their text from the payload.
    pub fn claims(&self) -> Result<Claims<'_>, VerifyError> {
        Claims::from_json(&self.payload)
    }

    /// The decoded payload (JSON), not yet trusted.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }
}

/// Parses a compact JWS, decoding its signature into `signature`. Refuses
/// oversize input, anything but three non-empty base64url segments, headers
/// with an unaccepted `alg`, a `crit` member or no `kid`. Claims are parsed
/// by [`UnverifiedToken::claims`].
///
/// No separate character check: the base64url decoder refuses every byte
/// outside its alphabet (padding, whitespace, non-ASCII), and the split
/// handles the dots.
pub fn parse_token<'a>(
    token: &'a str,
    signature: &'a mut SignatureBuf,
) -> Result<UnverifiedToken<'a>, VerifyError> {
    parse_token_within(token, MAX_TOKEN_BYTES, signature)
}

/// [`parse_token`] with another size limit: a status list token carries a
/// whole list and may be far larger than an access token.
pub(crate) fn parse_token_within<'a>(
    token: &'a str,
    max_bytes: usize,
    signature: &'a mut SignatureBuf,
) -> Result<UnverifiedToken<'a>, VerifyError> {
    if token.is_empty() {
        return Err(VerifyError::MissingToken);
    }
    if token.len() > max_bytes {
        return Err(VerifyError::TokenTooLarge);
    }
    let mut parts = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(VerifyError::Malformed);
    };

    let (alg, kid, typ) = parse_header(header_b64)?;
    let payload = decode_segment(payload_b64)?;
    let signature = decode_signature(signature_b64, signature)?;
    let signing_input_len = header_b64.len() + 1 + payload_b64.len();
    Ok(UnverifiedToken {
        alg,
        kid,
        typ,
        signing_input: &token.as_bytes()[..signing_input_len],
        signature,
        payload,
    })
}

/// The protected header's `alg`, `kid` and `typ`, refusing an unaccepted
/// `alg`, any `crit` and a missing `kid`.
#[inline]
fn parse_header(header_b64: &str) -> Result<(Algorithm, String, Option<String>), VerifyError> {
    let header_json = decode_segment(header_b64)?;
    // As for claims: one UTF-8 check, then serde_json reads strings unchecked.
    let header_text = std::str::from_utf8(&header_json).map_err(|_| VerifyError::Malformed)?;
    if !jose::is_json_object(header_text.as_bytes()) {
        return Err(VerifyError::Malformed);
    }
    let header: RawHeader =
        serde_json::from_str(header_text).map_err(|_| VerifyError::Malformed)?;
    let alg = header
        .alg
        .as_deref()
        .and_then(Algorithm::from_name)
        .ok_or(VerifyError::UnsupportedAlgorithm)?;
    if header.crit {
        return Err(VerifyError::CriticalHeader);
    }
    let kid = header.kid.ok_or(VerifyError::MissingKid)?.into_owned();
    Ok((alg, kid, header.typ.map(Cow::into_owned)))
}

/// Decodes the signature segment into `buffer`; an empty signature never verifies.
#[inline]
fn decode_signature<'a>(
    signature_b64: &str,
    buffer: &'a mut SignatureBuf,
) -> Result<&'a [u8], VerifyError> {
    // Checked here because the decoder asserts that its output fits.
    let encoded = signature_b64.len();
    if encoded / 4 * 3 + (encoded % 4).saturating_sub(1) > MAX_SIGNATURE_BYTES {
        return Err(VerifyError::Malformed);
    }
    // The decoder initialises exactly the bytes of the slice it returns.
    let signature: &[u8] = URL_SAFE_NO_PAD
        .decode(
            signature_b64.as_bytes(),
            Out::from_uninit_slice(&mut buffer.0),
        )
        .map_err(|_| VerifyError::Malformed)?;
    if signature.is_empty() {
        return Err(VerifyError::BadSignature);
    }
    Ok(signature)
}

fn decode_segment(segment: &str) -> Result<Vec<u8>, VerifyError> {
    if segment.is_empty() {
        return Err(VerifyError::Malformed);
    }
    // base64-simd: strict (no padding, canonical trailing bits) and SIMD;
    // base64 decoding was the largest non-crypto cost per token.
    URL_SAFE_NO_PAD
        .decode_to_vec(segment)
        .map_err(|_| VerifyError::Malformed)
}

/// Whether a header `typ` is the required one, compared as RFC 9068 §4 and
/// RFC 7515 §4.1.9 say: media types are case-insensitive and the
/// `application/` prefix may be left out (`at+jwt` = `application/at+jwt`).
pub fn typ_matches(typ: &str, required: &str) -> bool {
    fn bare(media_type: &str) -> &str {
        match media_type.get(..12) {
            Some(prefix) if prefix.eq_ignore_ascii_case("application/") => &media_type[12..],
            _ => media_type,
        }
    }
    bare(typ).eq_ignore_ascii_case(bare(required))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_in_an_array_is_malformed() {
        use base64::Engine as _;
        let b64 = |json: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
        // serde would read this as alg, kid, typ.
        let array = b64(r#"["RS256","k",null]"#);
        assert!(matches!(parse_header(&array), Err(VerifyError::Malformed)));
        let object = b64(r#"{"alg":"RS256","kid":"k"}"#);
        assert!(parse_header(&object).is_ok());
    }

    /// Every parser reads the same JSON: a header member nested deeper than
    /// `serde_json::Value` reads (the header's struct would skip it) is
    /// refused.
    #[test]
    fn a_header_nested_too_deep_is_malformed() {
        use base64::Engine as _;
        let b64 = |json: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
        let header = |depth: usize| {
            b64(&format!(
                r#"{{"alg":"RS256","kid":"k","x":{}1{}}}"#,
                "[".repeat(depth),
                "]".repeat(depth)
            ))
        };
        assert!(parse_header(&header(100)).is_ok());
        assert!(matches!(
            parse_header(&header(200)),
            Err(VerifyError::Malformed)
        ));
    }

    #[test]
    fn typ_forms_compare_as_rfc_9068_says() {
        assert!(typ_matches("at+jwt", "at+jwt"));
        assert!(typ_matches("application/at+jwt", "at+jwt"));
        assert!(typ_matches("AT+JWT", "application/at+jwt"));
        assert!(typ_matches("Application/At+Jwt", "at+jwt"));
        assert!(!typ_matches("JWT", "at+jwt"));
        assert!(!typ_matches("application/jwt", "at+jwt"));
        assert!(!typ_matches("at+jwt ", "at+jwt"));
        assert!(!typ_matches("", "at+jwt"));
    }
}

//! Compact JWS parsing: split, base64url, header and claims JSON.
//!
//! Nothing here trusts the token: it only shapes it for the signature check
//! and refuses what can be refused before any cryptography.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::algorithm::Algorithm;
use crate::claims::Claims;
use crate::error::VerifyError;

/// Tokens above this size are refused before any decoding. Real access
/// tokens are well under 2 KiB.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// The largest signature we accept: RSA-8192.
const MAX_SIGNATURE_BYTES: usize = 1024;

/// The header members we act on. `jku`, `x5u`, `jwk` and `x5c` are ignored on
/// purpose: a token must never choose its own key.
#[derive(Deserialize)]
struct RawHeader {
    alg: Option<String>,
    kid: Option<String>,
    crit: Option<IgnoredAny>,
}

/// A token split and decoded, its signature not yet checked.
#[derive(Debug)]
pub struct UnverifiedToken<'a> {
    pub alg: Algorithm,
    pub kid: String,
    pub claims: Claims,
    /// `header.payload`, the bytes the signature covers.
    pub signing_input: &'a [u8],
    signature: [u8; MAX_SIGNATURE_BYTES],
    signature_len: usize,
}

impl UnverifiedToken<'_> {
    pub fn signature(&self) -> &[u8] {
        &self.signature[..self.signature_len]
    }
}

/// Parses a compact JWS. Refuses oversize input, anything but three base64url
/// segments of ASCII, headers with an unaccepted `alg`, a `crit` member or no
/// `kid`, and claims that are not a JSON object of the right types.
pub fn parse_token(token: &str) -> Result<UnverifiedToken<'_>, VerifyError> {
    if token.is_empty() {
        return Err(VerifyError::MissingToken);
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Err(VerifyError::TokenTooLarge);
    }
    let bytes = token.as_bytes();
    if !bytes
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(VerifyError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(VerifyError::Malformed);
    };

    let header_json = decode_segment(header_b64)?;
    let header: RawHeader =
        serde_json::from_slice(&header_json).map_err(|_| VerifyError::Malformed)?;
    let alg = header
        .alg
        .as_deref()
        .and_then(Algorithm::from_name)
        .ok_or(VerifyError::UnsupportedAlgorithm)?;
    if header.crit.is_some() {
        return Err(VerifyError::CriticalHeader);
    }
    let kid = header.kid.ok_or(VerifyError::MissingKid)?;

    let payload_json = decode_segment(payload_b64)?;
    let claims = Claims::from_json(&payload_json)?;

    let mut signature = [0u8; MAX_SIGNATURE_BYTES];
    if signature_b64.len() > MAX_SIGNATURE_BYTES * 4 / 3 + 4 {
        return Err(VerifyError::Malformed);
    }
    let signature_len = URL_SAFE_NO_PAD
        .decode_slice(signature_b64, &mut signature)
        .map_err(|_| VerifyError::Malformed)?;
    if signature_len == 0 {
        return Err(VerifyError::BadSignature);
    }

    let signing_input_len = header_b64.len() + 1 + payload_b64.len();
    Ok(UnverifiedToken {
        alg,
        kid,
        claims,
        signing_input: &bytes[..signing_input_len],
        signature,
        signature_len,
    })
}

fn decode_segment(segment: &str) -> Result<Vec<u8>, VerifyError> {
    if segment.is_empty() {
        return Err(VerifyError::Malformed);
    }
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| VerifyError::Malformed)
}

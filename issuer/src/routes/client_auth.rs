//! OAuth client authentication (RFC 6749 §2.3): HTTP Basic, or
//! `client_id` and `client_secret` in the form body.

use axum::http::{header, HeaderMap, StatusCode};
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;

use super::oauth_error::OAuthError;

/// Standard base64 with or without its `=` padding (some clients drop it).
pub(super) const BASIC_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// What the `Authorization` header says about client authentication.
pub(super) enum BasicAuth {
    Absent,
    /// The client id and secret, decoded.
    Credentials(String, String),
    /// A Basic header that does not decode: authentication failed.
    Malformed,
}

/// `Authorization: Basic` client credentials (RFC 6749 §2.3.1): base64 of
/// `id:secret`, each form-urlencoded first (so a `:` in the id is `%3A`).
pub(super) fn basic_credentials(headers: &HeaderMap) -> BasicAuth {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return BasicAuth::Absent;
    };
    let Some((scheme, encoded)) = value.to_str().ok().and_then(|v| v.split_once(' ')) else {
        return BasicAuth::Malformed;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return BasicAuth::Malformed;
    }
    let decoded = BASIC_BASE64
        .decode(encoded.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok());
    let credentials = decoded.as_deref().and_then(|decoded| {
        let (id, secret) = decoded.split_once(':')?;
        Some((form_decode(id)?, form_decode(secret)?))
    });
    match credentials {
        Some((id, secret)) => BasicAuth::Credentials(id, secret),
        None => BasicAuth::Malformed,
    }
}

/// Reverses `application/x-www-form-urlencoded` encoding of one value: `+`
/// is a space and `%XX` a byte; a broken escape or non-UTF-8 result is `None`.
pub(super) fn form_decode(value: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(value.len());
    let mut rest = value.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        rest = tail;
        match byte {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hex = rest.get(..2)?;
                let text = std::str::from_utf8(hex).ok()?;
                bytes.push(u8::from_str_radix(text, 16).ok()?);
                rest = &rest[2..];
            }
            other => bytes.push(other),
        }
    }
    String::from_utf8(bytes).ok()
}

/// The client's credentials, if the request authenticates a client: HTTP
/// Basic, or `client_id` and `client_secret` in the body, not both (RFC
/// 6749 §2.3). A Basic header that does not decode, or a body with only
/// one of the two, is a failed authentication (401).
pub(super) fn client_authentication(
    headers: &HeaderMap,
    client_id: Option<String>,
    client_secret: Option<String>,
) -> Result<Option<(String, String)>, OAuthError> {
    let failed = || {
        OAuthError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        )
    };
    let in_form = client_id.is_some() || client_secret.is_some();
    match (basic_credentials(headers), in_form) {
        (BasicAuth::Credentials(..) | BasicAuth::Malformed, true) => Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "use either HTTP Basic or client_id/client_secret in the body, not both",
        )),
        (BasicAuth::Credentials(id, secret), false) => Ok(Some((id, secret))),
        (BasicAuth::Malformed, false) => Err(failed()),
        (BasicAuth::Absent, false) => Ok(None),
        (BasicAuth::Absent, true) => client_id.zip(client_secret).map(Some).ok_or_else(failed),
    }
}

#[cfg(test)]
mod tests {
    use super::form_decode;

    #[test]
    fn form_decoding_is_rfc_6749_appendix_b() {
        assert_eq!(form_decode("a%3Ab%26c%3Dd+e").as_deref(), Some("a:b&c=d e"));
        assert_eq!(form_decode("raw&=ok").as_deref(), Some("raw&=ok"));
        assert_eq!(form_decode("%C3%A9t%C3%A9").as_deref(), Some("été"));
        for broken in ["%", "%4", "%zz", "%FF"] {
            assert_eq!(form_decode(broken), None, "{broken}");
        }
    }
}

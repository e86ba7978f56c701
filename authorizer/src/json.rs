//! JSON shape checks shared by the token, claims and status list parsers.

/// Whether `text` is a JSON object rather than another JSON value. serde's
/// derived structs also read an array as their fields in order, so
/// `["https://iss","alice",...]` would pass for claims: RFC 7519 §7.2 wants
/// an object.
pub(crate) fn is_json_object(text: &str) -> bool {
    text.bytes()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        == Some(b'{')
}

//! The shape every JSON document of a token, a proof or a key set must have
//! before serde reads it, so that every parser in the project agrees on
//! what a document is.

/// The deepest nesting of arrays and objects a document may have: what
/// `serde_json::Value` reads. serde's derived structs skip an unknown
/// member without a depth limit, so a member nested deeper would load in
/// one parser (a JOSE header's) and fail in another (the claims a rule or
/// `CONTEXT_CLAIMS` reads); the `dpop_proof` fuzz target found that.
pub const MAX_JSON_DEPTH: usize = 127;

/// Whether `json` is a JSON object (after leading whitespace) nested at
/// most [`MAX_JSON_DEPTH`] deep. serde's derived structs also read an
/// array as their fields in order, so `["https://iss","alice"]` would pass
/// for claims: RFC 7519 §7.2 and RFC 7517 §5 want an object. Only the
/// brackets outside strings are counted here; serde checks the grammar.
pub fn is_json_object(json: &[u8]) -> bool {
    if json.trim_ascii_start().first() != Some(&b'{') {
        return false;
    }
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in json {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_JSON_DEPTH {
                    return false;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(depth: usize, open: &str, close: &str) -> String {
        // The outer object counts as one level.
        format!(
            "{{\"a\":{}1{}}}",
            open.repeat(depth - 1),
            close.repeat(depth - 1)
        )
    }

    #[test]
    fn the_depth_limit_is_serde_jsons() {
        for depth in 1..=200 {
            for (open, close) in [("[", "]"), ("{\"k\":", "}")] {
                let text = nested(depth, open, close);
                let by_serde = serde_json::from_str::<serde_json::Value>(&text).is_ok();
                assert_eq!(
                    is_json_object(text.as_bytes()),
                    by_serde,
                    "depth {depth}: {text}"
                );
            }
        }
    }

    #[test]
    fn brackets_in_strings_do_not_count() {
        let deep_in_a_string = format!("{{\"a\":\"{}\\\"{}\"}}", "[".repeat(300), "{".repeat(300));
        assert!(is_json_object(deep_in_a_string.as_bytes()));
        assert!(serde_json::from_str::<serde_json::Value>(&deep_in_a_string).is_ok());
    }

    #[test]
    fn only_an_object_is_one() {
        assert!(is_json_object(b" \n{}"));
        assert!(!is_json_object(b"[{}]"));
        assert!(!is_json_object(b"\"{}\""));
        assert!(!is_json_object(b""));
    }
}

//! Comparing `htu` with the request's URI as RFC 9449 §4.3 asks: both
//! without query and fragment, after RFC 3986's syntax-based (§6.2.2: case,
//! percent-encoding, dot segments) and scheme-based (§6.2.3: default port,
//! empty path) normalization.

/// `uri` normalized for comparison: lower-case scheme and host, no default
/// port, `/` for an empty path, dot segments resolved, percent-escapes in
/// upper case and unreserved characters decoded. The query and fragment are
/// kept, so that an `htu` carrying one never equals a request URI (which
/// has none). `None` for anything but an absolute http(s) URI with a host
/// and no user information.
pub fn normalize(uri: &str) -> Option<String> {
    let parsed = url::Url::parse(uri).ok()?;
    if !matches!(parsed.scheme(), "http" | "https")
        || parsed.host_str().is_none()
        || !parsed.username().is_empty()
        || parsed.password().is_some()
    {
        return None;
    }
    // `url` lower-cases scheme and host, drops a default port, resolves
    // dot segments (`%2e` ones too) and gives an empty path as `/`.
    let mut normal = format!("{}://{}", parsed.scheme(), parsed.host_str()?);
    if let Some(port) = parsed.port() {
        normal.push_str(&format!(":{port}"));
    }
    normal.push_str(&normalize_escapes(parsed.path()));
    if let Some(query) = parsed.query() {
        normal.push('?');
        normal.push_str(&normalize_escapes(query));
    }
    if let Some(fragment) = parsed.fragment() {
        normal.push('#');
        normal.push_str(&normalize_escapes(fragment));
    }
    Some(normal)
}

/// `uri` without its query and fragment: the request URI to compare with.
pub fn without_query(uri: &str) -> &str {
    let end = uri.find(['?', '#']).unwrap_or(uri.len());
    &uri[..end]
}

/// Percent-escapes in upper case, and those of unreserved characters
/// (`ALPHA / DIGIT / "-" / "." / "_" / "~"`) decoded.
fn normalize_escapes(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) => {
                out.push(char::from(byte));
                i += 3;
            }
            Some(byte) => {
                out.push_str(&format!("%{byte:02X}"));
                i += 3;
            }
            None => {
                // `text` is a `url` path or query: ASCII only.
                out.push(char::from(bytes[i]));
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equivalent_spellings_normalize_alike() {
        let canonical = normalize("https://api.example.com/books/1").unwrap();
        for same in [
            "HTTPS://API.Example.COM/books/1",
            "https://api.example.com:443/books/1",
            "https://api.example.com/books/./1",
            "https://api.example.com/books/x/../1",
            "https://api.example.com/%62ooks/1",
            "https://api.example.com/books/%31",
        ] {
            assert_eq!(
                normalize(same).as_deref(),
                Some(canonical.as_str()),
                "{same}"
            );
        }
        assert_eq!(
            normalize("https://api.example.com").unwrap(),
            "https://api.example.com/"
        );
        assert_eq!(
            normalize("https://api.example.com/a%2fb").unwrap(),
            normalize("https://api.example.com/a%2Fb").unwrap()
        );
    }

    #[test]
    fn different_uris_stay_different() {
        let canonical = normalize("https://api.example.com/books/1").unwrap();
        for other in [
            "http://api.example.com/books/1",
            "https://api.example.com:8443/books/1",
            "https://evil.example.com/books/1",
            "https://api.example.com/Books/1",
            "https://api.example.com/books/1/",
            "https://api.example.com/books/1?x=1",
            "https://api.example.com/books/1#f",
            "https://api.example.com/prod/books/1",
            "https://api.example.com/books%2F1",
        ] {
            assert_ne!(
                normalize(other).as_deref(),
                Some(canonical.as_str()),
                "{other}"
            );
        }
    }

    #[test]
    fn only_absolute_http_uris_with_a_host() {
        for refused in [
            "/books/1",
            "ftp://api.example.com/books",
            "https://user@api.example.com/books",
            "not a uri",
            "",
        ] {
            assert_eq!(normalize(refused), None, "{refused}");
        }
        assert_eq!(without_query("https://a/b?c#d"), "https://a/b");
        assert_eq!(without_query("https://a/b#d"), "https://a/b");
    }
}

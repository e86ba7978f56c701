//! An HTTP API route key (`GET /books/{id}`, `ANY /{proxy+}`, `$default`)
//! read as the requests it stands for. API Gateway reuses a cached simple
//! response for every request with the same identity sources, so with the
//! route key among them, one answer serves all of these requests.

/// The verbs API Gateway puts in a `methodArn`; a `*` route of
/// `ROUTE_SCOPES`, and `ANY` or `$default` here, stand for each.
pub const HTTP_METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// The requests one route key stands for: its verbs, and its path as a
/// `*`-glob in which each `{param}` or `{proxy+}` is `*` (a superset of the
/// paths API Gateway routes there, which errs towards refusing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteKeyRequests {
    /// Concrete verbs: one, or all seven for `ANY` and `$default`.
    pub methods: Vec<&'static str>,
    /// The path glob.
    pub path: String,
}

impl RouteKeyRequests {
    /// Reads `route_key`; `None` for anything that is not `$default` or
    /// `VERB /path` with balanced braces.
    pub fn parse(route_key: &str) -> Option<Self> {
        if route_key == "$default" {
            // Every path API Gateway routes starts with `/`.
            return Some(Self {
                methods: HTTP_METHODS.to_vec(),
                path: "/*".to_owned(),
            });
        }
        let (verb, path) = route_key.split_once(' ')?;
        let methods = match verb {
            "ANY" => HTTP_METHODS.to_vec(),
            verb => vec![*HTTP_METHODS.iter().find(|m| **m == verb)?],
        };
        if !path.starts_with('/') {
            return None;
        }
        Some(Self {
            methods,
            path: path_glob(path)?,
        })
    }
}

/// `path` with each `{...}` as `*`; `None` for a stray brace or a `*` (which
/// a route key never holds, and which would read as a wildcard).
fn path_glob(path: &str) -> Option<String> {
    let mut glob = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(open) = rest.find(['{', '}', '*']) {
        if rest.as_bytes()[open] != b'{' {
            return None;
        }
        let close = open + rest[open..].find('}')?;
        if rest[open + 1..close].contains('{') {
            return None;
        }
        glob.push_str(&rest[..open]);
        glob.push('*');
        rest = &rest[close + 1..];
    }
    glob.push_str(rest);
    Some(glob)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(key: &str) -> Option<(Vec<&'static str>, String)> {
        RouteKeyRequests::parse(key).map(|r| (r.methods, r.path))
    }

    #[test]
    fn route_keys_read_as_their_requests() {
        assert_eq!(parsed("GET /books"), Some((vec!["GET"], "/books".into())));
        assert_eq!(
            parsed("GET /books/{id}"),
            Some((vec!["GET"], "/books/*".into()))
        );
        assert_eq!(
            parsed("DELETE /users/{user}/books/{id}"),
            Some((vec!["DELETE"], "/users/*/books/*".into()))
        );
        let any = parsed("ANY /{proxy+}").unwrap();
        assert_eq!(any.0.len(), 7);
        assert_eq!(any.1, "/*");
        let default = parsed("$default").unwrap();
        assert_eq!(default.0.len(), 7);
        assert_eq!(default.1, "/*");
    }

    #[test]
    fn anything_else_is_refused() {
        for key in [
            "",
            "GET",
            "get /books",
            "FETCH /books",
            "GET books",
            "GET /books/{id",
            "GET /books/id}",
            "GET /books/{{id}}",
            "GET /books/*",
        ] {
            assert_eq!(parsed(key), None, "{key:?}");
        }
    }
}

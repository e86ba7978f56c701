//! Which scope each API route needs (`ROUTE_SCOPES`).
//!
//! Format: a JSON object from `"METHOD /path"` to the scopes that grant it,
//! as an array or a space-separated string; any one of them is enough.
//! `METHOD` is one of API Gateway's verbs (`GET`, `POST`, `PUT`, `PATCH`,
//! `DELETE`, `HEAD`, `OPTIONS`) or `*` for all seven; `*` in a path matches
//! any characters, `/` included, as in an execute-api ARN. A segment may be
//! a path parameter, `{name}` or a last `{name+}`, as API Gateway writes
//! them: in the policy it is `*`, unless `ROUTE_RULES` binds it. Example (the
//! demo API's table, the `authorizer` binary's default):
//!
//! ```json
//! {"GET /books": "books:read", "GET /books/*": "books:read",
//!  "POST /books": "books:write", "PATCH /books/*": "books:write",
//!  "DELETE /books/*": "books:write",
//!  "GET /admin/keys": "keys:admin", "POST /admin/keys/*": "keys:admin",
//!  "POST /admin/tokens/revoke": "keys:admin"}
//! ```
//!
//! The library has no table of its own: the caller gives one.
//!
//! The policy names one resource per concrete verb (`{api}/{stage}/GET/orders/*`),
//! never `{api}/{stage}/*/orders/*`: under IAM's wildcard rules that first `*`
//! would also match `GET/internal`, granting routes nobody configured. Two
//! routes whose resources can match the same request ARN must need the same
//! scopes; otherwise an explicit Deny for one could shadow an Allow for the
//! other, and such a table is refused at start, naming both routes.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::route_key::{RouteKeyRequests, HTTP_METHODS};
use crate::route_template::{resource_glob, Pattern, RouteTemplate};

/// One route and the scopes, any of which grants it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// An HTTP verb, or `*` for all of them.
    pub method: String,
    /// The resource path; `*` matches any run of characters, and path
    /// parameters (`{id}`, `{proxy+}`) are `*` in the policy.
    pub path: String,
    /// Any one of these grants the route.
    pub scopes: Vec<String>,
}

impl Route {
    /// Whether a token with `granted` scopes may call this route.
    pub fn granted_by<'s>(&self, mut granted: impl Iterator<Item = &'s str>) -> bool {
        granted.any(|g| self.scopes.iter().any(|s| s == g))
    }

    /// Whether this route covers a request for `method` and `path`: exactly
    /// when one of its policy resources matches the request's ARN.
    pub fn matches(&self, method: &str, path: &str) -> bool {
        self.methods().any(|m| m == method) && glob_matches(self.glob().as_bytes(), path.as_bytes())
    }

    /// The concrete verbs this route covers.
    pub fn methods(&self) -> impl Iterator<Item = &str> {
        let all = self.method == "*";
        HTTP_METHODS
            .into_iter()
            .filter(move |m| all || *m == self.method)
    }

    /// The route's policy resources below `{api}/{stage}/`: `VERB/path`, one
    /// per concrete verb.
    pub fn resources(&self) -> impl Iterator<Item = String> + '_ {
        let glob = self.glob();
        self.methods().map(move |m| format!("{m}{glob}"))
    }

    /// The path as a policy resource glob: each path parameter is `*`.
    pub fn glob(&self) -> std::borrow::Cow<'_, str> {
        resource_glob(&self.path)
    }

    /// `METHOD /path`, as the table writes it.
    pub(crate) fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// The scopes as a set, for comparing two routes.
    fn scope_set(&self) -> std::collections::BTreeSet<&str> {
        self.scopes.iter().map(String::as_str).collect()
    }
}

/// The route table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteScopes {
    routes: Vec<Route>,
}

/// Why `ROUTE_SCOPES` was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RouteScopesError {
    /// Not a JSON object of route to scopes.
    #[error("not a JSON object of \"METHOD /path\" to scopes: {0}")]
    NotJson(String),
    /// A key that is not `METHOD /path`.
    #[error("route key {0:?} is not \"METHOD /path\"")]
    BadRoute(String),
    /// A route with no scope.
    #[error("route {0:?} lists no scopes")]
    NoScopes(String),
    /// Two routes whose policy resources meet with different scopes.
    #[error("routes {0:?} and {1:?} can match the same request but need different scopes")]
    Overlap(String, String),
    /// An empty table.
    #[error("no routes")]
    Empty,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ScopeList {
    Spaced(String),
    List(Vec<String>),
}

impl RouteScopes {
    /// Parses `ROUTE_SCOPES` JSON (see the module documentation).
    pub fn from_json(json: &str) -> Result<Self, RouteScopesError> {
        let map: BTreeMap<String, ScopeList> =
            serde_json::from_str(json).map_err(|e| RouteScopesError::NotJson(e.to_string()))?;
        let mut routes = Vec::with_capacity(map.len());
        for (key, scopes) in map {
            let (method, path) = key
                .split_once(' ')
                .map(|(m, p)| (m.trim().to_ascii_uppercase(), p.trim().to_owned()))
                .ok_or_else(|| RouteScopesError::BadRoute(key.clone()))?;
            let path_ok = path.bytes().all(|b| b.is_ascii_graphic() && b != b'?')
                && RouteTemplate::parse(&path).is_some();
            if !(method == "*" || HTTP_METHODS.contains(&method.as_str())) || !path_ok {
                return Err(RouteScopesError::BadRoute(key));
            }
            let scopes: Vec<String> = match scopes {
                ScopeList::Spaced(s) => s
                    .split(' ')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
                ScopeList::List(list) => list.into_iter().filter(|s| !s.is_empty()).collect(),
            };
            if scopes.is_empty() {
                return Err(RouteScopesError::NoScopes(key));
            }
            routes.push(Route {
                method,
                path,
                scopes,
            });
        }
        Self::new(routes)
    }

    /// Builds a table, refusing one whose policy could not mean what it
    /// says: two routes with different scopes whose policy resources can
    /// match the same request ARN (checked on the resources themselves), or
    /// a path whose braces are not whole `{name}` segments.
    pub fn new(routes: Vec<Route>) -> Result<Self, RouteScopesError> {
        if routes.is_empty() {
            return Err(RouteScopesError::Empty);
        }
        if let Some(bad) = routes
            .iter()
            .find(|r| RouteTemplate::parse(&r.path).is_none())
        {
            return Err(RouteScopesError::BadRoute(bad.key()));
        }
        for (i, a) in routes.iter().enumerate() {
            for b in &routes[i + 1..] {
                if a.scope_set() == b.scope_set() {
                    continue;
                }
                let clash = a
                    .resources()
                    .any(|ra| b.resources().any(|rb| globs_intersect(&ra, &rb)));
                if clash {
                    return Err(RouteScopesError::Overlap(a.key(), b.key()));
                }
            }
        }
        Ok(Self { routes })
    }

    /// The routes, in table order.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// Whether `granted` scopes permit `method path`: some matching route is granted.
    pub fn permits(&self, method: &str, path: &str, granted: &[&str]) -> bool {
        self.routes
            .iter()
            .any(|r| r.matches(method, path) && r.granted_by(granted.iter().copied()))
    }

    /// Whether `granted` scopes permit every request an HTTP API route key
    /// stands for (`GET /books/{id}`, `ANY /{proxy+}`, `$default`), since API
    /// Gateway reuses a simple response for all of them. For each verb one
    /// granted route must cover the key's whole path: sound, and exact
    /// unless only several routes together would cover it (then `false`).
    pub fn permits_route_key(&self, route_key: &str, granted: &[&str]) -> bool {
        let Some(requests) = RouteKeyRequests::parse(route_key) else {
            return false;
        };
        requests.methods.iter().all(|verb| {
            self.routes.iter().any(|r| {
                r.methods().any(|m| m == *verb)
                    && r.granted_by(granted.iter().copied())
                    && glob_covers(r.glob().as_bytes(), requests.path.as_bytes())
            })
        })
    }
}

/// IAM-style wildcard match: `*` any run of characters (`/` included), `?`
/// exactly one. Route paths refuse `?` at configuration; the local gateway's
/// policy evaluation uses both.
pub fn glob_matches(pattern: &[u8], text: &[u8]) -> bool {
    star_walk(pattern, text, |p, t| p == b'?' || p == t)
}

/// Whether every text `glob` matches is matched by `pattern` (both
/// `*`-globs): `pattern` must match `glob` itself with only its own stars
/// absorbing the stars of `glob`, which stand for any text.
pub(crate) fn glob_covers(pattern: &[u8], glob: &[u8]) -> bool {
    star_walk(pattern, glob, |p, t| t != b'*' && p == t)
}

/// Matches `text` against `pattern`, whose `*` absorbs any run of `text`
/// and whose other bytes match where `literal` says. Iterative with a single
/// backtrack point: linear in practice.
fn star_walk(pattern: &[u8], text: &[u8], literal: impl Fn(u8, u8) -> bool) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && literal(pattern[p], text[t]) {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&b| b == b'*')
}

/// Whether some string matches both `*`-globs.
pub(crate) fn globs_intersect(a: &str, b: &str) -> bool {
    Pattern::glob(a).meets(&Pattern::glob(b))
}

/// The demo API's table, for tests.
#[cfg(test)]
pub(crate) fn books_routes() -> RouteScopes {
    let demo = api_routes::ApiRoutes::demo().expect("the demo route table");
    RouteScopes::from_json(&demo.route_scopes_json()).expect("the demo ROUTE_SCOPES")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matching() {
        assert!(glob_matches(b"/books/*", b"/books/123"));
        assert!(glob_matches(b"/books/*", b"/books/1/2"));
        assert!(!glob_matches(b"/books/*", b"/books"));
        assert!(glob_matches(b"/books", b"/books"));
        assert!(!glob_matches(b"/books", b"/bookshelf"));
        assert!(glob_matches(b"/a/*/c", b"/a/b/c"));
        assert!(glob_matches(b"*", b""));
    }

    #[test]
    fn glob_cover() {
        assert!(glob_covers(b"/books/*", b"/books/*"));
        assert!(glob_covers(b"/books/*", b"/books/1"));
        assert!(glob_covers(b"/books/*", b"/books/*/reviews/*"));
        assert!(glob_covers(b"*", b"/*"));
        assert!(glob_covers(b"/a*", b"/ab*c"));
        assert!(!glob_covers(b"/books/*", b"/*"));
        assert!(!glob_covers(b"/books", b"/books/*"));
        assert!(!glob_covers(b"/books/1", b"/books/*"));
        assert!(!glob_covers(b"/a*c", b"/a*"));
        assert!(!glob_covers(b"/books/*/x", b"/books/*"));
    }

    proptest::proptest! {
        /// Soundness: whatever `glob`'s stars stand for, a covering pattern
        /// matches the text.
        #[test]
        fn a_covering_pattern_matches_every_instance(
            pattern in "[ab/*]{0,6}",
            glob in "[ab/*]{0,6}",
            fills in proptest::collection::vec("[ab/]{0,3}", 6),
        ) {
            if glob_covers(pattern.as_bytes(), glob.as_bytes()) {
                let mut fill = fills.iter();
                let text: String = glob
                    .chars()
                    .map(|c| if c == '*' { fill.next().cloned().unwrap_or_default() } else { c.to_string() })
                    .collect();
                proptest::prop_assert!(glob_matches(pattern.as_bytes(), text.as_bytes()), "{} {} {}", pattern, glob, text);
            }
        }
    }

    #[test]
    fn route_keys_are_permitted_only_as_a_whole() {
        let routes = books_routes();
        let read = ["books:read"];
        assert!(routes.permits_route_key("GET /books", &read));
        assert!(routes.permits_route_key("GET /books/{id}", &read));
        assert!(routes.permits_route_key("GET /books/{proxy+}", &read));
        // Another verb, or a path outside the granted routes.
        assert!(!routes.permits_route_key("DELETE /books/{id}", &read));
        assert!(!routes.permits_route_key("GET /{proxy+}", &read));
        // ANY and $default also stand for writes.
        assert!(!routes.permits_route_key("ANY /books/{proxy+}", &read));
        assert!(!routes.permits_route_key("$default", &read));
        let all = ["books:read", "books:write"];
        assert!(!routes.permits_route_key("ANY /books/{proxy+}", &all));
        let books = RouteScopes::from_json(r#"{"* /books/*": "books:all"}"#).unwrap();
        assert!(books.permits_route_key("ANY /books/{proxy+}", &["books:all"]));
        assert!(!books.permits_route_key("ANY /{proxy+}", &["books:all"]));
        assert!(!books.permits_route_key("$default", &["books:all"]));
        let everything = RouteScopes::from_json(r#"{"* /*": "all"}"#).unwrap();
        assert!(everything.permits_route_key("$default", &["all"]));
        assert!(everything.permits_route_key("ANY /{proxy+}", &["all"]));
        assert!(!routes.permits_route_key("not a route key", &all));
    }

    #[test]
    fn glob_intersection() {
        assert!(globs_intersect("/books/*", "/books/1"));
        assert!(globs_intersect("/books/*", "/*/1"));
        assert!(!globs_intersect("/books", "/books/*"));
        assert!(!globs_intersect("*x", "*y"));
        assert!(globs_intersect("*x", "x*"));
        assert!(!globs_intersect("/admin/*", "/books/*"));
    }

    #[test]
    fn defaults_are_valid_and_permit_by_scope() {
        let routes = books_routes();
        assert!(RouteScopes::new(routes.routes().to_vec()).is_ok());
        assert!(routes.permits("GET", "/books/42", &["books:read"]));
        assert!(!routes.permits("DELETE", "/books/42", &["books:read"]));
        assert!(routes.permits("POST", "/admin/keys/rotate", &["keys:admin"]));
        assert!(!routes.permits("POST", "/admin/keys/rotate", &["books:write"]));
        assert!(!routes.permits("PUT", "/books/42", &["books:write"]));
    }

    #[test]
    fn json_format_parses_both_scope_forms() {
        let routes = RouteScopes::from_json(
            r#"{"get /orders": "orders:read orders:admin", "* /orders/*": ["orders:admin"]}"#,
        )
        .unwrap();
        assert!(routes.permits("GET", "/orders", &["orders:admin"]));
        assert!(routes.permits("DELETE", "/orders/1", &["orders:admin"]));
        assert!(!routes.permits("DELETE", "/orders/1", &["orders:read"]));
    }

    #[test]
    fn overlapping_routes_with_different_scopes_are_refused() {
        let err =
            RouteScopes::from_json(r#"{"GET /books/*": "a", "* /books/1": "b"}"#).unwrap_err();
        assert!(matches!(err, RouteScopesError::Overlap(..)));
        assert!(RouteScopes::from_json(r#"{"GET /books/*": "a", "GET /books/1": "a"}"#).is_ok());
    }

    #[test]
    fn bad_keys_are_refused() {
        for json in [
            r#"{"GET books": "a"}"#,
            r#"{"FETCH /x": "a"}"#,
            r#"{"GET /x": ""}"#,
            "{}",
            "[]",
        ] {
            assert!(RouteScopes::from_json(json).is_err(), "{json}");
        }
    }
}

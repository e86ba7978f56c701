//! The demo API's route table, the one home of what Tollgate's own API is:
//! which function serves each method, which methods are behind the
//! authorizer, which scopes grant each route, and the rules on some routes
//! (`GET /shelves/{owner}/books` is the caller's own shelf, or any shelf
//! for `books:admin`). It is the JSON file
//! `infra/api-routes.json`, read by Terraform (the REST API's methods and
//! the authorizer's `route_scopes`) and compiled in here for the local
//! gateway, which routes by it as API Gateway does, and for the `authorizer`
//! binary, whose `ROUTE_SCOPES` default it is.
//!
//! ```
//! use api_routes::{ApiRoutes, Function};
//!
//! let routes = ApiRoutes::demo()?;
//! let method = routes.method_for("GET", "/books/42").expect("a books route");
//! assert_eq!(method.function, Function::Backend);
//! assert!(method.authorized);
//! assert!(!routes.method_for("POST", "/token").expect("the token endpoint").authorized);
//! # Ok::<(), api_routes::RoutesError>(())
//! ```

#![deny(missing_docs)]

use std::collections::BTreeMap;

use serde::Deserialize;

/// The table, as Terraform reads it too.
const DEMO_JSON: &str = include_str!("../../infra/api-routes.json");

/// Which function serves a method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Function {
    /// The issuer: tokens, keys, status lists, key administration.
    Issuer,
    /// The books API.
    Backend,
}

/// One method of the API, as API Gateway declares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiMethod {
    /// The HTTP verb.
    pub method: String,
    /// The resource path in API Gateway's form (`/books/{proxy+}`).
    pub path: String,
    /// The function behind it.
    pub function: Function,
    /// Whether the token authorizer guards it (`false`: open).
    pub authorized: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MethodEntry {
    function: Function,
    authorized: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    methods: BTreeMap<String, MethodEntry>,
    route_scopes: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    route_rules: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The route table could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RoutesError {
    /// Not the documented JSON.
    #[error("the route table is not valid: {0}")]
    Json(#[from] serde_json::Error),
    /// A method key that is not `VERB /path` in API Gateway's form.
    #[error("route table method {0:?} is not \"VERB /path\" with {{proxy+}} only at the end")]
    BadMethod(String),
}

/// The API's methods and the scopes of its routes.
#[derive(Clone, Debug)]
pub struct ApiRoutes {
    methods: Vec<ApiMethod>,
    route_scopes: serde_json::Map<String, serde_json::Value>,
    route_rules: Option<serde_json::Map<String, serde_json::Value>>,
}

impl ApiRoutes {
    /// The demo API (the books API and the issuer).
    pub fn demo() -> Result<Self, RoutesError> {
        Self::from_json(DEMO_JSON)
    }

    /// A table in the JSON shape of `infra/api-routes.json`.
    pub fn from_json(json: &str) -> Result<Self, RoutesError> {
        let table: Table = serde_json::from_str(json)?;
        let methods = table
            .methods
            .into_iter()
            .map(|(key, entry)| {
                let (method, path) = key
                    .split_once(' ')
                    .filter(|(verb, path)| valid_verb(verb) && valid_path(path))
                    .ok_or_else(|| RoutesError::BadMethod(key.clone()))?;
                Ok(ApiMethod {
                    method: method.to_owned(),
                    path: path.to_owned(),
                    function: entry.function,
                    authorized: entry.authorized,
                })
            })
            .collect::<Result<_, RoutesError>>()?;
        Ok(Self {
            methods,
            route_scopes: table.route_scopes,
            route_rules: table.route_rules,
        })
    }

    /// Every method, ordered by key.
    pub fn methods(&self) -> &[ApiMethod] {
        &self.methods
    }

    /// The method a request reaches: the one declared for its verb on the
    /// resource its path matches, else another verb's on that resource (the
    /// function or the authorizer's policy then answers, as it would behind
    /// API Gateway's resource); `None` when no resource matches the path.
    pub fn method_for(&self, method: &str, path: &str) -> Option<&ApiMethod> {
        let mut on_resource = self
            .methods
            .iter()
            .filter(|m| path_matches(&m.path, path))
            .peekable();
        let first = on_resource.peek().copied();
        on_resource.find(|m| m.method == method).or(first)
    }

    /// Whether `path` is served without the authorizer.
    pub fn is_public(&self, path: &str) -> bool {
        self.method_for("GET", path).is_some_and(|m| !m.authorized)
    }

    /// The scopes of each route, in the `ROUTE_SCOPES` JSON format.
    pub fn route_scopes_json(&self) -> String {
        serde_json::Value::Object(self.route_scopes.clone()).to_string()
    }

    /// The rules on some routes, in the `ROUTE_RULES` JSON format, if any.
    pub fn route_rules_json(&self) -> Option<String> {
        self.route_rules
            .as_ref()
            .map(|rules| serde_json::Value::Object(rules.clone()).to_string())
    }
}

fn valid_verb(verb: &str) -> bool {
    matches!(
        verb,
        "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS" | "ANY"
    )
}

/// `/` or `/`-separated non-empty segments, `{name}` segments allowed and a
/// greedy `{name+}` only as the last one.
fn valid_path(path: &str) -> bool {
    let Some(rest) = path.strip_prefix('/') else {
        return false;
    };
    if rest.is_empty() {
        return true;
    }
    let segments: Vec<&str> = rest.split('/').collect();
    segments
        .iter()
        .enumerate()
        .all(|(i, segment)| !segment.is_empty() && (!is_greedy(segment) || i + 1 == segments.len()))
}

fn is_greedy(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with("+}")
}

fn is_parameter(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

/// API Gateway's matching of a request path against a resource path:
/// literal segments equal, `{name}` one segment, `{name+}` one or more.
fn path_matches(resource: &str, path: &str) -> bool {
    let mut wanted = resource.trim_start_matches('/').split('/');
    let mut given = path.trim_start_matches('/').split('/');
    loop {
        match (wanted.next(), given.next()) {
            (None, None) => return true,
            (Some(segment), Some(value)) if is_greedy(segment) => {
                return !value.is_empty() && given.all(|rest| !rest.is_empty());
            }
            (Some(segment), Some(value)) if is_parameter(segment) => {
                if value.is_empty() {
                    return false;
                }
            }
            (Some(segment), Some(value)) if segment == value => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_table_reads() {
        let routes = ApiRoutes::demo().unwrap();
        assert_eq!(routes.methods().len(), 13);
        let rules: serde_json::Value =
            serde_json::from_str(&routes.route_rules_json().unwrap()).unwrap();
        assert_eq!(
            rules["GET /shelves/{owner}/books"][0]["bind"]["owner"],
            "sub"
        );
        let scopes: serde_json::Value = serde_json::from_str(&routes.route_scopes_json()).unwrap();
        assert_eq!(scopes["GET /books"], "books:read");
        assert_eq!(scopes["POST /admin/keys/*"], "keys:admin");
    }

    #[test]
    fn requests_reach_the_method_of_their_resource() {
        let routes = ApiRoutes::demo().unwrap();
        let reach = |method, path| {
            routes
                .method_for(method, path)
                .map(|m| (m.function, m.authorized))
        };
        assert_eq!(reach("GET", "/books"), Some((Function::Backend, true)));
        assert_eq!(
            reach("DELETE", "/books/42"),
            Some((Function::Backend, true))
        );
        // Another verb on a resource: its function, behind the authorizer.
        assert_eq!(reach("PUT", "/books/42"), Some((Function::Backend, true)));
        assert_eq!(
            reach("POST", "/admin/keys/rotate"),
            Some((Function::Issuer, true))
        );
        assert_eq!(
            reach("GET", "/admin/anything/else"),
            Some((Function::Issuer, true))
        );
        assert_eq!(reach("POST", "/token"), Some((Function::Issuer, false)));
        assert_eq!(reach("GET", "/token"), Some((Function::Issuer, false)));
        assert_eq!(
            reach("GET", "/.well-known/jwks.json"),
            Some((Function::Issuer, false))
        );
        assert_eq!(
            reach("GET", "/statuslists/0"),
            Some((Function::Issuer, false))
        );
        for nowhere in [
            "/",
            "/admin",
            "/.well-known",
            "/books/",
            "/bookshelf",
            "/nowhere",
        ] {
            assert_eq!(reach("GET", nowhere), None, "{nowhere}");
        }
        assert!(routes.is_public("/revoke"));
        assert!(!routes.is_public("/books"));
        assert!(!routes.is_public("/nowhere"));
    }

    #[test]
    fn path_matching_is_api_gateways() {
        assert!(path_matches("/books/{id}", "/books/1"));
        assert!(!path_matches("/books/{id}", "/books/1/2"));
        assert!(!path_matches("/books/{id}", "/books/"));
        assert!(path_matches("/books/{proxy+}", "/books/1/2"));
        assert!(!path_matches("/books/{proxy+}", "/books/1//2"));
        assert!(path_matches("/", "/"));
        assert!(!path_matches("/", "/books"));
    }

    #[test]
    fn malformed_tables_are_refused() {
        for json in [
            r#"{"methods": {"FETCH /x": {"function": "issuer", "authorized": true}}, "route_scopes": {}}"#,
            r#"{"methods": {"GET x": {"function": "issuer", "authorized": true}}, "route_scopes": {}}"#,
            r#"{"methods": {"GET /{a+}/b": {"function": "issuer", "authorized": true}}, "route_scopes": {}}"#,
            r#"{"methods": {"GET /x": {"function": "db", "authorized": true}}, "route_scopes": {}}"#,
            r#"{"methods": {"GET /x": {"function": "issuer", "authorised": true}}, "route_scopes": {}}"#,
            r#"{"methods": {}}"#,
        ] {
            assert!(ApiRoutes::from_json(json).is_err(), "{json}");
        }
    }
}

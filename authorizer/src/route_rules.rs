//! `ROUTE_RULES`: conditions on routes beyond their scopes, and path
//! parameters bound to claims.
//!
//! ```json
//! {"GET /tenants/{tenant}/orders": [
//!    {"when": "'orders:admin' in scopes"},
//!    {"bind": {"tenant": "claims.tenant_id"}}]}
//! ```
//!
//! A route with rules is granted when `ROUTE_SCOPES` grants it and one of
//! its alternatives holds; each holding alternative allows the route with
//! its bound parameters equal to their values (unbound ones stay `*`).
//! Everything is checked here, once, at start: the route exists, each
//! parameter exists, every expression compiles, and no other route's policy
//! resources can reach this route's requests in a way that would bypass its
//! rules.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;

use crate::route_scopes::{Route, RouteScopes};
use crate::route_template::{resource_glob, Pattern, RouteTemplate, Segment};
use crate::rule_expr::{environment, ExprError, RuleExpr, Yields};

/// The rules of every route that has some.
pub struct RouteRules {
    pub(crate) rules: Vec<RouteRule>,
    pub(crate) env: Arc<cel::Env>,
}

impl std::fmt::Debug for RouteRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(&self.rules).finish()
    }
}

impl PartialEq for RouteRules {
    fn eq(&self, other: &Self) -> bool {
        self.rules == other.rules
    }
}

/// One route's alternatives.
#[derive(Debug, PartialEq)]
pub(crate) struct RouteRule {
    /// Its index in the route table.
    pub(crate) route: usize,
    /// `METHOD /path`, as the table writes it.
    pub(crate) key: String,
    pub(crate) template: RouteTemplate,
    pub(crate) alternatives: Vec<Alternative>,
}

/// One way to be granted a route.
#[derive(Debug, PartialEq)]
pub(crate) struct Alternative {
    /// Must yield `true`; absent: holds.
    pub(crate) when: Option<RuleExpr>,
    /// Path parameters and the values they are bound to.
    pub(crate) bind: Vec<BoundParam>,
}

/// A path parameter bound to an expression.
#[derive(Debug, PartialEq)]
pub(crate) struct BoundParam {
    pub(crate) name: String,
    /// Its segment in the route's path.
    pub(crate) segment: usize,
    /// `{name+}`: its value may hold `/`.
    pub(crate) greedy: bool,
    pub(crate) expr: RuleExpr,
}

/// Why `ROUTE_RULES` was refused; every message names the route.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RouteRulesError {
    /// Not a JSON object of route to a list of alternatives.
    #[error("not a JSON object of \"METHOD /path\" to a list of alternatives: {0}")]
    NotJson(String),
    /// A rule for a route `ROUTE_SCOPES` does not have.
    #[error(
        "route {0:?} is not in ROUTE_SCOPES (a rule can only narrow a route the scopes grant)"
    )]
    UnknownRoute(String),
    /// A route with an empty list: it could never be granted.
    #[error("route {0:?} lists no alternatives")]
    NoAlternatives(String),
    /// An alternative that is not `{"when", "bind"}` (a typo such as `bnid`).
    #[error("route {route:?}, alternative {index}: {message}")]
    BadAlternative {
        /// The route key.
        route: String,
        /// The alternative's position, from 1.
        index: usize,
        /// What is wrong.
        message: String,
    },
    /// A bound parameter the route's path does not have.
    #[error("route {route:?}, alternative {index}: no path parameter {param:?} (it has {params})")]
    UnknownParam {
        /// The route key.
        route: String,
        /// The alternative's position, from 1.
        index: usize,
        /// The parameter named.
        param: String,
        /// The route's parameters.
        params: String,
    },
    /// An expression that cannot work.
    #[error("route {route:?}, alternative {index}, {place}: {error}")]
    Expr {
        /// The route key.
        route: String,
        /// The alternative's position, from 1.
        index: usize,
        /// `when` or `bind.PARAM`.
        place: String,
        /// Why, with the line and column.
        error: ExprError,
    },
    /// Another route's resources reach this route's requests.
    #[error(
        "routes {other:?} and {ruled:?}: the policy resources of one match requests of the \
         other, so an Allow for one could bypass the rules of {ruled:?}; give them the same \
         scopes and rules with the bound parameters at the same place, or make the paths disjoint"
    )]
    Bypass {
        /// The route with rules.
        ruled: String,
        /// The route whose resources reach it.
        other: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AlternativeJson {
    when: Option<String>,
    bind: Option<BTreeMap<String, String>>,
}

impl RouteRules {
    /// No rules: every route is granted by its scopes alone.
    pub fn none() -> Self {
        Self {
            rules: Vec::new(),
            env: environment(),
        }
    }

    /// Whether there are any rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Parses and checks `ROUTE_RULES` against the route table.
    pub fn from_json(json: &str, routes: &RouteScopes) -> Result<Self, RouteRulesError> {
        let map: BTreeMap<String, serde_json::Value> =
            serde_json::from_str(json).map_err(|e| RouteRulesError::NotJson(e.to_string()))?;
        let mut rules = Vec::with_capacity(map.len());
        for (key, alternatives) in map {
            let (route, found) = find_route(routes, &key)
                .ok_or_else(|| RouteRulesError::UnknownRoute(key.clone()))?;
            let key = found.key();
            let template = RouteTemplate::parse(&found.path)
                .ok_or_else(|| RouteRulesError::UnknownRoute(key.clone()))?;
            let alternatives: Vec<serde_json::Value> = serde_json::from_value(alternatives)
                .map_err(|e| RouteRulesError::BadAlternative {
                    route: key.clone(),
                    index: 0,
                    message: format!("not a list of alternatives: {e}"),
                })?;
            if alternatives.is_empty() {
                return Err(RouteRulesError::NoAlternatives(key));
            }
            let alternatives = alternatives
                .into_iter()
                .enumerate()
                .map(|(i, json)| compile_alternative(&key, i + 1, &template, json))
                .collect::<Result<_, _>>()?;
            rules.push(RouteRule {
                route,
                key,
                template,
                alternatives,
            });
        }
        rules.sort_by_key(|rule| rule.route);
        check_no_bypass(routes, &rules)?;
        Ok(Self {
            rules,
            env: environment(),
        })
    }
}

/// The route of the table a rule key names (method case-insensitive).
fn find_route<'r>(routes: &'r RouteScopes, key: &str) -> Option<(usize, &'r Route)> {
    let (method, path) = key.split_once(' ')?;
    let (method, path) = (method.trim().to_ascii_uppercase(), path.trim());
    routes
        .routes()
        .iter()
        .enumerate()
        .find(|(_, r)| r.method == method && r.path == path)
}

fn compile_alternative(
    route: &str,
    index: usize,
    template: &RouteTemplate,
    json: serde_json::Value,
) -> Result<Alternative, RouteRulesError> {
    let parsed: AlternativeJson =
        serde_json::from_value(json).map_err(|e| RouteRulesError::BadAlternative {
            route: route.to_owned(),
            index,
            message: e.to_string(),
        })?;
    let expr_error = |place: String| {
        move |error| RouteRulesError::Expr {
            route: route.to_owned(),
            index,
            place,
            error,
        }
    };
    let when = parsed
        .when
        .map(|source| RuleExpr::compile(&source, Yields::Bool))
        .transpose()
        .map_err(expr_error("when".into()))?;
    let mut bind = Vec::new();
    for (name, source) in parsed.bind.unwrap_or_default() {
        let (segment, greedy) =
            template
                .param(&name)
                .ok_or_else(|| RouteRulesError::UnknownParam {
                    route: route.to_owned(),
                    index,
                    param: name.clone(),
                    params: params_list(template),
                })?;
        let expr = RuleExpr::compile(&source, Yields::Strings)
            .map_err(expr_error(format!("bind.{name}")))?;
        bind.push(BoundParam {
            name,
            segment,
            greedy,
            expr,
        });
    }
    Ok(Alternative { when, bind })
}

fn params_list(template: &RouteTemplate) -> String {
    let names: Vec<String> = template
        .params()
        .map(|(_, name, greedy)| format!("{{{name}{}}}", if greedy { "+" } else { "" }))
        .collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

/// Refuses a table where a policy resource of one route can match a request
/// API Gateway routes to another route with rules, unless the two are
/// granted alike ([`granted_alike`]). Requests are read segment-wise (a
/// `{name}` never spans `/`); resources as IAM reads them (`*` does).
fn check_no_bypass(routes: &RouteScopes, rules: &[RouteRule]) -> Result<(), RouteRulesError> {
    let table = routes.routes();
    let ruled = |i: usize| rules.iter().find(|rule| rule.route == i);
    for (i, a) in table.iter().enumerate() {
        for (j, b) in table.iter().enumerate().skip(i + 1) {
            let (rule_a, rule_b) = (ruled(i), ruled(j));
            if rule_a.is_none() && rule_b.is_none() {
                continue;
            }
            if !a.methods().any(|m| b.methods().any(|n| n == m)) {
                continue;
            }
            let (Some(ta), Some(tb)) =
                (RouteTemplate::parse(&a.path), RouteTemplate::parse(&b.path))
            else {
                continue;
            };
            if let (Some(ra), Some(rb)) = (rule_a, rule_b) {
                if granted_alike(a, ra, b, rb) {
                    continue;
                }
            }
            // A route without rules is granted whole with its scopes; its
            // Allow matters only where it reaches a ruled route's requests.
            // A ruled route's Allow reaching an unruled route's request is
            // harmless: both need the same scopes (the table checks that).
            let a_reaches_b =
                rule_b.is_some() && Pattern::glob(&resource_glob(&a.path)).meets(&tb.requests());
            let b_reaches_a =
                rule_a.is_some() && Pattern::glob(&resource_glob(&b.path)).meets(&ta.requests());
            if a_reaches_b || b_reaches_a {
                let (ruled, other) = if a_reaches_b { (b, a) } else { (a, b) };
                return Err(RouteRulesError::Bypass {
                    ruled: ruled.key(),
                    other: other.key(),
                });
            }
        }
    }
    Ok(())
}

/// Whether two ruled routes grant every token alike wherever one's
/// resources can meet the other's requests: the same scopes, the same
/// alternatives, and each bound parameter in the same segment of both
/// paths, after segments that are equal literals (no `*`) or parameters
/// bound in the same alternative. A value then pins the same segment of
/// any request both could match, so the other route's same alternative
/// allows that request too.
fn granted_alike(a: &Route, ra: &RouteRule, b: &Route, rb: &RouteRule) -> bool {
    let scopes = |r: &Route| {
        r.scopes
            .iter()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>()
    };
    if scopes(a) != scopes(b) || ra.alternatives.len() != rb.alternatives.len() {
        return false;
    }
    ra.alternatives
        .iter()
        .zip(&rb.alternatives)
        .all(|(x, y)| same_alternative(x, y) && aligned(x, &ra.template, &rb.template))
}

fn same_alternative(x: &Alternative, y: &Alternative) -> bool {
    let sources = |alt: &Alternative| {
        alt.bind
            .iter()
            .map(|b| (b.name.clone(), b.expr.source.clone()))
            .collect::<BTreeMap<_, _>>()
    };
    x.when == y.when && sources(x) == sources(y)
}

fn aligned(alt: &Alternative, ta: &RouteTemplate, tb: &RouteTemplate) -> bool {
    let bound = |name: &str| alt.bind.iter().any(|b| b.name == name);
    alt.bind.iter().all(|param| {
        let at = param.segment;
        if tb.param(&param.name) != Some((at, param.greedy)) {
            return false;
        }
        (0..at).all(|k| match (ta.segments.get(k), tb.segments.get(k)) {
            (Some(Segment::Literal(x)), Some(Segment::Literal(y))) => x == y && !x.contains('*'),
            (Some(Segment::Param(x)), Some(Segment::Param(y))) => x == y && bound(x),
            _ => false,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(json: &str) -> RouteScopes {
        RouteScopes::from_json(json).unwrap()
    }

    const TENANTS: &str = r#"{"GET /tenants/{tenant}/orders": "orders:read",
        "GET /tenants/{tenant}/orders/{id}": "orders:read",
        "POST /tenants/{tenant}/orders": "orders:write",
        "GET /books": "books:read"}"#;

    #[test]
    fn the_readme_example_compiles() {
        let rules = RouteRules::from_json(
            r#"{"GET /tenants/{tenant}/orders": [{"when": "'orders:admin' in scopes"},
                {"bind": {"tenant": "claims.tenant_id"}}]}"#,
            &table(TENANTS),
        )
        .unwrap();
        let rule = &rules.rules[0];
        assert_eq!(rule.route, 1, "the orders list route is second");
        assert_eq!(rule.key, "GET /tenants/{tenant}/orders");
        assert_eq!(rule.alternatives.len(), 2);
        assert_eq!(rule.alternatives[1].bind[0].segment, 1);
        assert_eq!(rules.rules.len(), 1);
    }

    #[test]
    fn configuration_errors_name_the_route_and_the_place() {
        let routes = table(TENANTS);
        let refused = |json: &str| {
            RouteRules::from_json(json, &routes)
                .unwrap_err()
                .to_string()
        };
        let typo = refused(r#"{"GET /tenants/{tenant}/orders": [{"bnid": {"tenant": "sub"}}]}"#);
        assert!(
            typo.contains("alternative 1") && typo.contains("bnid"),
            "{typo}"
        );
        let missing = refused(r#"{"GET /orders": [{"when": "true"}]}"#);
        assert!(missing.contains("not in ROUTE_SCOPES"), "{missing}");
        let param = refused(r#"{"GET /tenants/{tenant}/orders": [{"bind": {"org": "sub"}}]}"#);
        assert!(
            param.contains("no path parameter \"org\"") && param.contains("{tenant}"),
            "{param}"
        );
        let syntax = refused(r#"{"GET /tenants/{tenant}/orders": [{}, {"when": "sub =="}]}"#);
        assert!(syntax.contains("alternative 2, when: line 1"), "{syntax}");
        let var =
            refused(r#"{"GET /tenants/{tenant}/orders": [{"bind": {"tenant": "tenant_id"}}]}"#);
        assert!(
            var.contains("bind.tenant") && var.contains("unknown variable"),
            "{var}"
        );
        let not_bool = refused(r#"{"GET /tenants/{tenant}/orders": [{"when": "'yes'"}]}"#);
        assert!(not_bool.contains("can never be a bool"), "{not_bool}");
        assert!(refused(r#"{"GET /tenants/{tenant}/orders": []}"#).contains("no alternatives"));
        assert!(refused(r#"{"GET /tenants/{tenant}/orders": {"when": "true"}}"#).contains("list"));
        assert!(refused("[]").contains("not a JSON object"));
    }

    #[test]
    fn routes_granted_alike_may_overlap() {
        let same =
            r#"[{"when": "'orders:admin' in scopes"}, {"bind": {"tenant": "claims.tenant_id"}}]"#;
        let json = format!(
            r#"{{"GET /tenants/{{tenant}}/orders": {same}, "GET /tenants/{{tenant}}/orders/{{id}}": {same}}}"#
        );
        assert!(RouteRules::from_json(&json, &table(TENANTS)).is_ok());
        // Different rules on routes whose resources meet: refused.
        let json = format!(
            r#"{{"GET /tenants/{{tenant}}/orders": {same}, "GET /tenants/{{tenant}}/orders/{{id}}": [{{"bind": {{"tenant": "sub"}}}}]}}"#
        );
        let error = RouteRules::from_json(&json, &table(TENANTS)).unwrap_err();
        assert!(matches!(error, RouteRulesError::Bypass { .. }), "{error}");
    }

    #[test]
    fn an_unruled_route_that_reaches_a_ruled_one_is_refused() {
        let routes = table(
            r#"{"GET /tenants/*": "orders:read", "GET /tenants/{tenant}/orders": "orders:read"}"#,
        );
        let error = RouteRules::from_json(
            r#"{"GET /tenants/{tenant}/orders": [{"bind": {"tenant": "claims.tenant_id"}}]}"#,
            &routes,
        )
        .unwrap_err();
        assert_eq!(
            error,
            RouteRulesError::Bypass {
                ruled: "GET /tenants/{tenant}/orders".into(),
                other: "GET /tenants/*".into()
            }
        );
        // The item route's resource (`/tenants/*/orders/*`) reaches no list
        // request: an unruled item route beside a ruled list is fine.
        assert!(RouteRules::from_json(
            r#"{"GET /tenants/{tenant}/orders": [{"bind": {"tenant": "claims.tenant_id"}}]}"#,
            &table(TENANTS)
        )
        .is_ok());
    }

    #[test]
    fn misaligned_bindings_are_not_alike() {
        let routes = table(r#"{"GET /{a}/{b}": "s", "GET /{b}/{a}/x": "s"}"#);
        let rule = r#"[{"bind": {"a": "sub"}}]"#;
        let json = format!(r#"{{"GET /{{a}}/{{b}}": {rule}, "GET /{{b}}/{{a}}/x": {rule}}}"#);
        assert!(matches!(
            RouteRules::from_json(&json, &routes),
            Err(RouteRulesError::Bypass { .. })
        ));
    }
}

//! What a verified token's route rules allow: evaluated once per token (its
//! grants do not depend on the request, so a cached decision stays right),
//! as resource paths with the bound parameters filled in.
//!
//! A value can never widen a grant: an empty value, `*`, `?`, a control
//! character, over [`MAX_VALUE_BYTES`], `/` in a one-segment parameter, or a
//! `.` or `..` segment (or an empty one in a greedy parameter) makes that
//! value grant nothing.
//! More than [`MAX_VALUES`] values, or paths, for one alternative grant
//! nothing at all. An expression that fails denies its alternative.

use cel::Value as CelValue;
use serde_json::Value;

use crate::route_rules::{Alternative, BoundParam, RouteRule, RouteRules};
use crate::rule_expr::TokenVariables;

/// Longest value a parameter may be bound to.
pub const MAX_VALUE_BYTES: usize = 256;

/// Most values one parameter may be bound to, and most paths one
/// alternative may allow.
pub const MAX_VALUES: usize = 32;

/// The resource paths each ruled route allows one token (empty: none).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleGrants {
    /// `(route index, paths)`, by route index; every ruled route is here.
    routes: Vec<(usize, Vec<String>)>,
}

impl RuleGrants {
    /// The paths route `index` allows, or `None` if it has no rules (its
    /// scopes alone decide).
    pub fn for_route(&self, index: usize) -> Option<&[String]> {
        self.routes
            .binary_search_by_key(&index, |(route, _)| *route)
            .ok()
            .map(|at| self.routes[at].1.as_slice())
    }

    /// About how many bytes it holds (what a decision-cache entry costs).
    pub fn bytes(&self) -> usize {
        self.routes
            .iter()
            .flat_map(|(_, paths)| paths)
            .map(String::len)
            .sum()
    }
}

/// One alternative's verdict for a token, as `tollgate explain` shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct AlternativeOutcome {
    /// `when` held (absent: held); `Err` says why it could not be decided.
    pub holds: Result<bool, String>,
    /// Each bound parameter and the values it accepted.
    pub values: Vec<(String, Vec<String>)>,
    /// Values refused: parameter, value (escaped, cut), reason.
    pub refused: Vec<(String, String, &'static str)>,
    /// A reason the whole alternative grants nothing despite holding.
    pub void: Option<String>,
    /// The resource paths it allows.
    pub paths: Vec<String>,
}

/// One route's rules evaluated for a token.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleOutcome {
    /// The route's index in the table.
    pub route: usize,
    /// `METHOD /path`.
    pub key: String,
    /// Each alternative's source (`when`, then `bind`), for display.
    pub sources: Vec<String>,
    /// Each alternative, in order.
    pub alternatives: Vec<AlternativeOutcome>,
}

impl RuleOutcome {
    /// Every path the holding alternatives allow, once each.
    pub fn paths(&self) -> Vec<String> {
        let mut paths: Vec<String> = Vec::new();
        for path in self.alternatives.iter().flat_map(|a| &a.paths) {
            if !paths.contains(path) {
                paths.push(path.clone());
            }
        }
        paths
    }
}

impl RouteRules {
    /// Evaluates every rule for a token with `claims` and mapped `scopes`.
    pub fn evaluate(&self, claims: &Value, scopes: &[String]) -> Vec<RuleOutcome> {
        self.outcomes(claims, scopes, true)
    }

    /// The grants of a token, logging each value refused (with its route
    /// and reason) once: tokens are evaluated once, then cached.
    pub fn grants(&self, claims: &Value, scopes: &[String]) -> (RuleGrants, usize) {
        let mut refused = 0;
        let routes = self
            .outcomes(claims, scopes, false)
            .into_iter()
            .map(|outcome| {
                for alternative in &outcome.alternatives {
                    for (param, value, reason) in &alternative.refused {
                        refused += 1;
                        tracing::warn!(route = %outcome.key, param, value, reason, "route rule value grants nothing");
                    }
                    if let Some(void) = &alternative.void {
                        refused += 1;
                        tracing::warn!(route = %outcome.key, reason = %void, "route rule alternative grants nothing");
                    }
                }
                (outcome.route, outcome.paths())
            })
            .collect();
        (RuleGrants { routes }, refused)
    }

    /// Every rule evaluated over one set of the token's variables; each
    /// alternative's source is written out only `with_sources` (for display:
    /// formatting them costs more than the rules).
    fn outcomes(&self, claims: &Value, scopes: &[String], with_sources: bool) -> Vec<RuleOutcome> {
        if self.rules.is_empty() {
            return Vec::new();
        }
        let vars = TokenVariables::new(&self.env, claims, scopes);
        self.rules
            .iter()
            .map(|rule| RuleOutcome {
                route: rule.route,
                key: rule.key.clone(),
                sources: if with_sources {
                    rule.alternatives.iter().map(describe).collect()
                } else {
                    Vec::new()
                },
                alternatives: rule
                    .alternatives
                    .iter()
                    .map(|alternative| evaluate(rule, alternative, &vars))
                    .collect(),
            })
            .collect()
    }
}

fn describe(alternative: &Alternative) -> String {
    let mut parts = Vec::new();
    if let Some(when) = &alternative.when {
        parts.push(format!("when {}", when.source));
    }
    for param in &alternative.bind {
        parts.push(format!("bind {} = {}", param.name, param.expr.source));
    }
    if parts.is_empty() {
        "always".to_owned()
    } else {
        parts.join(", ")
    }
}

fn evaluate(
    rule: &RouteRule,
    alternative: &Alternative,
    vars: &TokenVariables,
) -> AlternativeOutcome {
    let mut out = AlternativeOutcome {
        holds: Ok(true),
        values: Vec::new(),
        refused: Vec::new(),
        void: None,
        paths: Vec::new(),
    };
    if let Some(when) = &alternative.when {
        out.holds = match when.evaluate(vars) {
            Ok(CelValue::Bool(b)) => Ok(b),
            Ok(other) => Err(format!("yields {}, not a bool", other.type_of())),
            Err(error) => Err(error),
        };
    }
    if out.holds != Ok(true) {
        return out;
    }
    let mut per_param: Vec<(usize, Vec<String>)> = Vec::new();
    for param in &alternative.bind {
        match bound_values(param, vars) {
            Ok(values) => {
                let mut accepted = Vec::new();
                for value in values {
                    match refusal(&value, param.greedy) {
                        None => accepted.push(value),
                        Some(reason) => {
                            out.refused
                                .push((param.name.clone(), shown(&value), reason))
                        }
                    }
                }
                out.values.push((param.name.clone(), accepted.clone()));
                per_param.push((param.segment, accepted));
            }
            Err(void) => {
                out.void = Some(format!("{}: {void}", param.name));
                return out;
            }
        }
    }
    match combine(&per_param) {
        Some(combinations) => {
            out.paths = combinations
                .iter()
                .map(|values| {
                    let filled: Vec<(usize, &str)> =
                        values.iter().map(|(at, v)| (*at, v.as_str())).collect();
                    rule.template.fill(&filled)
                })
                .collect();
        }
        None => out.void = Some(format!("more than {MAX_VALUES} paths")),
    }
    out
}

/// A bind expression's values: a string, or a list of strings of at most
/// [`MAX_VALUES`]; anything else voids the alternative.
fn bound_values(param: &BoundParam, vars: &TokenVariables) -> Result<Vec<String>, String> {
    match param.expr.evaluate(vars)? {
        CelValue::String(s) => Ok(vec![s.to_string()]),
        CelValue::List(items) if items.len() > MAX_VALUES => {
            Err(format!("{} values, more than {MAX_VALUES}", items.len()))
        }
        CelValue::List(items) => items
            .iter()
            .map(|item| match item {
                CelValue::String(s) => Ok(s.to_string()),
                other => Err(format!(
                    "a list holding {}, not only strings",
                    other.type_of()
                )),
            })
            .collect(),
        other => Err(format!(
            "yields {}, not a string or a list of strings",
            other.type_of()
        )),
    }
}

/// Why a value would widen or break a grant, if it would.
fn refusal(value: &str, greedy: bool) -> Option<&'static str> {
    if value.is_empty() {
        Some("empty")
    } else if value.len() > MAX_VALUE_BYTES {
        Some("longer than 256 bytes")
    } else if value.contains(['*', '?']) {
        Some("a wildcard (* or ?)")
    } else if value.chars().any(char::is_control) {
        Some("a control character")
    } else if !greedy && value.contains('/') {
        Some("a / in a one-segment parameter")
    } else if !greedy && (value == "." || value == "..") {
        Some("a . or .. segment")
    } else if greedy
        && value
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
    {
        Some("an empty, . or .. segment")
    } else {
        None
    }
}

/// Every combination of one value per parameter; `None` past [`MAX_VALUES`].
/// No parameter bound: one combination, the route with every parameter `*`.
fn combine(per_param: &[(usize, Vec<String>)]) -> Option<Vec<Vec<(usize, String)>>> {
    let mut combinations: Vec<Vec<(usize, String)>> = vec![Vec::new()];
    for (segment, values) in per_param {
        if combinations.len().saturating_mul(values.len()) > MAX_VALUES {
            return None;
        }
        combinations = combinations
            .iter()
            .flat_map(|done| {
                values.iter().map(move |value| {
                    let mut next = done.clone();
                    next.push((*segment, value.clone()));
                    next
                })
            })
            .collect();
    }
    Some(combinations)
}

/// A value as logs and `explain` show it: escaped, at most 80 characters.
fn shown(value: &str) -> String {
    let escaped = value.escape_debug().to_string();
    match escaped.char_indices().nth(80) {
        Some((cut, _)) => format!("{}…", &escaped[..cut]),
        None => escaped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route_scopes::RouteScopes;
    use serde_json::json;

    fn rules(scopes: &str, rules: &str) -> RouteRules {
        RouteRules::from_json(rules, &RouteScopes::from_json(scopes).unwrap()).unwrap()
    }

    fn tenants() -> RouteRules {
        rules(
            r#"{"GET /tenants/{tenant}/orders": "orders:read"}"#,
            r#"{"GET /tenants/{tenant}/orders": [{"when": "'orders:admin' in scopes"},
                {"bind": {"tenant": "claims.tenant_id"}}]}"#,
        )
    }

    fn paths(rules: &RouteRules, claims: Value, scopes: &[&str]) -> Vec<String> {
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        let (grants, _) = rules.grants(&claims, &scopes);
        grants.for_route(0).expect("the route is ruled").to_vec()
    }

    #[test]
    fn a_bound_parameter_allows_its_value_only() {
        let rules = tenants();
        assert_eq!(
            paths(&rules, json!({"tenant_id": "acme"}), &["orders:read"]),
            ["/tenants/acme/orders"]
        );
        // The admin alternative leaves the parameter unbound.
        assert_eq!(
            paths(&rules, json!({}), &["orders:read", "orders:admin"]),
            ["/tenants/*/orders"]
        );
        // No tenant claim: the bind fails, nothing is granted.
        assert!(paths(&rules, json!({}), &["orders:read"]).is_empty());
        assert!(paths(&rules, json!({"tenant_id": 7}), &["orders:read"]).is_empty());
    }

    #[test]
    fn hostile_values_grant_nothing() {
        let rules = tenants();
        for hostile in [
            "",
            "*",
            "a*",
            "?",
            "a/b",
            "..",
            "a\nb",
            "\u{7f}",
            &"x".repeat(257),
        ] {
            assert!(
                paths(&rules, json!({"tenant_id": hostile}), &["orders:read"]).is_empty(),
                "{hostile:?}"
            );
        }
        // A list keeps its good values only.
        assert_eq!(
            paths(
                &rules,
                json!({"tenant_id": ["acme", "*", "beta"]}),
                &["orders:read"]
            ),
            ["/tenants/acme/orders", "/tenants/beta/orders"]
        );
        let many: Vec<String> = (0..33).map(|i| format!("t{i}")).collect();
        assert!(paths(&rules, json!({"tenant_id": many}), &["orders:read"]).is_empty());
    }

    #[test]
    fn greedy_parameters_take_a_path_exactly() {
        let rules = rules(
            r#"{"GET /files/{proxy+}": "files:read"}"#,
            r#"{"GET /files/{proxy+}": [{"bind": {"proxy": "'home/' + sub"}}]}"#,
        );
        assert_eq!(
            paths(&rules, json!({"sub": "alice"}), &["files:read"]),
            ["/files/home/alice"]
        );
        assert!(paths(&rules, json!({"sub": "../etc"}), &["files:read"]).is_empty());
        assert!(paths(&rules, json!({"sub": ""}), &["files:read"]).is_empty());
    }

    #[test]
    fn an_explanation_says_each_verdict() {
        let rules = tenants();
        let outcome = &rules.evaluate(&json!({"tenant_id": ["acme", "*"]}), &[])[0];
        assert_eq!(
            outcome.sources,
            [
                "when 'orders:admin' in scopes",
                "bind tenant = claims.tenant_id"
            ]
        );
        assert_eq!(outcome.alternatives[0].holds, Ok(false));
        let bound = &outcome.alternatives[1];
        assert_eq!(
            bound.values,
            [("tenant".to_owned(), vec!["acme".to_owned()])]
        );
        assert_eq!(
            bound.refused,
            [("tenant".to_owned(), "*".to_owned(), "a wildcard (* or ?)")]
        );
    }
}

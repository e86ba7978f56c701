//! Route rules mean exactly what they say, in a policy API Gateway may
//! cache: over random tables of routes with path parameters, random rules
//! (conditions, bound parameters, alternatives), claims full of hostile
//! values and requests filled with them, the whole-API policy built for a
//! token allows a request (by the local gateway's IAM evaluator) exactly
//! when the route API Gateway routes it to is granted by the token's scopes
//! and, if it has rules, by an alternative whose bound values equal the
//! request's parameters. The same policy answers every request, as a cached
//! answer would.

use std::collections::BTreeMap;

use authorizer::{Access, PolicyBuilder, RouteRules, RouteScopes, HTTP_METHODS};
use proptest::prelude::*;
use serde_json::{json, Value};
use tollgate::policy_eval::{evaluate, Verdict};

const API: &str = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod";

/// Route paths: parameters, a greedy tail, a literal route among them, and
/// a `*` glob route (ROUTE_SCOPES' own wildcard).
const PATHS: [&str; 8] = [
    "/t/{tenant}/orders",
    "/t/{tenant}/orders/{id}",
    "/t/{tenant}/{proxy+}",
    "/t/admin/orders",
    "/home/{user}/{proxy+}",
    "/files/{proxy+}",
    "/x/{a}/{b}",
    "/t/*",
];

/// Values for claims and for request parameters: ordinary, hostile, and
/// values that only look like paths.
const VALUES: [&str; 14] = [
    "acme",
    "beta",
    "admin",
    "orders",
    "*",
    "a*",
    "?",
    "a/b",
    "",
    "..",
    "%2F",
    "x\u{0}y",
    "home/alice",
    "ACME",
];

const WHENS: [Option<&str>; 5] = [
    None,
    Some("'a' in scopes"),
    Some("claims.admin == true"),
    Some("claims.missing == 1"),
    Some("sub.startsWith('ac')"),
];

const BINDS: [&str; 5] = [
    "sub",
    "claims.tenant",
    "claims.tenants",
    "claims.n",
    "'home/' + sub",
];

#[derive(Clone, Debug)]
struct RouteSpec {
    method: &'static str,
    path: &'static str,
    scope: &'static str,
    /// `(when, binds)` per alternative; `None`: no rules.
    rules: Option<Vec<(Option<&'static str>, Vec<&'static str>)>>,
}

fn route_spec() -> impl Strategy<Value = RouteSpec> {
    let alternative = (
        prop::sample::select(WHENS.to_vec()),
        prop::collection::vec(prop::sample::select(BINDS.to_vec()), 0..=2),
    );
    (
        prop::sample::select(vec!["GET", "*"]),
        prop::sample::select(PATHS.to_vec()),
        prop::sample::select(vec!["a", "b"]),
        prop::option::weighted(0.7, prop::collection::vec(alternative, 1..=2)),
    )
        .prop_map(|(method, path, scope, rules)| RouteSpec {
            method,
            path,
            scope,
            rules,
        })
}

fn params(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|s| s.trim_end_matches('+'))
        .collect()
}

/// The table's JSON documents; `None` when two specs name one route.
fn documents(specs: &[RouteSpec]) -> Option<(String, String)> {
    let mut scopes = BTreeMap::new();
    let mut rules = BTreeMap::new();
    for spec in specs {
        let key = format!("{} {}", spec.method, spec.path);
        if scopes.insert(key.clone(), json!(spec.scope)).is_some() {
            return None;
        }
        if let Some(alternatives) = &spec.rules {
            let names = params(spec.path);
            let list: Vec<Value> = alternatives
                .iter()
                .map(|(when, binds)| {
                    let mut alt = serde_json::Map::new();
                    if let Some(when) = when {
                        alt.insert("when".into(), json!(when));
                    }
                    let bind: serde_json::Map<String, Value> = names
                        .iter()
                        .zip(binds)
                        .map(|(name, expr)| (name.to_string(), json!(expr)))
                        .collect();
                    if !bind.is_empty() {
                        alt.insert("bind".into(), Value::Object(bind));
                    }
                    Value::Object(alt)
                })
                .collect();
            rules.insert(key, Value::Array(list));
        }
    }
    Some((json!(scopes).to_string(), json!(rules).to_string()))
}

/// How API Gateway routes `path`: the matching route whose segments are
/// the most specific, left to right (literal, then `{param}`, then greedy);
/// a `*` glob route (not an API Gateway path) only when no other matches.
fn routed<'s>(specs: &'s [RouteSpec], method: &str, path: &str) -> Option<&'s RouteSpec> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let rank = |spec: &RouteSpec| -> Option<Vec<u8>> {
        let wanted: Vec<&str> = spec.path.trim_start_matches('/').split('/').collect();
        if spec.path.contains('*') {
            return authorizer::glob_matches(spec.path.as_bytes(), path.as_bytes()).then(Vec::new);
        }
        let mut rank = Vec::new();
        for (i, w) in wanted.iter().enumerate() {
            if w.ends_with("+}") {
                return (segments.len() > i).then(|| {
                    rank.push(1);
                    rank
                });
            }
            let given = segments.get(i)?;
            if w.starts_with('{') {
                rank.push(2);
            } else if w == given {
                rank.push(3);
            } else {
                return None;
            }
        }
        (segments.len() == wanted.len()).then_some(rank)
    };
    specs
        .iter()
        .filter(|s| s.method == "*" || s.method == method)
        .filter_map(|s| rank(s).map(|r| (r, s)))
        .max_by(|(a, _), (b, _)| a.cmp(b))
        .map(|(_, s)| s)
}

/// What the rules say for a request routed to `spec`, written from the
/// contract, not from the code.
fn rules_say(spec: &RouteSpec, path: &str, claims: &Value, scopes: &[&str]) -> bool {
    if !scopes.contains(&spec.scope) {
        return false;
    }
    let Some(alternatives) = &spec.rules else {
        return true;
    };
    let names = params(spec.path);
    let wanted: Vec<&str> = spec.path.trim_start_matches('/').split('/').collect();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let value_of = |name: &str| -> String {
        let at = wanted
            .iter()
            .position(|w| w.trim_matches(['{', '}', '+']) == name)
            .expect("a parameter of the route");
        if wanted[at].ends_with("+}") {
            segments[at..].join("/")
        } else {
            segments[at].to_owned()
        }
    };
    alternatives.iter().any(|(when, binds)| {
        let holds = match *when {
            None => true,
            Some("'a' in scopes") => scopes.contains(&"a"),
            Some("claims.admin == true") => claims["admin"] == json!(true),
            Some("claims.missing == 1") => false,
            Some("sub.startsWith('ac')") => {
                claims["sub"].as_str().is_some_and(|s| s.starts_with("ac"))
            }
            Some(other) => unreachable!("{other}"),
        };
        holds
            && names.iter().zip(binds).all(|(name, expr)| {
                let greedy = spec.path.contains(&format!("{{{name}+}}"));
                let values: Vec<String> = match *expr {
                    "sub" => claims["sub"]
                        .as_str()
                        .map(str::to_owned)
                        .into_iter()
                        .collect(),
                    "claims.tenant" => claims["tenant"]
                        .as_str()
                        .map(str::to_owned)
                        .into_iter()
                        .collect(),
                    "claims.tenants" => match &claims["tenants"] {
                        Value::Array(items) if items.iter().all(Value::is_string) => items
                            .iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect(),
                        _ => Vec::new(),
                    },
                    "claims.n" => Vec::new(),
                    "'home/' + sub" => claims["sub"]
                        .as_str()
                        .map(|s| format!("home/{s}"))
                        .into_iter()
                        .collect(),
                    other => unreachable!("{other}"),
                };
                let actual = value_of(name);
                values.iter().any(|v| *v == actual && acceptable(v, greedy))
            })
    })
}

/// The contract's values that grant: no wildcard, no control character,
/// not empty or too long, no `/` in a one-segment parameter, no empty or
/// dot segment.
fn acceptable(value: &str, greedy: bool) -> bool {
    !value.is_empty()
        && value.len() <= 256
        && !value.contains(['*', '?'])
        && !value.chars().any(char::is_control)
        && (greedy || !value.contains('/'))
        && value
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != "..")
}

fn claims() -> impl Strategy<Value = Value> {
    let value = prop::sample::select(VALUES.to_vec());
    (
        value.clone(),
        value.clone(),
        prop::collection::vec(value, 0..=3),
        any::<bool>(),
    )
        .prop_map(|(sub, tenant, tenants, admin)| {
            json!({"sub": sub, "tenant": tenant, "tenants": tenants, "admin": admin, "n": 7})
        })
}

/// A request on one of the routes' shapes, parameters filled with values
/// (only routable ones: no `/` in a segment, none empty).
fn request() -> impl Strategy<Value = (&'static str, String)> {
    let segment = prop::sample::select(
        VALUES
            .iter()
            .copied()
            .filter(|v| !v.is_empty() && !v.contains('/'))
            .collect::<Vec<_>>(),
    );
    (
        prop::sample::select(HTTP_METHODS.to_vec()),
        prop::sample::select(PATHS.to_vec()),
        prop::collection::vec(segment, 4),
        any::<bool>(),
    )
        .prop_map(|(method, path, fill, deeper)| {
            let mut fill = fill.into_iter();
            let path = path
                .split('/')
                .map(|s| {
                    let value = fill.next().unwrap_or("v");
                    if s.ends_with("+}") && deeper {
                        format!("home/{value}")
                    } else if s.starts_with('{') || s == "*" {
                        value.to_owned()
                    } else {
                        s.to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            (method, path)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6000))]

    #[test]
    fn the_policy_allows_exactly_what_the_rules_say(
        specs in prop::collection::vec(route_spec(), 1..=4),
        claims in claims(),
        granted in prop::sample::subsequence(vec!["a", "b"], 0..=2),
        requests in prop::collection::vec(request(), 1..=6),
    ) {
        let Some((scopes_json, rules_json)) = documents(&specs) else { return Ok(()) };
        let Ok(routes) = RouteScopes::from_json(&scopes_json) else { return Ok(()) };
        let Ok(rules) = RouteRules::from_json(&rules_json, &routes) else { return Ok(()) };
        let mapped: Vec<String> = granted.iter().map(|s| s.to_string()).collect();
        let (grants, _) = rules.grants(&claims, &mapped);
        let policy = PolicyBuilder::new(&routes).build_with_rules(API, &granted, &grants);
        let policy = serde_json::to_value(&policy).expect("policy serializes");
        for (method, path) in &requests {
            let Some(route) = routed(&specs, method, path) else { continue };
            let expected = rules_say(route, path, &claims, &granted);
            let by_policy = evaluate(&policy, &format!("{API}/{method}{path}")).expect("policy") == Verdict::Allow;
            prop_assert_eq!(
                by_policy, expected,
                "request {} {} routed to {:?}; claims {}; scopes {:?}; rules {}; scopes {}",
                method, path, route, claims, granted, rules_json, scopes_json
            );
            prop_assert_eq!(routes.access(method, path, &granted, &grants) == Access::Allowed, expected);
        }
    }
}

/// The README's example: a tenant reads its own orders, an admin any, and
/// nobody another tenant's; a cached answer reused for another tenant's
/// path denies it.
#[test]
fn a_tenant_reads_only_its_own_orders() {
    let routes = RouteScopes::from_json(r#"{"GET /tenants/{tenant}/orders": "orders:read"}"#)
        .expect("scopes");
    let rules = RouteRules::from_json(
        r#"{"GET /tenants/{tenant}/orders": [{"when": "'orders:admin' in scopes"},
            {"bind": {"tenant": "claims.tenant_id"}}]}"#,
        &routes,
    )
    .expect("rules");
    let policy_for = |claims: Value, scopes: &[&str]| {
        let mapped: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        let (grants, _) = rules.grants(&claims, &mapped);
        serde_json::to_value(PolicyBuilder::new(&routes).build_with_rules(API, scopes, &grants))
            .expect("policy")
    };
    let allows = |policy: &Value, path: &str| {
        evaluate(policy, &format!("{API}/GET{path}")).expect("policy") == Verdict::Allow
    };
    let acme = policy_for(json!({"tenant_id": "acme"}), &["orders:read"]);
    assert!(allows(&acme, "/tenants/acme/orders"));
    assert!(!allows(&acme, "/tenants/beta/orders"));
    assert!(!allows(&acme, "/tenants/acme/orders/../beta"));
    let hostile = policy_for(json!({"tenant_id": "*"}), &["orders:read"]);
    assert!(!allows(&hostile, "/tenants/acme/orders"));
    let admin = policy_for(json!({}), &["orders:read", "orders:admin"]);
    assert!(allows(&admin, "/tenants/acme/orders"));
    assert!(allows(&admin, "/tenants/beta/orders"));
}

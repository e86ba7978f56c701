//! `ROUTE_RULES` (CEL conditions and bound path parameters) and the
//! policy built from it. Mode 0: the rest is `ROUTE_SCOPES` and
//! `ROUTE_RULES` JSON separated by a NUL byte (seeds: the tests' and the
//! demo's tables), tried with the claims of a few tokens. Otherwise
//! structured: routes with path parameters drawn from a small alphabet so
//! they overlap, rules whose `when` and `bind` expressions are either from
//! a list of meaningful ones or the fuzzer's own text (the CEL parser and
//! compile checks), hostile claims, granted scopes and requests filled with
//! claim-like values.
//!
//! Asserts, for every accepted table: the whole-API policy built for a
//! token never allows a request the table and its rules refuse
//! (`RouteScopes::access`, judged on the same request), by the local
//! gateway's IAM evaluation; and no other stage is ever allowed. (What
//! values may grant is the unit tests' and `tests/rules_exact.rs`'s.)
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use authorizer::{Access, PolicyBuilder, RouteRules, RouteScopes, HTTP_METHODS};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use tollgate_fuzz::policy::policy_eval::{evaluate, Verdict};
use tollgate_fuzz::Json;

const API_BASE: &str = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod";
const OTHER_STAGE: &str = "arn:aws:execute-api:eu-west-1:123456789012:abc123/test";

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
const VERBS: [&str; 3] = ["GET", "*", "DELETE"];
const SCOPES: [&str; 3] = ["a", "b", "books:read"];
const WHENS: [&str; 6] = [
    "'a' in scopes",
    "claims.admin == true",
    "claims.missing == 1",
    "sub.startsWith('ac')",
    "iss == 'https://issuer.fuzz.test' && 'x' in aud",
    "claims.tenants.exists(t, t == 'acme')",
];
const BINDS: [&str; 7] = [
    "sub",
    "claims.tenant",
    "claims.tenants",
    "claims.n",
    "'home/' + sub",
    "claims.tenants.map(t, t + '-x')",
    "aud",
];
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

/// An expression: one of the list's, or the fuzzer's own text.
#[derive(Arbitrary, Debug)]
enum Expr {
    Listed(u8),
    Own(String),
}

impl Expr {
    fn text<'a>(&'a self, list: &[&'a str]) -> &'a str {
        match self {
            Expr::Listed(i) => list[usize::from(*i) % list.len()],
            Expr::Own(text) => text,
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Alternative {
    when: Option<Expr>,
    binds: Vec<Expr>,
}

#[derive(Arbitrary, Debug)]
struct RouteSpec {
    verb: u8,
    path: u8,
    scope: u8,
    rules: Option<Vec<Alternative>>,
}

#[derive(Arbitrary, Debug)]
struct Input {
    routes: Vec<RouteSpec>,
    claims: Vec<(u8, Json)>,
    listed_claims: Vec<(u8, u8)>,
    granted: Vec<u8>,
    requests: Vec<(u8, u8, Vec<u8>)>,
}

fn params(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|s| s.trim_end_matches('+'))
        .collect()
}

/// The `ROUTE_SCOPES` and `ROUTE_RULES` documents of the specs.
fn documents(specs: &[RouteSpec]) -> (String, String) {
    let mut scopes = serde_json::Map::new();
    let mut rules = serde_json::Map::new();
    for spec in specs {
        let path = PATHS[usize::from(spec.path) % PATHS.len()];
        let key = format!("{} {path}", VERBS[usize::from(spec.verb) % VERBS.len()]);
        scopes.insert(
            key.clone(),
            json!(SCOPES[usize::from(spec.scope) % SCOPES.len()]),
        );
        let Some(alternatives) = &spec.rules else {
            continue;
        };
        let names = params(path);
        let list: Vec<Value> = alternatives
            .iter()
            .take(4)
            .map(|alternative| {
                let mut alt = serde_json::Map::new();
                if let Some(when) = &alternative.when {
                    alt.insert("when".into(), json!(when.text(&WHENS)));
                }
                let bind: serde_json::Map<String, Value> = names
                    .iter()
                    .zip(&alternative.binds)
                    .map(|(name, expr)| (name.to_string(), json!(expr.text(&BINDS))))
                    .collect();
                if !bind.is_empty() {
                    alt.insert("bind".into(), Value::Object(bind));
                }
                Value::Object(alt)
            })
            .collect();
        rules.insert(key, Value::Array(list));
    }
    (
        Value::Object(scopes).to_string(),
        Value::Object(rules).to_string(),
    )
}

/// A request on one of the route shapes, parameters and stars filled.
fn request(verb: u8, shape: u8, fill: &[u8]) -> (&'static str, String) {
    let mut fill = fill.iter();
    let path = PATHS[usize::from(shape) % PATHS.len()]
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') || segment == "*" {
                let value = fill
                    .next()
                    .map_or("v", |i| VALUES[usize::from(*i) % VALUES.len()]);
                value.to_owned()
            } else {
                segment.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/");
    (HTTP_METHODS[usize::from(verb) % HTTP_METHODS.len()], path)
}

/// Builds the policy for `claims` and `scopes` and checks it against the
/// table on every request.
fn check(
    routes: &RouteScopes,
    rules: &RouteRules,
    claims: &Value,
    scopes: &[&str],
    requests: &[(&str, String)],
) {
    let owned: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
    let (grants, _refused) = rules.grants(claims, &owned);
    let policy = PolicyBuilder::new(routes).build_with_rules(API_BASE, scopes, &grants);
    let policy = serde_json::to_value(&policy).expect("a policy serializes");
    for (method, path) in requests {
        let arn = format!("{API_BASE}/{method}{path}");
        let verdict = evaluate(&policy, &arn).unwrap_or_else(|e| panic!("{e}: {policy}"));
        if verdict == Verdict::Allow {
            assert_eq!(
                routes.access(method, path, scopes, &grants),
                Access::Allowed,
                "the policy allows {method} {path}, which the table refuses {scopes:?} with \
                 claims {claims}: {policy}"
            );
        }
        let other = format!("{OTHER_STAGE}/{method}{path}");
        assert_eq!(
            evaluate(&policy, &other),
            Ok(Verdict::Deny),
            "another stage allowed: {other}"
        );
    }
}

/// Claims of a few tokens for the raw mode.
fn sample_claims() -> [Value; 3] {
    [
        json!({"sub": "acme", "tenant": "acme", "tenants": ["acme", "beta"], "admin": false}),
        json!({"sub": "*", "tenant": "a/b", "tenants": ["..", ""], "admin": true}),
        json!({"sub": 7, "tenants": "acme"}),
    ]
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode == 0 {
        let Ok(text) = std::str::from_utf8(rest) else {
            return;
        };
        let Some((scopes_json, rules_json)) = text.split_once('\0') else {
            return;
        };
        let Ok(routes) = RouteScopes::from_json(scopes_json) else {
            return;
        };
        let Ok(rules) = RouteRules::from_json(rules_json, &routes) else {
            return;
        };
        let mut requests = Vec::new();
        for route in routes.routes() {
            let filled = route.path.replace('*', "acme");
            for method in HTTP_METHODS {
                requests.push((method, filled.clone()));
            }
        }
        for claims in sample_claims() {
            check(&routes, &rules, &claims, &[], &requests);
            check(&routes, &rules, &claims, &["books:read", "a"], &requests);
        }
        return;
    }
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(rest)) else {
        return;
    };
    if input.routes.len() > 6 || input.requests.len() > 12 {
        return;
    }
    let (scopes_json, rules_json) = documents(&input.routes);
    let Ok(routes) = RouteScopes::from_json(&scopes_json) else {
        return;
    };
    let Ok(rules) = RouteRules::from_json(&rules_json, &routes) else {
        return;
    };
    let mut claims = serde_json::Map::new();
    for (name, value) in &input.listed_claims {
        let name = ["sub", "tenant", "tenants", "admin", "n"][usize::from(*name) % 5];
        claims.insert(
            name.into(),
            json!(VALUES[usize::from(*value) % VALUES.len()]),
        );
    }
    for (name, value) in input.claims.iter().take(6) {
        let name = ["sub", "tenant", "tenants", "admin", "n", "iss", "aud"][usize::from(*name) % 7];
        claims.insert(name.into(), value.value());
    }
    let claims = Value::Object(claims);
    let granted: Vec<&str> = input
        .granted
        .iter()
        .map(|s| SCOPES[usize::from(*s) % SCOPES.len()])
        .collect();
    let requests: Vec<(&str, String)> = input
        .requests
        .iter()
        .map(|(verb, shape, fill)| request(*verb, *shape, fill))
        .collect();
    check(&routes, &rules, &claims, &granted, &requests);
});

//! `ROUTE_SCOPES` and the policy builder behind it. Mode 0: the rest is the
//! table's JSON (seeds: the tests' tables) and every scope it names is
//! tried alone, plus none. Otherwise structured: a table of routes drawn
//! from a small alphabet of verbs, path segments and scopes (so routes
//! overlap often), granted scopes, request paths, and an HTTP API route key.
//!
//! Asserts, for every accepted table: the policy `PolicyBuilder` builds
//! allows only resources the table grants those scopes; its IAM
//! evaluation (the local gateway's `policy_eval`, the tests' evaluator)
//! equals `RouteScopes::permits` on every probe request; no other stage is
//! ever allowed; `permits_route_key` is sound: when it grants a route key,
//! `permits` grants every request that key stands for.
//!
//! `ROUTE_RULES` has its own target, `route_rules`.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use authorizer::{PolicyBuilder, RouteScopes, HTTP_METHODS};
use libfuzzer_sys::fuzz_target;
use tollgate_fuzz::policy::{assert_policy_within_grants, policy_eval, probes};

const API_BASE: &str = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod";
const OTHER_STAGE: &str = "arn:aws:execute-api:eu-west-1:123456789012:abc123/test";

const VERBS: [&str; 9] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "*", "get",
];
const SEGMENTS: [&str; 10] = [
    "books", "admin", "keys", "*", "x", "b*", "*s", "", "{id}", "tokens",
];
const SCOPES: [&str; 4] = ["a", "b", "c", "books:read"];

#[derive(Arbitrary, Debug)]
struct Input {
    routes: Vec<(u8, Vec<u8>, Vec<u8>)>,
    granted: Vec<u8>,
    paths: Vec<String>,
    route_key: (u8, Vec<u8>),
    fill: String,
}

fn table_json(routes: &[(u8, Vec<u8>, Vec<u8>)]) -> String {
    let mut table = serde_json::Map::new();
    for (verb, segments, scopes) in routes {
        let verb = VERBS[usize::from(*verb) % VERBS.len()];
        let path: Vec<&str> = segments
            .iter()
            .map(|s| SEGMENTS[usize::from(*s) % SEGMENTS.len()])
            .collect();
        let scopes: Vec<&str> = scopes
            .iter()
            .map(|s| SCOPES[usize::from(*s) % SCOPES.len()])
            .collect();
        table.insert(format!("{verb} /{}", path.join("/")), scopes.into());
    }
    serde_json::Value::Object(table).to_string()
}

/// Checks one table for one set of scopes.
fn check(
    routes: &RouteScopes,
    granted: &[&str],
    extra_paths: &[String],
    route_key: Option<(&str, &str)>,
) {
    let policy = PolicyBuilder::new(routes).build(API_BASE, granted);
    let policy = serde_json::to_value(&policy).expect("a policy serializes");
    let probes = probes(routes, extra_paths);
    assert_policy_within_grants(routes, API_BASE, granted, &policy, &probes);
    for (method, path) in probes.iter().take(16) {
        let arn = format!("{OTHER_STAGE}/{method}{path}");
        assert_eq!(
            policy_eval::evaluate(&policy, &arn),
            Ok(policy_eval::Verdict::Deny),
            "another stage allowed: {arn}"
        );
    }
    if let Some((route_key, fill)) = route_key {
        if routes.permits_route_key(route_key, granted) {
            for (method, path) in route_key_requests(route_key, fill) {
                assert!(
                    routes.permits(method, &path, granted),
                    "{route_key} granted as a whole, yet not {method} {path} ({granted:?})"
                );
            }
        }
    }
}

/// Requests an HTTP API route key stands for: each of its verbs, its path
/// with each `{param}` filled with `fill`.
fn route_key_requests(route_key: &str, fill: &str) -> Vec<(&'static str, String)> {
    let (verbs, path): (Vec<&'static str>, String) = if route_key == "$default" {
        (HTTP_METHODS.to_vec(), format!("/{fill}"))
    } else {
        let Some((verb, path)) = route_key.split_once(' ') else {
            return Vec::new();
        };
        let verbs = match verb {
            "ANY" => HTTP_METHODS.to_vec(),
            verb => HTTP_METHODS
                .iter()
                .copied()
                .filter(|m| *m == verb)
                .collect(),
        };
        let mut filled = String::new();
        let mut rest = path;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}') else {
                break;
            };
            filled.push_str(&rest[..open]);
            filled.push_str(fill);
            rest = &rest[open + close + 1..];
        }
        filled.push_str(rest);
        (verbs, filled)
    };
    verbs.into_iter().map(|v| (v, path.clone())).collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode == 0 {
        let Ok(json) = std::str::from_utf8(rest) else {
            return;
        };
        let Ok(routes) = RouteScopes::from_json(json) else {
            return;
        };
        let mut scopes: Vec<&str> = routes
            .routes()
            .iter()
            .flat_map(|r| r.scopes.iter().map(String::as_str))
            .collect();
        scopes.sort_unstable();
        scopes.dedup();
        check(&routes, &[], &[], None);
        check(&routes, &scopes, &[], None);
        for scope in scopes.iter().take(8) {
            check(&routes, &[scope], &[], Some(("$default", "x")));
        }
        return;
    }
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(rest)) else {
        return;
    };
    if input.routes.len() > 12 {
        return;
    }
    let Ok(routes) = RouteScopes::from_json(&table_json(&input.routes)) else {
        return;
    };
    let granted: Vec<&str> = input
        .granted
        .iter()
        .map(|s| SCOPES[usize::from(*s) % SCOPES.len()])
        .collect();
    let (verb, segments) = &input.route_key;
    let route_key = match verb % 4 {
        0 => "$default".to_owned(),
        n => {
            let verb = ["GET", "ANY", "DELETE"][usize::from(n - 1)];
            let path: Vec<&str> = segments
                .iter()
                .map(|s| ["books", "{id}", "{proxy+}", "admin", "x"][usize::from(*s) % 5])
                .collect();
            format!("{verb} /{}", path.join("/"))
        }
    };
    let paths: Vec<String> = input.paths.iter().take(8).cloned().collect();
    check(&routes, &granted, &paths, Some((&route_key, &input.fill)));
});

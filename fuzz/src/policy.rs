//! The route-table invariant: a policy built for some scopes allows
//! exactly what the table grants those scopes, judged by the local
//! gateway's IAM evaluation (`src/gateway/policy_eval.rs`, compiled here
//! from the same file rather than copied, so the fuzzer holds the policy
//! builder to the evaluator the tests use).

use authorizer::{RouteScopes, HTTP_METHODS};
use serde_json::Value;

#[allow(dead_code, missing_docs)]
#[path = "../../src/gateway/policy_eval.rs"]
pub mod policy_eval;

use policy_eval::{evaluate, Verdict};

/// The resources the table grants `scopes` over the API at `api_base`:
/// `{api_base}/{VERB}{path}` for each verb of each granted route.
pub fn granted_resources(routes: &RouteScopes, api_base: &str, scopes: &[&str]) -> Vec<String> {
    routes
        .routes()
        .iter()
        .filter(|route| route.granted_by(scopes.iter().copied()))
        .flat_map(|route| route.resources())
        .map(|resource| format!("{api_base}/{resource}"))
        .collect()
}

/// Checks a policy document (as API Gateway receives it) built for
/// `scopes` over `api_base`: every Allow resource is one the table grants,
/// and for each probe request the IAM verdict equals the table's. Panics
/// with the reason otherwise.
pub fn assert_policy_within_grants(
    routes: &RouteScopes,
    api_base: &str,
    scopes: &[&str],
    policy: &Value,
    probes: &[(&str, String)],
) {
    let granted = granted_resources(routes, api_base, scopes);
    let statements = policy["Statement"]
        .as_array()
        .unwrap_or_else(|| panic!("policy without statements: {policy}"));
    for statement in statements {
        if statement["Effect"] == "Allow" {
            for resource in statement["Resource"].as_array().into_iter().flatten() {
                let resource = resource.as_str().unwrap_or_default();
                assert!(
                    granted.iter().any(|g| g == resource),
                    "Allow of {resource}, which the table does not grant {scopes:?}: {policy}"
                );
            }
        }
    }
    for (method, path) in probes {
        let arn = format!("{api_base}/{method}{path}");
        let verdict = evaluate(policy, &arn).unwrap_or_else(|e| panic!("{e}: {policy}"));
        assert_eq!(
            verdict == Verdict::Allow,
            routes.permits(method, path, scopes),
            "IAM evaluation of {arn} differs from the table for {scopes:?}: {policy}"
        );
    }
}

/// Request paths to probe a policy with: each route's own path with its
/// stars filled in, and `extra`.
pub fn probes(routes: &RouteScopes, extra: &[String]) -> Vec<(&'static str, String)> {
    let mut probes = Vec::new();
    for route in routes.routes() {
        let filled = route.path.replace('*', "x/y");
        for method in HTTP_METHODS {
            probes.push((method, filled.clone()));
            probes.push((method, route.path.clone()));
        }
    }
    for path in extra {
        for method in HTTP_METHODS {
            probes.push((method, path.clone()));
        }
    }
    probes
}

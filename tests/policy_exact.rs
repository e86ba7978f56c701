//! The authorizer's policies mean exactly what `ROUTE_SCOPES` means: for
//! random route tables, scope sets and request ARNs, `RouteScopes::permits`
//! agrees with the local gateway's IAM evaluation of the built policy (Deny
//! wins; `*` matches any run of characters, `/` included).

use authorizer::PolicyBuilder;
use authorizer::{Route, RouteScopes, RouteScopesError, HTTP_METHODS};
use proptest::prelude::*;
use tollgate::policy_eval::{evaluate, Verdict};

const API: &str = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod";
const SCOPES: [&str; 3] = ["a", "b", "c"];

/// `/` and segments drawn from `alphabet`, `/`-joined.
fn path(
    alphabet: &'static [&'static str],
    segments: std::ops::RangeInclusive<usize>,
) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(alphabet), segments)
        .prop_map(|s| format!("/{}", s.join("/")))
}

/// A route path: one to three segments of a small alphabet, where `*` may
/// stand alone or end a segment, so paths overlap often.
fn route_path() -> impl Strategy<Value = String> {
    path(&["orders", "shop", "internal", "x", "*", "ord*"], 1..=3)
}

/// A request path: concrete segments only.
fn request_path() -> impl Strategy<Value = String> {
    path(&["orders", "shop", "internal", "x", "ord", "export"], 0..=4)
}

fn route() -> impl Strategy<Value = Route> {
    let method = prop_oneof![
        Just("*".to_owned()),
        prop::sample::select(HTTP_METHODS.to_vec()).prop_map(str::to_owned)
    ];
    let scopes = prop::sample::subsequence(SCOPES.to_vec(), 1..=2);
    (method, route_path(), scopes).prop_map(|(method, path, scopes)| Route {
        method,
        path,
        scopes: scopes.into_iter().map(str::to_owned).collect(),
    })
}

/// A valid table from random routes: each route is kept only if the table
/// with it is still accepted (a refused table is tested separately).
fn table(routes: Vec<Route>) -> Option<RouteScopes> {
    let mut kept: Vec<Route> = Vec::new();
    for route in routes {
        let mut candidate = kept.clone();
        candidate.push(route);
        if RouteScopes::new(candidate.clone()).is_ok() {
            kept = candidate;
        }
    }
    RouteScopes::new(kept).ok()
}

fn allowed_by_policy(routes: &RouteScopes, granted: &[&str], arn: &str) -> bool {
    let policy = PolicyBuilder::new(routes).build(API, granted);
    let json = serde_json::to_value(&policy).expect("policy serializes");
    evaluate(&json, arn).expect("well-formed policy") == Verdict::Allow
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn permits_equals_the_iam_evaluation_of_the_policy(
        routes in prop::collection::vec(route(), 1..=6),
        granted in prop::sample::subsequence(SCOPES.to_vec(), 0..=3),
        method in prop::sample::select(HTTP_METHODS.to_vec()),
        path in request_path(),
    ) {
        let Some(routes) = table(routes) else { return Ok(()) };
        let arn = format!("{API}/{method}{path}");
        prop_assert_eq!(
            routes.permits(method, &path, &granted),
            allowed_by_policy(&routes, &granted, &arn),
            "table {:?}, granted {:?}, request {}", routes.routes(), granted, arn
        );
        // Another stage of the same API is never granted.
        let other_stage = format!("arn:aws:execute-api:eu-west-1:123456789012:abc123/test/{method}{path}");
        prop_assert!(!allowed_by_policy(&routes, &granted, &other_stage));
    }

    /// A refused table really has two routes whose resources meet on some
    /// request with different scopes: the refusal names them.
    #[test]
    fn refused_tables_name_two_clashing_routes(routes in prop::collection::vec(route(), 2..=4)) {
        // As in a JSON table, each "METHOD /path" key appears once.
        let keys: std::collections::BTreeSet<_> = routes.iter().map(|r| (&r.method, &r.path)).collect();
        prop_assume!(keys.len() == routes.len());
        if let Err(RouteScopesError::Overlap(a, b)) = RouteScopes::new(routes.clone()) {
            let find = |key: &str| routes.iter().find(|r| format!("{} {}", r.method, r.path) == key).cloned();
            let (a, b) = (find(&a).expect("first named route"), find(&b).expect("second named route"));
            prop_assert!(a.scopes.iter().collect::<std::collections::BTreeSet<_>>() != b.scopes.iter().collect());
            prop_assert!(a.methods().any(|m| b.methods().any(|n| n == m)));
        }
    }
}

/// The review's case: `* /orders/*` used to become `{api}/{stage}/*/orders/*`,
/// which IAM also matches against `GET/internal/orders/export`.
#[test]
fn a_star_method_route_grants_no_unconfigured_route() {
    let routes = RouteScopes::from_json(r#"{"* /orders/*": "orders:admin"}"#).expect("table");
    let arn = format!("{API}/GET/internal/orders/export");
    assert!(!routes.permits("GET", "/internal/orders/export", &["orders:admin"]));
    assert!(!allowed_by_policy(&routes, &["orders:admin"], &arn));
    assert!(allowed_by_policy(
        &routes,
        &["orders:admin"],
        &format!("{API}/DELETE/orders/1")
    ));
}

/// ... and its explicit Deny no longer shadows a route another scope grants.
#[test]
fn a_star_method_deny_does_not_shadow_another_route() {
    let routes = RouteScopes::from_json(
        r#"{"* /orders/*": "orders:admin", "GET /shop/orders/*": "shop:read"}"#,
    )
    .expect("the two routes never match the same request");
    let arn = format!("{API}/GET/shop/orders/1");
    assert!(routes.permits("GET", "/shop/orders/1", &["shop:read"]));
    assert!(allowed_by_policy(&routes, &["shop:read"], &arn));
}

/// Routes whose resources can meet with different scopes are refused, the
/// message naming both.
#[test]
fn clashing_resources_are_refused_by_name() {
    let error = RouteScopes::from_json(r#"{"* /orders/*": "a", "GET /orders/1": "b"}"#)
        .expect_err("GET /orders/1 is inside * /orders/*");
    let message = error.to_string();
    assert!(
        message.contains("* /orders/*") && message.contains("GET /orders/1"),
        "{message}"
    );
    assert!(RouteScopes::from_json(r#"{"* /orders/*": "a", "GET /orders/1": "a"}"#).is_ok());
    assert!(RouteScopes::from_json(r#"{"POST /orders/*": "a", "GET /orders/1": "b"}"#).is_ok());
}

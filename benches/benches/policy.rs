//! What route rules cost a token, measured with criterion.
//!
//! - `policy/rules`: the policy for one token over a 50-route table with
//!   rules on a third of the routes (a condition alternative and a bound
//!   tenant each): its claims parsed, every rule evaluated, and the
//!   whole-API policy built. The authorizer does this once per token, on
//!   its first request; decision-cache hits reuse the grants
//!   (`decision_cache/hit` in the `verify` bench).

use std::hint::black_box;

use authorizer::{PolicyBuilder, RouteRules, RouteScopes};
use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::{json, Map, Value};

const API_BASE: &str = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod";
const ROUTES: usize = 50;

/// `GET /svc{i}/{tenant}/items` for 50 services, every third one with the
/// multi-tenant rule.
fn table() -> (RouteScopes, RouteRules) {
    let mut scopes = Map::new();
    let mut rules = Map::new();
    for i in 0..ROUTES {
        let key = format!("GET /svc{i}/{{tenant}}/items");
        scopes.insert(key.clone(), json!("items:read"));
        if i % 3 == 0 {
            rules.insert(
                key,
                json!([{"when": "'items:admin' in scopes"},
                       {"bind": {"tenant": "claims.tenant_id"}}]),
            );
        }
    }
    let scopes = RouteScopes::from_json(&Value::Object(scopes).to_string()).expect("scopes");
    let rules = RouteRules::from_json(&Value::Object(rules).to_string(), &scopes).expect("rules");
    (scopes, rules)
}

fn policy(c: &mut Criterion) {
    let (scopes, rules) = table();
    let payload = json!({"iss": "https://auth.bench.tollgate.test", "sub": "alice",
        "aud": "books-api", "exp": 4_102_444_800u64, "iat": 1_700_000_000u64,
        "scope": "items:read", "tenant_id": "acme"})
    .to_string();
    let mapped = vec!["items:read".to_owned()];
    let granted = ["items:read"];
    let mut group = c.benchmark_group("policy");
    group.bench_function("rules", |b| {
        b.iter(|| {
            let claims: Value = serde_json::from_str(black_box(&payload)).expect("claims");
            let (grants, _) = rules.grants(&claims, &mapped);
            PolicyBuilder::new(&scopes).build_with_rules(API_BASE, &granted, &grants)
        })
    });
    group.finish();
}

criterion_group!(policy_benches, policy);
criterion_main!(policy_benches);

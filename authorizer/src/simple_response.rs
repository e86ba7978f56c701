//! HTTP API simple responses: a bool that API Gateway reuses for every
//! request with the same identity sources. Once the authorizer has allowed
//! this request, `true` is safe only if it holds for every request that
//! could share the cached answer.

use crate::events::AuthorizerEvent;
use crate::route_access::Access;
use crate::route_key::RouteKeyRequests;
use crate::route_scopes::RouteScopes;
use crate::rule_grants::RuleGrants;

/// Whether an allowed request's `true` holds for every request API Gateway
/// may answer with it, and the decision's reason. With the path in the
/// cache key, that is this path for every verb of the route key (`ANY`);
/// without it, every request of the route key (`GET /books/{id}` for any
/// id), which route rules that bind the path never grant.
pub(crate) fn reused_answer_holds(
    table: &RouteScopes,
    event: &AuthorizerEvent,
    route_key: &str,
    path: &str,
    scopes: &[&str],
    rules: &RuleGrants,
) -> (bool, &'static str) {
    if event.path_in_identity_source().is_some() {
        let every_verb = RouteKeyRequests::parse(route_key).is_some_and(|key| {
            key.methods
                .iter()
                .all(|verb| table.access(verb, path, scopes, rules) == Access::Allowed)
        });
        return match every_verb {
            true => (true, "ok"),
            false => (false, "route_key_wider_than_scopes"),
        };
    }
    if table.permits_route_key_with(route_key, scopes, rules) {
        return (true, "ok");
    }
    // Granted by the scopes alone, narrowed by rules to some paths.
    if table.permits_route_key(route_key, scopes) {
        tracing::warn!(
            route_key,
            "HTTP API simple response refused: the route rules allow this path only, and \
             API Gateway would reuse the answer for every path of this route key; add \
             $context.path to the identity sources"
        );
        return (false, "path_not_in_identity_source");
    }
    tracing::warn!(
        route_key,
        "HTTP API simple response refused: API Gateway would reuse it for every \
         request of this route key, and the token's scopes do not grant them all; \
         use narrower routes or IAM policy responses"
    );
    (false, "route_key_wider_than_scopes")
}

//! What a token may call once its route rules are known: its scopes grant
//! a matching route, and the route's rules (if it has any) allow the path.
//! Exactly what the policy built for the token allows, so decisions,
//! `tollgate explain` and HTTP API simple responses agree with it.

use crate::route_key::RouteKeyRequests;
use crate::route_scopes::{glob_covers, glob_matches, RouteScopes};
use crate::rule_grants::RuleGrants;

impl RouteScopes {
    /// Whether a token with `granted` scopes and `rules` (its route rules'
    /// grants) may call `method path`: some matching route is granted by
    /// its scopes and, if it has rules, allows this path. Exactly what the
    /// policy [`crate::PolicyBuilder`] builds for the token allows.
    pub fn access(&self, method: &str, path: &str, granted: &[&str], rules: &RuleGrants) -> Access {
        let mut scoped = false;
        for (i, route) in self.routes().iter().enumerate() {
            if !route.matches(method, path) || !route.granted_by(granted.iter().copied()) {
                continue;
            }
            scoped = true;
            let allowed = match rules.for_route(i) {
                None => true,
                Some(paths) => paths
                    .iter()
                    .any(|p| glob_matches(p.as_bytes(), path.as_bytes())),
            };
            if allowed {
                return Access::Allowed;
            }
        }
        if scoped {
            Access::RuleDenied
        } else {
            Access::MissingScope
        }
    }

    /// [`RouteScopes::permits_route_key`] for a token with route rules: a ruled
    /// route covers the key only through a path it allows (an unbound one,
    /// such as an admin alternative's).
    pub fn permits_route_key_with(
        &self,
        route_key: &str,
        granted: &[&str],
        rules: &RuleGrants,
    ) -> bool {
        let Some(requests) = RouteKeyRequests::parse(route_key) else {
            return false;
        };
        let key = requests.path.as_bytes();
        requests.methods.iter().all(|verb| {
            self.routes().iter().enumerate().any(|(i, r)| {
                r.methods().any(|m| m == *verb)
                    && r.granted_by(granted.iter().copied())
                    && match rules.for_route(i) {
                        None => glob_covers(r.glob().as_bytes(), key),
                        Some(paths) => paths.iter().any(|p| glob_covers(p.as_bytes(), key)),
                    }
            })
        })
    }
}

/// A token's access to one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Allowed.
    Allowed,
    /// No route that matches is granted by the token's scopes.
    MissingScope,
    /// Scopes grant a matching route, but none of its rules' alternatives
    /// allows this request.
    RuleDenied,
}

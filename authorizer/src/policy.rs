//! IAM policies for API Gateway, built over the whole API.
//!
//! API Gateway caches an authorizer's answer per token and reuses it for
//! every route of the API for the cache TTL. So the policy never names only
//! the `methodArn` that triggered it: it lists every configured route the
//! token's scopes grant (Allow) and every one they don't (explicit Deny).
//! A route with rules is allowed only on the paths its rules grant the
//! token (`GET/tenants/acme/orders`), and is never denied explicitly, since
//! a Deny of the whole route would also deny those paths.

use aws_lambda_events::event::apigw::ApiGatewayCustomAuthorizerPolicy;
use aws_lambda_events::event::iam::{IamPolicyEffect, IamPolicyStatement};

use crate::route_scopes::RouteScopes;
use crate::rule_grants::RuleGrants;

/// A parsed `methodArn`/`routeArn`:
/// `arn:{partition}:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}/{path}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MethodArn<'a> {
    /// Everything up to and including the stage: the prefix of every route ARN.
    pub api_base: &'a str,
    /// The HTTP verb.
    pub method: &'a str,
    /// The resource path with its leading `/`.
    pub path: &'a str,
}

impl<'a> MethodArn<'a> {
    /// Parses an execute-api ARN; `None` if it is not one.
    pub fn parse(arn: &'a str) -> Option<Self> {
        let mut fields = arn.splitn(6, ':');
        let (
            Some("arn"),
            Some(_partition),
            Some("execute-api"),
            Some(_region),
            Some(_account),
            Some(resource),
        ) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        )
        else {
            return None;
        };
        // resource = apiId/stage/METHOD/path...
        let api_end = resource.find('/')?;
        let stage_end = api_end + 1 + resource[api_end + 1..].find('/')?;
        let method_end = stage_end
            + 1
            + resource[stage_end + 1..]
                .find('/')
                .unwrap_or(resource.len() - stage_end - 1);
        let method = &resource[stage_end + 1..method_end];
        if api_end == 0 || stage_end == api_end + 1 || method.is_empty() {
            return None;
        }
        let base_len = arn.len() - resource.len() + stage_end;
        let path = if method_end < resource.len() {
            &resource[method_end..]
        } else {
            "/"
        };
        Some(Self {
            api_base: &arn[..base_len],
            method,
            path,
        })
    }
}

/// Builds whole-API policies from a route table.
#[derive(Clone, Debug)]
pub struct PolicyBuilder<'r> {
    routes: &'r RouteScopes,
}

impl<'r> PolicyBuilder<'r> {
    /// A builder over `routes`.
    pub fn new(routes: &'r RouteScopes) -> Self {
        Self { routes }
    }

    /// The policy for a token holding `scopes`, over the API at `api_base`.
    /// A token that is granted nothing gets one Deny over the whole API.
    pub fn build(&self, api_base: &str, scopes: &[&str]) -> ApiGatewayCustomAuthorizerPolicy {
        self.build_with_rules(api_base, scopes, &RuleGrants::default())
    }

    /// The policy for a token holding `scopes` whose route rules granted
    /// `rules`.
    pub fn build_with_rules(
        &self,
        api_base: &str,
        scopes: &[&str],
        rules: &RuleGrants,
    ) -> ApiGatewayCustomAuthorizerPolicy {
        let mut allowed = Vec::new();
        let mut denied = Vec::new();
        for (i, route) in self.routes.routes().iter().enumerate() {
            let resources = self.routes.resources_of(i);
            if !route.granted_by(scopes.iter().copied()) {
                denied.extend(resources.iter().map(|r| arn(api_base, "", r)));
                continue;
            }
            match rules.for_route(i) {
                None => allowed.extend(resources.iter().map(|r| arn(api_base, "", r))),
                Some(paths) => {
                    for method in route.methods() {
                        allowed.extend(paths.iter().map(|p| arn(api_base, method, p)));
                    }
                }
            }
        }
        if allowed.is_empty() {
            denied = vec![arn(api_base, "", "*")];
        }
        let mut statements = Vec::with_capacity(2);
        if !allowed.is_empty() {
            statements.push(statement(IamPolicyEffect::Allow, allowed));
        }
        if !denied.is_empty() {
            statements.push(statement(IamPolicyEffect::Deny, denied));
        }
        let mut policy = ApiGatewayCustomAuthorizerPolicy::default();
        policy.version = Some("2012-10-17".to_owned());
        policy.statement = statements;
        policy
    }
}

/// `{api_base}/{method}{resource}`, in one allocation: a policy has a
/// resource per route and verb, and `format!` costs more than the rest.
fn arn(api_base: &str, method: &str, resource: &str) -> String {
    let mut arn = String::with_capacity(api_base.len() + 1 + method.len() + resource.len());
    arn.push_str(api_base);
    arn.push('/');
    arn.push_str(method);
    arn.push_str(resource);
    arn
}

fn statement(effect: IamPolicyEffect, resources: Vec<String>) -> IamPolicyStatement {
    let mut statement = IamPolicyStatement::default();
    statement.action = vec!["execute-api:Invoke".to_owned()];
    statement.effect = effect;
    statement.resource = resources;
    statement
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/books/42";

    #[test]
    fn parses_method_arns() {
        let arn = MethodArn::parse(ARN).unwrap();
        assert_eq!(
            arn.api_base,
            "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod"
        );
        assert_eq!(arn.method, "GET");
        assert_eq!(arn.path, "/books/42");
        let root = MethodArn::parse("arn:aws:execute-api:us-east-1:1:api/$default/GET/").unwrap();
        assert_eq!(root.path, "/");
        let bare = MethodArn::parse("arn:aws:execute-api:us-east-1:1:api/stage/POST").unwrap();
        assert_eq!((bare.method, bare.path), ("POST", "/"));
        for bad in [
            "",
            "arn:aws:s3:::bucket",
            "arn:aws:execute-api:r:a:api",
            "arn:aws:execute-api:r:a:api/stage",
            "arn:aws:execute-api:r:a:/s/GET/x",
        ] {
            assert_eq!(MethodArn::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn reader_policy_allows_reads_and_denies_writes_over_the_whole_api() {
        let routes = crate::route_scopes::books_routes();
        let base = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod";
        let policy = PolicyBuilder::new(&routes).build(base, &["books:read"]);
        let allow = &policy.statement[0];
        assert_eq!(allow.effect, IamPolicyEffect::Allow);
        assert_eq!(
            allow.resource,
            [
                format!("{base}/GET/books"),
                format!("{base}/GET/books/*"),
                format!("{base}/GET/shelves/*/books"),
            ]
        );
        let deny = &policy.statement[1];
        assert_eq!(deny.effect, IamPolicyEffect::Deny);
        assert!(deny.resource.contains(&format!("{base}/DELETE/books/*")));
        assert!(deny.resource.contains(&format!("{base}/POST/admin/keys/*")));
        // The triggering methodArn is never the only resource.
        assert!(!allow.resource.iter().any(|r| r.ends_with("/books/42")));
    }

    #[test]
    fn token_without_any_grant_gets_one_deny_over_everything() {
        let routes = crate::route_scopes::books_routes();
        let policy = PolicyBuilder::new(&routes).build("arn:aws:execute-api:r:1:a/s", &["other"]);
        assert_eq!(policy.statement.len(), 1);
        assert_eq!(policy.statement[0].effect, IamPolicyEffect::Deny);
        assert_eq!(
            policy.statement[0].resource,
            ["arn:aws:execute-api:r:1:a/s/*"]
        );
    }
}

//! API Gateway's side: the three answer shapes, `handle` for a raw Lambda
//! event and `authorize` for a typed one. Verification lives in
//! [`crate::authorizer`]; this module only turns its result into the answer
//! each event type expects.

use std::collections::HashMap;
use std::time::Instant;

use aws_lambda_events::event::apigw::{
    ApiGatewayCustomAuthorizerResponse, ApiGatewayV2CustomAuthorizerIamPolicyResponse,
    ApiGatewayV2CustomAuthorizerSimpleResponse,
};
use serde::Serialize;
use serde_json::Value;

use crate::authorizer::Authorizer;
use crate::error::VerifyError;
use crate::events::AuthorizerEvent;
use crate::metrics::Outcome;
use crate::policy::{MethodArn, PolicyBuilder};
use crate::route_access::Access;
use crate::rule_grants::RuleGrants;
use crate::sender_settings::DpopMode;
use crate::simple_response::reused_answer_holds;
use crate::verified::VerifiedToken;

/// Why an invocation gives no answer; its message is what the invocation
/// fails with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Exactly `Unauthorized`, which API Gateway turns into a 401.
    #[error("Unauthorized")]
    Unauthorized,
    /// The authorizer cannot answer this event safely as configured: a
    /// `TOKEN` event with DPoP checks on (it carries no `DPoP` header).
    /// API Gateway answers 500; the message says what to change.
    #[error("{0}")]
    Misconfigured(&'static str),
}

/// What a `TOKEN` event gets while `DPOP_MODE` is not `off`.
pub const DPOP_NEEDS_REQUEST_EVENTS: &str = "DPoP needs a REQUEST authorizer: a TOKEN event \
carries no DPoP header, so DPOP_MODE (default if_bound) cannot be enforced; use a REQUEST \
authorizer with the Authorization and DPoP headers as identity sources, or set DPOP_MODE=off";

/// The `context` of an answer: strings only (API Gateway refuses objects).
pub type Context = HashMap<String, Value>;

/// What the authorizer answers API Gateway, in the shape its event asked for.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Answer {
    /// REST API (`TOKEN` or `REQUEST`).
    Policy(ApiGatewayCustomAuthorizerResponse<Context>),
    /// HTTP API payload 2.0 with IAM policy responses.
    HttpApiPolicy(ApiGatewayV2CustomAuthorizerIamPolicyResponse<Context>),
    /// HTTP API payload 2.0 with simple responses.
    HttpApiSimple(ApiGatewayV2CustomAuthorizerSimpleResponse<Context>),
}

impl Authorizer {
    /// Answers a raw Lambda event: the JSON response, or a refusal.
    pub async fn handle(&self, event: Value) -> Result<Value, Refusal> {
        let event = match AuthorizerEvent::from_json(event) {
            Ok(event) => event,
            Err(_) => {
                self.metrics()
                    .decision(Outcome::Unauthorized, "unknown_event", 0.0, false);
                return Err(Refusal::Unauthorized);
            }
        };
        let answer = self.authorize(&event).await?;
        let mut json = serde_json::to_value(answer).map_err(|_| Refusal::Unauthorized)?;
        // Unset optional members (`usageIdentifierKey`) are left out, not sent as null.
        if let Value::Object(members) = &mut json {
            members.retain(|_, value| !value.is_null());
        }
        Ok(json)
    }

    /// Decides one event. Invalid or missing token, or a sender that does
    /// not hold what the token is bound to: `Unauthorized` (401). Valid
    /// token: a policy over the whole API built from its scopes (or, for
    /// HTTP API simple responses, `isAuthorized` for this route).
    pub async fn authorize(&self, event: &AuthorizerEvent) -> Result<Answer, Refusal> {
        let started = Instant::now();
        if matches!(event, AuthorizerEvent::Token(_)) && self.config().sender.mode != DpopMode::Off
        {
            tracing::error!("{DPOP_NEEDS_REQUEST_EVENTS}");
            self.metrics()
                .decision(Outcome::Unauthorized, "dpop_token_event", 0.0, false);
            return Err(Refusal::Misconfigured(DPOP_NEEDS_REQUEST_EVENTS));
        }
        let credential = event.credential();
        let verified = match credential {
            None => Err(VerifyError::MissingToken),
            Some(credential) => self.verify_traced(credential.token).await,
        };
        let (verified, cache_hit) = match verified {
            Ok(ok) => ok,
            Err(error) => {
                let micros = started.elapsed().as_secs_f64() * 1e6;
                tracing::info!(reason = error.reason(), "unauthorized");
                self.metrics()
                    .decision(Outcome::Unauthorized, error.reason(), micros, false);
                return Err(Refusal::Unauthorized);
            }
        };
        if let Some(credential) = credential {
            if let Err(error) = self.check_sender(event, credential, &verified).await {
                let micros = started.elapsed().as_secs_f64() * 1e6;
                tracing::info!(reason = error.reason(), %error, "unauthorized");
                self.metrics()
                    .decision(Outcome::Unauthorized, error.reason(), micros, cache_hit);
                return Err(Refusal::Unauthorized);
            }
        }
        let micros = started.elapsed().as_secs_f64() * 1e6;
        let Some(arn) = event.route_arn().and_then(MethodArn::parse) else {
            tracing::warn!("event has no parsable methodArn/routeArn");
            self.metrics()
                .decision(Outcome::Unauthorized, "bad_route_arn", micros, cache_hit);
            return Err(Refusal::Unauthorized);
        };
        let scopes = verified.scopes();
        let (permitted, reason) = self.permits(event, &arn, &scopes, &verified.rule_grants);
        let outcome = if permitted {
            Outcome::Allow
        } else {
            Outcome::Deny
        };
        self.metrics().decision(outcome, reason, micros, cache_hit);
        Ok(self.answer(event, &verified, &arn, &scopes, permitted))
    }

    /// Whether the scopes (and route rules) grant the route, and the
    /// decision's reason.
    fn permits(
        &self,
        event: &AuthorizerEvent,
        arn: &MethodArn<'_>,
        scopes: &[&str],
        rules: &RuleGrants,
    ) -> (bool, &'static str) {
        // A simple response answers for one route, and API Gateway reuses it
        // for every request with the same identity sources: it may be `true`
        // only when the route key is part of that cache key.
        if self.config().http_api_simple_responses
            && event.route_key_in_identity_source() == Some(false)
        {
            tracing::warn!(
                "HTTP API simple response refused: $context.routeKey is not among the \
                 authorizer's identity sources, so API Gateway could reuse this answer for \
                 other routes; add it to the identity sources"
            );
            return (false, "route_key_not_in_identity_source");
        }
        let table = &self.config().route_scopes;
        match table.access(arn.method, arn.path, scopes, rules) {
            Access::Allowed => {}
            Access::MissingScope => return (false, "missing_scope"),
            Access::RuleDenied => return (false, "rule_denied"),
        }
        match event.route_key() {
            Some(route_key) if self.config().http_api_simple_responses => {
                reused_answer_holds(table, event, route_key, arn.path, scopes, rules)
            }
            _ => (true, "ok"),
        }
    }

    /// The answer in the shape `event` asked for.
    fn answer(
        &self,
        event: &AuthorizerEvent,
        verified: &VerifiedToken,
        arn: &MethodArn<'_>,
        scopes: &[&str],
        permitted: bool,
    ) -> Answer {
        let context = verified.context();
        let policy = || {
            PolicyBuilder::new(&self.config().route_scopes).build_with_rules(
                arn.api_base,
                scopes,
                &verified.rule_grants,
            )
        };
        match event {
            AuthorizerEvent::HttpApiV2(_) if self.config().http_api_simple_responses => {
                let mut response = ApiGatewayV2CustomAuthorizerSimpleResponse::default();
                response.is_authorized = permitted;
                response.context = context;
                Answer::HttpApiSimple(response)
            }
            AuthorizerEvent::HttpApiV2(_) => {
                let mut response = ApiGatewayV2CustomAuthorizerIamPolicyResponse::default();
                response.principal_id = Some(verified.principal().to_owned());
                response.policy_document = policy();
                response.context = context;
                Answer::HttpApiPolicy(response)
            }
            AuthorizerEvent::Token(_)
            | AuthorizerEvent::Request(_)
            | AuthorizerEvent::HttpApiV1 { .. } => {
                let mut response = ApiGatewayCustomAuthorizerResponse::default();
                response.principal_id = Some(verified.principal().to_owned());
                response.policy_document = policy();
                response.context = context;
                Answer::Policy(response)
            }
        }
    }
}

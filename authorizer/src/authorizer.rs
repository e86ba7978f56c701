//! `Authorizer`: configuration, key caches, decision cache and metrics in one
//! value that lives across warm invocations.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use aws_lambda_events::event::apigw::{
    ApiGatewayCustomAuthorizerResponse, ApiGatewayV2CustomAuthorizerIamPolicyResponse,
    ApiGatewayV2CustomAuthorizerSimpleResponse,
};
use serde::Serialize;
use serde_json::Value;
use telemetry::MetricsSink;

use crate::claims::{ClaimChecks, Claims};
use crate::config::{AuthorizerConfig, ConfigError};
use crate::decision_cache::DecisionCache;
use crate::error::VerifyError;
use crate::events::AuthorizerEvent;
use crate::jwk::VerifyingKey;
use crate::jwks_fetch::{FetchError, JwksFetcher};
use crate::key_cache::KeyCache;
use crate::metrics::{Metrics, Outcome};
use crate::policy::{MethodArn, PolicyBuilder};
use crate::token::{parse_token, typ_matches, SignatureBuf, UnverifiedToken};
use crate::verified::VerifiedToken;

/// The invocation fails with exactly this message, which API Gateway turns
/// into a 401.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Unauthorized")]
pub struct Unauthorized;

/// Why the authorizer could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Http(#[from] FetchError),
}

type Context = HashMap<String, Value>;

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

struct TrustedIssuer {
    iss: Arc<str>,
    keys: Arc<KeyCache>,
}

/// A JWT authorizer for API Gateway. Cheap to call: a warm verification is
/// one signature check, a repeated token one cache lookup.
pub struct Authorizer {
    config: AuthorizerConfig,
    issuers: Vec<TrustedIssuer>,
    decisions: DecisionCache,
    metrics: Metrics,
}

impl std::fmt::Debug for Authorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorizer")
            .field("issuers", &self.config.issuers)
            .finish_non_exhaustive()
    }
}

impl Authorizer {
    /// Builds from the environment variables of DESIGN.md.
    pub fn from_env(sink: Arc<dyn MetricsSink>) -> Result<Self, BuildError> {
        Self::new(AuthorizerConfig::from_env()?, sink)
    }

    pub fn new(config: AuthorizerConfig, sink: Arc<dyn MetricsSink>) -> Result<Self, BuildError> {
        let metrics = Metrics::new(sink);
        let fetcher = JwksFetcher::new(&config.cache)?;
        if config.http_api_simple_responses {
            tracing::warn!(
                "HTTP_API_SIMPLE_RESPONSES: the answer covers one route; API Gateway caches it per \
                 identity source, so include $context.routeKey in the identity sources or set the \
                 authorizer cache TTL to 0"
            );
        }
        let issuers = config
            .issuers
            .iter()
            .map(|issuer| TrustedIssuer {
                iss: Arc::from(issuer.issuer.as_str()),
                keys: Arc::new(KeyCache::new(
                    issuer.clone(),
                    config.cache.clone(),
                    fetcher.clone(),
                    metrics.clone(),
                )),
            })
            .collect();
        Ok(Self {
            decisions: DecisionCache::new(config.decision_cache_capacity),
            config,
            issuers,
            metrics,
        })
    }

    pub fn config(&self) -> &AuthorizerConfig {
        &self.config
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The key cache of the issuer `iss`, if trusted.
    pub fn key_cache(&self, iss: &str) -> Option<&Arc<KeyCache>> {
        self.issuer_index(iss).map(|i| &self.issuers[i].keys)
    }

    /// Fetches every issuer's JWKS concurrently. Failures are logged and
    /// returned, never fatal: the authorizer then fails closed until a fetch
    /// succeeds.
    pub async fn prewarm(&self) -> Vec<(String, Result<usize, FetchError>)> {
        let mut tasks = tokio::task::JoinSet::new();
        for issuer in &self.issuers {
            let keys = Arc::clone(&issuer.keys);
            tasks.spawn(async move { (keys.issuer().issuer.clone(), keys.prewarm().await) });
        }
        let mut results = Vec::with_capacity(self.issuers.len());
        while let Some(joined) = tasks.join_next().await {
            if let Ok((issuer, result)) = joined {
                match &result {
                    Ok(count) => tracing::info!(%issuer, keys = count, "JWKS pre-warmed"),
                    Err(error) => {
                        tracing::warn!(%issuer, %error, "JWKS pre-warm failed; failing closed until a fetch succeeds")
                    }
                }
                results.push((issuer, result));
            }
        }
        results
    }

    fn issuer_index(&self, iss: &str) -> Option<usize> {
        self.config.issuers.iter().position(|i| i.issuer == iss)
    }

    /// Verifies a token: decision cache, then parse, key (fetching the JWKS
    /// if needed), signature and claims. The result is cached until `exp`.
    pub async fn verify(&self, token: &str) -> Result<Arc<VerifiedToken>, VerifyError> {
        Ok(self.verify_traced(token).await?.0)
    }

    /// Like `verify`, also telling whether the decision cache answered.
    async fn verify_traced(&self, token: &str) -> Result<(Arc<VerifiedToken>, bool), VerifyError> {
        let now_unix = crate::unix_now();
        if let Some(hit) = self.cached(token, now_unix) {
            return Ok((hit, true));
        }
        let mut signature = SignatureBuf::default();
        let parsed = parse_token(token, &mut signature)?;
        let claims = parsed.claims()?;
        let issuer_index = self.trusted_issuer(&claims)?;
        let keys = &self.issuers[issuer_index].keys;
        let key = match keys.cached_key(&parsed.kid, Instant::now()) {
            Some(key) => key,
            None => keys.key(&parsed.kid).await?,
        };
        let verified = Arc::new(self.check(&parsed, claims, issuer_index, key, now_unix)?);
        self.decisions
            .insert(token, Arc::clone(&verified), now_unix);
        Ok((verified, false))
    }

    /// The decision cache alone: a token verified before, still unexpired,
    /// whose key is still current.
    pub fn cached(&self, token: &str, now_unix: u64) -> Option<Arc<VerifiedToken>> {
        self.decisions.get(token, now_unix, |hit| {
            self.issuers[hit.issuer_index]
                .keys
                .still_current(&hit.kid, &hit.key, Instant::now())
        })
    }

    /// Verifies with the keys already cached, without the decision cache and
    /// without fetching: the pure per-token cost (what the benches measure).
    /// A `kid` not cached fresh is `UnknownKid`.
    pub fn verify_with_cached_keys(&self, token: &str) -> Result<VerifiedToken, VerifyError> {
        let now_unix = crate::unix_now();
        let mut signature = SignatureBuf::default();
        let parsed = parse_token(token, &mut signature)?;
        let claims = parsed.claims()?;
        let issuer_index = self.trusted_issuer(&claims)?;
        let key = self.issuers[issuer_index]
            .keys
            .cached_key(&parsed.kid, Instant::now())
            .ok_or(VerifyError::UnknownKid)?;
        self.check(&parsed, claims, issuer_index, key, now_unix)
    }

    fn trusted_issuer(&self, claims: &Claims<'_>) -> Result<usize, VerifyError> {
        let iss = claims.iss.as_deref().ok_or(VerifyError::UntrustedIssuer)?;
        self.issuer_index(iss).ok_or(VerifyError::UntrustedIssuer)
    }

    /// Signature, header `typ`, then claims. The key must be pinned to the
    /// token's `alg`.
    fn check(
        &self,
        parsed: &UnverifiedToken<'_>,
        claims: Claims<'_>,
        issuer_index: usize,
        key: Arc<VerifyingKey>,
        now_unix: u64,
    ) -> Result<VerifiedToken, VerifyError> {
        let public_key = key
            .for_algorithm(parsed.alg)
            .ok_or(VerifyError::AlgorithmMismatch)?;
        public_key
            .verify_sig(parsed.signing_input, parsed.signature())
            .map_err(|_| VerifyError::BadSignature)?;
        self.check_typ(parsed.typ.as_deref())?;
        let issuer = &self.config.issuers[issuer_index];
        claims.validate(&self.claim_checks(&issuer.audiences), now_unix)?;
        let identity = self
            .config
            .claim_mapping
            .identity(&claims, parsed.payload())?;
        Ok(VerifiedToken {
            sub: claims.sub.as_deref().unwrap_or_default().to_owned(),
            principal: identity.principal,
            iss: Arc::clone(&self.issuers[issuer_index].iss),
            kid: parsed.kid.clone(),
            scopes: identity.scopes,
            client_id: claims.client_id.map(|c| c.into_owned()),
            context_claims: identity.context,
            exp: claims.exp.unwrap_or_default(),
            issuer_index,
            key,
        })
    }

    /// `JWT_REQUIRED_TYP`, when set: the header must carry that `typ`.
    pub(crate) fn check_typ(&self, typ: Option<&str>) -> Result<(), VerifyError> {
        match (&self.config.required_typ, typ) {
            (None, _) => Ok(()),
            (Some(required), Some(typ)) if typ_matches(typ, required) => Ok(()),
            (Some(_), _) => Err(VerifyError::BadType),
        }
    }

    /// The claim checks for one trusted issuer's audiences.
    pub(crate) fn claim_checks<'c>(&'c self, audiences: &'c [String]) -> ClaimChecks<'c> {
        ClaimChecks {
            audiences,
            leeway: self.config.leeway_seconds,
            allow_id_tokens: self.config.allow_id_tokens,
        }
    }

    /// Answers a raw Lambda event: the JSON response, or `Unauthorized`.
    pub async fn handle(&self, event: Value) -> Result<Value, Unauthorized> {
        let event = match AuthorizerEvent::from_json(event) {
            Ok(event) => event,
            Err(_) => {
                self.metrics
                    .decision(Outcome::Unauthorized, "unknown_event", 0.0, false);
                return Err(Unauthorized);
            }
        };
        let answer = self.authorize(&event).await?;
        let mut json = serde_json::to_value(answer).map_err(|_| Unauthorized)?;
        // Unset optional members (`usageIdentifierKey`) are left out, not sent as null.
        if let Value::Object(members) = &mut json {
            members.retain(|_, value| !value.is_null());
        }
        Ok(json)
    }

    /// Decides one event. Invalid or missing token: `Unauthorized` (401).
    /// Valid token: a policy over the whole API built from its scopes (or,
    /// for HTTP API simple responses, `isAuthorized` for this route).
    pub async fn authorize(&self, event: &AuthorizerEvent) -> Result<Answer, Unauthorized> {
        let started = Instant::now();
        let verified = match event.bearer_token() {
            None => Err(VerifyError::MissingToken),
            Some(token) => self.verify_traced(token).await,
        };
        let micros = started.elapsed().as_secs_f64() * 1e6;
        let (verified, cache_hit) = match verified {
            Ok(ok) => ok,
            Err(error) => {
                tracing::info!(reason = error.reason(), "unauthorized");
                self.metrics
                    .decision(Outcome::Unauthorized, error.reason(), micros, false);
                return Err(Unauthorized);
            }
        };
        let Some(arn) = event.route_arn().and_then(MethodArn::parse) else {
            tracing::warn!("event has no parsable methodArn/routeArn");
            self.metrics
                .decision(Outcome::Unauthorized, "bad_route_arn", micros, cache_hit);
            return Err(Unauthorized);
        };
        let scopes = verified.scopes();
        let mut permitted = self
            .config
            .route_scopes
            .permits(arn.method, arn.path, &scopes);
        let mut reason = if permitted { "ok" } else { "missing_scope" };
        // A simple response answers for one route, and API Gateway reuses it
        // for every request with the same identity sources: it may be `true`
        // only when the route key is part of that cache key.
        if self.config.http_api_simple_responses
            && event.route_key_in_identity_source() == Some(false)
        {
            tracing::warn!(
                "HTTP API simple response refused: $context.routeKey is not among the \
                 authorizer's identity sources, so API Gateway could reuse this answer for \
                 other routes; add it to the identity sources"
            );
            permitted = false;
            reason = "route_key_not_in_identity_source";
        }
        let outcome = if permitted {
            Outcome::Allow
        } else {
            Outcome::Deny
        };
        self.metrics.decision(outcome, reason, micros, cache_hit);
        let context = verified.context();
        let policy = || PolicyBuilder::new(&self.config.route_scopes).build(arn.api_base, &scopes);
        let answer = match event {
            AuthorizerEvent::HttpApiV2(_) if self.config.http_api_simple_responses => {
                let mut response = ApiGatewayV2CustomAuthorizerSimpleResponse::default();
                response.is_authorized = permitted;
                response.context = context;
                Answer::HttpApiSimple(response)
            }
            AuthorizerEvent::HttpApiV2(_) => {
                let mut response = ApiGatewayV2CustomAuthorizerIamPolicyResponse::default();
                response.principal_id = Some(verified.principal.clone());
                response.policy_document = policy();
                response.context = context;
                Answer::HttpApiPolicy(response)
            }
            AuthorizerEvent::Token(_) | AuthorizerEvent::Request(_) => {
                let mut response = ApiGatewayCustomAuthorizerResponse::default();
                response.principal_id = Some(verified.principal.clone());
                response.policy_document = policy();
                response.context = context;
                Answer::Policy(response)
            }
        };
        Ok(answer)
    }
}

//! A protected request's way through the authorizer: the `REQUEST` event
//! API Gateway sends a `REQUEST` authorizer whose identity sources are the
//! `Authorization` and `DPoP` headers (or its cached answer), the policy's
//! verdict on the request's `methodArn`, and the authorizer context handed
//! to the route.

use std::sync::Arc;

use authorizer::bearer_credential;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use super::answer_cache::AnswerCache;
use super::context::{
    insert_authorizer_context, source_ip, Refusal, ACCOUNT_ID, API_BASE, API_ID, STAGE,
};
use super::guards::gateway_error;
use super::policy_eval::{evaluate, Verdict};
use crate::authorizer_backend::{AuthorizerBackend, AuthorizerFailure};

/// Runs the authorizer (or reuses its cached answer) and evaluates the policy
/// for this request's `methodArn`. On Allow, returns the request carrying the
/// authorizer context as `lambda_http` would present it, and whether the
/// answer came from the cache.
pub(super) async fn authorize(
    authorizer: &AuthorizerBackend,
    answers: &AnswerCache,
    domain_name: &str,
    mut request: Request,
) -> Result<(Request, bool), Response> {
    let Some(authorization) = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
    else {
        return Err(gateway_error(
            StatusCode::UNAUTHORIZED,
            Some("Unauthorized"),
        ));
    };
    let method_arn = format!("{API_BASE}/{}{}", request.method(), request.uri().path());
    let event = request_event(&request, &method_arn, domain_name);
    let (answer, cache_hit) = authorizer_answer(authorizer, answers, &authorization, event).await?;
    check_policy(&answer, &method_arn)
        .and_then(|()| insert_authorizer_context(&mut request, &answer))
        .map_err(|(status, message)| gateway_error(status, message))?;
    request.headers_mut().insert(
        "x-tollgate-authorizer-cache",
        HeaderValue::from_static(if cache_hit { "hit" } else { "miss" }),
    );
    Ok((request, cache_hit))
}

/// The `REQUEST` event of a REST API authorizer for `request`: its method,
/// path, headers and query, and API Gateway's own request context (the
/// domain the client called, never a header the client set).
fn request_event(request: &Request, method_arn: &str, domain_name: &str) -> Value {
    let mut headers = serde_json::Map::new();
    let mut multi_value_headers = serde_json::Map::new();
    for (name, value) in request.headers() {
        let Ok(value) = value.to_str() else { continue };
        headers.insert(name.as_str().to_owned(), Value::from(value));
        if let Value::Array(values) = multi_value_headers
            .entry(name.as_str().to_owned())
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            values.push(Value::from(value));
        }
    }
    let query: serde_json::Map<String, Value> = request
        .uri()
        .query()
        .map(|query| {
            url::form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.into_owned(), Value::from(v.into_owned())))
                .collect()
        })
        .unwrap_or_default();
    let (method, path) = (request.method().as_str(), request.uri().path());
    json!({
        "type": "REQUEST", "methodArn": method_arn, "resource": path, "path": path,
        "httpMethod": method, "headers": headers, "multiValueHeaders": multi_value_headers,
        "queryStringParameters": query, "pathParameters": {}, "stageVariables": {},
        "requestContext": {"path": path, "stage": STAGE, "httpMethod": method,
            "apiId": API_ID, "accountId": ACCOUNT_ID, "resourcePath": path,
            "domainName": domain_name, "identity": {"sourceIp": source_ip(request)}}
    })
}

/// The authorizer's answer for this `Authorization` header, from the cache
/// when caching is on and the token was seen, and whether it was a hit.
/// Refusals and failures become the gateway's own 401 and 500.
async fn authorizer_answer(
    authorizer: &AuthorizerBackend,
    answers: &AnswerCache,
    authorization: &str,
    event: Value,
) -> Result<(Arc<Value>, bool), Response> {
    // The key is the token as the authorizer reads it (RFC 6750), so variants
    // of one header share an entry and a malformed one is never answered
    // from the cache. A `DPoP` credential has no key: its proof is new on
    // every request, and an answer for one proof must never serve another
    // (API Gateway: result TTL 0, or the `DPoP` header among the identity
    // sources). No cache (TTL 0): no key to find and copy.
    let cache_key = answers
        .is_on()
        .then(|| bearer_credential(authorization))
        .flatten()
        .map(str::to_owned);
    if let Some(answer) = cache_key.as_deref().and_then(|key| answers.get(key)) {
        return Ok((answer, true));
    }
    let ticket = answers.ticket();
    match authorizer.invoke(event).await {
        Ok(answer) => {
            let answer = Arc::new(answer);
            if let Some(key) = cache_key {
                answers.insert(key, Arc::clone(&answer), ticket);
            }
            Ok((answer, false))
        }
        Err(AuthorizerFailure::Unauthorized) => Err(gateway_error(
            StatusCode::UNAUTHORIZED,
            Some("Unauthorized"),
        )),
        Err(AuthorizerFailure::Failed(_) | AuthorizerFailure::Misconfigured(_)) => {
            Err(gateway_error(StatusCode::INTERNAL_SERVER_ERROR, None))
        }
    }
}

/// API Gateway's verdict on the answer's policy for `method_arn`: 403 on
/// Deny, 500 when there is no policy or it cannot be read.
fn check_policy(answer: &Value, method_arn: &str) -> Result<(), Refusal> {
    let Some(policy) = answer.get("policyDocument") else {
        return Err((StatusCode::INTERNAL_SERVER_ERROR, None));
    };
    match evaluate(policy, method_arn) {
        Ok(Verdict::Allow) => Ok(()),
        Ok(Verdict::Deny) => Err((
            StatusCode::FORBIDDEN,
            Some("User is not authorized to access this resource"),
        )),
        Err(_) => Err((StatusCode::INTERNAL_SERVER_ERROR, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_key_is_the_token_of_a_well_formed_bearer_header() {
        assert_eq!(
            bearer_credential("Bearer abc.def-_~+/=="),
            Some("abc.def-_~+/==")
        );
        assert_eq!(bearer_credential("bearer   abc.def"), Some("abc.def"));
        assert_eq!(bearer_credential("BEARER abc"), Some("abc"));
        for refused in [
            "Bearer",
            "Bearer ",
            "Basic abc",
            "Bearer abc def",
            "Bearer a=b",
            "abc",
        ] {
            assert_eq!(bearer_credential(refused), None, "{refused:?}");
        }
    }
}

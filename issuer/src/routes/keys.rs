//! The keys: the JWKS, and their administration (list, rotate, revoke).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use identity::{Caller, Problem};
use serde_json::json;

use crate::error::ServiceError;
use crate::service::IssuerService;

use super::admin::refusal_unless_admin;
use super::request::if_none_match;

pub(super) async fn jwks(
    State(service): State<Arc<IssuerService>>,
    headers: HeaderMap,
) -> Response {
    let keyset = match service.keyset().await {
        Ok(keyset) => keyset,
        Err(error) => return Problem::from(error).into_response(),
    };
    let jwks = match keyset.jwks() {
        Ok(jwks) => jwks,
        Err(error) => return Problem::from(ServiceError::from(error)).into_response(),
    };
    let body = serde_json::to_vec(&jwks).unwrap_or_default();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &body);
    let etag = format!("\"{}\"", URL_SAFE_NO_PAD.encode(&digest.as_ref()[..16]));
    let cache_control = format!("public, max-age={}", service.config().jwks_max_age_seconds);
    let mut response = if if_none_match(&headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = body.into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/jwk-set+json"),
        );
        response
    };
    if let Ok(value) = HeaderValue::from_str(&cache_control) {
        response.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

pub(super) async fn list_keys(
    State(service): State<Arc<IssuerService>>,
    caller: Caller,
) -> Response {
    if let Some(refusal) = refusal_unless_admin(&caller) {
        return refusal;
    }
    match service.keyset().await {
        Ok(keyset) => Json(json!({"keys": keyset.metadata()})).into_response(),
        Err(error) => Problem::from(error).into_response(),
    }
}

pub(super) async fn rotate(State(service): State<Arc<IssuerService>>, caller: Caller) -> Response {
    if let Some(refusal) = refusal_unless_admin(&caller) {
        return refusal;
    }
    match service.rotate().await {
        Ok(active) => {
            tracing::info!(kid = %active.kid, by = %caller.sub, "keys rotated");
            Json(json!({"active": active})).into_response()
        }
        Err(error) => Problem::from(error).into_response(),
    }
}

pub(super) async fn revoke(
    State(service): State<Arc<IssuerService>>,
    caller: Caller,
    Path(kid): Path<String>,
) -> Response {
    if let Some(refusal) = refusal_unless_admin(&caller) {
        return refusal;
    }
    match service.revoke(&kid).await {
        Ok(revoked) => {
            tracing::warn!(kid = %revoked.kid, by = %caller.sub, "key revoked");
            Json(json!({"revoked": revoked})).into_response()
        }
        Err(error) => Problem::from(error).into_response(),
    }
}

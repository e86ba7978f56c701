//! What an event says about the request it authorizes, for sender
//! constraints: its `DPoP` header fields, its method and URI as the client
//! may have seen them (from API Gateway's own request context, never from
//! headers a client sets), and the client certificate of an mTLS API.
//! A `TOKEN` event carries none of them.

use aws_lambda_events::http::HeaderMap;
use serde_json::Value;

use crate::events::AuthorizerEvent;

impl AuthorizerEvent {
    /// Every `DPoP` header field value: each repeated field, and each part
    /// of a comma-joined one (a proof holds no comma; HTTP APIs join
    /// repeated headers with commas). Exactly one is a proof; none or
    /// several is a refusal.
    pub fn dpop_proofs(&self) -> Vec<&str> {
        let fields: Vec<&str> = match self {
            AuthorizerEvent::Token(_) => Vec::new(),
            AuthorizerEvent::Request(e) => header_values(&e.headers, &e.multi_value_headers),
            AuthorizerEvent::HttpApiV1 { request, .. } => {
                header_values(&request.headers, &request.multi_value_headers)
            }
            AuthorizerEvent::HttpApiV2(e) => e
                .headers
                .get_all("dpop")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect(),
        };
        fields
            .into_iter()
            .flat_map(|field| field.split(','))
            .map(str::trim)
            .collect()
    }

    /// The request's HTTP method.
    pub fn http_method(&self) -> Option<&str> {
        match self {
            AuthorizerEvent::Token(_) => None,
            AuthorizerEvent::Request(e) => e.http_method.as_ref().map(|m| m.as_str()),
            AuthorizerEvent::HttpApiV1 { request, .. } => {
                request.http_method.as_ref().map(|m| m.as_str())
            }
            AuthorizerEvent::HttpApiV2(e) => Some(e.request_context.http.method.as_str()),
        }
    }

    /// The URIs (without query) the client may have sent this request to:
    /// `https://` and the request context's domain and path, and each of
    /// `public_base_urls` followed by the resource path (a custom domain's
    /// base path mapping, which the context does not show).
    pub fn request_uris(&self, public_base_urls: &[String]) -> Vec<String> {
        let Some((domain, context_path, resource_path)) = self.request_location() else {
            return Vec::new();
        };
        let mut uris = Vec::with_capacity(1 + public_base_urls.len());
        if let (Some(domain), Some(path)) = (domain, context_path) {
            uris.push(format!("https://{domain}{path}"));
        }
        if let Some(resource_path) = resource_path {
            uris.extend(
                public_base_urls
                    .iter()
                    .map(|base| format!("{base}{resource_path}")),
            );
        }
        uris
    }

    /// (domain name, path as the context gives it, path below the stage).
    #[allow(clippy::type_complexity)]
    fn request_location(&self) -> Option<(Option<&str>, Option<&str>, Option<String>)> {
        match self {
            AuthorizerEvent::Token(_) => None,
            AuthorizerEvent::Request(e) => Some((
                text(&e.request_context.other, "domainName"),
                e.request_context.path.as_deref(),
                e.path.clone(),
            )),
            AuthorizerEvent::HttpApiV1 { request, .. } => Some((
                text(&request.request_context.other, "domainName"),
                request.request_context.path.as_deref(),
                request.path.clone(),
            )),
            AuthorizerEvent::HttpApiV2(e) => {
                let context = &e.request_context;
                let path = context.http.path.as_deref().or(e.raw_path.as_deref());
                // A named stage's requests carry it as the first segment.
                let below_stage = match (path, context.stage.as_deref()) {
                    (Some(path), Some(stage)) if stage != "$default" => path
                        .strip_prefix(&format!("/{stage}"))
                        .filter(|rest| rest.is_empty() || rest.starts_with('/'))
                        .map(|rest| if rest.is_empty() { "/" } else { rest })
                        .map(str::to_owned),
                    (path, _) => path.map(str::to_owned),
                };
                Some((context.domain_name.as_deref(), path, below_stage))
            }
        }
    }

    /// The PEM of the client certificate API Gateway verified (mTLS APIs).
    pub fn client_cert_pem(&self) -> Option<&str> {
        match self {
            AuthorizerEvent::Token(_) => None,
            AuthorizerEvent::Request(e) => rest_client_cert(e.request_context.identity.as_ref()),
            AuthorizerEvent::HttpApiV1 { request, .. } => {
                rest_client_cert(request.request_context.identity.as_ref())
            }
            AuthorizerEvent::HttpApiV2(e) => e
                .request_context
                .authentication
                .as_ref()?
                .client_cert
                .as_ref()?
                .client_cert_pem
                .as_deref(),
        }
    }

    /// Whether `value` is one of the HTTP API event's identity source
    /// values (API Gateway's cache key); `None` for REST events, whose
    /// events do not say.
    pub fn in_identity_source(&self, value: &str) -> Option<bool> {
        match self {
            AuthorizerEvent::HttpApiV1 {
                identity_source, ..
            } => Some(identity_source.split(',').any(|v| v.trim() == value)),
            AuthorizerEvent::HttpApiV2(e) => Some(
                e.identity_source
                    .as_deref()
                    .unwrap_or_default()
                    .iter()
                    .flat_map(|v| v.split(','))
                    .any(|v| v.trim() == value),
            ),
            _ => None,
        }
    }
}

fn rest_client_cert(
    identity: Option<
        &aws_lambda_events::event::apigw::ApiGatewayCustomAuthorizerRequestTypeRequestIdentity,
    >,
) -> Option<&str> {
    identity?.client_cert.as_ref()?.client_cert_pem.as_deref()
}

/// The `DPoP` values of a REST-shaped event: every value of the
/// multi-value headers when it has them (the single-value map keeps only
/// the last), else the single value.
fn header_values<'e>(headers: &'e HeaderMap, multi: &'e HeaderMap) -> Vec<&'e str> {
    let source = if multi.contains_key("dpop") {
        multi
    } else {
        headers
    };
    source
        .get_all("dpop")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect()
}

fn text<'a>(members: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a str> {
    members.get(name).and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rest(extra: Value) -> AuthorizerEvent {
        let mut event = json!({
            "type": "REQUEST", "methodArn": "arn:aws:execute-api:eu-west-1:1:abc/prod/GET/books/1",
            "resource": "/books/{id}", "path": "/books/1", "httpMethod": "GET",
            "headers": {"Authorization": "DPoP tok", "DPoP": "p1", "Host": "evil.example"},
            "multiValueHeaders": {"Authorization": ["DPoP tok"], "DPoP": ["p1"], "Host": ["evil.example"]},
            "requestContext": {"path": "/prod/books/1", "stage": "prod", "domainName": "abc.execute-api.eu-west-1.amazonaws.com",
                "identity": {"sourceIp": "1.2.3.4"}, "httpMethod": "GET", "apiId": "abc"}
        });
        for (k, v) in extra.as_object().unwrap() {
            event[k] = v.clone();
        }
        AuthorizerEvent::from_json(event).unwrap()
    }

    #[test]
    fn a_rest_request_gives_its_uri_from_the_context_never_its_host_header() {
        let e = rest(json!({}));
        assert_eq!(e.http_method(), Some("GET"));
        assert_eq!(
            e.request_uris(&[]),
            ["https://abc.execute-api.eu-west-1.amazonaws.com/prod/books/1"]
        );
        assert_eq!(
            e.request_uris(&["https://api.example.com/v1".to_owned()]),
            [
                "https://abc.execute-api.eu-west-1.amazonaws.com/prod/books/1",
                "https://api.example.com/v1/books/1"
            ]
        );
        assert_eq!(e.dpop_proofs(), ["p1"]);
        let credential = e.credential().unwrap();
        assert_eq!(credential.token, "tok");
        assert_eq!(credential.scheme, crate::events::Scheme::DPoP);
    }

    #[test]
    fn repeated_or_joined_dpop_fields_are_all_seen() {
        let twice =
            rest(json!({"multiValueHeaders": {"DPoP": ["p1", "p2"]}, "headers": {"DPoP": "p2"}}));
        assert_eq!(twice.dpop_proofs(), ["p1", "p2"]);
        let joined = rest(json!({"multiValueHeaders": {}, "headers": {"DPoP": "p1, p2"}}));
        assert_eq!(joined.dpop_proofs(), ["p1", "p2"]);
        let none = rest(json!({"multiValueHeaders": {}, "headers": {}}));
        assert!(none.dpop_proofs().is_empty());
    }

    #[test]
    fn an_http_api_request_gives_its_uri_and_the_path_below_its_stage() {
        let event = |stage: &str, path: &str| {
            AuthorizerEvent::from_json(json!({
                "version": "2.0", "type": "REQUEST",
                "routeArn": "arn:aws:execute-api:us-east-1:1:api/prod/GET/books",
                "identitySource": ["DPoP tok", "p1"], "routeKey": "GET /books",
                "rawPath": path, "headers": {"authorization": "DPoP tok", "dpop": "p1"},
                "requestContext": {"accountId": "1", "apiId": "api", "domainName": "api.example.com",
                    "domainPrefix": "api", "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1",
                    "sourceIp": "1.1.1.1", "userAgent": "x"}, "requestId": "r", "routeKey": "GET /books",
                    "stage": stage, "time": "t", "timeEpoch": 0,
                    "authentication": {"clientCert": {"clientCertPem": "PEM", "subjectDN": "s", "issuerDN": "i",
                        "serialNumber": "1", "validity": {"notBefore": "a", "notAfter": "b"}}}}
            }))
            .unwrap()
        };
        let named = event("prod", "/prod/books");
        assert_eq!(
            named.request_uris(&["https://books.example.com".to_owned()]),
            [
                "https://api.example.com/prod/books",
                "https://books.example.com/books"
            ]
        );
        let default = event("$default", "/books");
        assert_eq!(default.request_uris(&[]), ["https://api.example.com/books"]);
        assert_eq!(default.client_cert_pem(), Some("PEM"));
        assert_eq!(default.in_identity_source("p1"), Some(true));
        assert_eq!(default.in_identity_source("p2"), Some(false));
        assert_eq!(default.http_method(), Some("GET"));
    }
}
